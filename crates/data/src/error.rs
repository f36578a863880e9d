//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong while importing, storing or loading data.
///
/// Each variant reads as one line, starting with where the problem is, e.g.
/// `data/bad.csv:17: high 1.20 is below low 1.30`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// One row of a source file is invalid. `line` is 1-based and counts the
    /// header (for Parquet sources it is the 1-based row number).
    #[error("{file}:{line}: {reason}")]
    InvalidRow {
        /// The source file as given by the user.
        file: String,
        /// 1-based line (CSV, header included) or row (Parquet).
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The source file as a whole cannot be used (unknown format, missing
    /// column, too few bars, …).
    #[error("{file}: {reason}")]
    InvalidFile {
        /// The source file as given by the user.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The source file has no data rows.
    #[error("{file}: no data rows")]
    Empty {
        /// The source file as given by the user.
        file: String,
    },
    /// The source is larger than an [`crate::ImportLimits`] bound allows;
    /// refused before the memory it would take is allocated.
    #[error("{file}: {reason} (limit: {limit})")]
    TooLarge {
        /// The source file as given by the user.
        file: String,
        /// The bound that refused it.
        limit: Limit,
        /// The bound's value.
        value: u64,
        /// What is too large.
        reason: String,
    },
    /// A dataset with this name is already in the catalog.
    #[error("a dataset named '{name}' already exists; choose another name with --name")]
    DuplicateName {
        /// The name that is taken.
        name: String,
    },
    /// A dataset name or symbol that cannot be used.
    #[error("invalid dataset name '{name}': {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it is rejected.
        reason: String,
    },
    /// An option value that cannot be used (e.g. too many price decimals).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// No dataset has this name or id.
    #[error("no dataset '{name}' in the catalog; {}", Available(.available))]
    DatasetNotFound {
        /// The name or id asked for.
        name: String,
        /// Names of the datasets that exist.
        available: Vec<String>,
    },
    /// A file or directory could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The catalog database failed.
    #[error("catalog database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A Parquet file could not be read or written.
    #[error("{file}: parquet: {source}")]
    Parquet {
        /// The file involved (a path or the source name).
        file: String,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A stored dataset does not match its catalog row.
    #[error("{}: stored dataset is corrupt: {reason}", .path.display())]
    Corrupt {
        /// The stored file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
}

/// Which [`crate::ImportLimits`] bound refused an import; displayed as
/// the `atf data import` / `atf serve` flags that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::ImportLimits::max_file_bytes`].
    FileBytes,
    /// [`crate::ImportLimits::max_decompressed_bytes`] or the gzip ratio.
    DecompressedBytes,
    /// [`crate::ImportLimits::max_rows`].
    Rows,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FileBytes => "--max-file-mb, or --max-upload-mb for uploads",
            Self::DecompressedBytes => "--max-gzip-ratio, --gzip-floor-mb, --max-decompressed-mb",
            Self::Rows => "--max-rows",
        })
    }
}

/// Formats the list of available dataset names for [`DataError::DatasetNotFound`].
struct Available<'a>(&'a [String]);

impl fmt::Display for Available<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("the catalog is empty (import a file with `atf data import FILE`)")
        } else {
            write!(f, "available: {}", self.0.join(", "))
        }
    }
}

impl DataError {
    /// Whether the error is the user's to fix (bad input file, name, option
    /// or a missing file) rather than a failure of the catalog or storage.
    #[must_use]
    pub fn is_user_error(&self) -> bool {
        match self {
            Self::InvalidRow { .. }
            | Self::InvalidFile { .. }
            | Self::Empty { .. }
            | Self::DuplicateName { .. }
            | Self::InvalidName { .. }
            | Self::InvalidOption(_)
            | Self::TooLarge { .. }
            | Self::DatasetNotFound { .. } => true,
            Self::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            Self::Sqlite(_) | Self::Parquet { .. } | Self::Corrupt { .. } => false,
        }
    }

    /// An [`DataError::Io`] error for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A [`DataError::InvalidRow`] error.
    pub(crate) fn row(file: &str, line: u64, reason: impl Into<String>) -> Self {
        Self::InvalidRow {
            file: file.to_owned(),
            line,
            reason: reason.into(),
        }
    }

    /// A [`DataError::TooLarge`] error.
    pub(crate) fn too_large(
        file: &str,
        limit: Limit,
        value: u64,
        reason: impl Into<String>,
    ) -> Self {
        Self::TooLarge {
            file: file.to_owned(),
            limit,
            value,
            reason: reason.into(),
        }
    }

    /// A [`DataError::InvalidFile`] error.
    pub(crate) fn file(file: &str, reason: impl Into<String>) -> Self {
        Self::InvalidFile {
            file: file.to_owned(),
            reason: reason.into(),
        }
    }

    /// A [`DataError::Parquet`] error.
    pub(crate) fn parquet(file: impl fmt::Display, source: parquet::errors::ParquetError) -> Self {
        Self::Parquet {
            file: file.to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_one_line() {
        let e = DataError::row("data/bad.csv", 17, "high 1.20 is below low 1.30");
        assert_eq!(
            e.to_string(),
            "data/bad.csv:17: high 1.20 is below low 1.30"
        );
        let e = DataError::DatasetNotFound {
            name: "x".into(),
            available: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "no dataset 'x' in the catalog; available: a, b"
        );
    }
}
