//! The backtest loop and its observers.
//!
//! [`simulate`] is generic over the strategy and the [`Observer`], so with
//! [`Silent`] every progress check compiles away, and with [`Progress`] the
//! loop publishes a relaxed atomic counter and reads a cancellation flag
//! once per [`PROGRESS_EVERY`] sub-bars: never a lock, never per bar.
//!
//! Sub-bars in which nothing can fill (no pending order, no stop-loss or
//! take-profit) are skipped without being read: they cannot change the
//! account, and the strategy only sees main bars.
//!
//! **Warm-up.** When the data has warm-up bars in front of the window
//! ([`MarketData::with_warmup`]), the strategy is called on each of them
//! (skipping what [`Strategy::quiet_until`] promises to ignore) so its own
//! state warms up as its indicators did, but the account does not exist
//! yet: every order it submits there is dropped after the bar (with any
//! stop-loss or take-profit it set), no sub-bar is read, and no equity,
//! exposure or trade is recorded. An order placed at the last warm-up bar
//! is dropped too, though it would have filled inside the window: the
//! account starts at the window's first bar with the run's cash, and only
//! decisions taken from there on trade. The equity curve, the progress
//! counter and the sub-bar count cover the window alone.

use crate::bars::MarketData;
use crate::broker::{Broker, BrokerEvent, OverflowError};
use crate::metrics::CurveStats;
use crate::prefetch::prefetch;
use crate::strategy::{Ctx, Strategy, StrategyError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Sub-bars between two progress reports / cancellation checks.
pub const PROGRESS_EVERY: usize = 4096;

/// Receives what a run does, chosen at compile time.
pub trait Observer {
    /// Whether [`Observer::progress`] is called at all (compile-time switch).
    const TRACKS_PROGRESS: bool = false;

    /// `processed` sub-bars are done; return `false` to cancel the run.
    #[inline]
    fn progress(&mut self, _processed: u64) -> bool {
        true
    }

    /// A fill or a fill ambiguity happened.
    #[inline]
    fn on_event(&mut self, _event: BrokerEvent) {}
}

/// An observer that watches nothing and costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// Shared progress counter and cancellation flag of one run: written by the
/// engine, read by progress bars, HTTP status handlers and cancel requests.
#[derive(Debug, Default)]
pub struct Progress {
    processed: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    /// A fresh counter at zero, not cancelled.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sub-bars processed so far.
    #[must_use]
    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    /// Asks the run to stop at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether cancellation was requested.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

impl Observer for &Progress {
    const TRACKS_PROGRESS: bool = true;

    #[inline]
    fn progress(&mut self, processed: u64) -> bool {
        self.processed.store(processed, Ordering::Relaxed);
        !self.cancelled.load(Ordering::Relaxed)
    }
}

/// Why a simulation stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The strategy returned an error.
    #[error("strategy error: {0}")]
    Strategy(StrategyError),
    /// Cancellation was requested.
    #[error("cancelled after {processed} sub-bars")]
    Cancelled {
        /// Sub-bars done when it stopped.
        processed: u64,
    },
    /// Account arithmetic overflowed.
    #[error(transparent)]
    Overflow(#[from] OverflowError),
}

/// Counters of a finished simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimStats {
    /// Main bars that closed with a position.
    pub exposure_bars: u64,
    /// Sub-bars covered.
    pub sub_bars: u64,
    /// Drawdown and return statistics of the equity curve.
    pub curve: CurveStats,
}

/// Runs `strategy` over `data` on `broker` (already reset), writing the
/// equity at every main-bar close of the window into `equity` (resized to
/// the window's main bars, its contents unspecified when an error is
/// returned; its capacity is reused). Warm-up bars before the window are
/// shown to the strategy, never traded (see the module doc).
///
/// # Errors
/// [`SimError`] when the strategy fails, the run is cancelled, or the
/// account overflows.
pub fn simulate<S: Strategy, O: Observer>(
    data: &MarketData,
    strategy: &mut S,
    broker: &mut Broker,
    equity: &mut Vec<i64>,
    obs: &mut O,
) -> Result<SimStats, SimError> {
    let main = data.main_bars();
    let sub = data.sub_bars();
    let ends = data.main_ends();
    let n = main.len();
    // the window: main bars w.., sub-bars sub0..
    let (w, sub0) = (data.warmup_bars(), data.warmup_sub_bars());
    let len = n - w;
    // Written by index into a pre-sized buffer: a `push` per bar would
    // store the length back to memory on every iteration.
    if equity.capacity() < len {
        // a zeroed allocation is fresh memory the OS already zeroed: no
        // pass writing zeros over what the loop overwrites anyway
        *equity = vec![0; len];
    } else if equity.len() != len {
        equity.clear();
        equity.resize(len, 0);
    }
    let out = &mut equity[..len];
    let mut k = warm_up(main, strategy, broker, w)?;
    let mut j = sub0;
    let mut next_report = sub0 + PROGRESS_EVERY;
    let mut exposure = 0u64;
    let mut curve = CurveStats::new(broker.cash().raw());
    while k < n {
        // Fast-forward: nothing can fill and the strategy promises to do
        // nothing before bar `quiet`, so the account cannot change until
        // then: only the equity curve moves, with the closes.
        let quiet = if broker.is_idle() {
            strategy.quiet_until(k).min(n)
        } else {
            k
        };
        if quiet > k {
            // the sub-bars the next signal reads: its own bar and the one
            // after (main bars are sub-bars), or the first sub-bar of the
            // next main bar, where its order fills
            let next = match ends {
                None => quiet,
                Some(e) => e.get(quiet).map_or(usize::MAX, |&x| x as usize),
            };
            for at in [next, next.wrapping_add(1)] {
                prefetch(&sub.ts, at);
                prefetch(&sub.open, at);
                prefetch(&sub.high, at);
                prefetch(&sub.low, at);
            }
            let pos = broker.position().raw();
            if pos == 0 {
                let cash = broker.cash().raw();
                out[k - w..quiet - w].fill(cash);
                curve.push_run(cash, (quiet - k) as u64);
            } else {
                let done = match broker.linear_equity() {
                    Some((cash, pos)) => curve.push_held(
                        cash,
                        pos,
                        &main.close[k..quiet],
                        &mut out[k - w..quiet - w],
                    ),
                    None => 0,
                };
                for (slot, &close) in out[k - w + done..quiet - w]
                    .iter_mut()
                    .zip(&main.close[k + done..quiet])
                {
                    let e = broker.equity_at(close);
                    *slot = e;
                    curve.push(e);
                }
                exposure += (quiet - k) as u64;
            }
            j = match ends {
                None => quiet,
                Some(e) => e[quiet - 1] as usize,
            };
            k = quiet;
        } else {
            match ends {
                // Main bars are the sub-bars: at most one sub-bar to fill in.
                None => {
                    if !broker.is_idle() {
                        broker.on_sub_bar(
                            sub.ts[k],
                            sub.open[k],
                            sub.high[k],
                            sub.low[k],
                            &mut |e| obs.on_event(e),
                        )?;
                    }
                    j = k + 1;
                }
                Some(e) => {
                    let end = e[k] as usize;
                    while j < end {
                        if broker.is_idle() {
                            j = end;
                            break;
                        }
                        broker.on_sub_bar(
                            sub.ts[j],
                            sub.open[j],
                            sub.high[j],
                            sub.low[j],
                            &mut |e| obs.on_event(e),
                        )?;
                        j += 1;
                    }
                }
            }
            let mut ctx = Ctx {
                bars: main,
                index: k,
                broker,
            };
            strategy.on_bar(&mut ctx).map_err(SimError::Strategy)?;
            let e = broker.equity_at(main.close[k]);
            out[k - w] = e;
            curve.push(e);
            exposure += u64::from(broker.position().raw() != 0);
            k += 1;
        }
        if O::TRACKS_PROGRESS && j >= next_report {
            let processed = (j - sub0) as u64;
            if !obs.progress(processed) {
                return Err(SimError::Cancelled { processed });
            }
            next_report = j + PROGRESS_EVERY;
        }
    }
    if O::TRACKS_PROGRESS {
        obs.progress(data.total_sub_bars());
    }
    Ok(SimStats {
        exposure_bars: exposure,
        sub_bars: data.total_sub_bars(),
        curve,
    })
}

/// Calls `strategy` on the `w` warm-up bars (those it does not promise to
/// ignore), dropping whatever it orders there: the account starts after
/// them. Returns the first bar of the window, `w`.
#[inline]
fn warm_up<S: Strategy>(
    main: &crate::bars::Bars,
    strategy: &mut S,
    broker: &mut Broker,
    w: usize,
) -> Result<usize, SimError> {
    let mut k = 0;
    while k < w {
        // the broker is idle here (everything is dropped), as the promise
        // of `quiet_until` assumes
        k = strategy.quiet_until(k).max(k);
        if k >= w {
            break;
        }
        let mut ctx = Ctx {
            bars: main,
            index: k,
            broker,
        };
        strategy.on_bar(&mut ctx).map_err(SimError::Strategy)?;
        broker.cancel_orders();
        broker.set_stop_loss(None);
        broker.set_take_profit(None);
        k += 1;
    }
    Ok(w)
}
