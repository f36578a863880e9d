//! SQLite persistence of finished runs: `<data_dir>/runs.db`.
//!
//! A run is written once, in one transaction, when it ends — completed,
//! failed or cancelled. Tables (frozen migrations in `migrations`, applied
//! at open; WAL):
//!
//! - `backtest_runs`: every backtest, and the best K trials of each
//!   optimization kept in full (`optimization_id`, `combination_index`),
//!   with `error_message` / `error_stack_trace`, the run key and every
//!   metric as its own column;
//! - `equity_curves` (one JSON array per run) and `trades` (one row each) of
//!   those runs;
//! - `optimization_runs`, and `optimization_trials`: every trial of every
//!   optimization — parameters (JSON, queryable with SQLite's JSON
//!   functions), fitness, every metric, or the error and stack trace;
//! - `walkforward_runs`: every walk-forward, its report as one JSON value
//!   (folds are few — 500 at most — and always read together).
//!
//! All SQL is parameterized. Rows map to the result types of the engine
//! and of `model` (the API's types); metric and trade columns follow the
//! engine's field names (`columns`).
//!
//! Layout: `migrations` (schema), `model` (what is handed out),
//! `columns` (rows ↔ types), `sort` (trial orders), `write` and `read`.

mod columns;
mod convergence;
mod migrations;
mod model;
mod read;
mod recorded;
mod row_values;
mod sort;
mod write;

#[cfg(test)]
mod tests;

pub use convergence::{Convergence, ConvergencePoint, MAX_POINTS as MAX_CONVERGENCE_POINTS};
pub use model::{
    BacktestEnd, OptimizationEnd, OptimizationResult, Page, RunHeader, RunSummary, StoredBacktest,
    StoredOptimization, StoredWalkForward, WalkForwardEnd, WalkForwardLine,
};
pub use sort::{SortOrder, TrialOrder, TrialSort};

use crate::key::RunKind;
use crate::status::RunStatus;
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// SQLite failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered an error.
    #[error("run database {path}: {source}{}", io_hint(source))]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database opened read-only (a read-only file or directory):
    /// nothing could be saved in it.
    #[error("run database {}: opened read-only; runs could not be saved", path.display())]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// A cancelled optimization's recorded trials do not decode.
    #[error("run database {}: corrupt recorded trials: {reason}", path.display())]
    Recorded {
        /// The database file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// A stored JSON column does not parse.
    #[error("run database {path}: corrupt JSON in {what}: {source}")]
    Json {
        /// The database file.
        path: PathBuf,
        /// Which column.
        what: &'static str,
        /// The parser's error.
        source: serde_json::Error,
    },
}

/// What SQLite's bare "disk I/O error" meant, when it says which write
/// failed (a full disk or a file-size limit often shows up so).
fn io_hint(e: &rusqlite::Error) -> &'static str {
    use rusqlite::ffi;
    match e.sqlite_error().map(|f| f.extended_code) {
        Some(ffi::SQLITE_IOERR_WRITE) => {
            " (writing to the disk failed: is it full, or the file over a size limit?)"
        }
        Some(ffi::SQLITE_IOERR_FSYNC) => " (flushing to the disk failed)",
        Some(ffi::SQLITE_IOERR_TRUNCATE) => " (truncating a file failed)",
        _ => "",
    }
}

/// The run database.
#[derive(Debug)]
pub struct RunStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

use crate::lock;

fn status_text(s: RunStatus) -> String {
    s.to_string()
}

fn parse_status(t: &str) -> RunStatus {
    match t {
        "Pending" => RunStatus::Pending,
        "Running" => RunStatus::Running,
        "Completed" => RunStatus::Completed,
        "Cancelled" => RunStatus::Cancelled,
        _ => RunStatus::Failed,
    }
}

fn u(i: i64) -> u64 {
    u64::try_from(i).unwrap_or(0)
}

fn i(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn table(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Backtest => "backtest_runs",
        RunKind::Optimization => "optimization_runs",
        RunKind::WalkForward => "walkforward_runs",
    }
}

/// Milliseconds since the epoch, now.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl RunStore {
    /// Opens (creating) the database and applies pending migrations.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or migrated;
    /// [`StoreError::ReadOnly`] when it could only be opened read-only.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let store = Self {
            path: path.to_owned(),
            writer: Mutex::new(Self::connect(path)?),
            readers: Mutex::new(Vec::new()),
        };
        if lock(&store.writer)
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(store.err())?
        {
            // SQLite falls back to read-only without a word; every save
            // would then fail
            return Err(StoreError::ReadOnly {
                path: path.to_owned(),
            });
        }
        {
            // A big optimization is one large transaction: a roomy page cache
            // keeps it from spilling, and checkpoints run after the run is
            // reported ended ([`RunStore::checkpoint`]), not inside its commit.
            let w = lock(&store.writer);
            w.pragma_update(None, "cache_size", -65_536)
                .map_err(store.err())?;
            w.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(store.err())?;
        }
        store.migrate()?;
        Ok(store)
    }

    /// Copies the write-ahead log into the database file (what SQLite
    /// would otherwise do inside a commit); called after a run ended.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(self.err())
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn connect(path: &Path) -> Result<Connection, StoreError> {
        let wrap = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        Ok(conn)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction().map_err(self.err())?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
        )
        .map_err(self.err())?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        for &(version, sql) in migrations::MIGRATIONS {
            if version > current {
                tx.execute_batch(sql).map_err(self.err())?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
                    params![version, now_ms()],
                )
                .map_err(self.err())?;
            }
        }
        tx.commit().map_err(self.err())
    }

    /// Runs `f` on a pooled read connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = lock(&self.readers).pop();
        let conn = match conn {
            Some(c) => c,
            None => Self::connect(&self.path)?,
        };
        let out = f(&conn);
        lock(&self.readers).push(conn);
        out
    }

    /// Parses a stored JSON column as a `T`.
    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        text: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_str(text).map_err(|source| StoreError::Json {
            path: self.path.clone(),
            what,
            source,
        })
    }
}
