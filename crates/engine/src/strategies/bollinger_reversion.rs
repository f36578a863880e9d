//! Bollinger-band mean reversion.

use crate::indicators::RollingStd;
use crate::params::{ParamError, ParamSpace, ParamSpec, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Buys a close below the lower band, sells (or shorts) above the upper band,
/// and exits at the middle band.
#[derive(Debug, Clone)]
pub struct BollingerReversion {
    bands: RollingStd,
    k: f64,
    long_only: bool,
}

impl Strategy for BollingerReversion {
    const NAME: &'static str = "bollinger-reversion";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Bollinger band reversion: enter outside the bands, exit at the middle";

    fn params() -> ParamSpace {
        ParamSpace(vec![
            ParamSpec::int("period", "Band period in main bars", 20, 2, 10_000),
            ParamSpec::float(
                "k",
                "Band width in standard deviations",
                2.0,
                0.1,
                10.0,
                0.1,
            ),
            ParamSpec::bool(
                "long_only",
                "Only long positions; false also shorts above the upper band",
                true,
            ),
        ])
    }

    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Self {
            bands: RollingStd::new(p.int("period") as usize),
            k: p.float("k"),
            long_only: p.bool("long_only"),
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
