//! Dataset files on disk, crash-safe: a new file is written under a
//! temporary name, synced, and renamed into place only inside the catalog
//! transaction that inserts its row; opening the catalog
//! ([`crate::Catalog::open`]) repairs what a crash (`kill -9`, power loss)
//! can leave between those steps.
//!
//! The invariant after that repair: every catalog row has its file and
//! every `datasets/*.parquet` has its row. Why it holds:
//!
//! - the long part of an import (parsing, encoding, writing) happens in a
//!   temporary file `.import-<pid>-<n>.tmp` that no row names; a crash
//!   leaves only that, removed at the next open once its process is gone
//!   (a live import's file is never touched: its process still exists);
//! - the rename happens inside the `BEGIN IMMEDIATE` transaction that
//!   inserts the row, and the directory is synced before the commit: a
//!   crash before the commit leaves a file without a row (removed here,
//!   under the same write lock, so never one an import is committing);
//!   after it, both exist;
//! - removing a dataset deletes the row, then the file: a crash between
//!   leaves a file without a row (removed here).
//!
//! A row whose file is gone (deleted by hand) cannot be loaded: it is
//! dropped and reported in [`Reconciled`].

use crate::error::DataError;
use crate::DatasetInfo;
use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of an import's temporary file in `datasets/`.
const TMP_PREFIX: &str = ".import-";

/// What opening the catalog ([`crate::Catalog::open`]) repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Files removed: temporary files of dead imports and dataset files
    /// without a catalog row (relative to the data directory).
    pub removed_files: Vec<PathBuf>,
    /// Catalog rows dropped because their file is missing.
    pub dropped_rows: Vec<DatasetInfo>,
}

impl Reconciled {
    /// Whether nothing needed repairing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.removed_files.is_empty() && self.dropped_rows.is_empty()
    }
}

/// A new temporary file in `dir`, named after this process so that
/// the repair at open ([`crate::Catalog::open`]) can tell a dead import's
/// file from a live one's; removed when dropped unless persisted.
pub(crate) fn temp_file(dir: &Path) -> Result<(File, tempfile::TempPath), DataError> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{TMP_PREFIX}{}-{n}.tmp", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| DataError::io(&path, e))?;
    let guard = tempfile::TempPath::try_from_path(&path).map_err(|e| DataError::io(&path, e))?;
    Ok((file, guard))
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), DataError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| DataError::io(dir, e))
}

/// What the repair at open ([`crate::Catalog::open`]) would do, from a
/// listing of `datasets/` and the rows.
pub(crate) fn plan(
    root: &Path,
    rows: &[DatasetInfo],
) -> Result<(Vec<PathBuf>, Vec<DatasetInfo>), DataError> {
    let dir = root.join("datasets");
    let named: HashSet<PathBuf> = rows.iter().map(|r| r.file.clone()).collect();
    let mut remove = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(|e| DataError::io(&dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(&dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = Path::new("datasets").join(&name);
        let orphan = if let Some(rest) = name.strip_prefix(TMP_PREFIX) {
            owner_is_gone(rest)
        } else if name.starts_with('.') {
            // an earlier version's temporary file (written under the lock)
            name.ends_with(".parquet.tmp")
        } else {
            name.ends_with(".parquet") && !named.contains(&rel)
        };
        if orphan {
            remove.push(rel);
        }
    }
    let mut missing = Vec::new();
    for r in rows {
        match std::fs::metadata(root.join(&r.file)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(r.clone()),
            _ => {}
        }
    }
    Ok((remove, missing))
}

/// Whether the process that named a temporary file `<pid>-<n>.tmp` has
/// ended. Without `/proc` nothing is known to be gone (kept).
fn owner_is_gone(rest: &str) -> bool {
    let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
        return true;
    };
    if pid == std::process::id() {
        // ours: an import in this process is still running (reconcile runs
        // at open; the file belongs to a live import on another connection)
        return false;
    }
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes `files` (relative to `root`); those removed (or already gone).
/// One that cannot be removed (a read-only directory) stays: an orphan is
/// harmless, is tried again at the next open, and must not stop the
/// catalog from opening.
pub(crate) fn remove_all(root: &Path, files: Vec<PathBuf>) -> Vec<PathBuf> {
    files
        .into_iter()
        .filter(|f| match std::fs::remove_file(root.join(f)) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        })
        .collect()
}
