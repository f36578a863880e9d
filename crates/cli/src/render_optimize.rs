//! Output of `atf optimize`: the ranked table and the every-trial CSV,
//! from an optimization's summary and trials as the API reports them
//! (so a local run and a `--server` run print the same way).

use crate::out::outln;
use atf_data::time::format_iso;
use atf_engine::optimize::{Fitness, OptimizationSummary, TrialRecord, TrialStatus};
use atf_engine::robustness::{Neighbourhood, Robustness};
use atf_engine::PerformanceMetrics;
use serde_json::Value;
use std::path::Path;

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |x| format!("{x:.decimals$}"))
}

/// One row of the ranked table.
struct TableRow {
    rank: u64,
    /// The axes' values, in the table's axis order.
    values: Vec<String>,
    /// The trial's metrics, or why it failed.
    outcome: Result<PerformanceMetrics, String>,
}

/// What the ranked table shows.
struct OptimizationTable<'a> {
    dataset: &'a str,
    strategy: &'a str,
    strategy_version: &'a str,
    symbol: &'a str,
    main_bars: u64,
    warmup_bars: u32,
    timeframe: &'a str,
    from_ms: i64,
    to_ms: i64,
    fitness: Fitness,
    total: u64,
    completed: u64,
    failed: u64,
    skipped: u64,
    cancelled: bool,
    wall_secs: f64,
    threads: u64,
    /// Axis names, in grid order.
    axes: Vec<String>,
    /// The best trials, best first.
    rows: Vec<TableRow>,
    /// The best-ranked failed trial: its `name=value` per axis and message.
    first_failed: Option<(Vec<String>, String)>,
    /// Is the winner real (see [`robustness_lines`]).
    robustness: Vec<String>,
    /// How a search went (`None` for a whole grid).
    search: Option<String>,
}

/// The summary's lines on the winner's robustness:
/// `DSR 0.42 (N=190, effective N≈37: 0.55) · PSR 0.97 · neighbours keep 91 % of the winner's fitness (plateau)`,
/// PBO with its logits and degradation, and the spread of the fitness over
/// the trials.
#[must_use]
pub fn robustness_lines(r: &Robustness) -> Vec<String> {
    let mut first = Vec::new();
    match &r.sharpe {
        Some(s) => {
            let effective = match (s.effective_trials, s.dsr_effective) {
                (Some(n), Some(d)) => format!(", effective N≈{n:.0}: {d:.2}"),
                _ => String::new(),
            };
            first.push(format!("DSR {:.2} (N={}{effective})", s.dsr, r.trials));
            first.push(format!("PSR {:.2}", s.psr));
        }
        None => first.push(format!(
            "DSR — (N={}: the winner's returns do not vary)",
            r.trials
        )),
    }
    if let Some(n) = &r.neighbours {
        first.push(match (n.mean_ratio, n.shape) {
            (Some(m), Some(shape)) => format!(
                "neighbours keep {:.0} % of the winner's fitness ({})",
                m * 100.0,
                match shape {
                    Neighbourhood::Plateau => "plateau",
                    Neighbourhood::Slope => "slope",
                    Neighbourhood::Spike => "spike",
                }
            ),
            _ => format!(
                "neighbours: {} of {} with a fitness, no ratio (the winner's fitness is not positive)",
                n.with_fitness, n.neighbours
            ),
        });
    }
    let mut lines = vec![first.join(" · ")];
    if let Some(p) = &r.pbo {
        let q = &p.logits.quantiles;
        let slope = p
            .degradation
            .slope
            .map_or_else(|| "—".to_owned(), |s| format!("{s:.2}"));
        lines.push(format!(
            "PBO {:.2} ({} splits of {} blocks) · logit median {:.2}, 5–95 % {:.2} … {:.2} · OOS/IS Sharpe slope {slope}, OOS loss in {:.0} % of splits",
            p.pbo,
            if p.splits < p.possible_splits {
                format!("{} sampled of {}", p.splits, p.possible_splits)
            } else {
                p.splits.to_string()
            },
            p.blocks,
            q.median,
            q.p5,
            q.p95,
            p.degradation.probability_of_loss * 100.0
        ));
    }
    if let Some(f) = &r.fitness_spread {
        let q = &f.quantiles;
        lines.push(format!(
            "fitness over {} trials: median {}, 5–95 % {} … {}, best {}",
            f.trials,
            short(q.median),
            short(q.p5),
            short(q.p95),
            short(q.max)
        ));
    }
    lines
}

