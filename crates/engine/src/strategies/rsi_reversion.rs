//! RSI mean reversion.

use crate::indicators::Rsi;
use crate::lines::Indicators;
use crate::params::{ParamError, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Buys when RSI falls below `oversold`; exits (or shorts) when it rises above `overbought`.
#[derive(Debug, Clone)]
pub struct RsiReversion {
    rsi: Rsi,
    oversold: f64,
    overbought: f64,
    long_only: bool,
}

/// The parameters of [`RsiReversion`].
#[derive(Debug, Clone, Params)]
#[params(crate = crate)]
pub struct RsiReversionParams {
    /// RSI period in main bars
    #[param(default = 14, min = 1, max = 10_000)]
    pub period: usize,
    /// Enter long below this RSI
    #[param(default = 30.0, min = 0.0, max = 100.0, step = 1.0)]
    pub oversold: f64,
    /// Exit long (or go short) above this RSI
    #[param(default = 70.0, min = 0.0, max = 100.0, step = 1.0)]
    pub overbought: f64,
    /// Only long positions; false also shorts above overbought
    #[param(default = true)]
    pub long_only: bool,
}

impl Strategy for RsiReversion {
    const NAME: &'static str = "rsi-reversion";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Wilder RSI mean reversion: long below oversold, exit/short above overbought";

    type Params = RsiReversionParams;

    fn new(p: RsiReversionParams, _ind: &Indicators<'_>) -> Result<Self, ParamError> {
        let (oversold, overbought) = (p.oversold, p.overbought);
        if oversold >= overbought {
            return Err(ParamError::Inconsistent(format!(
                "oversold ({oversold}) must be below overbought ({overbought})"
            )));
        }
        Ok(Self {
            rsi: Rsi::new(p.period),
            oversold,
            overbought,
            long_only: p.long_only,
        })
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        let Some(rsi) = self.rsi.push(ctx.close()) else {
            return Ok(());
        };
        if rsi < self.oversold {
            ctx.go_long();
        } else if rsi > self.overbought {
            if self.long_only {
                ctx.close_position();
            } else {
                ctx.go_short();
            }
        }
        Ok(())
    }
}
