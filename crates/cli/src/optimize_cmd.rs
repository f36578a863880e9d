//! `atf optimize`: the flags become the API's optimization request,
//! planned by `atf_runs::plan` as `POST /api/optimizations` plans it (same
//! checks, defaults and reasons; the grid limit is `--max-combinations`),
//! then run here on `--threads` with a progress bar. The grid is the
//! API's: axes in the order of their names whatever the order of the
//! `--axis` flags, so combination indices (and the table's columns) are
//! those of the same optimization run with `--server`.

use crate::args::{Global, OptimizeArgs};
use crate::exit::{CliError, CliResult};
use crate::flags::{self, describe, FieldNames};
use crate::output::OptimizationOutput;
use crate::progress::Watcher;
use crate::render::{self, DatasetRef};
use crate::render_optimize;
use crate::request;
use crate::setup::{self, open_catalog};
use atf_engine::optimize::OptimizationProgress;
use atf_engine::Registry;
use atf_runs::plan::{self, Work};
use atf_runs::FieldError;
use std::sync::Arc;

/// The planner's refusal as one line; a grid refused as too large (the
/// planner's `axes` as a whole: a single axis is refused by its name, and
/// `--axis` is required) says how to raise the limit, which is this
/// command's.
pub(crate) fn refused(e: &FieldError, names: &FieldNames<'_>) -> CliError {
    let line = describe(e, names);
    CliError::Usage(if e.field == "axes" && line.ends_with(plan::SEARCH_HINT) {
        format!("{line} (--method, --budget), or raise the limit with --max-combinations or ATF_MAX_COMBINATIONS")
    } else {
        line
    })
}

pub fn run(registry: &Registry, global: &Global, a: &OptimizeArgs) -> CliResult {
    if let Some(url) = a.remote.server() {
        return crate::remote::optimize(registry, url, a);
    }
    if a.resume.is_some() {
        return Err(CliError::Usage(
            "--resume needs --server: a server keeps cancelled runs to resume (a local run keeps nothing)"
                .to_owned(),
        ));
    }
    let names = FieldNames {
        constraints: &a.constraints,
    };
    let req = request::optimization(a).map_err(|e| flags::refused(&e, &names))?;
    let catalog = open_catalog(global)?;
    let dataset = setup::dataset(&catalog, &req.run.dataset)?;
    let job = plan::check_optimization(
        registry,
        &req,
        dataset,
        plan::GridLimits {
            max_combinations: a.max_combinations,
            max_kept_points: a.max_kept_points,
        },
        request::qty_decimals(&a.settings),
    )
    .map_err(|e| refused(&e, &names))?;
    let Work::Optimization(spec) = &job.work else {
        return Err(CliError::failed(
            "internal error: an optimization planned as a backtest",
        ));
    };
    let t = &job.target;
    let data = setup::load(&catalog, t)?;
    let threads = a.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let progress = Arc::new(OptimizationProgress::new());
    let watcher = {
        let progress = Arc::clone(&progress);
        // a search counts trials evaluated of its budget; a grid, every
        // combination dealt with (skipped ones too) of the grid
        let genetic = spec
            .search
            .is_some_and(|s| s.method == atf_engine::optimize::search::SearchMethod::Genetic);
        let searching = spec.search.is_some();
        Watcher::start(
            job.total,
            if searching { "trials" } else { "combinations" },
            !a.no_progress,
            move || {
                let (failed, skipped) = (progress.failed(), progress.skipped());
                let mut note = Vec::new();
                if genetic {
                    note.push(format!("generation {}", progress.generation()));
                }
                if failed > 0 {
                    note.push(format!("{failed} failed"));
                }
                if skipped > 0 {
                    note.push(format!("{skipped} skipped"));
                }
                let done = if searching {
                    progress.completed() + failed
                } else {
                    progress.processed()
                };
                (done, note.join(", "))
            },
        )
    };
    let result = t
        .strategy
        .optimize(&data, &t.config, spec, &progress, threads);
    drop(watcher);
    let report = result.map_err(CliError::failed)?;
    if let Some(path) = &a.csv {
        let names: Vec<String> = report.spec.base.iter().map(|(n, _)| n.to_owned()).collect();
        render_optimize::write_csv(path, &names, report.records())
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    if a.json {
        render::print_json(&OptimizationOutput {
            dataset: DatasetRef::from(&t.dataset),
            outcome: report.outcome(a.curves),
        })
    } else {
        let (best, first_failed) = report.best_and_first_failed(report.spec.top);
        render_optimize::print_table(
            &t.dataset.name,
            &report.summary(),
            &best,
            first_failed.as_ref(),
        );
        Ok(())
    }
}
