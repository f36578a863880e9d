//! The run: each fold optimized on its in-sample window, its winner
//! backtested on the out-of-sample window, the equity stitched.

use super::*;

pub(super) fn without_timing(mut m: PerformanceMetrics) -> PerformanceMetrics {
    m.wall_time_ms = None;
    m.sub_bars_per_second = None;
    m
}

/// The engine's data for the window `[from, to)` of `bars` (the loaded
/// bars, warm-up first, see [`WalkForwardJob::load`]), with up to the
/// target's warm-up bars from before it, and its bars as indices into the
/// period's (the loaded ones after the first `p0`).
pub(super) fn window_data(
    target: &Target,
    bars: &Bars,
    p0: usize,
    (from, to): (i64, i64),
) -> (Option<MarketData>, BarRange) {
    let (a, b) = (
        bars.ts.partition_point(|&t| t < from),
        bars.ts.partition_point(|&t| t < to),
    );
    let range = BarRange {
        from: a.saturating_sub(p0),
        to: b.saturating_sub(p0),
    };
    if a == b {
        return (None, range);
    }
    let w = a - bars.start_of_last(
        a,
        target.warmup_bars as usize,
        target.timeframe,
        target.dataset.timeframe,
    );
    let before = match bars.ts.get(a - w) {
        Some(&first) if w > 0 => bars.slice_time(first, from),
        _ => Bars::default(),
    };
    let data = crate::warmup::market_data(target, &before, bars.slice_time(from, to)).ok();
    (data, range)
}

/// Most points of a fold winner's in-sample equity curve in the report:
/// enough for a chart as wide as a screen, and the report stays small when
/// a fold spans years of minute bars (anchored windows grow every fold).
pub const IS_CURVE_POINTS: usize = 500;

/// Every k-th point of `curve` and its last, at most `most` points in all
/// (`most` ≥ 2).
pub(super) fn thin(curve: &EquityCurve, most: usize) -> Vec<EquityPoint> {
    let n = curve.len();
    // one slot is kept for the last point
    let step = if n <= most { 1 } else { n.div_ceil(most - 1) };
    let mut out: Vec<EquityPoint> = (0..n)
        .step_by(step)
        .filter_map(|i| curve.point(i))
        .collect();
    if step > 1 && !(n - 1).is_multiple_of(step) {
        out.extend(curve.point(n - 1));
    }
    out
}

pub(super) fn ratio_pct(oos: Option<f64>, is: Option<f64>) -> Option<f64> {
    match (oos, is) {
        (Some(o), Some(i)) if i > 0.0 && o.is_finite() && i.is_finite() => Some(o / i * 100.0),
        _ => None,
    }
}

/// Where each fold's in-sample optimization runs: this process's threads
/// ([`run`]), or the scale-out workers (the run service's coordinator) —
/// the same trials either way, so the same report.
pub trait FoldOptimizer {
    /// Optimizes `job`'s grid over fold `window`'s in-sample `data`,
    /// reporting into `progress` (which cancels it): the report, `None`
    /// when it was cancelled.
    ///
    /// # Errors
    /// [`WalkForwardError`] naming the fold.
    fn optimize(
        &self,
        job: &WalkForwardJob,
        window: &FoldWindow,
        data: &MarketData,
        progress: &OptimizationProgress,
    ) -> Result<Option<OptimizationReport>, WalkForwardError>;
}

/// A fold optimized here, on `threads` threads.
struct LocalFolds {
    threads: usize,
}

impl FoldOptimizer for LocalFolds {
    fn optimize(
        &self,
        job: &WalkForwardJob,
        window: &FoldWindow,
        data: &MarketData,
        progress: &OptimizationProgress,
    ) -> Result<Option<OptimizationReport>, WalkForwardError> {
        let t = &job.target;
        let report = t
            .strategy
            .optimize(data, &t.config, &job.spec, progress, self.threads)
            .map_err(|source| WalkForwardError::Optimize {
                fold: window.fold,
                source,
            })?;
        Ok((!report.cancelled).then_some(report))
    }
}

/// Runs the walk-forward of `job` over `bars` (the period's bars at the
/// dataset's resolution with the warm-up before it, as
/// [`WalkForwardJob::load`] returns them: without the warm-up, the first
/// folds would warm up on less than an ordinary run of their window) on
/// `threads` threads, reporting into `progress`.
///
/// Returns a partial report (`cancelled`) if `progress` is cancelled: the
/// folds finished before it, none of a fold cut short.
///
/// # Errors
/// [`WalkForwardError`]: an optimizer that cannot start, a winner whose
/// out-of-sample backtest fails. A fold whose window holds no bars (a gap
/// in the data) is kept with `noBars` and skipped.
pub fn run(
    job: &WalkForwardJob,
    bars: &Bars,
    progress: &WalkForwardProgress,
    threads: usize,
) -> Result<WalkForwardReport, WalkForwardError> {
    run_with(job, bars, progress, &LocalFolds { threads })
}