/// A fitness to 4 significant digits (profits in the thousands, Sharpe
/// ratios near 1 alike).
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.digits$}")
}

fn value_of(t: &TrialRecord, name: &str) -> String {
    t.params
        .get(name)
        .map_or_else(String::new, ToString::to_string)
}

/// Prints the summary and `best` (the best trials, best first) as a table,
/// with `first_failed`, the best-ranked failed trial, if any.
pub fn print_table(
    dataset: &str,
    s: &OptimizationSummary,
    best: &[TrialRecord],
    first_failed: Option<&TrialRecord>,
) {
    let axes: Vec<String> = s.axes.keys().map(str::to_owned).collect();
    let rows = best
        .iter()
        .map(|t| TableRow {
            rank: t.rank,
            values: axes.iter().map(|n| value_of(t, n)).collect(),
            outcome: match (&t.status, &t.metrics) {
                (TrialStatus::Completed, Some(m)) => Ok(m.clone()),
                _ => Err(t.error_message.clone().unwrap_or_default()),
            },
        })
        .collect();
    let first_failed = first_failed.map(|t| {
        let combo = axes
            .iter()
            .map(|n| format!("{n}={}", value_of(t, n)))
            .collect();
        (combo, t.error_message.clone().unwrap_or_default())
    });
    print_optimization_table(&OptimizationTable {
        dataset,
        strategy: &s.strategy,
        strategy_version: &s.strategy_version,
        symbol: &s.symbol,
        main_bars: s.main_bars,
        warmup_bars: s.warmup_bars,
        timeframe: &s.timeframe,
        from_ms: s.from_ms,
        to_ms: s.to_ms,
        fitness: s.maximize,
        total: s.total_combinations,
        completed: s.completed_combinations,
        failed: s.failed_combinations,
        skipped: s.skipped_combinations,
        cancelled: s.cancelled,
        wall_secs: s.wall_time_ms / 1000.0,
        threads: s.threads,
        axes,
        rows,
        first_failed,
        robustness: s
            .robustness
            .as_ref()
            .map(robustness_lines)
            .unwrap_or_default(),
        search: s.search.as_ref().map(|q| {
            format!(
                "{} search: budget {}, seed {}, {} batches{} ({})",
                q.method,
                q.budget,
                q.seed,
                q.generations,
                if q.exhausted {
                    ", ran out of combinations"
                } else {
                    ""
                },
                q.generator
            )
        }),
    });
}

