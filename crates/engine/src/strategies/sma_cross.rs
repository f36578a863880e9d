//! SMA crossover: long when the fast average crosses above the slow one.
//!
//! Two ways to the same signals: with the running totals of the closes
//! precomputed (one series shared by every trial of an optimization, see
//! [`crate::series::PrefixSums`]), the crosses are found in one SIMD pass
//! before the run ([`crate::crossings`]) and the engine fast-forwards
//! between them; if a total could overflow `i64`, the averages are updated
//! bar by bar in `i128`. A test checks both give identical runs.

use crate::bars::Bars;
use crate::crossings::mean_crossovers;
use crate::indicators::{Cross, Relation, Sma};
use crate::lines::Indicators;
use crate::params::{ParamError, Params};
use crate::series::SeriesCache;
use crate::strategy::{Ctx, Strategy, StrategyError};
use std::cmp::Ordering;

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
    /// Every crossover (main-bar index, direction), when precomputed.
    crosses: Option<Vec<(usize, Cross)>>,
    /// The next entry of `crosses` to act on.
    next: usize,
}

impl SmaCross {
    /// The strategy updating both averages at every bar, in `i128`,
    /// without the crossovers found up front (what [`Strategy::new`] does
    /// when a running total would overflow `i64`; public for benchmarks of
    /// the bar loop itself).
    #[must_use]
    pub fn bar_by_bar(p: &SmaCrossParams) -> Self {
        Self {
            fast: Sma::new(p.fast),
            slow: Sma::new(p.slow),
            rel: Relation::default(),
            long_only: p.long_only,
            crosses: None,
            next: 0,
        }
    }

    /// Every crossover found up front from the shared running totals of
    /// the closes (unless a total overflows `i64`).
    fn precompute(&mut self, bars: &Bars, series: &SeriesCache) {
        let (nf, ns) = (self.fast.period(), self.slow.period());
        if let Some(p) = series.close_prefix_sums(bars) {
            self.crosses = Some(mean_crossovers(&p, nf, ns, nf.max(ns) - 1));
            self.next = 0;
        }
    }

    fn act(&self, cross: Cross, ctx: &mut Ctx<'_>) {
        match cross {
            Cross::Above => ctx.go_long(),
            Cross::Below if self.long_only => ctx.close_position(),
            Cross::Below => ctx.go_short(),
            Cross::None => {}
        }
    }
}

/// The parameters of [`SmaCross`].
#[derive(Debug, Clone, Params)]
#[params(crate = crate)]
pub struct SmaCrossParams {
    /// Fast SMA period in main bars
    #[param(default = 10, min = 1, max = 10_000)]
    pub fast: usize,
    /// Slow SMA period in main bars
    #[param(default = 30, min = 1, max = 10_000)]
    pub slow: usize,
    /// Only long positions; false reverses into shorts
    #[param(default = true)]
    pub long_only: bool,
}

impl Strategy for SmaCross {
    const NAME: &'static str = "sma-cross";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Simple moving average crossover (fast vs slow), exact integer comparisons";

    type Params = SmaCrossParams;

    fn new(p: SmaCrossParams, ind: &Indicators<'_>) -> Result<Self, ParamError> {
        let mut s = Self::bar_by_bar(&p);
        s.precompute(ind.bars(), ind.cache());
        Ok(s)
    }

    #[inline(always)]
    fn quiet_until(&self, index: usize) -> usize {
        match &self.crosses {
            Some(c) => c.get(self.next).map_or(usize::MAX, |e| e.0),
            None => index,
        }
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        if let Some(crosses) = &self.crosses {
            if let Some(&(at, cross)) = crosses.get(self.next) {
                if at == ctx.index() {
                    self.next += 1;
                    self.act(cross, ctx);
                }
            }
            return Ok(());
        }
        let closes = ctx.closes();
        let a = self.fast.update(closes);
        let b = self.slow.update(closes);
        if !(a && b) {
            return Ok(());
        }
        let ord: Ordering = self.fast.cmp_exact(&self.slow);
        let cross = self.rel.update(ord);
        self.act(cross, ctx);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::{Bar, MarketData};
    use crate::broker::Broker;
    use crate::run::{simulate, Silent};
    use crate::{BacktestConfig, Costs, Instrument, Money, Sizing, Timeframe};

    #[test]
    fn precomputed_crosses_run_exactly_like_bar_by_bar_updates() {
        let mut bars = Bars::default();
        let mut x: u64 = 7;
        let mut p = 10_000i64;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let open = p;
            // small steps so exact ties between the averages happen
            p = (p + (x % 5) as i64 - 2).max(1);
            bars.push(Bar {
                ts: i * 60_000,
                open,
                high: open.max(p) + 1,
                low: open.min(p) - 1,
                close: p,
                volume: 1,
            });
        }
        let data =
            MarketData::new(Instrument::new("T", 2), bars, Timeframe::M1, Timeframe::M1).unwrap();
        let cfg = BacktestConfig {
            initial_cash: Money::from_raw(1_000_000),
            costs: Costs::default(),
            sizing: Sizing::default(),
        };
        for (fast, slow, long_only) in [(3, 7, true), (5, 20, false), (20, 5, true), (1, 2, false)]
        {
            let params = SmaCrossParams {
                fast,
                slow,
                long_only,
            };
            let run = |precompute: bool| {
                let mut s = SmaCross::bar_by_bar(&params);
                if precompute {
                    s.precompute(data.main_bars(), &SeriesCache::unshared());
                    assert!(s.crosses.is_some());
                }
                let mut broker = Broker::new(data.instrument.clone(), cfg);
                let mut equity = Vec::new();
                let stats = simulate(&data, &mut s, &mut broker, &mut equity, &mut Silent).unwrap();
                (broker.trades().to_vec(), equity, stats)
            };
            let (a, b) = (run(true), run(false));
            assert!(a.0.len() > 10, "({fast}, {slow}) traded");
            assert_eq!(a.0, b.0, "trades of ({fast}, {slow})");
            assert_eq!(a.1, b.1, "equity of ({fast}, {slow})");
            assert_eq!(a.2, b.2, "stats of ({fast}, {slow})");
        }
    }
}
