//! Where a worker gets a job's bars: never from data whose content
//! checksum differs from the job's.

use super::job::JobDataset;
use atf_data::checksum::content_sha256;
use atf_data::Catalog;
use atf_engine::Bars;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a worker has no bars for a job.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The local copy's content checksum is not the job's: the worker
    /// refuses the chunk (and drops the copy, to fetch it again next time).
    #[error("dataset {name}: local copy has checksum {found}, the job needs {expected}")]
    Mismatch {
        /// The dataset's name on the coordinator.
        name: String,
        /// The job's checksum.
        expected: String,
        /// The local copy's.
        found: String,
    },
    /// The data could not be fetched or read.
    #[error("dataset {name}: {reason}")]
    Unavailable {
        /// The dataset's name on the coordinator.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Bars of a job's dataset, verified against its checksum.
pub trait DatasetSource: Send + Sync {
    /// The bars of `ds` with `from_ms <= ts < to_ms`.
    ///
    /// # Errors
    /// [`SourceError::Mismatch`] when the local copy is other data;
    /// [`SourceError::Unavailable`] when there is none.
    fn bars(
        &self,
        ds: &JobDataset,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Bars, SourceError>;
}

/// The coordinator's own catalog (the server's local worker): the entry
/// with the job's id, if its recorded checksum is the job's.
#[derive(Debug)]
pub struct CatalogSource {
    data_dir: PathBuf,
}

impl CatalogSource {
    /// Reads datasets from the catalog of `data_dir`.
    #[must_use]
    pub fn new(data_dir: PathBuf) -> Self {
        Self { data_dir }
    }
}

impl DatasetSource for CatalogSource {
    fn bars(
        &self,
        ds: &JobDataset,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Bars, SourceError> {
        let unavailable = |reason: String| SourceError::Unavailable {
            name: ds.name.clone(),
            reason,
        };
        let catalog = Catalog::open(&self.data_dir).map_err(|e| unavailable(e.to_string()))?;
        let info = catalog
            .get(&ds.id.to_string())
            .map_err(|e| unavailable(e.to_string()))?;
        if info.sha256 != ds.sha256 {
            return Err(SourceError::Mismatch {
                name: ds.name.clone(),
                expected: ds.sha256.clone(),
                found: info.sha256,
            });
        }
        catalog
            .load(&info, from_ms, to_ms)
            .map_err(|e| unavailable(e.to_string()))
    }
}

/// Fetches a dataset's Parquet file (`GET /api/datasets/{id}/content`).
pub type Fetch = dyn Fn(&JobDataset) -> Result<Vec<u8>, String> + Send + Sync;

/// A cache directory of Parquet files named by checksum
/// (`{sha256}.parquet`), filled by a fetch; each file's content checksum
/// is computed from its bars once per process before it is used.
pub struct CachedSource {
    dir: PathBuf,
    fetch: Box<Fetch>,
    verified: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for CachedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSource")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CachedSource {
    /// A cache in `dir` (created when missing), filled by `fetch`.
    ///
    /// # Errors
    /// When `dir` cannot be created.
    pub fn new(dir: PathBuf, fetch: Box<Fetch>) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            fetch,
            verified: Mutex::new(HashSet::new()),
        })
    }

    fn file_name(ds: &JobDataset) -> PathBuf {
        // a checksum is hex; anything else never names a path
        let safe: String = ds.sha256.chars().filter(char::is_ascii_hexdigit).collect();
        PathBuf::from(format!("{safe}.parquet"))
    }

    fn download(&self, ds: &JobDataset, path: &Path) -> Result<(), SourceError> {
        let unavailable = |reason: String| SourceError::Unavailable {
            name: ds.name.clone(),
            reason,
        };
        let bytes = (self.fetch)(ds).map_err(unavailable)?;
        let tmp = path.with_extension(format!("part-{}", std::process::id()));
        std::fs::write(&tmp, &bytes)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                unavailable(format!("cannot write {}: {e}", path.display()))
            })?;
        tracing::info!(dataset = %ds.name, sha256 = %ds.sha256, bytes = bytes.len(), "dataset fetched");
        Ok(())
    }

    /// Checks the cached file's content checksum (once per process).
    fn verify(&self, ds: &JobDataset, info: &atf_data::DatasetInfo) -> Result<(), SourceError> {
        let mut verified = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified.contains(&ds.sha256) {
            return Ok(());
        }
        let found = match info.load(&self.dir, None, None) {
            Ok(all) => content_sha256(&all, info.price_decimals, info.volume_decimals),
            Err(e) => format!("unreadable ({e})"),
        };
        if found != ds.sha256 {
            let _ = std::fs::remove_file(self.dir.join(&info.file));
            return Err(SourceError::Mismatch {
                name: ds.name.clone(),
                expected: ds.sha256.clone(),
                found,
            });
        }
        verified.insert(ds.sha256.clone());
        Ok(())
    }
}

impl DatasetSource for CachedSource {
    fn bars(
        &self,
        ds: &JobDataset,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Bars, SourceError> {
        let unavailable = |reason: String| SourceError::Unavailable {
            name: ds.name.clone(),
            reason,
        };
        let file = Self::file_name(ds);
        let path = self.dir.join(&file);
        if !path.exists() {
            self.download(ds, &path)?;
        }
        let info = ds.info(file).map_err(unavailable)?;
        self.verify(ds, &info)?;
        info.load(&self.dir, from_ms, to_ms)
            .map_err(|e| unavailable(e.to_string()))
    }
}