/// Prints an [`OptimizationTable`]: two summary lines, then the ranked
/// rows with the ranked-by column marked.
fn print_optimization_table(r: &OptimizationTable<'_>) {
    outln!(
        "{} {} on {} ({}, {} main bars at {}, {} → {}{}), maximize {}",
        r.strategy,
        r.strategy_version,
        r.dataset,
        r.symbol,
        r.main_bars,
        r.timeframe,
        format_iso(r.from_ms),
        format_iso(r.to_ms),
        if r.warmup_bars > 0 {
            format!(", after {} warm-up bars", r.warmup_bars)
        } else {
            String::new()
        },
        r.fitness
    );
    let secs = r.wall_secs.max(1e-9);
    let ran = r.completed + r.failed;
    outln!(
        "{} combinations: {} completed, {} failed, {} skipped{} in {:.3} s ({:.0} combinations/s on {} threads)",
        r.total,
        r.completed,
        r.failed,
        r.skipped,
        if r.cancelled { ", CANCELLED" } else { "" },
        r.wall_secs,
        ran as f64 / secs,
        r.threads
    );
    if let Some(line) = &r.search {
        println!("{line}");
    }
    for line in &r.robustness {
        outln!("{line}");
    }
    outln!();
    let mut header: Vec<String> = vec!["rank".into()];
    header.extend(r.axes.iter().cloned());
    // The ranked-by column is marked with brackets.
    let marked = |name: &str, f: Fitness| {
        if f == r.fitness {
            format!("[{name}]")
        } else {
            name.to_owned()
        }
    };
    header.extend([
        marked("net profit", Fitness::NetProfit),
        "return %".to_owned(),
        "max DD %".to_owned(),
        marked("return/DD", Fitness::ReturnOverDrawdown),
        marked("sharpe", Fitness::Sharpe),
        marked("sortino", Fitness::Sortino),
        marked("profit factor", Fitness::ProfitFactor),
        "trades".to_owned(),
        marked("win %", Fitness::WinRate),
    ]);
    let mut rows: Vec<Vec<String>> = Vec::new();
    for t in &r.rows {
        let mut row = vec![t.rank.to_string()];
        row.extend(t.values.iter().cloned());
        match &t.outcome {
            Ok(m) => {
                row.extend([
                    format!("{:.2}", m.net_profit),
                    format!("{:.2}", m.total_return_pct),
                    format!("{:.2}", m.max_drawdown_pct),
                    num(m.return_over_drawdown, 3),
                    num(m.sharpe, 3),
                    num(m.sortino, 3),
                    num(m.profit_factor, 3),
                    m.trade_count.to_string(),
                    num(m.win_rate, 1),
                ]);
            }
            Err(message) => {
                row.push(format!("FAILED: {message}"));
            }
        }
        rows.push(row);
    }
    let cols = header.len();
    let width: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter(|r| r.len() == cols)
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                out.push_str("  ");
            }
            if cells.len() == cols {
                out.push_str(&format!("{cell:>w$}", w = width[c]));
            } else {
                out.push_str(cell);
            }
        }
        out
    };
    outln!("{}", line(&header));
    for row in &rows {
        outln!("{}", line(row));
    }
    if r.failed > 0 {
        if let Some((combo, message)) = &r.first_failed {
            outln!(
                "\n{} trials failed; first by rank ({}): {}\n(messages and stack traces of all of them: --csv FILE or --json)",
                r.failed,
                combo.join(" "),
                message
            );
        }
    }
}

/// Metrics every run shares or that depend on timing: not CSV columns.
const NOT_IN_CSV: [&str; 3] = ["initialEquity", "wallTimeMs", "subBarsPerSecond"];

/// The CSV's metric columns: the engine's metrics (snake_case), in order.
fn metric_fields() -> impl Iterator<Item = &'static str> {
    PerformanceMetrics::fields()
        .iter()
        .copied()
        .filter(|f| !NOT_IN_CSV.contains(f))
}

