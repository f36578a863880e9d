//! Human and machine output: tables, JSON, CSV.

use crate::exit::CliResult;
use crate::out::outln;
use atf_data::time::format_iso;
use atf_engine::report::{Direction, OpenPosition, Trade};
use atf_engine::{BacktestReport, ExitReason, PerformanceMetrics};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

pub use crate::output::{BacktestOutput, DatasetRef};

/// Prints one JSON document on stdout.
pub fn print_json<T: Serialize>(value: &T) -> CliResult {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |x| format!("{x:.decimals$}"))
}

fn money(x: f64) -> String {
    format!("{x:.2}")
}

/// What the metrics table of a backtest shows.
struct BacktestTable<'a> {
    pub dataset: &'a str,
    pub strategy: &'a str,
    pub strategy_version: &'a str,
    /// `(name, value)` in the strategy's declaration order.
    pub params: Vec<(String, String)>,
    pub symbol: &'a str,
    pub timeframe: &'a str,
    pub sub_timeframe: &'a str,
    pub from_ms: i64,
    pub to_ms: i64,
    pub warmup_bars: u32,
    pub metrics: &'a PerformanceMetrics,
    pub open_position: Option<OpenPosition>,
    pub rejected_orders: u64,
    pub ambiguous_bracket_fills: u64,
}

/// The metrics table of a backtest of `dataset`.
pub fn print_backtest(dataset: &str, r: &BacktestReport) {
    print_backtest_table(&BacktestTable {
        dataset,
        strategy: &r.strategy,
        strategy_version: &r.strategy_version,
        params: r
            .params
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_string()))
            .collect(),
        symbol: &r.symbol,
        timeframe: &r.timeframe,
        sub_timeframe: &r.sub_timeframe,
        from_ms: r.from_ms,
        to_ms: r.to_ms,
        warmup_bars: r.warmup_bars,
        metrics: &r.metrics,
        open_position: r.open_position,
        rejected_orders: u64::from(r.rejected_orders),
        ambiguous_bracket_fills: u64::from(r.ambiguous_bracket_fills),
    });
}

/// Prints [`BacktestTable`] as aligned `name  value` rows and notes.
fn print_backtest_table(r: &BacktestTable<'_>) {
    let m = r.metrics;
    let params: Vec<String> = r.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let rows: Vec<(&str, String)> = vec![
        (
            "Strategy",
            format!(
                "{} {} ({})",
                r.strategy,
                r.strategy_version,
                params.join(", ")
            ),
        ),
        (
            "Dataset",
            format!(
                "{} ({}, {} bars of {})",
                r.dataset, r.symbol, m.sub_bars, r.sub_timeframe
            ),
        ),
        (
            "Period",
            format!(
                "{} → {} at {}{}",
                format_iso(r.from_ms),
                format_iso(r.to_ms),
                r.timeframe,
                if r.warmup_bars > 0 {
                    format!(", after {} warm-up bars", r.warmup_bars)
                } else {
                    String::new()
                }
            ),
        ),
        ("Initial equity", money(m.initial_equity)),
        ("Final equity", money(m.final_equity)),
        ("Net profit", money(m.net_profit)),
        ("Total return", format!("{:.2} %", m.total_return_pct)),
        ("Annualized return", opt(m.annualized_return_pct, 2) + " %"),
        (
            "Max drawdown",
            format!("{} ({:.2} %)", money(m.max_drawdown), m.max_drawdown_pct),
        ),
        ("Sharpe", opt(m.sharpe, 3)),
        ("Sortino", opt(m.sortino, 3)),
        ("Profit factor", opt(m.profit_factor, 3)),
        ("Return / drawdown", opt(m.return_over_drawdown, 3)),
        (
            "Trades",
            format!(
                "{} ({} won, {} lost)",
                m.trade_count, m.winning_trades, m.losing_trades
            ),
        ),
        ("Win rate", opt(m.win_rate, 2) + " %"),
        (
            "Average win / loss",
            format!("{} / {}", opt(m.average_win, 2), opt(m.average_loss, 2)),
        ),
        ("Expectancy", opt(m.expectancy, 2)),
        (
            "Largest win / loss",
            format!("{} / {}", opt(m.largest_win, 2), opt(m.largest_loss, 2)),
        ),
        ("Exposure", format!("{:.2} %", m.exposure_pct)),
        ("Commission paid", money(m.total_commission)),
        (
            "Open position",
            r.open_position.map_or_else(
                || "none".to_owned(),
                |p| {
                    format!(
                        "{} {} @ {} (last {})",
                        side(p.side),
                        p.quantity,
                        p.entry_price,
                        p.mark_price
                    )
                },
            ),
        ),
        (
            "Wall time",
            format!(
                "{:.3} ms ({:.1} M sub-bars/s)",
                m.wall_time_ms.unwrap_or(0.0),
                m.sub_bars_per_second.unwrap_or(0.0) / 1e6
            ),
        ),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        outln!("{k:<width$}  {v}");
    }
    if r.rejected_orders > 0 {
        outln!(
            "note: {} orders were rejected as unaffordable or of zero size",
            r.rejected_orders
        );
    }
    if r.ambiguous_bracket_fills > 0 {
        outln!(
            "note: in {} sub-bars both stop-loss and take-profit were reachable; the stop-loss was assumed to fill first",
            r.ambiguous_bracket_fills
        );
    }
}

fn side(s: Direction) -> &'static str {
    match s {
        Direction::Long => "long",
        Direction::Short => "short",
    }
}

fn reason(r: ExitReason) -> &'static str {
    match r {
        ExitReason::Signal => "signal",
        ExitReason::StopLoss => "stop_loss",
        ExitReason::TakeProfit => "take_profit",
    }
}

/// Writes the trade list as CSV.
pub fn write_trades_csv(path: &Path, trades: &[Trade]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "side,quantity,entry_time,entry_price,exit_time,exit_price,pnl,commission,exit_reason"
    )?;
    for t in trades {
        writeln!(
            out,
            "{},{},{},{},{},{},{:.4},{:.4},{}",
            side(t.side),
            t.quantity,
            format_iso(t.entry_time),
            t.entry_price,
            format_iso(t.exit_time),
            t.exit_price,
            t.pnl,
            t.commission,
            reason(t.exit_reason)
        )?;
    }
    out.flush()
}
