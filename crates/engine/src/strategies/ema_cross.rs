//! EMA crossover.

use crate::indicators::{Cross, Ema, Relation};
use crate::lines::Indicators;
use crate::params::{ParamError, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Fast/slow exponential-moving-average crossover (EMAs seeded with an SMA).
#[derive(Debug, Clone)]
pub struct EmaCross {
    fast: Ema,
    slow: Ema,
    rel: Relation,
    long_only: bool,
}

/// The parameters of [`EmaCross`].
#[derive(Debug, Clone, Params)]
#[params(crate = crate)]
pub struct EmaCrossParams {
    /// Fast EMA period in main bars
    #[param(default = 12, min = 1, max = 10_000)]
    pub fast: usize,
    /// Slow EMA period in main bars
    #[param(default = 26, min = 1, max = 10_000)]
    pub slow: usize,
    /// Only long positions; false reverses into shorts
    #[param(default = true)]
    pub long_only: bool,
}

impl Strategy for EmaCross {
    const NAME: &'static str = "ema-cross";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str = "Exponential moving average crossover (fast vs slow)";

    type Params = EmaCrossParams;

    fn new(p: EmaCrossParams, _ind: &Indicators<'_>) -> Result<Self, ParamError> {
        Ok(Self {
            fast: Ema::new(p.fast),
            slow: Ema::new(p.slow),
            rel: Relation::default(),
            long_only: p.long_only,
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