/// A number as Rust prints it (`10000`, not JSON's `10000.0`); empty for null.
fn cell(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) if n.is_f64() => {
            n.as_f64().map_or_else(String::new, |x| x.to_string())
        }
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Writes every trial, best first: rank, combination index, every
/// parameter (`names`, in order), status, fitness, all metrics, and for
/// failed trials the message and stack trace (quoted, multi-line).
pub fn write_csv(
    path: &Path,
    names: &[String],
    trials: impl IntoIterator<Item = TrialRecord>,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let metric_cols: Vec<&str> = metric_fields().collect();
    let mut header: Vec<String> = vec!["rank".into(), "index".into()];
    header.extend(names.iter().cloned());
    header.extend(["status".into(), "fitness".into()]);
    header.extend(
        metric_cols
            .iter()
            .map(|f| atf_engine::fields::snake_case(f)),
    );
    header.extend(["error_message".into(), "error_stack_trace".into()]);
    w.write_record(&header)?;
    for t in trials {
        let mut rec = vec![t.rank.to_string(), t.index.to_string()];
        rec.extend(names.iter().map(|n| value_of(&t, n)));
        match (&t.status, &t.metrics) {
            (TrialStatus::Completed, Some(m)) => {
                rec.push("completed".into());
                rec.push(t.fitness.map_or_else(String::new, |x| x.to_string()));
                let m = serde_json::to_value(m).unwrap_or_default();
                rec.extend(metric_cols.iter().map(|f| cell(m.get(*f))));
                rec.extend([String::new(), String::new()]);
            }
            _ => {
                rec.push("failed".into());
                rec.push(String::new());
                rec.extend(metric_cols.iter().map(|_| String::new()));
                rec.push(t.error_message.unwrap_or_default());
                rec.push(t.error_stack_trace.unwrap_or_default());
            }
        }
        w.write_record(&rec)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::robustness::{
        Degradation, FitnessSpread, LogitDistribution, NeighbourStability, Pbo, Quantiles,
        Robustness, SharpeSignificance,
    };

    #[test]
    fn robustness_reads_as_one_line_and_the_spread() {
        let r = Robustness {
            trials: 190,
            periods_per_year: 8766.0,
            sharpe: Some(SharpeSignificance {
                winner_index: 7,
                returns: 5000,
                sharpe: 0.02,
                skewness: 0.1,
                kurtosis: 4.0,
                psr: 0.971,
                sharpe_trials: 190,
                sharpe_variance: 1e-4,
                expected_max_sharpe: 0.027,
                dsr: 0.4213,
                mean_correlation: Some(0.81),
                correlated_trials: 20,
                effective_trials: Some(36.9),
                dsr_effective: Some(0.551),
            }),
            neighbours: Some(NeighbourStability {
                neighbours: 4,
                with_fitness: 4,
                winner_fitness: 1.8,
                mean_ratio: Some(0.912),
                worst_ratio: Some(0.85),
                shape: Some(Neighbourhood::Plateau),
            }),
            fitness_spread: Some(FitnessSpread {
                trials: 190,
                mean: 0.3,
                std: 0.4,
                quantiles: Quantiles {
                    min: -0.5,
                    p5: -0.31234,
                    p25: 0.0,
                    median: 0.25,
                    p75: 0.6,
                    p95: 1.2,
                    max: 1.8,
                },
            }),
            pbo: Some(Pbo {
                blocks: 16,
                splits: 12_870,
                possible_splits: 12_870,
                trials: 190,
                pbo: 0.3137,
                logits: LogitDistribution {
                    mean: 0.5,
                    quantiles: Quantiles {
                        min: -3.0,
                        p5: -1.234,
                        p25: -0.2,
                        median: 0.456,
                        p75: 1.0,
                        p95: 2.5,
                        max: 4.0,
                    },
                    histogram_from: -5.25,
                    histogram_to: 5.25,
                    histogram: vec![0; 20],
                },
                degradation: Degradation {
                    slope: Some(-0.4321),
                    intercept: Some(0.01),
                    probability_of_loss: 0.4,
                },
            }),
        };
        assert_eq!(
            robustness_lines(&r),
            [
                "DSR 0.42 (N=190, effective N≈37: 0.55) · PSR 0.97 · neighbours keep 91 % of the winner's fitness (plateau)",
                "PBO 0.31 (12870 splits of 16 blocks) · logit median 0.46, 5–95 % -1.23 … 2.50 · OOS/IS Sharpe slope -0.43, OOS loss in 40 % of splits",
                "fitness over 190 trials: median 0.2500, 5–95 % -0.3123 … 1.200, best 1.800",
            ]
        );
    }
}
