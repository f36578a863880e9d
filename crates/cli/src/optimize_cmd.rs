//! `atf optimize`.

use crate::args::{Global, OptimizeArgs};
use crate::exit::{CliError, CliResult};
use crate::output::OptimizationOutput;
use crate::progress::Watcher;
use crate::render::{self, DatasetRef};
use crate::render_optimize;
use crate::setup::{open_catalog, prepare, resolve_params};
use atf_engine::grid::{Axis, Constraint, Grid};
use atf_engine::optimize::{OptimizationProgress, OptimizeSpec};
use atf_engine::params::split_pair;
use atf_engine::registry::StrategyEntry;
use atf_engine::Registry;
use std::sync::Arc;

/// Parses axes, constraints and fixed parameters into a spec, refusing an
/// axis that is also fixed and grids above the limit — before any data is read.
fn build_spec(strategy: &dyn StrategyEntry, a: &OptimizeArgs) -> Result<OptimizeSpec, CliError> {
    let space = strategy.info().params;
    let axes = a
        .axes
        .iter()
        .map(|t| Axis::parse(t, &space).map_err(|e| CliError::usage(format!("--{e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &a.settings.params {
        let (name, _) = split_pair(p).map_err(CliError::usage)?;
        if axes.iter().any(|ax| ax.name == name) {
            return Err(CliError::usage(format!(
                "--param {name}: '{name}' is also an axis; give it one or the other"
            )));
        }
    }
    let base = resolve_params(strategy, &a.settings.params)?;
    let grid = Grid::new(axes, a.max_combinations).map_err(|e| {
        CliError::usage(format!(
            "{e} (raise it with --max-combinations or ATF_MAX_COMBINATIONS)"
        ))
    })?;
    let constraints = a
        .constraints
        .iter()
        .map(|t| Constraint::parse(t, &space).map_err(|e| CliError::usage(format!("--{e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OptimizeSpec {
        grid,
        constraints,
        base,
        fitness: a.maximize,
        top: a.top as usize,
    })
}

pub fn run(registry: &Registry, global: &Global, a: &OptimizeArgs) -> CliResult {
    if let Some(url) = a.remote.server() {
        return crate::remote::optimize(registry, url, a);
    }
    let strategy = registry.find(&a.strategy).map_err(CliError::usage)?;
    let spec = build_spec(&*strategy, a)?;
    let catalog = open_catalog(global)?;
    let p = prepare(&catalog, &a.settings)?;
    let threads = a.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let progress = Arc::new(OptimizationProgress::new());
    let watcher = {
        let progress = Arc::clone(&progress);
        Watcher::start(
            spec.grid.size(),
            "combinations",
            !a.no_progress,
            move || {
                let (failed, skipped) = (progress.failed(), progress.skipped());
                let mut note = Vec::new();
                if failed > 0 {
                    note.push(format!("{failed} failed"));
                }
                if skipped > 0 {
                    note.push(format!("{skipped} skipped"));
                }
                (progress.processed(), note.join(", "))
            },
        )
    };
    let result = strategy.optimize(&p.data, &p.config, &spec, &progress, threads);
    drop(watcher);
    let report = result.map_err(CliError::failed)?;
    if let Some(path) = &a.csv {
        let names: Vec<String> = report.spec.base.iter().map(|(n, _)| n.to_owned()).collect();
        render_optimize::write_csv(path, &names, report.records())
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    if a.json {
        render::print_json(&OptimizationOutput {
            dataset: DatasetRef::from(&p.dataset),
            outcome: report.outcome(a.curves),
        })
    } else {
        let (best, first_failed) = report.best_and_first_failed(report.spec.top);
        render_optimize::print_table(
            &p.dataset.name,
            &report.summary(),
            &best,
            first_failed.as_ref(),
        );
        Ok(())
    }
}