/// [`run`] with each fold's in-sample optimization done by `folds_by`.
///
/// # Errors
/// As [`run`].
pub fn run_with(
    job: &WalkForwardJob,
    bars: &Bars,
    progress: &WalkForwardProgress,
    folds_by: &dyn FoldOptimizer,
) -> Result<WalkForwardReport, WalkForwardError> {
    let t = &job.target;
    let strategy = &t.strategy;
    let instrument = &t.instrument;
    let initial_raw = t.config.initial_cash.raw();
    let mut carried = initial_raw;
    let mut folds = Vec::with_capacity(job.windows.len());
    let mut curve_raw: Vec<i64> = Vec::new();
    let mut curve_times: Vec<i64> = Vec::new();
    let mut cancelled = false;
    let money = |raw: i64| instrument.money_f64(Money::from_raw(raw));
    // loaded bars before the period: warm-up only
    let p0 = t
        .period
        .from_ms
        .map_or(0, |f| bars.ts.partition_point(|&ts| ts < f));
    let warmup_of = |d: &MarketData| u32::try_from(d.warmup_bars()).unwrap_or(u32::MAX);
    for w in &job.windows {
        if progress.is_cancelled() {
            cancelled = true;
            break;
        }
        let (is_data, is_bars) = window_data(t, bars, p0, (w.is_from_ms, w.is_to_ms));
        let (oos_data, oos_bars) = window_data(t, bars, p0, (w.oos_from_ms, w.oos_to_ms));
        let (Some(is_data), Some(oos_data)) = (is_data, oos_data) else {
            // a window inside a gap of the data: nothing to optimize or trade
            folds.push(FoldReport {
                window: *w,
                is_bars,
                oos_bars,
                is_warmup_bars: 0,
                oos_warmup_bars: 0,
                no_bars: true,
                completed: 0,
                failed: 0,
                skipped: 0,
                start_equity: money(carried),
                end_equity: money(carried),
                winner: None,
            });
            progress.end_fold(job.spec.grid.size());
            continue;
        };
        let op = progress.start_fold();
        let Some(report) = folds_by.optimize(job, w, &is_data, &op)? else {
            cancelled = true;
            break;
        };
        let start_equity = carried;
        let winner = match report.top.first() {
            None => None,
            Some(top) => {
                let params = job.spec.params_of(top.index);
                let mut cfg = t.config;
                cfg.initial_cash = Money::from_raw(carried);
                let bp = progress.start_backtest();
                let oos = match strategy.backtest(&oos_data, &cfg, &params, Some(&bp)) {
                    Ok(r) => r,
                    Err(RunFailure::Cancelled { .. }) => {
                        cancelled = true;
                        break;
                    }
                    Err(RunFailure::Failed(f)) => {
                        return Err(WalkForwardError::Backtest {
                            fold: w.fold,
                            message: f.message,
                            backtrace: f.backtrace,
                        })
                    }
                    Err(e) => {
                        return Err(WalkForwardError::Backtest {
                            fold: w.fold,
                            message: e.to_string(),
                            backtrace: String::new(),
                        })
                    }
                };
                if let Some(raw) = oos.equity_curve.raw() {
                    curve_raw.extend_from_slice(raw);
                    curve_times.extend_from_slice(oos.equity_curve.times());
                    carried = raw.last().copied().unwrap_or(carried);
                }
                let is_metrics = without_timing(top.report.metrics.clone());
                let oos_metrics = without_timing(oos.metrics);
                Some(FoldWinner {
                    index: top.index,
                    params: top.report.params.clone(),
                    is_fitness: top.fitness,
                    wfe_pct: ratio_pct(
                        oos_metrics.annualized_return_pct,
                        is_metrics.annualized_return_pct,
                    ),
                    is_metrics,
                    oos_metrics,
                    closed_at_end: oos.open_position,
                    is_equity_curve: thin(&top.report.equity_curve, IS_CURVE_POINTS),
                })
            }
        };
        folds.push(FoldReport {
            window: *w,
            is_bars,
            oos_bars,
            is_warmup_bars: warmup_of(&is_data),
            oos_warmup_bars: warmup_of(&oos_data),
            no_bars: false,
            completed: report.completed,
            failed: report.failed,
            skipped: report.skipped,
            start_equity: money(start_equity),
            end_equity: money(carried),
            winner,
        });
        progress.end_fold(job.spec.grid.size());
    }
    let stitched = stitch(t, initial_raw, &curve_raw, &curve_times, &folds);
    let is_returns: Vec<f64> = folds
        .iter()
        .filter_map(|f| f.winner.as_ref()?.is_metrics.annualized_return_pct)
        .collect();
    #[allow(
        clippy::cast_precision_loss,
        reason = "a count of folds, at most MAX_FOLDS"
    )]
    let is_ann =
        (!is_returns.is_empty()).then(|| is_returns.iter().sum::<f64>() / is_returns.len() as f64);
    let wfe_pct = ratio_pct(stitched.annualized_return_pct, is_ann);
    let checks = checks(&job.criteria, wfe_pct, &stitched, &folds);
    let passed = !cancelled && !folds.is_empty() && checks.iter().all(|c| c.passed);
    let equity_curve = curve_times
        .iter()
        .zip(&curve_raw)
        .map(|(&time, &raw)| EquityPoint {
            time,
            equity: money(raw),
        })
        .collect();
    let info = strategy.info();
    Ok(WalkForwardReport {
        strategy: info.name.to_owned(),
        strategy_version: info.version.to_owned(),
        symbol: instrument.symbol.clone(),
        timeframe: t.timeframe.to_string(),
        mode: job.mode,
        maximize: job.spec.fitness.name().to_owned(),
        combinations_per_fold: job.spec.grid.size(),
        planned_folds: u32::try_from(job.windows.len()).unwrap_or(u32::MAX),
        stability: stability(&job.spec, &folds),
        folds,
        stitched,
        equity_curve,
        is_annualized_return_pct: is_ann,
        wfe_pct,
        criteria: job.criteria,
        checks,
        passed,
        cancelled,
    })
}

