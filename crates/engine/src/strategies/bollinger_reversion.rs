//! Bollinger-band mean reversion.

use crate::indicators::RollingStd;
use crate::lines::Indicators;
use crate::params::{ParamError, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Buys a close below the lower band, sells (or shorts) above the upper band,
/// and exits at the middle band.
#[derive(Debug, Clone)]
pub struct BollingerReversion {
    bands: RollingStd,
    k: f64,
    long_only: bool,
}

/// The parameters of [`BollingerReversion`].
#[derive(Debug, Clone, Params)]
#[params(crate = crate)]
pub struct BollingerReversionParams {
    /// Band period in main bars
    #[param(default = 20, min = 2, max = 10_000)]
    pub period: usize,
    /// Band width in standard deviations
    #[param(default = 2.0, min = 0.1, max = 10.0, step = 0.1)]
    pub k: f64,
    /// Only long positions; false also shorts above the upper band
    #[param(default = true)]
    pub long_only: bool,
}

impl Strategy for BollingerReversion {
    const NAME: &'static str = "bollinger-reversion";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Bollinger band reversion: enter outside the bands, exit at the middle";

    type Params = BollingerReversionParams;

    fn new(p: BollingerReversionParams, _ind: &Indicators<'_>) -> Result<Self, ParamError> {
        Ok(Self {
            bands: RollingStd::new(p.period),
            k: p.k,
            long_only: p.long_only,
        })
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        let c = ctx.close();
        let Some((mid, sd)) = self.bands.push(c) else {
            return Ok(());
        };
        let x = c as f64;
        let (lower, upper) = (mid - self.k * sd, mid + self.k * sd);
        if x < lower {
            ctx.go_long();
        } else if x > upper {
            if self.long_only {
                ctx.close_position();
            } else {
                ctx.go_short();
            }
        } else if (ctx.is_long() && x >= mid) || (ctx.is_short() && x <= mid) {
            ctx.close_position();
        }
        Ok(())
    }
}
