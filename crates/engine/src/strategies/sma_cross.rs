//! SMA crossover: long when the fast average crosses above the slow one.

use crate::indicators::{Cross, Relation, Sma};
use crate::params::{ParamError, ParamSpace, ParamSpec, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Fast/slow simple-moving-average crossover, decided exactly in integers.
///
/// Cross above → go long (from short: close, then buy). Cross below → close
/// the long, or with `long_only = false` reverse into a short.
#[derive(Debug, Clone)]
pub struct SmaCross {
    fast: Sma,
    slow: Sma,
    rel: Relation,
    long_only: bool,
}

impl Strategy for SmaCross {
    const NAME: &'static str = "sma-cross";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Simple moving average crossover (fast vs slow), exact integer comparisons";

    fn params() -> ParamSpace {
        ParamSpace(vec![
            ParamSpec::int("fast", "Fast SMA period in main bars", 10, 1, 10_000),
            ParamSpec::int("slow", "Slow SMA period in main bars", 30, 1, 10_000),
            ParamSpec::bool(
                "long_only",
                "Only long positions; false reverses into shorts",
                true,
            ),
        ])
    }

    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Self {
            fast: Sma::new(p.int("fast") as usize),
            slow: Sma::new(p.int("slow") as usize),
            rel: Relation::default(),
            long_only: p.bool("long_only"),
        })
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        let closes = ctx.closes();
        let a = self.fast.update(closes);
        let b = self.slow.update(closes);
        if !(a && b) {
            return Ok(());
        }
        match self.rel.update(self.fast.cmp_exact(&self.slow)) {
            Cross::Above => ctx.go_long(),
            Cross::Below if self.long_only => ctx.close_position(),
            Cross::Below => ctx.go_short(),
            Cross::None => {}
        }
        Ok(())
    }
}
