//! From a planned job to what the engine runs on: the catalog, the
//! dataset a request names and the target's bars at its timeframe. Shared
//! by every command that runs the engine here; what is checked before
//! (strategy, period, costs, parameters, grid) is `atf_runs::plan`'s, as
//! for the HTTP API.

use crate::args::Global;
use crate::exit::CliError;
use crate::flags::{refused, FieldNames};
use atf_data::{Catalog, DataError, DatasetInfo};
use atf_engine::MarketData;
use atf_runs::plan::Target;
use atf_runs::FieldError;
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

/// Opens the catalog, importing the bundled demo datasets on first use;
/// says on stderr what opening repaired after a crash (a row whose file
/// was deleted is dropped: the user should know).
pub fn open_catalog(global: &Global) -> Result<Catalog, CliError> {
    let dir = data_dir(global);
    let catalog = Catalog::open(&dir)?;
    for d in &catalog.reconciled().dropped_rows {
        eprintln!(
            "warning: dataset '{}' (id {}) removed from the catalog: its file {} is missing",
            d.name,
            d.id,
            d.file.display()
        );
    }
    catalog.ensure_demo()?;
    Ok(catalog)
}

/// The dataset a request names (`--dataset`), looked up as the API looks
/// it up: an unknown name or id is a refusal of the `dataset` field.
pub fn dataset(catalog: &Catalog, name_or_id: &str) -> Result<DatasetInfo, CliError> {
    catalog.get(name_or_id).map_err(|e| match e {
        DataError::DatasetNotFound { .. } => refused(
            &FieldError::new("dataset", e.to_string()),
            &FieldNames::default(),
        ),
        e => e.into(),
    })
}

/// The target's bars at its timeframe, with the warm-up bars before them
/// it asks for (`--warmup`). The planner saw from the catalog
/// entry alone that the period overlaps the data; a period that still
/// holds no bar (inside a gap of the data) is refused the same way.
pub fn load(catalog: &Catalog, t: &Target) -> Result<MarketData, CliError> {
    let (before, bars) = atf_runs::warmup::load(t, catalog.data_dir())?;
    if bars.is_empty() {
        return Err(refused(&t.period.empty(&t.dataset), &FieldNames::default()));
    }
    atf_runs::warmup::market_data(t, &before, bars).map_err(CliError::usage)
}
