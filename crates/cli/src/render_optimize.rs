//! Output of `atf optimize`: the ranked table and the every-trial CSV.

use atf_data::{time::format_iso, DatasetInfo};
use atf_engine::optimize::{Fitness, OptimizationReport, TrialOutcome};
use atf_engine::PerformanceMetrics;
use std::path::Path;

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |x| format!("{x:.decimals$}"))
}

/// Prints the summary and the best `top` trials as a table.
pub fn print_table(ds: &DatasetInfo, r: &OptimizationReport) {
    let spec = &r.spec;
    println!(
        "{} {} on {} ({}, {} main bars at {}, {} → {}), maximize {}",
        r.strategy,
        r.strategy_version,
        ds.name,
        r.symbol,
        r.common.main_bars,
        r.timeframe,
        format_iso(r.from_ms),
        format_iso(r.to_ms),
        spec.fitness
    );
    let secs = r.wall_secs.max(1e-9);
    let ran = r.completed + r.failed;
    println!(
        "{} combinations: {} completed, {} failed, {} skipped{} in {:.3} s ({:.0} combinations/s on {} threads)",
        r.total_combinations(),
        r.completed,
        r.failed,
        r.skipped,
        if r.cancelled { ", CANCELLED" } else { "" },
        r.wall_secs,
        ran as f64 / secs,
        r.threads
    );
    println!();
    let axes: Vec<&str> = spec.grid.axes().iter().map(|a| a.name).collect();
    let mut header: Vec<String> = vec!["rank".into()];
    header.extend(axes.iter().map(|s| (*s).to_owned()));
    // The ranked-by column is marked with brackets.
    let marked = |name: &str, f: Fitness| {
        if f == spec.fitness {
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
    let ranked = r.ranked_trials();
    for (rank, t) in ranked.iter().take(spec.top) {
        let params = spec.params_of(t.index);
        let mut row = vec![rank.to_string()];
        row.extend(axes.iter().map(|n| params.value(n).to_string()));
        match &t.outcome {
            TrialOutcome::Completed(m) => {
                let m: PerformanceMetrics = m.expand(&r.common, None);
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
            TrialOutcome::Failed(f) => {
                row.push(format!("FAILED: {}", f.message));
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
        if let Some((_, t)) = ranked
            .iter()
            .find(|(_, t)| matches!(t.outcome, TrialOutcome::Failed(_)))
        {
            let params = spec.params_of(t.index);
            let combo: Vec<String> = axes
                .iter()
                .map(|n| format!("{n}={}", params.value(n)))
                .collect();
            if let TrialOutcome::Failed(f) = &t.outcome {
                println!(
                    "\n{} trials failed; first by rank ({}): {}\n(messages and stack traces of all of them: --csv FILE or --json)",
                    r.failed,
                    combo.join(" "),
                    f.message
                );
            }
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

/// Writes every trial, best first: rank, combination index, every
/// parameter, status, fitness, all metrics, and for failed trials the
/// message and stack trace (quoted, multi-line).
pub fn write_csv(path: &Path, r: &OptimizationReport) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let names: Vec<&str> = r.spec.base.iter().map(|(n, _)| n).collect();
    let mut header = vec!["rank", "index"];
    header.extend(&names);
    header.extend(["status", "fitness"]);
    header.extend(METRIC_COLUMNS);
    header.extend(["error_message", "error_stack_trace"]);
    w.write_record(&header)?;
    for (rank, t) in r.ranked_trials().iter() {
        let params = r.spec.params_of(t.index);
        let mut rec = vec![rank.to_string(), t.index.to_string()];
        rec.extend(params.iter().map(|(_, v)| v.to_string()));
        match &t.outcome {
            TrialOutcome::Completed(m) => {
                rec.push("completed".into());
                rec.push(r.fitness_of(t).map_or_else(String::new, |x| x.to_string()));
                rec.extend(metric_cells(&m.expand(&r.common, None)));
                rec.extend([String::new(), String::new()]);
            }
            TrialOutcome::Failed(f) => {
                rec.push("failed".into());
                rec.push(String::new());
                rec.extend(METRIC_COLUMNS.map(|_| String::new()));
                rec.push(f.message.to_string());
                rec.push(f.backtrace.to_string());
            }
        }
        w.write_record(&rec)?;
    }
    w.flush()
}
