//! Walk-forward analysis (DESIGN §11): the request, its windows planned
//! from the dataset's catalog entry, and the run — each fold's in-sample
//! window optimized by the ordinary optimizer, its winner backtested on
//! the out-of-sample window right after, the out-of-sample equity stitched
//! into one account carried from fold to fold.
//!
//! **Windows.** The period `[start, end)` is the request's `from`/`to`
//! clipped to the dataset, its start moved up to the first whole bar of the
//! run's timeframe (UTC-aligned, as the engine's resampling buckets are). Given `inSample` and `outOfSample` durations,
//! fold `k` (from 0) of a `rolling` walk-forward has its in-sample window
//! at `start + k·oos` for `is`, its out-of-sample window right after it for
//! `oos`; an `anchored` one keeps every in-sample window starting at
//! `start` and growing by `oos` each fold. As many folds as fit; the tail
//! shorter than one out-of-sample window is left out. Given `folds` and
//! `oosFraction` `f` instead, `oos = span ÷ (folds + (1 − f) ÷ f)` rounded
//! down to whole bars of the run's timeframe and `is = span − folds·oos`, so
//! the windows cover the period. Durations are whole multiples of the
//! timeframe.
//!
//! **Warm-up.** Each window is run exactly as an ordinary backtest or
//! optimization with `from`/`to` set to that window and the request's
//! `warmupBars` is: the strategy starts trading at the window's first bar,
//! and before it sees up to `warmupBars` main bars from *before* the
//! window (its indicators computed over them, `on_bar` called on them,
//! every order it places there dropped — see `atf_engine::run`) — never a
//! bar from after the window's start. An out-of-sample window's warm-up is
//! therefore the end of its in-sample window; a window at the start of the
//! data gets what exists before it (the fold says how many it got,
//! `isWarmupBars` / `oosWarmupBars`). The run reads the period's bars with
//! the warm-up an ordinary run from the period's start would take
//! ([`WalkForwardJob::load`]), which covers every later window's too. A
//! fold's winner is therefore the best trial of `atf optimize --from
//! <isFrom> --to <isTo> --warmup N`, and its out-of-sample metrics those
//! of `atf backtest --from <oosFrom> --to <oosTo> --warmup N --cash
//! <carried equity>`. Without `warmupBars` (0) a window's indicators
//! warm up on its own first bars, as before.
//!
//! **Stitching.** Fold 1's out-of-sample backtest starts with the request's
//! cash; each later one with the equity the previous one ended with. A
//! position still open at the end of a window is marked to that bar's close
//! (the engine's final equity) and counted as closed there, with no exit
//! commission or slippage; the fold row says so (`closedAtEnd`). A fold
//! whose every trial failed has no winner: its out-of-sample window is
//! spent flat (no points on the stitched curve, equity carried unchanged);
//! so is a fold one of whose windows holds no bars (a gap in the data:
//! `noBars`, not counted by the criteria).
//!
//! **Walk-forward efficiency** (WFE) is the stitched out-of-sample
//! annualized return divided by the mean of the folds' in-sample winners'
//! annualized returns, in %. It is `None` (undefined) when that in-sample
//! mean is ≤ 0 or either return is undefined: a ratio over a losing or flat
//! in-sample result has no meaning (a negative over a negative would read
//! as a success). With in-sample > 0 and out-of-sample ≤ 0 it is defined and
//! ≤ 0. Each fold's own WFE follows the same rule.
//!
//! **Where folds run.** [`run`] optimizes each fold on this process's
//! threads; [`run_with`] takes a [`FoldOptimizer`], which the run service
//! uses to hand each fold's in-sample optimization to the scale-out
//! workers as an ordinary distributed optimization of that window. The
//! trials, and so the report, are the same either way.
//!
//! **Criteria** (defaults in [`Criteria::default`]): WFE ≥ `minWfePct`
//! (an undefined WFE fails); the share of folds whose out-of-sample net
//! profit is > 0 ≥ `minProfitableFoldsPct`; no fold's out-of-sample profit
//! ≥ `maxFoldProfitSharePct` of the stitched net profit (fails when the
//! stitched net profit is ≤ 0); the stitched maximum drawdown ≤
//! `maxDrawdownPct`.

use crate::plan::{self, GridLimits, Target, Work};
use crate::request::{read, split_fields, OptimizationRequest};
use crate::settings::FieldError;
use atf_data::{time, DatasetInfo};
use atf_engine::metrics::{compute_trial, MetricsInput, RunCommon};
use atf_engine::optimize::{OptimizationProgress, OptimizationReport, OptimizeError, OptimizeSpec};
use atf_engine::report::{EquityCurve, EquityPoint, OpenPosition, RunFailure};
use atf_engine::{Bars, MarketData, Money, ParamMap, ParamScalar, PerformanceMetrics, Progress};
use atf_engine::{Registry, Timeframe};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod assess;
mod progress;
mod report;
mod request;
mod run;
mod windows;

#[cfg(test)]
mod tests;

use assess::*;
pub use progress::*;
pub use report::*;
pub use request::*;
pub use run::*;
pub use windows::*;
