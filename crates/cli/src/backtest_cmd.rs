//! `atf backtest`.

use crate::args::{BacktestArgs, Global};
use crate::exit::{CliError, CliResult};
use crate::progress::Watcher;
use crate::render;
use crate::setup::{open_catalog, prepare, resolve_params};
use atf_engine::{Progress, Registry, RunFailure};
use std::sync::Arc;

pub fn run(registry: &Registry, global: &Global, a: &BacktestArgs) -> CliResult {
    if let Some(url) = a.remote.server() {
        return crate::remote::backtest(registry, url, a);
    }
    let strategy = registry.find(&a.strategy).map_err(CliError::usage)?;
    let params = resolve_params(&*strategy, &a.settings.params)?;
    let catalog = open_catalog(global)?;
    let p = prepare(&catalog, &a.settings)?;
    let progress = Arc::new(Progress::new());
    let watcher = {
        let progress = Arc::clone(&progress);
        Watcher::start(p.data.total_sub_bars(), "bars", !a.no_progress, move || {
            (progress.processed(), String::new())
        })
    };
    let result = strategy.backtest(&p.data, &p.config, &params, Some(&progress));
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
            dataset: render::DatasetRef::from(&p.dataset),
            report: &report,
        })
    } else {
        render::print_backtest(&p.dataset.name, &report);
        Ok(())
    }
}
