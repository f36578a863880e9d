//! Output of `atf optimize`: the ranked table and the every-trial CSV.

use atf_data::{time::format_iso, DatasetInfo};
use atf_engine::optimize::{Fitness, OptimizationReport, TrialOutcome};
use atf_engine::PerformanceMetrics;
use std::path::Path;

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |x| format!("{x:.decimals$}"))
}

/// One row of the ranked table.
pub struct TableRow {
    pub rank: usize,
    /// The axes' values, in the table's axis order.
    pub values: Vec<String>,
    /// The trial's metrics, or why it failed.
    pub outcome: Result<PerformanceMetrics, String>,
}

/// What the ranked table shows: filled from a local
/// [`OptimizationReport`] or from a server's result JSON.
pub struct OptimizationTable<'a> {
    pub dataset: &'a str,
    pub strategy: &'a str,
    pub strategy_version: &'a str,
    pub symbol: &'a str,
    pub main_bars: u64,
    pub timeframe: &'a str,
    pub from_ms: i64,
    pub to_ms: i64,
    pub fitness: Fitness,
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub cancelled: bool,
    pub wall_secs: f64,
    pub threads: u64,
    /// Axis names, in the order they were given.
    pub axes: Vec<String>,
    /// The best trials, best first.
    pub rows: Vec<TableRow>,
    /// The best-ranked failed trial: its `name=value` per axis and message.
    pub first_failed: Option<(Vec<String>, String)>,
}

/// Prints the summary and the best `top` trials as a table.
pub fn print_table(ds: &DatasetInfo, r: &OptimizationReport) {
    let spec = &r.spec;
    let axes: Vec<&str> = spec.grid.axes().iter().map(|a| a.name).collect();
    let ranked = r.ranked_trials();
    let rows = ranked
        .iter()
        .take(spec.top)
        .map(|(rank, t)| {
            let params = spec.params_of(t.index);
            TableRow {
                rank,
                values: axes.iter().map(|n| params.value(n).to_string()).collect(),
                outcome: match &t.outcome {
                    TrialOutcome::Completed(m) => Ok(m.expand(&r.common, None)),
                    TrialOutcome::Failed(f) => Err(f.message.to_string()),
                },
            }
        })
        .collect();
    let first_failed = ranked.iter().find_map(|(_, t)| match &t.outcome {
        TrialOutcome::Failed(f) => {
            let params = spec.params_of(t.index);
            let combo = axes
                .iter()
                .map(|n| format!("{n}={}", params.value(n)))
                .collect();
            Some((combo, f.message.to_string()))
        }
        TrialOutcome::Completed(_) => None,
    });
    print_optimization_table(&OptimizationTable {
        dataset: &ds.name,
        strategy: r.strategy,
        strategy_version: r.strategy_version,
        symbol: &r.symbol,
        main_bars: r.common.main_bars,
        timeframe: &r.timeframe,
        from_ms: r.from_ms,
        to_ms: r.to_ms,
        fitness: spec.fitness,
        total: r.total_combinations(),
        completed: r.completed,
        failed: r.failed,
        skipped: r.skipped,
        cancelled: r.cancelled,
        wall_secs: r.wall_secs,
        threads: r.threads as u64,
        axes: axes.iter().map(|a| (*a).to_owned()).collect(),
        rows,
        first_failed,
    });
}

