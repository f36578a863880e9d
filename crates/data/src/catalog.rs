//! The dataset catalog: `<data_dir>/catalog.db` (SQLite) plus one Parquet
//! file per dataset under `<data_dir>/datasets/`.
//!
//! The database runs in WAL mode; its schema is a list of numbered
//! migrations recorded in `schema_migrations` and applied at open. All SQL
//! is parameterized.
//!
//! An import is all or nothing, and never holds the catalog while it
//! works: the source is read (bounded by [`crate::ImportLimits`]),
//! validated in memory and written to a synced temporary file in
//! `datasets/` with no lock and no transaction; then one brief
//! `BEGIN IMMEDIATE` transaction inserts the row, renames the file into
//! place and commits. Any failure rolls the row back and removes the file;
//! a crash is repaired at the next open ([`crate::staging`]).

use crate::checksum::content_sha256;
use crate::error::DataError;
use crate::error::Limit;
use crate::import::{self, ImportOptions, ImportReport};
use crate::parquet_store::{self, StoredMeta};
use crate::staging::{self, Reconciled};
use atf_engine::{Bars, Instrument, Timeframe};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde::Serialize;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Numbered schema migrations, applied in order, each once.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE datasets (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT    NOT NULL UNIQUE,
        symbol          TEXT    NOT NULL,
        timeframe       TEXT    NOT NULL,
        first_ts_ms     INTEGER NOT NULL,
        last_ts_ms      INTEGER NOT NULL,
        rows            INTEGER NOT NULL,
        price_decimals  INTEGER NOT NULL,
        volume_decimals INTEGER NOT NULL,
        sha256          TEXT    NOT NULL,
        file            TEXT    NOT NULL,
        imported_at_ms  INTEGER NOT NULL,
        source_name     TEXT    NOT NULL
    );
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
)];

const COLUMNS: &str = "id, name, symbol, timeframe, first_ts_ms, last_ts_ms, rows, \
    price_decimals, volume_decimals, sha256, file, imported_at_ms, source_name";

/// One dataset in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetInfo {
    /// Catalog id (never reused).
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Instrument symbol.
    pub symbol: String,
    /// The bars' timeframe (`1m`, `1h`, `1d`, …).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1m"))]
    pub timeframe: Timeframe,
    /// Open time of the first bar, ms since epoch (UTC).
    pub first_ts_ms: i64,
    /// Open time of the last bar, ms since epoch (UTC).
    pub last_ts_ms: i64,
    /// Number of bars.
    pub rows: u64,
    /// Decimal places of prices.
    pub price_decimals: u8,
    /// Decimal places of volumes.
    pub volume_decimals: u8,
    /// Lowercase hex SHA-256 of the normalized content ([`crate::checksum`]).
    pub sha256: String,
    /// The Parquet file, relative to the data directory.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub file: PathBuf,
    /// When it was imported, ms since epoch.
    pub imported_at_ms: i64,
    /// The file name it was imported from.
    pub source_name: String,
}

impl DatasetInfo {
    /// The instrument these bars are priced in: `symbol` at `price_decimals`,
    /// whole-unit quantities.
    #[must_use]
    pub fn instrument(&self) -> Instrument {
        Instrument::new(self.symbol.clone(), self.price_decimals)
    }

