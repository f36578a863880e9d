//! `atf backtest`: the flags become the API's backtest request, planned
//! by `atf_runs::plan` as `POST /api/backtests` plans it (same checks,
//! defaults and reasons), then run here with a progress bar.

use crate::args::{BacktestArgs, Global};
use crate::exit::{CliError, CliResult};
use crate::flags::{refused, FieldNames};
use crate::progress::Watcher;
use crate::render;
use crate::request;
use crate::setup::{self, open_catalog};
use atf_engine::{Progress, Registry, RunFailure};
use atf_runs::plan::{self, Work};
use std::sync::Arc;

pub fn run(registry: &Registry, global: &Global, a: &BacktestArgs) -> CliResult {
    if let Some(url) = a.remote.server() {
        return crate::remote::backtest(registry, url, a);
    }
    let names = FieldNames::default();
    let req = request::backtest(a).map_err(|e| refused(&e, &names))?;
    let catalog = open_catalog(global)?;
    let dataset = setup::dataset(&catalog, &req.run.dataset)?;
    let job = plan::check_backtest(registry, &req, dataset, request::qty_decimals(&a.settings))
        .map_err(|e| refused(&e, &names))?;
    let Work::Backtest(params) = &job.work else {
        return Err(CliError::failed(
            "internal error: a backtest planned as an optimization",
        ));
    };
    let t = &job.target;
    let data = setup::load(&catalog, t)?;
    let progress = Arc::new(Progress::new());
    let watcher = {
        let progress = Arc::clone(&progress);
        Watcher::start(data.total_sub_bars(), "bars", !a.no_progress, move || {
            (progress.processed(), String::new())
        })
    };
    let result = t
        .strategy
        .backtest(&data, &t.config, params, Some(&progress));
    drop(watcher);
    let report = match result {
        Ok(r) => r,
        Err(RunFailure::Params(e)) => return Err(CliError::usage(e)),
        Err(RunFailure::Cancelled { processed }) => {
            return Err(CliError::failed(format!(
                "backtest cancelled after {processed} bars"
            )))
        }
        Err(RunFailure::Failed(f)) => {
            return Err(CliError::Failed {
                message: format!("backtest failed: {}", f.message),
                detail: Some(f.backtrace),
            })
        }
        Err(e) => return Err(CliError::failed(e)),
    };
    if let Some(path) = &a.trades_csv {
        render::write_trades_csv(path, &report.trades)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    if a.json {
        render::print_json(&render::BacktestOutput {
            dataset: render::DatasetRef::from(&t.dataset),
            report: &report,
        })
    } else {
        render::print_backtest(&t.dataset.name, &report);
        Ok(())
    }
}
