//! RSI mean reversion.

use crate::indicators::Rsi;
use crate::params::{ParamError, ParamSpace, ParamSpec, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Buys when RSI falls below `oversold`; exits (or shorts) when it rises above `overbought`.
#[derive(Debug, Clone)]
pub struct RsiReversion {
    rsi: Rsi,
    oversold: f64,
    overbought: f64,
    long_only: bool,
}

impl Strategy for RsiReversion {
    const NAME: &'static str = "rsi-reversion";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Wilder RSI mean reversion: long below oversold, exit/short above overbought";

    fn params() -> ParamSpace {
        ParamSpace(vec![
            ParamSpec::int("period", "RSI period in main bars", 14, 1, 10_000),
            ParamSpec::float(
                "oversold",
                "Enter long below this RSI",
                30.0,
                0.0,
                100.0,
                1.0,
            ),
            ParamSpec::float(
                "overbought",
                "Exit long (or go short) above this RSI",
                70.0,
                0.0,
                100.0,
                1.0,
            ),
            ParamSpec::bool(
                "long_only",
                "Only long positions; false also shorts above overbought",
                true,
            ),
        ])
    }

    fn from_params(p: &Params) -> Result<Self, ParamError> {
        let (oversold, overbought) = (p.float("oversold"), p.float("overbought"));
        if oversold >= overbought {
            return Err(ParamError::Inconsistent(format!(
                "oversold ({oversold}) must be below overbought ({overbought})"
            )));
        }
        Ok(Self {
            rsi: Rsi::new(p.int("period") as usize),
            oversold,
            overbought,
            long_only: p.bool("long_only"),
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