    /// Loads the bars with `from_ms <= ts < to_ms` (`None` = unbounded)
    /// from this dataset's file under `data_dir`, reading only the row
    /// groups whose timestamps overlap the period. It needs no catalog
    /// connection, so a caller sharing a [`Catalog`] can look the entry up,
    /// let the catalog go, and read the file without holding it.
    ///
    /// # Errors
    /// [`DataError::Io`] / [`DataError::Parquet`] when the file cannot be
    /// read; [`DataError::Corrupt`] when its scales differ from this entry's.
    pub fn load(
        &self,
        data_dir: &Path,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Bars, DataError> {
        let path = data_dir.join(&self.file);
        let (bars, meta) = parquet_store::read_bars(&path, from_ms, to_ms)?;
        if (meta.price_decimals, meta.volume_decimals)
            != (self.price_decimals, self.volume_decimals)
        {
            return Err(DataError::Corrupt {
                path,
                reason: format!(
                    "file has {} price / {} volume decimals, catalog says {} / {}",
                    meta.price_decimals,
                    meta.volume_decimals,
                    self.price_decimals,
                    self.volume_decimals
                ),
            });
        }
        Ok(bars)
    }

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        let conv = |i: usize, e: String| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        };
        let tf: String = row.get(3)?;
        let file: String = row.get(10)?;
        Ok(Self {
            id: row.get(0)?,
            name: row.get(1)?,
            symbol: row.get(2)?,
            timeframe: tf
                .parse()
                .map_err(|e: atf_engine::TimeframeError| conv(3, e.to_string()))?,
            first_ts_ms: row.get(4)?,
            last_ts_ms: row.get(5)?,
            rows: u64::try_from(row.get::<_, i64>(6)?).map_err(|e| conv(6, e.to_string()))?,
            price_decimals: row.get(7)?,
            volume_decimals: row.get(8)?,
            sha256: row.get(9)?,
            file: PathBuf::from(file),
            imported_at_ms: row.get(11)?,
            source_name: row.get(12)?,
        })
    }
}

/// The catalog of one data directory.
#[derive(Debug)]
pub struct Catalog {
    root: PathBuf,
    conn: Connection,
    reconciled: Reconciled,
}

