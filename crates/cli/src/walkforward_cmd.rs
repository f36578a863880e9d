//! `atf walkforward`: `atf optimize`'s flags plus the windows and the
//! criteria become the walk-forward request (`atf_runs::walkforward`),
//! checked by the same planner the optimization uses, then run here: each
//! fold's in-sample window optimized on `--threads`, its winner backtested
//! on the out-of-sample window after it, with one progress bar over every
//! fold's combinations. With `--server` the same request goes to
//! `POST /api/walkforwards` ([`crate::remote::walkforward`]) and the same
//! table (or `--json`) is printed from the stored report.

use crate::args::{Global, WalkForwardArgs};
use crate::exit::{CliError, CliResult};
use crate::flags::FieldNames;
use crate::out::outln;
use crate::output::DatasetRef;
use crate::progress::Watcher;
use crate::render;
use crate::request;
use crate::setup::{self, open_catalog};
use atf_engine::{ParamScalar, Registry};
use atf_runs::plan::GridLimits;
use atf_runs::walkforward::{
    self, CriteriaFields, WalkForwardReport, WalkForwardRequest, WindowFields, WindowMode,
};
use atf_runs::FieldError;
use serde::Serialize;
use std::sync::Arc;

/// `--json`: the dataset and the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WalkForwardOutput<'a> {
    pub(crate) dataset: DatasetRef,
    #[serde(flatten)]
    pub(crate) report: &'a WalkForwardReport,
}

use crate::optimize_cmd::refused;

/// The walk-forward request of the flags.
pub(crate) fn walkforward_request(a: &WalkForwardArgs) -> Result<WalkForwardRequest, FieldError> {
    let folds = a
        .folds
        .map(|n| {
            u32::try_from(n).map_err(|_| {
                FieldError::new(
                    "folds",
                    format!("must be between 1 and {}", walkforward::MAX_FOLDS),
                )
            })
        })
        .transpose()?;
    Ok(WalkForwardRequest {
        windows: WindowFields {
            mode: if a.mode == "anchored" {
                WindowMode::Anchored
            } else {
                WindowMode::Rolling
            },
            in_sample: a.in_sample.clone(),
            out_of_sample: a.out_of_sample.clone(),
            folds,
            oos_fraction: a.oos_fraction,
            criteria: CriteriaFields {
                min_wfe_pct: a.min_wfe,
                min_profitable_folds_pct: a.min_profitable_folds,
                max_fold_profit_share_pct: a.max_fold_profit_share,
                max_drawdown_pct: a.max_drawdown,
            },
        },
        optimization: request::optimization(&a.opt)?,
    })
}

pub fn run(registry: &Registry, global: &Global, a: &WalkForwardArgs) -> CliResult {
    let o = &a.opt;
    if o.resume.is_some() {
        return Err(CliError::Usage(
            "--resume: only for atf optimize --server".to_owned(),
        ));
    }
    if o.csv.is_some() {
        return Err(CliError::Usage(
            "--csv: not available for walkforward (use --json)".to_owned(),
        ));
    }
    if o.curves {
        return Err(CliError::Usage(
            "--curves: not available for walkforward: --json holds the stitched equity curve"
                .to_owned(),
        ));
    }
    if let Some(url) = o.remote.server() {
        return crate::remote::walkforward(url, a);
    }
    let names = FieldNames {
        constraints: &o.constraints,
    };
    let req = walkforward_request(a).map_err(|e| crate::flags::refused(&e, &names))?;
    let catalog = open_catalog(global)?;
    let dataset = setup::dataset(&catalog, &req.optimization.run.dataset)?;
    let job = walkforward::check_walkforward(
        registry,
        &req,
        dataset,
        GridLimits {
            max_combinations: o.max_combinations,
            max_kept_points: o.max_kept_points,
        },
        request::qty_decimals(&o.settings),
    )
    .map_err(|e| refused(&e, &names))?;
    let t = &job.target;
    let bars = job.load(catalog.data_dir()).map_err(CliError::from)?;
    let threads = o.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let progress = Arc::new(walkforward::WalkForwardProgress::new());
    let folds = job.windows.len();
    let watcher = {
        let progress = Arc::clone(&progress);
        Watcher::start(job.total, "combinations", !o.no_progress, move || {
            let failed = progress.failed();
            let mut note = format!(
                "fold {}/{folds}",
                (progress.folds_done() + 1).min(folds as u64)
            );
            if failed > 0 {
                note.push_str(&format!(", {failed} failed"));
            }
            (progress.processed(), note)
        })
    };
    let result = walkforward::run(&job, &bars, &progress, threads);
    drop(watcher);
    let report = result.map_err(CliError::failed)?;
    if o.json {
        render::print_json(&WalkForwardOutput {
            dataset: DatasetRef::from(&t.dataset),
            report: &report,
        })
    } else {
        print_table(&t.dataset.name, &report);
        Ok(())
    }
}

fn day_or_instant(ms: i64) -> String {
    let iso = atf_data::time::format_iso(ms);
    if ms % 86_400_000 == 0 {
        iso.chars().take(10).collect()
    } else {
        iso
    }
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |x| format!("{x:.decimals$}"))
}

