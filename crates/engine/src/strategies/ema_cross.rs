//! EMA crossover.

use crate::indicators::{Cross, Ema, Relation};
use crate::params::{ParamError, ParamSpace, ParamSpec, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Fast/slow exponential-moving-average crossover (EMAs seeded with an SMA).
#[derive(Debug, Clone)]
pub struct EmaCross {
    fast: Ema,
    slow: Ema,
    rel: Relation,
    long_only: bool,
}

impl Strategy for EmaCross {
    const NAME: &'static str = "ema-cross";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str = "Exponential moving average crossover (fast vs slow)";

    fn params() -> ParamSpace {
        ParamSpace(vec![
            ParamSpec::int("fast", "Fast EMA period in main bars", 12, 1, 10_000),
            ParamSpec::int("slow", "Slow EMA period in main bars", 26, 1, 10_000),
            ParamSpec::bool(
                "long_only",
                "Only long positions; false reverses into shorts",
                true,
            ),
        ])
    }

    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Self {
            fast: Ema::new(p.int("fast") as usize),
            slow: Ema::new(p.int("slow") as usize),
            rel: Relation::default(),
            long_only: p.bool("long_only"),
        })
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        let c = ctx.close();
        let a = self.fast.push(c);
        let b = self.slow.push(c);
        if !(a && b) {
            return Ok(());
        }
        let ord = self.fast.value().total_cmp(&self.slow.value());
        match self.rel.update(ord) {
            Cross::Above => ctx.go_long(),
            Cross::Below if self.long_only => ctx.close_position(),
            Cross::Below => ctx.go_short(),
            Cross::None => {}
        }
        Ok(())
    }
}