impl Catalog {
    /// Opens (creating if missing) `<data_dir>/catalog.db` and
    /// `<data_dir>/datasets/`, applies pending migrations, and repairs what
    /// a crash left (see [`Catalog::reconciled`]).
    ///
    /// # Errors
    /// [`DataError::Io`] when the directories cannot be created,
    /// [`DataError::Sqlite`] when the database cannot be opened or migrated.
    pub fn open(data_dir: &Path) -> Result<Self, DataError> {
        let datasets = data_dir.join("datasets");
        std::fs::create_dir_all(&datasets).map_err(|e| DataError::io(&datasets, e))?;
        let conn = Connection::open(data_dir.join("catalog.db"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&conn)?;
        let mut catalog = Self {
            root: data_dir.to_owned(),
            conn,
            reconciled: Reconciled::default(),
        };
        catalog.reconciled = catalog.reconcile()?;
        Ok(catalog)
    }

    /// What opening repaired: files of imports a crash interrupted (and
    /// dataset files without a row) removed, rows whose file is missing
    /// dropped. Empty after a clean shutdown.
    #[must_use]
    pub fn reconciled(&self) -> &Reconciled {
        &self.reconciled
    }

    /// Makes every row have its file and every file its row. Looks first
    /// without a lock (the common case: nothing to do, no write), and
    /// repairs under the write lock, which an import holds while it
    /// renames its file and inserts its row.
    fn reconcile(&self) -> Result<Reconciled, DataError> {
        let (files, rows) = staging::plan(&self.root, &self.list()?)?;
        if files.is_empty() && rows.is_empty() {
            return Ok(Reconciled::default());
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let (removed_files, dropped_rows) = staging::plan(&self.root, &self.list()?)?;
        for r in &dropped_rows {
            tx.execute("DELETE FROM datasets WHERE id = ?1", [r.id])?;
        }
        let removed_files = staging::remove_all(&self.root, removed_files);
        tx.commit()?;
        Ok(Reconciled {
            removed_files,
            dropped_rows,
        })
    }

    /// The data directory.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        &self.root
    }

    /// Imports a file (CSV, Binance, MetaTrader or Parquet, optionally
    /// gzipped), all or nothing: every row is validated, the Parquet file is
    /// written to a temporary file and renamed into place inside the
    /// transaction that inserts the catalog row. On any error neither a row
    /// nor a file stays behind.
    ///
    /// # Errors
    /// [`DataError::Io`] when the file cannot be read; the validation errors
    /// ([`DataError::InvalidRow`], [`DataError::InvalidFile`],
    /// [`DataError::Empty`]); [`DataError::DuplicateName`] /
    /// [`DataError::InvalidName`] / [`DataError::InvalidOption`]; storage errors.
    pub fn import(&self, file: &Path, opts: &ImportOptions) -> Result<ImportReport, DataError> {
        let f = std::fs::File::open(file).map_err(|e| DataError::io(file, e))?;
        let label = file.display().to_string();
        let base = file
            .file_name()
            .map_or_else(|| label.clone(), |n| n.to_string_lossy().into_owned());
        let size = f.metadata().map_or(0, |m| m.len());
        self.import_read(&label, &base, f, size, opts)
    }

    /// Imports a source read from `reader` (an upload as it arrives, a
    /// pipe): read to its end, at most [`crate::ImportLimits::max_file_bytes`],
    /// then as [`Catalog::import_bytes`]. No lock is held while reading.
    ///
    /// # Errors
    /// As [`Catalog::import_bytes`]; [`DataError::Io`] when reading fails.
    pub fn import_reader(
        &self,
        file_name: &str,
        reader: impl Read,
        opts: &ImportOptions,
    ) -> Result<ImportReport, DataError> {
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        self.import_read(file_name, base, reader, 0, opts)
    }

    fn import_read(
        &self,
        label: &str,
        base: &str,
        reader: impl Read,
        size_hint: u64,
        opts: &ImportOptions,
    ) -> Result<ImportReport, DataError> {
        let max = opts.limits.max_file_bytes;
        let bytes = import::read_source_sized(label, reader, max, size_hint)?;
        self.import_labeled(label, base, &bytes, opts)
    }

    /// Imports a source already in memory (the embedded demo data, an HTTP
    /// upload). `file_name` is used for the default name and in messages
    /// only; it never chooses a path on disk.
    ///
    /// # Errors
    /// As [`Catalog::import`], except for reading the file.
    pub fn import_bytes(
        &self,
        file_name: &str,
        bytes: &[u8],
        opts: &ImportOptions,
    ) -> Result<ImportReport, DataError> {
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        if bytes.len() as u64 > opts.limits.max_file_bytes {
            let max = opts.limits.max_file_bytes;
            return Err(DataError::too_large(
                file_name,
                Limit::FileBytes,
                max,
                format!("the file is larger than {max} bytes"),
            ));
        }
        self.import_labeled(file_name, base, bytes, opts)
    }

    fn import_labeled(
        &self,
        label: &str,
        base: &str,
        bytes: &[u8],
        opts: &ImportOptions,
    ) -> Result<ImportReport, DataError> {
        let name = match &opts.name {
            Some(n) => n.trim().to_owned(),
            None => import::default_name(base),
        };
        import::validate_name(&name)?;
        if self.find_by_name(&name)?.is_some() {
            return Err(DataError::DuplicateName { name });
        }
        let symbol = match &opts.symbol {
            Some(s) => validate_symbol(s)?,
            None => import::default_symbol(&name),
        };
        let parsed = import::parse(label, bytes, opts.price_decimals, &opts.limits)?;
        let v = parsed.validated;
        let sha256 = content_sha256(&v.bars, v.price_decimals, v.volume_decimals);
        let mut info = DatasetInfo {
            id: 0,
            name,
            symbol,
            timeframe: v.timeframe,
            first_ts_ms: v.bars.ts.first().copied().unwrap_or(0),
            last_ts_ms: v.bars.ts.last().copied().unwrap_or(0),
            rows: v.bars.len() as u64,
            price_decimals: v.price_decimals,
            volume_decimals: v.volume_decimals,
            sha256,
            file: PathBuf::new(),
            imported_at_ms: now_ms(),
            source_name: base.to_owned(),
        };
        self.store(&mut info, &v.bars)?;
        Ok(ImportReport {
            rows: info.rows,
            dataset: info,
            format: parsed.format,
            gzipped: parsed.gzipped,
            gaps: v.gaps,
            missing_bars: v.missing_bars,
            volume_rounded: v.volume_rounded,
        })
    }

    /// Writes the file, then inserts the row and renames the file into
    /// place in one brief transaction; fills `id` and `file`.
    fn store(&self, info: &mut DatasetInfo, bars: &Bars) -> Result<(), DataError> {
        let dir = self.root.join("datasets");
        // the long part: no lock, no transaction, a name no row refers to
        let (file, tmp) = staging::temp_file(&dir)?;
        let meta = StoredMeta {
            price_decimals: info.price_decimals,
            volume_decimals: info.volume_decimals,
            timeframe: info.timeframe,
            symbol: info.symbol.clone(),
        };
        let mut w = BufWriter::new(&file);
        parquet_store::write_bars(&mut w, &tmp.display().to_string(), bars, &meta)?;
        w.flush().map_err(|e| DataError::io(&*tmp, e))?;
        drop(w);
        file.sync_all().map_err(|e| DataError::io(&*tmp, e))?;
        drop(file);

        // the brief part: row and rename, committed together
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT INTO datasets (name, symbol, timeframe, first_ts_ms, last_ts_ms, rows, \
             price_decimals, volume_decimals, sha256, file, imported_at_ms, source_name) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '', ?10, ?11)",
            params![
                info.name,
                info.symbol,
                info.timeframe.to_string(),
                info.first_ts_ms,
                info.last_ts_ms,
                i64::try_from(info.rows).unwrap_or(i64::MAX),
                info.price_decimals,
                info.volume_decimals,
                info.sha256,
                info.imported_at_ms,
                info.source_name,
            ],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(DataError::DuplicateName {
                    name: info.name.clone(),
                });
            }
            other => {
                other?;
            }
        }
        info.id = tx.last_insert_rowid();
        info.file = Path::new("datasets").join(format!("{}-{}.parquet", info.id, info.name));
        tx.execute(
            "UPDATE datasets SET file = ?1 WHERE id = ?2",
            params![info.file.to_string_lossy(), info.id],
        )?;
        let dest = self.root.join(&info.file);
        tmp.persist(&dest)
            .map_err(|e| DataError::io(&dest, e.error))?;
        let committed = staging::sync_dir(&dir).and_then(|()| Ok(tx.commit()?));
        if let Err(e) = committed {
            let _ = std::fs::remove_file(&dest);
            return Err(e);
        }
        Ok(())
    }

    /// All datasets, ordered by id.
    ///
    /// # Errors
    /// [`DataError::Sqlite`] when the catalog cannot be read.
    pub fn list(&self) -> Result<Vec<DatasetInfo>, DataError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM datasets ORDER BY id"))?;
        let rows = stmt.query_map([], DatasetInfo::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The dataset with this name, or this id when `name_or_id` is a number.
    ///
    /// # Errors
    /// [`DataError::DatasetNotFound`] listing the available names;
    /// [`DataError::Sqlite`] when the catalog cannot be read.
    pub fn get(&self, name_or_id: &str) -> Result<DatasetInfo, DataError> {
        let key = name_or_id.trim();
        let found = match key.parse::<i64>() {
            Ok(id) => self
                .conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM datasets WHERE id = ?1"),
                    [id],
                    DatasetInfo::from_row,
                )
                .optional()?,
            Err(_) => self.find_by_name(key)?,
        };
        match found {
            Some(info) => Ok(info),
            None => Err(DataError::DatasetNotFound {
                name: key.to_owned(),
                available: self.list()?.into_iter().map(|d| d.name).collect(),
            }),
        }
    }

    fn find_by_name(&self, name: &str) -> Result<Option<DatasetInfo>, DataError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM datasets WHERE name = ?1"),
                [name],
                DatasetInfo::from_row,
            )
            .optional()?)
    }

    /// Removes a dataset: its catalog row, then its file.
    ///
    /// # Errors
    /// [`DataError::DatasetNotFound`]; [`DataError::Sqlite`];
    /// [`DataError::Io`] when the file exists but cannot be removed.
    pub fn remove(&self, name_or_id: &str) -> Result<DatasetInfo, DataError> {
        let info = self.get(name_or_id)?;
        self.conn
            .execute("DELETE FROM datasets WHERE id = ?1", [info.id])?;
        let path = self.root.join(&info.file);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DataError::io(path, e)),
            _ => Ok(info),
        }
    }

    /// Loads the bars with `from_ms <= ts < to_ms` (`None` = unbounded),
    /// reading only the row groups whose timestamps overlap the period
    /// ([`DatasetInfo::load`] under this catalog's data directory).
    ///
    /// # Errors
    /// As [`DatasetInfo::load`].
    pub fn load(
        &self,
        ds: &DatasetInfo,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Bars, DataError> {
        ds.load(&self.root, from_ms, to_ms)
    }

    /// Imports the bundled demo datasets (`spy-1m`, `spy-1d`) the first time
    /// it is called on a data directory. A flag in the `meta` table records
    /// that it happened, so datasets the user deletes later stay deleted.
    /// Returns the datasets imported by this call (empty afterwards).
    ///
    /// # Errors
    /// As [`Catalog::import_bytes`].
    pub fn ensure_demo(&self) -> Result<Vec<DatasetInfo>, DataError> {
        if self.meta_get(crate::demo::SEEDED_KEY)?.is_some() {
            return Ok(Vec::new());
        }
        let mut added = Vec::new();
        for demo in crate::demo::DATASETS {
            if self.find_by_name(demo.name)?.is_some() {
                continue;
            }
            let opts = ImportOptions {
                name: Some(demo.name.to_owned()),
                symbol: Some(demo.symbol.to_owned()),
                price_decimals: None,
                ..ImportOptions::default()
            };
            added.push(
                self.import_bytes(demo.file_name, demo.bytes, &opts)?
                    .dataset,
            );
        }
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![crate::demo::SEEDED_KEY, now_ms().to_string()],
        )?;
        Ok(added)
    }

    fn meta_get(&self, key: &str) -> Result<Option<String>, DataError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }
}