/// Prints an [`OptimizationTable`]: two summary lines, then the ranked
/// rows with the ranked-by column marked.
pub fn print_optimization_table(r: &OptimizationTable<'_>) {
    println!(
        "{} {} on {} ({}, {} main bars at {}, {} → {}), maximize {}",
        r.strategy,
        r.strategy_version,
        r.dataset,
        r.symbol,
        r.main_bars,
        r.timeframe,
        format_iso(r.from_ms),
        format_iso(r.to_ms),
        r.fitness
    );
    let secs = r.wall_secs.max(1e-9);
    let ran = r.completed + r.failed;
    println!(
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
    println!();
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
    println!("{}", line(&header));
    for row in &rows {
        println!("{}", line(row));
    }
    if r.failed > 0 {
        if let Some((combo, message)) = &r.first_failed {
            println!(
                "\n{} trials failed; first by rank ({}): {}\n(messages and stack traces of all of them: --csv FILE or --json)",
                r.failed,
                combo.join(" "),
                message
            );
        }
    }
}

const METRIC_COLUMNS: [&str; 23] = [
    "final_equity",
    "net_profit",
    "total_return_pct",
    "annualized_return_pct",
    "max_drawdown",
    "max_drawdown_pct",
    "sharpe",
    "sortino",
    "profit_factor",
    "return_over_drawdown",
    "win_rate",
    "trade_count",
    "winning_trades",
    "losing_trades",
    "average_win",
    "average_loss",
    "expectancy",
    "largest_win",
    "largest_loss",
    "exposure_pct",
    "total_commission",
    "main_bars",
    "sub_bars",
];

fn metric_cells(m: &PerformanceMetrics) -> [String; 23] {
    let f = |x: f64| x.to_string();
    let o = |x: Option<f64>| x.map_or_else(String::new, |v| v.to_string());
    [
        f(m.final_equity),
        f(m.net_profit),
        f(m.total_return_pct),
        o(m.annualized_return_pct),
        f(m.max_drawdown),
        f(m.max_drawdown_pct),
        o(m.sharpe),
        o(m.sortino),
        o(m.profit_factor),
        o(m.return_over_drawdown),
        o(m.win_rate),
        m.trade_count.to_string(),
        m.winning_trades.to_string(),
        m.losing_trades.to_string(),
        o(m.average_win),
        o(m.average_loss),
        o(m.expectancy),
        o(m.largest_win),
        o(m.largest_loss),
        f(m.exposure_pct),
        f(m.total_commission),
        m.main_bars.to_string(),
        m.sub_bars.to_string(),
    ]
}

/// One line of the every-trial CSV.
pub struct CsvTrial {
    pub rank: usize,
    /// Combination index in the grid.
    pub index: u64,
    /// Every parameter's value, in the CSV header's order.
    pub params: Vec<String>,
    /// Fitness and metrics, or the error message and stack trace.
    pub outcome: Result<(Option<f64>, PerformanceMetrics), (String, String)>,
}

/// Writes every trial, best first: rank, combination index, every
/// parameter, status, fitness, all metrics, and for failed trials the
/// message and stack trace (quoted, multi-line).
pub fn write_csv(path: &Path, r: &OptimizationReport) -> std::io::Result<()> {
    let names: Vec<&str> = r.spec.base.iter().map(|(n, _)| n).collect();
    let trials = r.ranked_trials();
    write_csv_rows(
        path,
        &names,
        trials.iter().map(|(rank, t)| CsvTrial {
            rank,
            index: t.index,
            params: r
                .spec
                .params_of(t.index)
                .iter()
                .map(|(_, v)| v.to_string())
                .collect(),
            outcome: match &t.outcome {
                TrialOutcome::Completed(m) => Ok((r.fitness_of(t), m.expand(&r.common, None))),
                TrialOutcome::Failed(f) => Err((f.message.to_string(), f.backtrace.to_string())),
            },
        }),
    )
}

/// Writes the every-trial CSV of [`write_csv`] from `trials` (best first),
/// `names` being the parameters' column names.
pub fn write_csv_rows(
    path: &Path,
    names: &[&str],
    trials: impl IntoIterator<Item = CsvTrial>,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header = vec!["rank", "index"];
    header.extend(names);
    header.extend(["status", "fitness"]);
    header.extend(METRIC_COLUMNS);
    header.extend(["error_message", "error_stack_trace"]);
    w.write_record(&header)?;
    for t in trials {
        let mut rec = vec![t.rank.to_string(), t.index.to_string()];
        rec.extend(t.params);
        match t.outcome {
            Ok((fitness, m)) => {
                rec.push("completed".into());
                rec.push(fitness.map_or_else(String::new, |x| x.to_string()));
                rec.extend(metric_cells(&m));
                rec.extend([String::new(), String::new()]);
            }
            Err((message, trace)) => {
                rec.push("failed".into());
                rec.push(String::new());
                rec.extend(METRIC_COLUMNS.map(|_| String::new()));
                rec.push(message);
                rec.push(trace);
            }
        }
        w.write_record(&rec)?;
    }
    w.flush()
}
