//! Turning [`RunSettings`] into what the engine runs on: the dataset's bars
//! for the period at the chosen timeframe, and the engine configuration.
//! Shared by every command that runs the engine.

use crate::args::{Global, RunSettings};
use crate::exit::CliError;
use atf_data::{time, Catalog, DatasetInfo};
use atf_engine::registry::StrategyEntry;
use atf_engine::{params::split_pair, BacktestConfig, Instrument, MarketData, Params, Timeframe};
use std::path::PathBuf;

/// The data directory: `--data-dir`, `$ATF_DATA_DIR`, or the user's data dir.
pub fn data_dir(global: &Global) -> PathBuf {
    if let Some(d) = &global.data_dir {
        return d.clone();
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    base.map_or_else(|| PathBuf::from(".atf"), |b| b.join("atf"))
}

/// Opens the catalog, importing the bundled demo datasets on first use.
pub fn open_catalog(global: &Global) -> Result<Catalog, CliError> {
    let dir = data_dir(global);
    let catalog = Catalog::open(&dir)?;
    catalog.ensure_demo()?;
    Ok(catalog)
}

/// Everything a run needs.
pub struct Prepared {
    pub dataset: DatasetInfo,
    pub data: MarketData,
    pub config: BacktestConfig,
}

/// Parses `--param name=value` pairs against the strategy's space.
pub fn resolve_params(strategy: &dyn StrategyEntry, pairs: &[String]) -> Result<Params, CliError> {
    let split: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| split_pair(p))
        .collect::<Result<_, _>>()
        .map_err(CliError::usage)?;
    strategy
        .info()
        .params
        .resolve(split)
        .map_err(CliError::usage)
}

fn parse_bound(text: &str, end: bool) -> Result<i64, CliError> {
    let ms = time::parse_timestamp(text)
        .map_err(|e| CliError::usage(format!("--{}: {e}", if end { "to" } else { "from" })))?;
    // A bare date as the end of a period means "through that day".
    let date_only = text.trim().len() == 10 && text.contains('-');
    Ok(if end && date_only {
        ms + 86_400_000
    } else if end {
        ms + 1
    } else {
        ms
    })
}

/// Loads the period's bars at the chosen timeframe and builds the config.
pub fn prepare(catalog: &Catalog, s: &RunSettings) -> Result<Prepared, CliError> {
    let dataset = catalog.get(&s.dataset)?;
    let from = s
        .from
        .as_deref()
        .map(|t| parse_bound(t, false))
        .transpose()?;
    let to = s.to.as_deref().map(|t| parse_bound(t, true)).transpose()?;
    if let (Some(a), Some(b)) = (from, to) {
        if a >= b {
            return Err(CliError::usage("empty period: --from must be before --to"));
        }
    }
    let timeframe = match &s.timeframe {
        Some(t) => t.parse::<Timeframe>().map_err(CliError::usage)?,
        None => dataset.timeframe,
    };
    let mut instrument: Instrument = dataset.instrument();
    if s.qty_decimals > 0 {
        instrument = Instrument::with_qty(
            instrument.symbol.clone(),
            dataset.price_decimals,
            s.qty_decimals,
        );
    }
    let config = engine_config(&instrument, s)?;
    let bars = catalog.load(&dataset, from, to)?;
    if bars.is_empty() {
        return Err(CliError::usage(format!(
            "empty period: dataset '{}' has bars from {} to {}, none in the chosen period",
            dataset.name,
            time::format_iso(dataset.first_ts_ms),
            time::format_iso(dataset.last_ts_ms)
        )));
    }
    let data =
        MarketData::new(instrument, bars, dataset.timeframe, timeframe).map_err(CliError::usage)?;
    Ok(Prepared {
        dataset,
        data,
        config,
    })
}

/// The engine's config from the cost, cash and sizing flags (the same
/// validation as the API's bodies, see `atf_runs::settings`).
pub fn engine_config(inst: &Instrument, s: &RunSettings) -> Result<BacktestConfig, CliError> {
    atf_runs::engine_config(
        inst,
        &atf_runs::CostSettings {
            cash: &s.cash,
            commission_pct: &s.commission_pct,
            commission_fixed: &s.commission_fixed,
            slippage_ticks: s.slippage_ticks,
            size_pct: &s.size_pct,
            size_qty: s.size_qty.as_deref(),
        },
    )
    .map_err(|e| CliError::usage(format!("{}: {}", e.flag(), e.reason)))
}
