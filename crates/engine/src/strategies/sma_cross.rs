//! SMA crossover: long when the fast average crosses above the slow one.

use crate::bars::Bars;
use crate::indicators::{Cross, Relation, Sma};
use crate::params::{ParamError, ParamSpace, ParamSpec, Params};
use crate::series::SeriesCache;
use crate::strategy::{Ctx, Strategy, StrategyError};
use std::sync::Arc;

/// A precomputed series shared between trials.
type Series = Arc<[i64]>;

/// Fast/slow simple-moving-average crossover, decided exactly in integers.
///
/// Cross above → go long (from short: close, then buy). Cross below → close
/// the long, or with `long_only = false` reverse into a short.
#[derive(Debug, Clone)]
pub struct SmaCross {
    fast: Sma,
    slow: Sma,
    /// Rolling sums of both periods, precomputed and shared between trials
    /// when they fit `i64` (then the [`Sma`]s are not updated).
    sums: Option<(Series, Series)>,
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
            sums: None,
            rel: Relation::default(),
            long_only: p.bool("long_only"),
        })
    }

    fn prepare(&mut self, bars: &Bars, series: &SeriesCache) {
        let (f, s) = (self.fast.period(), self.slow.period());
        self.sums = series
            .close_sma_sums(bars, f)
            .zip(series.close_sma_sums(bars, s));
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        let (nf, ns) = (self.fast.period(), self.slow.period());
        let ord = if let Some((f, s)) = &self.sums {
            let k = ctx.index();
            if k + 1 < nf.max(ns) {
                return Ok(());
            }
            // sum_f / nf vs sum_s / ns, exactly
            let (a, b) = (f[k], s[k]);
            match (a.checked_mul(ns as i64), b.checked_mul(nf as i64)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => (i128::from(a) * ns as i128).cmp(&(i128::from(b) * nf as i128)),
            }
        } else {
            let closes = ctx.closes();
            let a = self.fast.update(closes);
            let b = self.slow.update(closes);
            if !(a && b) {
                return Ok(());
            }
            self.fast.cmp_exact(&self.slow)
        };
        match self.rel.update(ord) {
            Cross::Above => ctx.go_long(),
            Cross::Below if self.long_only => ctx.close_position(),
            Cross::Below => ctx.go_short(),
            Cross::None => {}
        }
        Ok(())
    }
}