pub(super) fn stitch(
    t: &Target,
    initial_raw: i64,
    raw: &[i64],
    times: &[i64],
    folds: &[FoldReport],
) -> StitchedMetrics {
    let input = MetricsInput {
        instrument: &t.instrument,
        initial_cash: initial_raw,
        equity: raw,
        curve: None,
        times,
        bar_ms: t.timeframe.millis(),
        trades: &[],
        exposure_bars: 0,
        total_commission: 0,
        sub_bars: 0,
        wall_secs: 0.0,
    };
    let initial = t.instrument.money_f64(Money::from_raw(initial_raw));
    let m = compute_trial(&input).expand(
        &RunCommon {
            initial_equity: initial,
            main_bars: raw.len() as u64,
            sub_bars: 0,
        },
        None,
    );
    // per-bar returns of the stitched curve, from the initial cash on
    let mut prev = initial_raw;
    let (mut n, mut sum, mut sum_sq) = (0u64, 0.0f64, 0.0f64);
    #[allow(
        clippy::cast_precision_loss,
        reason = "money raw to f64 for a ratio, as the engine's metrics do"
    )]
    for &e in raw {
        if prev > 0 {
            let r = (e - prev) as f64 / prev as f64;
            n += 1;
            sum += r;
            sum_sq += r * r;
        }
        prev = e;
    }
    #[allow(clippy::cast_precision_loss, reason = "a count of bars")]
    let t_stat = (n > 1).then(|| {
        let nf = n as f64;
        let mean = sum / nf;
        let var = ((sum_sq - sum * mean) / (nf - 1.0)).max(0.0);
        (var > 0.0).then(|| mean / var.sqrt() * nf.sqrt())
    });
    let profitable = folds
        .iter()
        .filter(|f| f.end_equity > f.start_equity)
        .count();
    let with_bars = folds.iter().filter(|f| !f.no_bars).count();
    StitchedMetrics {
        initial_equity: initial,
        final_equity: m.final_equity,
        net_profit: m.net_profit,
        total_return_pct: m.total_return_pct,
        annualized_return_pct: m.annualized_return_pct,
        max_drawdown: m.max_drawdown,
        max_drawdown_pct: m.max_drawdown_pct,
        sharpe: m.sharpe,
        sharpe_t_stat: t_stat.flatten(),
        bars: raw.len() as u64,
        trade_count: folds
            .iter()
            .filter_map(|f| f.winner.as_ref().map(|w| w.oos_metrics.trade_count))
            .sum(),
        profitable_folds: u32::try_from(profitable).unwrap_or(u32::MAX),
        folds: u32::try_from(with_bars).unwrap_or(u32::MAX),
    }
}