fn scalar(v: &ParamScalar) -> String {
    match v {
        ParamScalar::Int(i) => i.to_string(),
        ParamScalar::Float(f) => f.to_string(),
        ParamScalar::Bool(b) => b.to_string(),
        ParamScalar::Text(s) => s.clone(),
    }
}

pub(crate) fn print_table(dataset: &str, r: &WalkForwardReport) {
    let mode = match r.mode {
        WindowMode::Rolling => "rolling",
        WindowMode::Anchored => "anchored",
    };
    outln!(
        "Walk-forward {} on {dataset} ({}), {mode}, {} folds × {} combinations, winners by {}",
        r.strategy,
        r.timeframe,
        r.planned_folds,
        r.combinations_per_fold,
        r.maximize
    );
    if r.cancelled {
        outln!(
            "CANCELLED after {} of {} folds",
            r.folds.len(),
            r.planned_folds
        );
    }
    outln!();
    outln!(
        "{:>4}  {:<23}  {:<23}  {:<28}  {:>8}  {:>8}  {:>9}  {:>8}  {:>6}  {:>13}",
        "fold",
        "in-sample",
        "out-of-sample",
        "winner",
        "IS fit",
        "IS ret%",
        "OOS ret%",
        "OOS dd%",
        "trades",
        "end equity"
    );
    for f in &r.folds {
        let w = &f.window;
        let is = format!(
            "{}..{}",
            day_or_instant(w.is_from_ms),
            day_or_instant(w.is_to_ms)
        );
        let oos = format!(
            "{}..{}",
            day_or_instant(w.oos_from_ms),
            day_or_instant(w.oos_to_ms)
        );
        match &f.winner {
            Some(win) => {
                let params: Vec<String> = r
                    .stability
                    .iter()
                    .filter_map(|s| {
                        win.params
                            .get(&s.name)
                            .map(|v| format!("{}={}", s.name, scalar(v)))
                    })
                    .collect();
                outln!(
                    "{:>4}  {:<23}  {:<23}  {:<28}  {:>8}  {:>8}  {:>9.2}  {:>8.2}  {:>6}  {:>13.2}{}",
                    w.fold,
                    is,
                    oos,
                    params.join(" "),
                    opt(win.is_fitness, 3),
                    format!("{:.2}", win.is_metrics.total_return_pct),
                    win.oos_metrics.total_return_pct,
                    win.oos_metrics.max_drawdown_pct,
                    win.oos_metrics.trade_count,
                    f.end_equity,
                    if win.closed_at_end.is_some() {
                        "  closed at end"
                    } else {
                        ""
                    }
                );
            }
            None if f.no_bars => outln!(
                "{:>4}  {is:<23}  {oos:<23}  skipped: a window holds no bars (a gap in the data)",
                w.fold
            ),
            None => outln!(
                "{:>4}  {is:<23}  {oos:<23}  no winner: all {} trials failed, flat out of sample",
                w.fold,
                f.failed
            ),
        }
    }
    let s = &r.stitched;
    outln!();
    outln!(
        "Stitched out-of-sample ({} bars, {} trades)",
        s.bars,
        s.trade_count
    );
    outln!(
        "  equity        {:.2} → {:.2}  (net {:+.2}, {:+.2} %)",
        s.initial_equity,
        s.final_equity,
        s.net_profit,
        s.total_return_pct
    );
    outln!(
        "  annualized    {} %   max drawdown {:.2} %   Sharpe {}   t-stat {}",
        opt(s.annualized_return_pct, 2),
        s.max_drawdown_pct,
        opt(s.sharpe, 3),
        opt(s.sharpe_t_stat, 2)
    );
    outln!("  profitable folds {}/{}", s.profitable_folds, s.folds);
    outln!(
        "  WFE {} %  (OOS annualized {} % ÷ mean IS annualized {} %; undefined when IS ≤ 0)",
        opt(r.wfe_pct, 1),
        opt(s.annualized_return_pct, 2),
        opt(r.is_annualized_return_pct, 2)
    );
    if !r.stability.is_empty() {
        outln!();
        outln!("Parameter stability across folds");
        for p in &r.stability {
            let values: Vec<String> = p.values.iter().map(scalar).collect();
            outln!(
                "  {:<16} {} distinct  cv {}  [{}]",
                p.name,
                p.distinct,
                opt(p.cv, 2),
                values.join(", ")
            );
        }
    }
    outln!();
    outln!("Criteria");
    for c in &r.checks {
        outln!(
            "  {}  {:<52} {}",
            if c.passed { "PASS" } else { "FAIL" },
            c.rule,
            opt(c.value, 1)
        );
    }
    outln!("Overall: {}", if r.passed { "PASS" } else { "FAIL" });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_show_as_days_when_whole() {
        assert_eq!(day_or_instant(86_400_000), "1970-01-02");
        assert!(day_or_instant(86_400_000 + 60_000).starts_with("1970-01-02T00:01"));
    }
}