fn migrate(conn: &Connection) -> Result<(), DataError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version       INTEGER PRIMARY KEY,
            applied_at_ms INTEGER NOT NULL
        )",
    )?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    let version = |c: &Connection| -> rusqlite::Result<i64> {
        c.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
    };
    // up to date (every open but the first): no write lock taken
    if version(conn)? >= latest {
        return Ok(());
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
            params![version, now_ms()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn validate_symbol(s: &str) -> Result<String, DataError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 32 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DataError::InvalidOption(format!(
            "symbol '{}' must be 1 to 32 characters without spaces",
            s.escape_default()
        )));
    }
    Ok(s.to_owned())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dataset_loads_without_its_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let ds = {
            let c = Catalog::open(dir.path()).unwrap();
            let csv = "timestamp,open,high,low,close,volume\n\
                2024-01-02T00:00:00Z,1.10,1.20,1.00,1.15,5\n\
                2024-01-02T00:01:00Z,1.15,1.25,1.10,1.20,7\n\
                2024-01-02T00:02:00Z,1.20,1.22,1.18,1.19,3\n";
            let ds = c
                .import_bytes("x.csv", csv.as_bytes(), &ImportOptions::default())
                .unwrap()
                .dataset;
            assert_eq!(c.load(&ds, None, None).unwrap().len(), 3);
            ds
        };
        // the catalog is closed: the entry and the data directory suffice
        let all = ds.load(dir.path(), None, None).unwrap();
        assert_eq!(all.close, vec![115, 120, 119]);
        let from = all.ts[1];
        let part = ds.load(dir.path(), Some(from), None).unwrap();
        assert_eq!(part, all.slice_time(from, i64::MAX));
        // an entry whose scales disagree with the file is refused
        let wrong = DatasetInfo {
            price_decimals: ds.price_decimals + 1,
            ..ds.clone()
        };
        assert!(matches!(
            wrong.load(dir.path(), None, None),
            Err(DataError::Corrupt { .. })
        ));
        // a missing file is an I/O error naming it
        let other = tempfile::tempdir().unwrap();
        assert!(matches!(
            ds.load(other.path(), None, None),
            Err(DataError::Io { .. })
        ));
    }
}
