//! # atf-data
//!
//! Market data for AlgoTradeForge: import with validation, Parquet storage,
//! a SQLite catalog, and loading a period of bars for a run.
//!
//! ```text
//! source bytes ─ detect (gzip? Parquet? CSV flavour?) ─ csv_source / parquet_source
//!              ─ validate::BarsBuilder (every row; scale, timeframe, gaps)
//!              ─ checksum ─ catalog (SQLite row + parquet_store file, all or nothing)
//! ```
//!
//! Layout:
//! - [`catalog`]: [`Catalog`] — `catalog.db` and `datasets/<id>-<name>.parquet`;
//! - [`import`]: [`ImportOptions`], [`ImportReport`], naming rules;
//! - [`limits`]: [`ImportLimits`], how much an import may read, inflate and keep;
//! - [`staging`]: crash-safe dataset files and the repair at open;
//! - `parquet_check`: a Parquet source's claims checked against the file;
//! - `detect`, `csv_source`, `metatrader`, `parquet_source`: reading each format;
//! - `validate`, `decimal`: row rules, exact decimals, scale and timeframe detection;
//! - [`parquet_store`]: the stored file format; [`checksum`]: the content SHA-256;
//! - [`time`]: timestamps without a date crate; [`demo`]: bundled datasets;
//! - [`error`]: the error type, [`DataError`].
//!
//! ```no_run
//! # fn main() -> Result<(), atf_data::DataError> {
//! use atf_data::{Catalog, ImportOptions};
//! let catalog = Catalog::open(std::path::Path::new(".atf"))?;
//! let report = catalog.import("eurusd.csv.gz".as_ref(), &ImportOptions::default())?;
//! let bars = catalog.load(&report.dataset, None, None)?;
//! assert_eq!(bars.len() as u64, report.rows);
//! # Ok(()) }
//! ```

pub mod catalog;
pub mod checksum;
mod csv_source;
mod decimal;
pub mod demo;
mod detect;
pub mod error;
pub mod import;
pub mod limits;
mod metatrader;
mod parquet_check;
mod parquet_source;
pub mod parquet_store;
pub mod staging;
pub mod time;
mod validate;

pub use catalog::{Catalog, DatasetInfo};
pub use detect::SourceFormat;
pub use error::{DataError, Limit};
pub use import::{ImportOptions, ImportReport};
pub use limits::ImportLimits;
pub use validate::MAX_DETECTED_DECIMALS;
