//! SQLite persistence of finished runs: `<data_dir>/runs.db`.
//!
//! A run is written once, in one transaction, when it ends — completed,
//! failed or cancelled. Tables (versioned migrations, applied at open; WAL):
//!
//! - `backtest_runs`: every backtest, and the best K trials of each
//!   optimization kept in full (`optimization_id`, `combination_index`),
//!   with `error_message` / `error_stack_trace`, the run key and every
//!   metric as its own column;
//! - `equity_curves` (one JSON array per run) and `trades` (one row each) of
//!   those runs;
//! - `optimization_runs`, and `optimization_trials`: every trial of every
//!   optimization — parameters (JSON, queryable with SQLite's JSON
//!   functions), fitness, every metric, or the error and stack trace.
//!
//! All SQL is parameterized. Metric and trade columns are derived from the
//! engine's JSON field names (`finalEquity` → `final_equity`); a test keeps
//! the lists in step with the engine.

use crate::key::{RunKind, RunSpec};
use crate::settings::FieldError;
use crate::status::RunStatus;
use atf_engine::optimize::{OptimizationReport, TrialOutcome};
use atf_engine::BacktestReport;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql, Transaction};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The engine's metric fields, as serialized (`PerformanceMetrics`).
pub const METRIC_FIELDS: &[&str] = &[
    "initialEquity",
    "finalEquity",
    "netProfit",
    "totalReturnPct",
    "annualizedReturnPct",
    "maxDrawdown",
    "maxDrawdownPct",
    "sharpe",
    "sortino",
    "profitFactor",
    "returnOverDrawdown",
    "winRate",
    "tradeCount",
    "winningTrades",
    "losingTrades",
    "averageWin",
    "averageLoss",
    "expectancy",
    "largestWin",
    "largestLoss",
    "exposurePct",
    "totalCommission",
    "mainBars",
    "subBars",
    "wallTimeMs",
    "subBarsPerSecond",
];

/// Metric fields the engine leaves out when unknown (a trial's wall time).
const OMITTED_WHEN_NULL: &[&str] = &["wallTimeMs", "subBarsPerSecond"];

/// A trade's fields, as serialized.
const TRADE_FIELDS: &[&str] = &[
    "side",
    "quantity",
    "entryTime",
    "entryPrice",
    "exitTime",
    "exitPrice",
    "pnl",
    "commission",
    "exitReason",
];

fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn columns(fields: &[&str], ty: &str) -> String {
    fields
        .iter()
        .map(|f| format!("{} {ty}", snake(f)).trim_end().to_owned())
        .collect::<Vec<_>>()
        .join(",\n        ")
}

fn migrations() -> Vec<(i64, String)> {
    // no declared type: SQLite keeps each value as given (10000.0 stays a
    // float, 199 an integer), so a run reads back exactly as reported
    let metrics = columns(METRIC_FIELDS, "");
    let trades = columns(TRADE_FIELDS, "");
    vec![(
        1,
        format!(
            "CREATE TABLE optimization_runs (
        id                    TEXT PRIMARY KEY,
        run_key               TEXT NOT NULL,
        status                TEXT NOT NULL,
        strategy              TEXT NOT NULL,
        strategy_version      TEXT NOT NULL,
        dataset_id            INTEGER NOT NULL,
        dataset_name          TEXT NOT NULL,
        dataset_sha256        TEXT NOT NULL,
        timeframe             TEXT NOT NULL,
        from_ms               INTEGER,
        to_ms                 INTEGER,
        spec_json             TEXT NOT NULL,
        request_json          TEXT NOT NULL,
        maximize              TEXT NOT NULL,
        total_combinations    INTEGER NOT NULL,
        completed_combinations INTEGER NOT NULL,
        failed_combinations   INTEGER NOT NULL,
        skipped_combinations  INTEGER NOT NULL,
        error_message         TEXT,
        error_stack_trace     TEXT,
        submitted_at_ms       INTEGER NOT NULL,
        started_at_ms         INTEGER,
        finished_at_ms        INTEGER NOT NULL,
        summary_json          TEXT
    );
    CREATE INDEX optimization_runs_key ON optimization_runs(run_key, status);
    CREATE INDEX optimization_runs_submitted ON optimization_runs(submitted_at_ms);
    CREATE TABLE backtest_runs (
        id                TEXT PRIMARY KEY,
        run_key           TEXT NOT NULL,
        optimization_id   TEXT REFERENCES optimization_runs(id),
        combination_index INTEGER,
        status            TEXT NOT NULL,
        strategy          TEXT NOT NULL,
        strategy_version  TEXT NOT NULL,
        dataset_id        INTEGER NOT NULL,
        dataset_name      TEXT NOT NULL,
        dataset_sha256    TEXT NOT NULL,
        timeframe         TEXT NOT NULL,
        from_ms           INTEGER,
        to_ms             INTEGER,
        params_json       TEXT NOT NULL,
        spec_json         TEXT NOT NULL,
        request_json      TEXT NOT NULL,
        total_bars        INTEGER NOT NULL,
        processed_bars    INTEGER NOT NULL,
        error_message     TEXT,
        error_stack_trace TEXT,
        submitted_at_ms   INTEGER NOT NULL,
        started_at_ms     INTEGER,
        finished_at_ms    INTEGER NOT NULL,
        report_json       TEXT,
        {metrics}
    );
    CREATE INDEX backtest_runs_key ON backtest_runs(run_key, status);
    CREATE INDEX backtest_runs_optimization ON backtest_runs(optimization_id);
    CREATE INDEX backtest_runs_submitted ON backtest_runs(submitted_at_ms);
    CREATE TABLE equity_curves (
        run_id      TEXT PRIMARY KEY REFERENCES backtest_runs(id),
        points_json TEXT NOT NULL
    );
    CREATE TABLE trades (
        run_id TEXT NOT NULL REFERENCES backtest_runs(id),
        seq    INTEGER NOT NULL,
        {trades},
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE optimization_trials (
        optimization_id   TEXT NOT NULL REFERENCES optimization_runs(id),
        combination_index INTEGER NOT NULL,
        rank              INTEGER NOT NULL,
        status            TEXT NOT NULL,
        params_json       TEXT NOT NULL,
        fitness           REAL,
        error_message     TEXT,
        error_stack_trace TEXT,
        backtest_run_id   TEXT,
        {metrics},
        PRIMARY KEY (optimization_id, combination_index)
    ) WITHOUT ROWID;
    CREATE INDEX optimization_trials_rank ON optimization_trials(optimization_id, rank);"
        ),
    )]
}

/// SQLite failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered an error.
    #[error("run database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
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

/// What every stored run has, whatever its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunHeader {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// Terminal status.
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Strategy version.
    pub strategy_version: String,
    /// Catalog id of the dataset.
    pub dataset_id: i64,
    /// Dataset name.
    pub dataset: String,
    /// Dataset checksum.
    pub dataset_sha256: String,
    /// Main timeframe.
    pub timeframe: String,
    /// Period start, ms (`None`: the dataset's start).
    pub from_ms: Option<i64>,
    /// Period end, exclusive, ms (`None`: the dataset's end).
    pub to_ms: Option<i64>,
    /// Total work: sub-bars or combinations.
    pub total: u64,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Where it failed.
    pub error_stack_trace: Option<String>,
    /// Accepted at, ms.
    pub submitted_at_ms: i64,
    /// Started at, ms.
    pub started_at_ms: Option<i64>,
    /// Ended at, ms.
    pub finished_at_ms: i64,
    /// The request body as submitted (what "run again" resubmits).
    pub request: Value,
    /// What the run key was computed from.
    pub spec: Value,
}

/// A stored backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredBacktest {
    /// Common fields.
    #[serde(flatten)]
    pub header: RunHeader,
    /// Sub-bars simulated.
    pub processed: u64,
    /// The optimization it is a kept trial of.
    pub optimization_id: Option<String>,
    /// Its combination index there.
    pub combination_index: Option<u64>,
    /// Resolved parameters.
    pub params: Value,
    /// The report (metrics, equity curve, trades), if it completed.
    pub result: Option<Value>,
}

/// A stored optimization.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredOptimization {
    /// Common fields.
    #[serde(flatten)]
    pub header: RunHeader,
    /// Trials that completed.
    pub completed: u64,
    /// Trials that failed.
    pub failed: u64,
    /// Combinations skipped by constraints.
    pub skipped: u64,
    /// Summary and ranked trials (complete, or partial when cancelled).
    pub result: Option<Value>,
}

/// One line of a runs list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// Run id.
    pub id: String,
    /// Backtest or optimization.
    pub kind: RunKind,
    /// Terminal status.
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Dataset name.
    pub dataset: String,
    /// Main timeframe.
    pub timeframe: String,
    /// Total work.
    pub total: u64,
    /// Work done (bars, or completed + failed + skipped combinations).
    pub processed: u64,
    /// Failed trials (optimizations).
    pub failed: u64,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Accepted at, ms.
    pub submitted_at_ms: i64,
    /// Ended at, ms.
    pub finished_at_ms: i64,
    /// Headline metrics of a completed backtest, or of an optimization's best trial.
    pub metrics: Option<Value>,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many there are in all.
    pub total: u64,
    /// First item's position.
    pub offset: u64,
    /// Page size asked for.
    pub limit: u64,
}

/// What an optimization's trials are ordered by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TrialSort {
    /// Rank by fitness (1 = best).
    #[default]
    Rank,
    /// The fitness score.
    Fitness,
    /// Combination index in the grid.
    Index,
    /// A metric, one of [`METRIC_FIELDS`] (camelCase, as serialized).
    Metric(&'static str),
    /// A parameter's value (`params.fast`); the name is ASCII letters,
    /// digits and `_` only.
    Param(String),
}

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How a page of trials is ordered: by `sort` in `order`, NULLs (failed
/// trials, undefined ratios) always last, ties broken by rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialOrder {
    /// The key.
    pub sort: TrialSort,
    /// The direction.
    pub order: SortOrder,
}

impl Default for TrialOrder {
    /// Rank order, best first.
    fn default() -> Self {
        Self {
            sort: TrialSort::Rank,
            order: SortOrder::Asc,
        }
    }
}

impl TrialOrder {
    /// Parses the API's `sort` (`rank` by default, `fitness`, `index`, a
    /// metric in camelCase such as `netProfit`, or `params.<name>`) and
    /// `order` (`asc` or `desc`; by default ascending for `rank` and
    /// `index`, descending for the rest).
    ///
    /// # Errors
    /// [`FieldError`] naming `sort` or `order`.
    pub fn parse(sort: Option<&str>, order: Option<&str>) -> Result<Self, FieldError> {
        let sort = match sort.map(str::trim) {
            None | Some("rank") => TrialSort::Rank,
            Some("fitness") => TrialSort::Fitness,
            Some("index") => TrialSort::Index,
            Some(text) => {
                if let Some(m) = METRIC_FIELDS.iter().find(|m| **m == text) {
                    TrialSort::Metric(m)
                } else if let Some(name) = text.strip_prefix("params.") {
                    if name.is_empty()
                        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        return Err(FieldError::new(
                            "sort",
                            format!("'{text}': a parameter name is ASCII letters, digits and '_'"),
                        ));
                    }
                    TrialSort::Param(name.to_owned())
                } else {
                    return Err(FieldError::new(
                        "sort",
                        format!(
                            "unknown sort '{text}' (rank, fitness, index, params.<name>, or a \
                             metric: {})",
                            METRIC_FIELDS.join(", ")
                        ),
                    ));
                }
            }
        };
        let order = match order.map(str::trim) {
            None => match sort {
                TrialSort::Rank | TrialSort::Index => SortOrder::Asc,
                _ => SortOrder::Desc,
            },
            Some("asc") => SortOrder::Asc,
            Some("desc") => SortOrder::Desc,
            Some(other) => {
                return Err(FieldError::new(
                    "order",
                    format!("unknown order '{other}' (asc, desc)"),
                ))
            }
        };
        Ok(Self { sort, order })
    }

    /// The `ORDER BY` terms, built from fixed text only (a metric's column
    /// comes from [`METRIC_FIELDS`], never from the request); a parameter
    /// is read with `json_extract(params_json, ?4)`, its path bound as `?4`.
    fn order_by(&self) -> String {
        let dir = match self.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let key = match &self.sort {
            TrialSort::Rank => return format!("rank {dir}"),
            TrialSort::Index => "combination_index".to_owned(),
            TrialSort::Fitness => "fitness".to_owned(),
            TrialSort::Metric(m) => snake(m),
            TrialSort::Param(_) => "json_extract(params_json, ?4)".to_owned(),
        };
        format!("{key} IS NULL, {key} {dir}, rank ASC")
    }

    /// The JSON path bound to `?4` (`$.name`; `NULL` unless sorting by a
    /// parameter).
    fn param_path(&self) -> Option<String> {
        match &self.sort {
            TrialSort::Param(name) => Some(format!("$.{name}")),
            _ => None,
        }
    }
}

/// What to write for a finished backtest.
#[derive(Debug)]
pub struct BacktestEnd<'a> {
    /// Common fields.
    pub header: &'a RunHeader,
    /// Sub-bars simulated.
    pub processed: u64,
    /// Resolved parameters.
    pub params: &'a atf_engine::Params,
    /// The report, if it completed.
    pub report: Option<&'a BacktestReport>,
}

/// What to write for a finished optimization.
#[derive(Debug)]
pub struct OptimizationEnd<'a> {
    /// Common fields.
    pub header: &'a RunHeader,
    /// The run's key spec (a kept trial's own backtest key is derived from it).
    pub spec: &'a RunSpec,
    /// Counters when it ended.
    pub completed: u64,
    /// Failed trials.
    pub failed: u64,
    /// Skipped combinations.
    pub skipped: u64,
    /// The report (partial when cancelled), if the optimizer returned one.
    pub report: Option<&'a OptimizationReport>,
}

/// The run database.
#[derive(Debug)]
pub struct RunStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Json<'a>(&'a Value);

impl ToSql for Json<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Owned(SqlValue::Null),
            Value::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
            Value::Number(n) => match n.as_i64() {
                Some(i) => ToSqlOutput::Owned(SqlValue::Integer(i)),
                None => ToSqlOutput::Owned(SqlValue::Real(n.as_f64().unwrap_or(f64::NAN))),
            },
            Value::String(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            other => ToSqlOutput::Owned(SqlValue::Text(other.to_string())),
        })
    }
}

fn json_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) | ValueRef::Blob(t) => Value::String(String::from_utf8_lossy(t).into()),
    }
}

/// Reads `fields` (as snake-case columns starting at `first`) into an object.
fn object_at(row: &Row<'_>, first: usize, fields: &[&str]) -> rusqlite::Result<Value> {
    let mut m = Map::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let v = json_of(row.get_ref(first + i)?);
        if !(v.is_null() && OMITTED_WHEN_NULL.contains(f)) {
            m.insert((*f).to_owned(), v);
        }
    }
    Ok(Value::Object(m))
}

fn field_values<'v>(obj: &'v Value, fields: &[&str]) -> Vec<Json<'v>> {
    static NULL: Value = Value::Null;
    fields
        .iter()
        .map(|f| Json(obj.get(*f).unwrap_or(&NULL)))
        .collect()
}

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

const HEADER_COLUMNS: &str = "id, run_key, status, strategy, strategy_version, dataset_id, \
    dataset_name, dataset_sha256, timeframe, from_ms, to_ms, error_message, error_stack_trace, \
    submitted_at_ms, started_at_ms, finished_at_ms, request_json, spec_json";
const HEADER_LEN: usize = 18;

impl RunStore {
    /// Opens (creating) the database and applies pending migrations.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or migrated.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let store = Self {
            path: path.to_owned(),
            writer: Mutex::new(Self::connect(path)?),
            readers: Mutex::new(Vec::new()),
        };
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
        for (version, sql) in migrations() {
            if version > current {
                tx.execute_batch(&sql).map_err(self.err())?;
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

    fn json(&self, what: &'static str, text: &str) -> Result<Value, StoreError> {
        serde_json::from_str(text).map_err(|source| StoreError::Json {
            path: self.path.clone(),
            what,
            source,
        })
    }

    /// Writes a finished backtest (and its curve and trades) at once.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    pub fn save_backtest(&self, end: &BacktestEnd<'_>) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction().map_err(self.err())?;
        let params = serde_json::to_value(end.params).unwrap_or(Value::Null);
        insert_backtest(&tx, end.header, None, &params, end.processed, end.report)
            .map_err(self.err())?;
        tx.commit().map_err(self.err())
    }

    /// Writes a finished optimization: its row, every trial, and the best
    /// trials' full reports (as backtest runs of the optimization).
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    pub fn save_optimization(&self, end: &OptimizationEnd<'_>) -> Result<(), StoreError> {
        let h = end.header;
        let summary = end
            .report
            .map(|r| serde_json::to_value(r.summary()).unwrap_or(Value::Null));
        let maximize = end.spec.maximize.clone().unwrap_or_default();
        let mut conn = lock(&self.writer);
        let tx = conn.transaction().map_err(self.err())?;
        tx.execute(
            "INSERT INTO optimization_runs (id, run_key, status, strategy, strategy_version,
                dataset_id, dataset_name, dataset_sha256, timeframe, from_ms, to_ms, spec_json,
                request_json, maximize, total_combinations, completed_combinations,
                failed_combinations, skipped_combinations, error_message, error_stack_trace,
                submitted_at_ms, started_at_ms, finished_at_ms, summary_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
            params![
                h.id,
                h.run_key,
                status_text(h.status),
                h.strategy,
                h.strategy_version,
                h.dataset_id,
                h.dataset,
                h.dataset_sha256,
                h.timeframe,
                h.from_ms,
                h.to_ms,
                h.spec.to_string(),
                h.request.to_string(),
                maximize,
                i(h.total),
                i(end.completed),
                i(end.failed),
                i(end.skipped),
                h.error_message,
                h.error_stack_trace,
                h.submitted_at_ms,
                h.started_at_ms,
                h.finished_at_ms,
                summary.as_ref().map(Value::to_string),
            ],
        )
        .map_err(self.err())?;
        if let Some(report) = end.report {
            save_trials(&tx, h, end.spec, report).map_err(self.err())?;
        }
        tx.commit().map_err(self.err())
    }

    /// The id of a completed run with this key, if any (newest first).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn find_completed(
        &self,
        kind: RunKind,
        run_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let table = table(kind);
        self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT id FROM {table} WHERE run_key = ?1 AND status = 'Completed'
                     ORDER BY finished_at_ms DESC LIMIT 1"
                ),
                [run_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
        })
    }

    /// A stored backtest with its full result.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn backtest(&self, id: &str) -> Result<Option<StoredBacktest>, StoreError> {
        self.read(|c| {
            let row = c
                .query_row(
                    &format!(
                        "SELECT {HEADER_COLUMNS}, total_bars, processed_bars, optimization_id,
                            combination_index, params_json, report_json
                         FROM backtest_runs WHERE id = ?1"
                    ),
                    [id],
                    |r| {
                        Ok((
                            header_parts(r)?,
                            r.get::<_, i64>(HEADER_LEN)?,
                            r.get::<_, i64>(HEADER_LEN + 1)?,
                            r.get::<_, Option<String>>(HEADER_LEN + 2)?,
                            r.get::<_, Option<i64>>(HEADER_LEN + 3)?,
                            r.get::<_, String>(HEADER_LEN + 4)?,
                            r.get::<_, Option<String>>(HEADER_LEN + 5)?,
                        ))
                    },
                )
                .optional()
                .map_err(self.err())?;
            let Some((parts, total, processed, opt, combo, params, report)) = row else {
                return Ok(None);
            };
            let header = self.header(parts, u(total))?;
            let result = match report {
                Some(text) => Some(self.full_report(c, id, &text)?),
                None => None,
            };
            Ok(Some(StoredBacktest {
                header,
                processed: u(processed),
                optimization_id: opt,
                combination_index: combo.map(u),
                params: self.json("params_json", &params)?,
                result,
            }))
        })
    }

    fn full_report(&self, c: &Connection, id: &str, text: &str) -> Result<Value, StoreError> {
        let mut report = self.json("report_json", text)?;
        let curve: Option<String> = c
            .query_row(
                "SELECT points_json FROM equity_curves WHERE run_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        let curve = match curve {
            Some(t) => self.json("points_json", &t)?,
            None => Value::Array(Vec::new()),
        };
        let cols = TRADE_FIELDS
            .iter()
            .map(|f| snake(f))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = c
            .prepare_cached(&format!(
                "SELECT {cols} FROM trades WHERE run_id = ?1 ORDER BY seq"
            ))
            .map_err(self.err())?;
        let trades = stmt
            .query_map([id], |r| object_at(r, 0, TRADE_FIELDS))
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        if let Some(m) = report.as_object_mut() {
            m.insert("equityCurve".into(), curve);
            m.insert("trades".into(), Value::Array(trades));
        }
        Ok(report)
    }

    /// A stored optimization with its summary and its best `trial_limit`
    /// trials in rank order (the rest page through [`RunStore::trials`]).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn optimization(
        &self,
        id: &str,
        trial_limit: u64,
    ) -> Result<Option<StoredOptimization>, StoreError> {
        let row = self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {HEADER_COLUMNS}, total_combinations, completed_combinations,
                        failed_combinations, skipped_combinations, summary_json
                     FROM optimization_runs WHERE id = ?1"
                ),
                [id],
                |r| {
                    Ok((
                        header_parts(r)?,
                        r.get::<_, i64>(HEADER_LEN)?,
                        r.get::<_, i64>(HEADER_LEN + 1)?,
                        r.get::<_, i64>(HEADER_LEN + 2)?,
                        r.get::<_, i64>(HEADER_LEN + 3)?,
                        r.get::<_, Option<String>>(HEADER_LEN + 4)?,
                    ))
                },
            )
            .optional()
            .map_err(self.err())
        })?;
        let Some((parts, total, completed, failed, skipped, summary)) = row else {
            return Ok(None);
        };
        let header = self.header(parts, u(total))?;
        let result = match summary {
            Some(text) => {
                let mut v = self.json("summary_json", &text)?;
                let page = self.trials(id, 0, trial_limit)?;
                let top = self.top(id)?;
                if let Some(m) = v.as_object_mut() {
                    m.insert("trialCount".into(), Value::from(page.total));
                    m.insert("trials".into(), Value::Array(page.items));
                    m.insert("top".into(), Value::Array(top));
                }
                Some(v)
            }
            None => None,
        };
        Ok(Some(StoredOptimization {
            header,
            completed: u(completed),
            failed: u(failed),
            skipped: u(skipped),
            result,
        }))
    }

    /// The best trials kept in full: `{rank, index, fitness, backtestId}`.
    fn top(&self, id: &str) -> Result<Vec<Value>, StoreError> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT rank, combination_index, fitness, backtest_run_id
                     FROM optimization_trials
                     WHERE optimization_id = ?1 AND backtest_run_id IS NOT NULL ORDER BY rank",
                )
                .map_err(self.err())?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok(json!({
                        "rank": r.get::<_, i64>(0)?,
                        "index": r.get::<_, i64>(1)?,
                        "fitness": json_of(r.get_ref(2)?),
                        "backtestId": r.get::<_, String>(3)?,
                    }))
                })
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err());
            rows
        })
    }

    /// A page of an optimization's trials in rank order.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn trials(&self, id: &str, offset: u64, limit: u64) -> Result<Page<Value>, StoreError> {
        self.sorted_trials(id, offset, limit, &TrialOrder::default())
    }

    /// The parameter names of an optimization's trials (those of its first
    /// trial; every trial has the same), `None` when it has no trials.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn trial_param_names(&self, id: &str) -> Result<Option<Vec<String>>, StoreError> {
        let params: Option<String> = self.read(|c| {
            c.query_row(
                "SELECT params_json FROM optimization_trials WHERE optimization_id = ?1 LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
        })?;
        let Some(text) = params else {
            return Ok(None);
        };
        let names = match self.json("params_json", &text)? {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        Ok(Some(names))
    }

    /// A page of an optimization's trials in `order` (NULLs last, ties by
    /// rank).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn sorted_trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
        order: &TrialOrder,
    ) -> Result<Page<Value>, StoreError> {
        let metric_cols = METRIC_FIELDS
            .iter()
            .map(|f| snake(f))
            .collect::<Vec<_>>()
            .join(", ");
        self.read(|c| {
            let total: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM optimization_trials WHERE optimization_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(self.err())?;
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT combination_index, rank, status, params_json, fitness, error_message,
                        error_stack_trace, backtest_run_id, {metric_cols}
                     FROM optimization_trials WHERE optimization_id = ?1
                     ORDER BY {} LIMIT ?2 OFFSET ?3",
                    order.order_by()
                ))
                .map_err(self.err())?;
            let (lim, off, path) = (i(limit), i(offset), order.param_path());
            let mut args: Vec<&dyn ToSql> = vec![&id, &lim, &off];
            if let Some(p) = &path {
                args.push(p);
            }
            let items = stmt
                .query_map(args.as_slice(), |r| {
                    let status: String = r.get(2)?;
                    let params: String = r.get(3)?;
                    let mut m = Map::new();
                    m.insert("index".into(), json_of(r.get_ref(0)?));
                    m.insert("rank".into(), json_of(r.get_ref(1)?));
                    m.insert(
                        "params".into(),
                        serde_json::from_str(&params).unwrap_or(Value::Null),
                    );
                    if status == "Completed" {
                        m.insert("status".into(), Value::from(status));
                        m.insert("fitness".into(), json_of(r.get_ref(4)?));
                        m.insert("metrics".into(), object_at(r, 8, METRIC_FIELDS)?);
                    } else {
                        m.insert("status".into(), Value::from(status));
                        m.insert("errorMessage".into(), json_of(r.get_ref(5)?));
                        m.insert("errorStackTrace".into(), json_of(r.get_ref(6)?));
                    }
                    if let Some(b) = r.get::<_, Option<String>>(7)? {
                        m.insert("backtestId".into(), Value::from(b));
                    }
                    Ok(Value::Object(m))
                })
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err())?;
            Ok(Page {
                items,
                total: u(total),
                offset,
                limit,
            })
        })
    }

    /// Finished runs of `kind`, newest first, optionally of one status.
    /// Backtests kept as an optimization's best trials are not listed.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn list(
        &self,
        kind: RunKind,
        status: Option<RunStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<RunSummary>, StoreError> {
        let (sql, count) = match kind {
            RunKind::Backtest => (
                "SELECT id, status, strategy, dataset_name, timeframe, total_bars, processed_bars,
                    0, error_message, submitted_at_ms, finished_at_ms, report_json IS NOT NULL,
                    final_equity, net_profit, total_return_pct, max_drawdown_pct, sharpe, trade_count
                 FROM backtest_runs WHERE optimization_id IS NULL AND (?1 IS NULL OR status = ?1)
                 ORDER BY submitted_at_ms DESC, id DESC LIMIT ?2 OFFSET ?3",
                "SELECT COUNT(*) FROM backtest_runs
                 WHERE optimization_id IS NULL AND (?1 IS NULL OR status = ?1)",
            ),
            RunKind::Optimization => (
                "SELECT o.id, o.status, o.strategy, o.dataset_name, o.timeframe,
                    o.total_combinations,
                    o.completed_combinations + o.failed_combinations + o.skipped_combinations,
                    o.failed_combinations, o.error_message, o.submitted_at_ms, o.finished_at_ms,
                    t.status = 'Completed',
                    t.final_equity, t.net_profit, t.total_return_pct, t.max_drawdown_pct,
                    t.sharpe, t.trade_count
                 FROM optimization_runs o
                 LEFT JOIN optimization_trials t ON t.optimization_id = o.id AND t.rank = 1
                 WHERE (?1 IS NULL OR o.status = ?1)
                 ORDER BY o.submitted_at_ms DESC, o.id DESC LIMIT ?2 OFFSET ?3",
                "SELECT COUNT(*) FROM optimization_runs WHERE (?1 IS NULL OR status = ?1)",
            ),
        };
        const HEADLINE: &[&str] = &[
            "finalEquity",
            "netProfit",
            "totalReturnPct",
            "maxDrawdownPct",
            "sharpe",
            "tradeCount",
        ];
        let status = status.map(status_text);
        self.read(|c| {
            let total: i64 = c
                .query_row(count, [&status], |r| r.get(0))
                .map_err(self.err())?;
            let mut stmt = c.prepare_cached(sql).map_err(self.err())?;
            let items = stmt
                .query_map(params![status, i(limit), i(offset)], |r| {
                    let has_metrics: Option<bool> = r.get(11)?;
                    Ok(RunSummary {
                        id: r.get(0)?,
                        kind,
                        status: parse_status(&r.get::<_, String>(1)?),
                        strategy: r.get(2)?,
                        dataset: r.get(3)?,
                        timeframe: r.get(4)?,
                        total: u(r.get(5)?),
                        processed: u(r.get(6)?),
                        failed: u(r.get(7)?),
                        error_message: r.get(8)?,
                        submitted_at_ms: r.get(9)?,
                        finished_at_ms: r.get(10)?,
                        metrics: if has_metrics == Some(true) {
                            Some(object_at(r, 12, HEADLINE)?)
                        } else {
                            None
                        },
                    })
                })
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err())?;
            Ok(Page {
                items,
                total: u(total),
                offset,
                limit,
            })
        })
    }

    fn header(&self, p: HeaderParts, total: u64) -> Result<RunHeader, StoreError> {
        Ok(RunHeader {
            id: p.id,
            run_key: p.run_key,
            status: parse_status(&p.status),
            strategy: p.strategy,
            strategy_version: p.strategy_version,
            dataset_id: p.dataset_id,
            dataset: p.dataset,
            dataset_sha256: p.dataset_sha256,
            timeframe: p.timeframe,
            from_ms: p.from_ms,
            to_ms: p.to_ms,
            total,
            error_message: p.error_message,
            error_stack_trace: p.error_stack_trace,
            submitted_at_ms: p.submitted_at_ms,
            started_at_ms: p.started_at_ms,
            finished_at_ms: p.finished_at_ms,
            request: self.json("request_json", &p.request)?,
            spec: self.json("spec_json", &p.spec)?,
        })
    }
}

struct HeaderParts {
    id: String,
    run_key: String,
    status: String,
    strategy: String,
    strategy_version: String,
    dataset_id: i64,
    dataset: String,
    dataset_sha256: String,
    timeframe: String,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    error_message: Option<String>,
    error_stack_trace: Option<String>,
    submitted_at_ms: i64,
    started_at_ms: Option<i64>,
    finished_at_ms: i64,
    request: String,
    spec: String,
}

fn header_parts(r: &Row<'_>) -> rusqlite::Result<HeaderParts> {
    Ok(HeaderParts {
        id: r.get(0)?,
        run_key: r.get(1)?,
        status: r.get(2)?,
        strategy: r.get(3)?,
        strategy_version: r.get(4)?,
        dataset_id: r.get(5)?,
        dataset: r.get(6)?,
        dataset_sha256: r.get(7)?,
        timeframe: r.get(8)?,
        from_ms: r.get(9)?,
        to_ms: r.get(10)?,
        error_message: r.get(11)?,
        error_stack_trace: r.get(12)?,
        submitted_at_ms: r.get(13)?,
        started_at_ms: r.get(14)?,
        finished_at_ms: r.get(15)?,
        request: r.get(16)?,
        spec: r.get(17)?,
    })
}

fn table(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Backtest => "backtest_runs",
        RunKind::Optimization => "optimization_runs",
    }
}

/// Milliseconds since the epoch, now.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A report without its equity curve and trades (stored apart); the
/// round-trip test keeps it in step with [`BacktestReport`].
struct Headline<'a>(&'a BacktestReport);

impl Serialize for Headline<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let r = self.0;
        let mut st = s.serialize_struct("BacktestReport", 12)?;
        st.serialize_field("strategy", r.strategy)?;
        st.serialize_field("strategyVersion", r.strategy_version)?;
        st.serialize_field("params", &r.params)?;
        st.serialize_field("symbol", &r.symbol)?;
        st.serialize_field("timeframe", &r.timeframe)?;
        st.serialize_field("subTimeframe", &r.sub_timeframe)?;
        st.serialize_field("fromMs", &r.from_ms)?;
        st.serialize_field("toMs", &r.to_ms)?;
        st.serialize_field("metrics", &r.metrics)?;
        st.serialize_field("rejectedOrders", &r.rejected_orders)?;
        st.serialize_field("ambiguousBracketFills", &r.ambiguous_bracket_fills)?;
        st.serialize_field("openPosition", &r.open_position)?;
        st.end()
    }
}

fn insert_backtest(
    tx: &Transaction<'_>,
    h: &RunHeader,
    optimization: Option<(&str, u64)>,
    params: &Value,
    processed: u64,
    report: Option<&BacktestReport>,
) -> rusqlite::Result<()> {
    // the curve goes straight to text: as a JSON value it would be one
    // small map per point (most of the save time of an optimization)
    let report_json = report.map(|r| serde_json::to_value(Headline(r)).unwrap_or(Value::Null));
    let curve = report.map(|r| serde_json::to_string(&r.equity_curve).unwrap_or_default());
    let trades = report.map(|r| serde_json::to_value(&r.trades).unwrap_or(Value::Null));
    let metrics = report_json
        .as_ref()
        .and_then(|r| r.get("metrics"))
        .cloned()
        .unwrap_or(Value::Null);
    let metric_cols = METRIC_FIELDS
        .iter()
        .map(|f| snake(f))
        .collect::<Vec<_>>()
        .join(", ");
    let placeholders = (1..=24 + METRIC_FIELDS.len())
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO backtest_runs (id, run_key, optimization_id, combination_index, status,
            strategy, strategy_version, dataset_id, dataset_name, dataset_sha256, timeframe,
            from_ms, to_ms, params_json, spec_json, request_json, total_bars, processed_bars,
            error_message, error_stack_trace, submitted_at_ms, started_at_ms, finished_at_ms,
            report_json, {metric_cols})
         VALUES ({placeholders})"
    ))?;
    let fixed: [&dyn ToSql; 24] = [
        &h.id,
        &h.run_key,
        &optimization.map(|o| o.0),
        &optimization.map(|o| i(o.1)),
        &status_text(h.status),
        &h.strategy,
        &h.strategy_version,
        &h.dataset_id,
        &h.dataset,
        &h.dataset_sha256,
        &h.timeframe,
        &h.from_ms,
        &h.to_ms,
        &Json(params),
        &h.spec.to_string(),
        &h.request.to_string(),
        &i(h.total),
        &i(processed),
        &h.error_message,
        &h.error_stack_trace,
        &h.submitted_at_ms,
        &h.started_at_ms,
        &h.finished_at_ms,
        &report_json.as_ref().map(Value::to_string),
    ];
    let metric_values = field_values(&metrics, METRIC_FIELDS);
    let all: Vec<&dyn ToSql> = fixed
        .iter()
        .copied()
        .chain(metric_values.iter().map(|v| v as &dyn ToSql))
        .collect();
    stmt.execute(all.as_slice())?;
    if let Some(curve) = curve {
        tx.prepare_cached("INSERT INTO equity_curves (run_id, points_json) VALUES (?1, ?2)")?
            .execute(params![h.id, curve])?;
    }
    if let Some(Value::Array(trades)) = trades {
        let cols = TRADE_FIELDS
            .iter()
            .map(|f| snake(f))
            .collect::<Vec<_>>()
            .join(", ");
        let ph = (3..3 + TRADE_FIELDS.len())
            .map(|n| format!("?{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = tx.prepare_cached(&format!(
            "INSERT INTO trades (run_id, seq, {cols}) VALUES (?1, ?2, {ph})"
        ))?;
        for (seq, t) in trades.iter().enumerate() {
            let seq = i64::try_from(seq).unwrap_or(i64::MAX);
            let vals = field_values(t, TRADE_FIELDS);
            let mut all: Vec<&dyn ToSql> = vec![&h.id, &seq];
            all.extend(vals.iter().map(|v| v as &dyn ToSql));
            stmt.execute(all.as_slice())?;
        }
    }
    Ok(())
}

/// A trial's metrics as column values in [`METRIC_FIELDS`] order, without
/// a JSON detour (saving a million trials is dominated by this); the
/// round-trip tests keep it in step with the engine's serialization.
fn metric_row(m: &atf_engine::PerformanceMetrics) -> Vec<SqlValue> {
    let f = SqlValue::Real;
    let o = |v: Option<f64>| v.map_or(SqlValue::Null, SqlValue::Real);
    let n = |v: u64| SqlValue::Integer(i(v));
    vec![
        f(m.initial_equity),
        f(m.final_equity),
        f(m.net_profit),
        f(m.total_return_pct),
        o(m.annualized_return_pct),
        f(m.max_drawdown),
        f(m.max_drawdown_pct),
        o(m.sharpe),
        o(m.sortino),
        o(m.profit_factor),
        o(m.return_over_drawdown),
        o(m.win_rate),
        n(m.trade_count),
        n(m.winning_trades),
        n(m.losing_trades),
        o(m.average_win),
        o(m.average_loss),
        o(m.expectancy),
        o(m.largest_win),
        o(m.largest_loss),
        f(m.exposure_pct),
        f(m.total_commission),
        n(m.main_bars),
        n(m.sub_bars),
        o(m.wall_time_ms),
        o(m.sub_bars_per_second),
    ]
}

fn save_trials(
    tx: &Transaction<'_>,
    h: &RunHeader,
    spec: &RunSpec,
    report: &OptimizationReport,
) -> rusqlite::Result<()> {
    // the best trials' full reports become backtest runs of this optimization
    let mut kept = std::collections::HashMap::new();
    for top in &report.top {
        let id = uuid::Uuid::new_v4().to_string();
        let params = report.spec.params_of(top.index);
        let mut bt_spec = spec.clone();
        bt_spec.kind = RunKind::Backtest;
        bt_spec.axes.clear();
        bt_spec.constraints.clear();
        bt_spec.maximize = None;
        bt_spec.top = None;
        bt_spec.params = crate::key::canonical_params(&params);
        let params_json = serde_json::to_value(&params).unwrap_or(Value::Null);
        let mut request = h.request.clone();
        if let Some(m) = request.as_object_mut() {
            for k in ["axes", "constraints", "maximize", "top"] {
                m.remove(k);
            }
            m.insert("params".into(), params_json.clone());
        }
        let header = RunHeader {
            id: id.clone(),
            run_key: bt_spec.key().to_string(),
            status: RunStatus::Completed,
            total: top.report.metrics.sub_bars,
            error_message: None,
            error_stack_trace: None,
            request,
            spec: serde_json::to_value(&bt_spec).unwrap_or(Value::Null),
            ..h.clone()
        };
        insert_backtest(
            tx,
            &header,
            Some((&h.id, top.index)),
            &params_json,
            top.report.metrics.sub_bars,
            Some(&top.report),
        )?;
        kept.insert(top.index, id);
    }
    let metric_cols = METRIC_FIELDS
        .iter()
        .map(|f| snake(f))
        .collect::<Vec<_>>()
        .join(", ");
    let ph = (10..10 + METRIC_FIELDS.len())
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO optimization_trials (optimization_id, combination_index, rank, status,
            params_json, fitness, error_message, error_stack_trace, backtest_run_id, {metric_cols})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {ph})"
    ))?;
    // rows go in in combination order (the primary key's), each with its rank
    let mut rank_of = vec![0usize; report.trials.len()];
    for (r, &i) in report.ranking().iter().enumerate() {
        rank_of[i] = r + 1;
    }
    for (trial, &rank) in report.trials.iter().zip(&rank_of) {
        let params = serde_json::to_string(&report.spec.params_of(trial.index))
            .unwrap_or_else(|_| "{}".into());
        let (status, fitness, error, trace, vals) = match &trial.outcome {
            TrialOutcome::Completed(m) => (
                "Completed",
                report.spec.fitness.score(m, &report.common),
                None,
                None,
                metric_row(&m.expand(&report.common, None)),
            ),
            TrialOutcome::Failed(f) => (
                "Failed",
                None,
                Some(&*f.message),
                Some(&*f.backtrace),
                vec![SqlValue::Null; METRIC_FIELDS.len()],
            ),
        };
        let rank = i64::try_from(rank).unwrap_or(i64::MAX);
        let index = i(trial.index);
        let kept_id = kept.get(&trial.index);
        let fixed: [&dyn ToSql; 9] = [
            &h.id, &index, &rank, &status, &params, &fitness, &error, &trace, &kept_id,
        ];
        let all: Vec<&dyn ToSql> = fixed
            .iter()
            .copied()
            .chain(vals.iter().map(|v| v as &dyn ToSql))
            .collect();
        stmt.execute(all.as_slice())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::grid::{Axis, Grid};
    use atf_engine::optimize::{OptimizationProgress, OptimizeSpec};
    use atf_engine::{Bar, Bars, Instrument, MarketData, Timeframe};

    fn walk(n: usize) -> MarketData {
        let mut bars = Bars::with_capacity(n);
        let (mut x, mut p) = (88_172_645_463_325_252_u64, 10_000_i64);
        for i in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let open = p;
            p = (p + (x % 41) as i64 - 20).max(100);
            bars.push(Bar {
                ts: i as i64 * 60_000,
                open,
                high: open.max(p) + 3,
                low: (open.min(p) - 2).max(1),
                close: p,
                volume: 1,
            });
        }
        MarketData::new(Instrument::new("W", 2), bars, Timeframe::M1, Timeframe::M1).unwrap()
    }

    fn cfg() -> atf_engine::BacktestConfig {
        atf_engine::BacktestConfig {
            initial_cash: atf_engine::Money::from_raw(1_000_000),
            costs: atf_engine::Costs::default(),
            sizing: atf_engine::Sizing::default(),
        }
    }

    fn no_params() -> atf_engine::Params {
        atf_engine::Registry::builtin()
            .find("sma-cross")
            .unwrap()
            .info()
            .params
            .resolve([])
            .unwrap()
    }

    fn header(id: &str, status: RunStatus) -> RunHeader {
        RunHeader {
            id: id.into(),
            run_key: "k".repeat(64),
            status,
            strategy: "sma-cross".into(),
            strategy_version: "1".into(),
            dataset_id: 1,
            dataset: "walk".into(),
            dataset_sha256: "ab".repeat(32),
            timeframe: "1m".into(),
            from_ms: None,
            to_ms: None,
            total: 5_000,
            error_message: None,
            error_stack_trace: None,
            submitted_at_ms: 1,
            started_at_ms: Some(2),
            finished_at_ms: 3,
            request: json!({"strategy": "sma-cross", "dataset": "walk"}),
            spec: json!({}),
        }
    }

    fn open() -> (tempfile::TempDir, RunStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = RunStore::open(&dir.path().join("runs.db")).unwrap();
        (dir, s)
    }

    #[test]
    fn a_backtest_reads_back_exactly_as_it_was_reported() {
        let (_d, store) = open();
        let data = walk(5_000);
        let sma = atf_engine::Registry::builtin().find("sma-cross").unwrap();
        let params = sma
            .info()
            .params
            .resolve([("fast", "5"), ("slow", "20")])
            .unwrap();
        let cfg = cfg();
        let report = sma.backtest(&data, &cfg, &params, None).unwrap();
        assert!(report.trades.len() > 3);
        let h = header("b1", RunStatus::Completed);
        store
            .save_backtest(&BacktestEnd {
                header: &h,
                processed: 5_000,
                params: &params,
                report: Some(&report),
            })
            .unwrap();
        let got = store.backtest("b1").unwrap().unwrap();
        assert_eq!(got.header, h);
        assert_eq!(got.result.unwrap(), serde_json::to_value(&report).unwrap());
        assert_eq!(
            store
                .find_completed(RunKind::Backtest, &h.run_key)
                .unwrap()
                .as_deref(),
            Some("b1")
        );
        let page = store.list(RunKind::Backtest, None, 0, 10).unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(
            page.items[0].metrics.as_ref().unwrap()["tradeCount"],
            report.metrics.trade_count
        );
        assert!(store.backtest("nope").unwrap().is_none());
    }

    #[test]
    fn a_failed_backtest_keeps_its_error_and_is_not_a_dedup_hit() {
        let (_d, store) = open();
        let mut h = header("f1", RunStatus::Failed);
        h.error_message = Some("boom at bar 7".into());
        h.error_stack_trace = Some("at strategy.rs:1".into());
        let params = no_params();
        store
            .save_backtest(&BacktestEnd {
                header: &h,
                processed: 7,
                params: &params,
                report: None,
            })
            .unwrap();
        let got = store.backtest("f1").unwrap().unwrap();
        assert_eq!(got.header.error_message.as_deref(), Some("boom at bar 7"));
        assert_eq!(
            got.header.error_stack_trace.as_deref(),
            Some("at strategy.rs:1")
        );
        assert_eq!(got.result, None);
        assert_eq!(
            store.find_completed(RunKind::Backtest, &h.run_key).unwrap(),
            None
        );
        let failed = store
            .list(RunKind::Backtest, Some(RunStatus::Failed), 0, 10)
            .unwrap();
        assert_eq!(failed.total, 1);
        assert_eq!(
            store
                .list(RunKind::Backtest, Some(RunStatus::Completed), 0, 10)
                .unwrap()
                .total,
            0
        );
    }

    #[test]
    fn an_optimization_keeps_every_trial_and_its_best_in_full() {
        let (_d, store) = open();
        let data = walk(3_000);
        let entry = atf_engine::Registry::empty()
            .with::<atf_engine::strategies::FaultInjection>()
            .find("fault-injection")
            .unwrap();
        let space = entry.info().params;
        let spec = OptimizeSpec {
            grid: Grid::new(
                vec![
                    Axis::parse("period=5..30:5", &space).unwrap(),
                    Axis::parse("fault=none,panic", &space).unwrap(),
                ],
                1_000,
            )
            .unwrap(),
            constraints: Vec::new(),
            base: space.resolve([("fault_bar", "100")]).unwrap(),
            fitness: atf_engine::optimize::Fitness::NetProfit,
            top: 3,
        };
        let cfg = cfg();
        let report = entry
            .optimize(&data, &cfg, &spec, &OptimizationProgress::new(), 2)
            .unwrap();
        assert_eq!((report.completed, report.failed), (6, 6));
        let mut h = header("o1", RunStatus::Completed);
        h.total = 12;
        let key_spec = RunSpec {
            kind: RunKind::Optimization,
            strategy: "fault-injection".into(),
            strategy_version: "1".into(),
            engine_version: "1".into(),
            build: "test".into(),
            dataset_id: 1,
            dataset_sha256: "ab".repeat(32),
            from_ms: None,
            to_ms: None,
            timeframe: "1m".into(),
            params: Default::default(),
            axes: Vec::new(),
            constraints: Vec::new(),
            maximize: Some("net-profit".into()),
            top: Some(3),
            cash_raw: 1,
            commission_rate_raw: 0,
            commission_fixed_raw: 0,
            slippage_ticks: 0,
            sizing: "pct:1".into(),
            qty_decimals: 0,
        };
        store
            .save_optimization(&OptimizationEnd {
                header: &h,
                spec: &key_spec,
                completed: 6,
                failed: 6,
                skipped: 0,
                report: Some(&report),
            })
            .unwrap();
        let got = store.optimization("o1", 5).unwrap().unwrap();
        let result = got.result.unwrap();
        assert_eq!(result["trialCount"], 12);
        assert_eq!(
            result["trials"].as_array().unwrap().len(),
            5,
            "first page only"
        );
        // ranked trials read back as the engine serialized them
        let want = serde_json::to_value(report.ranked_trials()).unwrap();
        let all = store.trials("o1", 0, 100).unwrap();
        for (w, g) in want.as_array().unwrap().iter().zip(&all.items) {
            let mut g = g.clone();
            g.as_object_mut().unwrap().remove("backtestId");
            assert_eq!(&g, w);
        }
        let failed = &all.items[11];
        assert_eq!(failed["status"], "Failed");
        assert!(failed["errorMessage"].as_str().unwrap().contains("fault"));
        assert!(!failed["errorStackTrace"].as_str().unwrap().is_empty());
        // the best three are full backtests of the optimization
        let top = result["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let best = store
            .backtest(top[0]["backtestId"].as_str().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(best.optimization_id.as_deref(), Some("o1"));
        assert_eq!(
            best.result.unwrap()["equityCurve"],
            serde_json::to_value(&report.top[0].report.equity_curve).unwrap()
        );
        // kept trials are not listed as backtests of their own
        assert_eq!(store.list(RunKind::Backtest, None, 0, 10).unwrap().total, 0);
        let opts = store.list(RunKind::Optimization, None, 0, 10).unwrap();
        assert_eq!(opts.items[0].failed, 6);
        assert!(opts.items[0].metrics.is_some());
    }

    #[test]
    fn migrations_apply_once_and_reopen_keeps_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.db");
        {
            let s = RunStore::open(&path).unwrap();
            let h = header("r1", RunStatus::Cancelled);
            s.save_backtest(&BacktestEnd {
                header: &h,
                processed: 1,
                params: &no_params(),
                report: None,
            })
            .unwrap();
        }
        let s = RunStore::open(&path).unwrap();
        assert_eq!(
            s.backtest("r1").unwrap().unwrap().header.status,
            RunStatus::Cancelled
        );
    }

    /// An optimization of 12 trials (6 failed) saved as `id`.
    fn saved_optimization(store: &RunStore, id: &str) {
        let data = walk(3_000);
        let entry = atf_engine::Registry::empty()
            .with::<atf_engine::strategies::FaultInjection>()
            .find("fault-injection")
            .unwrap();
        let space = entry.info().params;
        let spec = OptimizeSpec {
            grid: Grid::new(
                vec![
                    Axis::parse("period=5..30:5", &space).unwrap(),
                    Axis::parse("fault=none,panic", &space).unwrap(),
                ],
                1_000,
            )
            .unwrap(),
            constraints: Vec::new(),
            base: space.resolve([("fault_bar", "100")]).unwrap(),
            fitness: atf_engine::optimize::Fitness::NetProfit,
            top: 2,
        };
        let report = entry
            .optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), 2)
            .unwrap();
        let mut h = header(id, RunStatus::Completed);
        h.total = 12;
        let key_spec = RunSpec {
            kind: RunKind::Optimization,
            strategy: "fault-injection".into(),
            strategy_version: "1".into(),
            engine_version: "1".into(),
            build: "test".into(),
            dataset_id: 1,
            dataset_sha256: "ab".repeat(32),
            from_ms: None,
            to_ms: None,
            timeframe: "1m".into(),
            params: Default::default(),
            axes: Vec::new(),
            constraints: Vec::new(),
            maximize: Some("net-profit".into()),
            top: Some(2),
            cash_raw: 1,
            commission_rate_raw: 0,
            commission_fixed_raw: 0,
            slippage_ticks: 0,
            sizing: "pct:1".into(),
            qty_decimals: 0,
        };
        store
            .save_optimization(&OptimizationEnd {
                header: &h,
                spec: &key_spec,
                completed: report.completed,
                failed: report.failed,
                skipped: 0,
                report: Some(&report),
            })
            .unwrap();
    }

    #[test]
    fn trials_sort_by_any_metric_or_parameter_nulls_last_ties_by_rank() {
        let (_d, store) = open();
        saved_optimization(&store, "o1");
        let sorted = |sort: Option<&str>, order: Option<&str>| -> Vec<Value> {
            let o = TrialOrder::parse(sort, order).unwrap();
            let page = store.sorted_trials("o1", 0, 100, &o).unwrap();
            assert_eq!(page.total, 12);
            // pages of 5 read the same order
            let mut paged = Vec::new();
            for off in (0..12).step_by(5) {
                paged.extend(store.sorted_trials("o1", off, 5, &o).unwrap().items);
            }
            assert_eq!(paged, page.items, "{sort:?} {order:?} pages");
            page.items
        };
        let ranks =
            |v: &[Value]| -> Vec<u64> { v.iter().map(|t| t["rank"].as_u64().unwrap()).collect() };
        let num = |t: &Value, ptr: &str| t.pointer(ptr).and_then(Value::as_f64);
        // every value of `ptr` in order (NULLs last), ties by rank
        let check = |v: &[Value], ptr: &str, desc: bool| {
            let mut seen_null = false;
            for w in v.windows(2) {
                let (a, b) = (num(&w[0], ptr), num(&w[1], ptr));
                match (a, b) {
                    (Some(a), Some(b)) => {
                        assert!(!seen_null, "{ptr}: a value after a null");
                        let ok = if desc { a >= b } else { a <= b };
                        assert!(ok, "{ptr}: {a} then {b}");
                        if a == b {
                            assert!(w[0]["rank"].as_u64() < w[1]["rank"].as_u64(), "{ptr} tie");
                        }
                    }
                    (Some(_), None) => seen_null = true,
                    (None, Some(_)) => panic!("{ptr}: a null before a value"),
                    (None, None) => {
                        assert!(
                            w[0]["rank"].as_u64() < w[1]["rank"].as_u64(),
                            "{ptr} nulls by rank"
                        );
                    }
                }
            }
        };

        // the default is rank order, and equals the unsorted page
        let by_rank = sorted(None, None);
        assert_eq!(ranks(&by_rank), (1..=12).collect::<Vec<_>>());
        assert_eq!(by_rank, store.trials("o1", 0, 100).unwrap().items);
        assert_eq!(
            ranks(&sorted(Some("rank"), Some("desc"))),
            (1..=12).rev().collect::<Vec<_>>()
        );
        let by_index = sorted(Some("index"), None);
        let idx: Vec<u64> = by_index
            .iter()
            .map(|t| t["index"].as_u64().unwrap())
            .collect();
        assert_eq!(idx, (0..12).collect::<Vec<_>>());

        // fitness: descending by default, the 6 failed trials (NULL) last
        let by_fitness = sorted(Some("fitness"), None);
        check(&by_fitness, "/fitness", true);
        assert!(by_fitness[6..].iter().all(|t| t["status"] == "Failed"));
        let by_fitness_asc = sorted(Some("fitness"), Some("asc"));
        check(&by_fitness_asc, "/fitness", false);
        assert!(by_fitness_asc[6..].iter().all(|t| t["status"] == "Failed"));
        // every metric sorts, both ways
        for m in METRIC_FIELDS {
            for (order, desc) in [("asc", false), ("desc", true)] {
                check(
                    &sorted(Some(m), Some(order)),
                    &format!("/metrics/{m}"),
                    desc,
                );
            }
        }
        let by_trades = sorted(Some("tradeCount"), Some("asc"));
        assert!(num(&by_trades[0], "/metrics/tradeCount").is_some());
        assert!(by_trades[6..].iter().all(|t| t["status"] == "Failed"));

        // a parameter: failed trials have params too, so all 12 sort by it
        let by_period = sorted(Some("params.period"), None);
        check(&by_period, "/params/period", true);
        assert_eq!(by_period[0]["params"]["period"], 30);
        assert_eq!(by_period[11]["params"]["period"], 5);
        check(
            &sorted(Some("params.period"), Some("asc")),
            "/params/period",
            false,
        );
        let by_fault = sorted(Some("params.fault"), Some("asc"));
        assert!(by_fault[..6].iter().all(|t| t["params"]["fault"] == "none"));
        // an absent parameter is NULL everywhere: rank order
        assert_eq!(
            ranks(&sorted(Some("params.nope"), None)),
            (1..=12).collect::<Vec<_>>()
        );

        // its parameter names, from the stored trials
        let names = store.trial_param_names("o1").unwrap().unwrap();
        assert!(
            ["period", "fault", "fault_bar"]
                .iter()
                .all(|n| names.iter().any(|x| x == n)),
            "{names:?}"
        );
        assert_eq!(store.trial_param_names("none").unwrap(), None);
    }

    #[test]
    fn trial_orders_parse_from_a_fixed_list_only() {
        let o = TrialOrder::parse(None, None).unwrap();
        assert_eq!(o, TrialOrder::default());
        assert_eq!(o.order_by(), "rank ASC");
        let o = TrialOrder::parse(Some("netProfit"), None).unwrap();
        assert_eq!(
            (o.sort.clone(), o.order),
            (TrialSort::Metric("netProfit"), SortOrder::Desc)
        );
        assert_eq!(
            o.order_by(),
            "net_profit IS NULL, net_profit DESC, rank ASC"
        );
        assert_eq!(
            TrialOrder::parse(Some("index"), None).unwrap().order,
            SortOrder::Asc
        );
        assert_eq!(
            TrialOrder::parse(Some("fitness"), Some("asc"))
                .unwrap()
                .order,
            SortOrder::Asc
        );
        let p = TrialOrder::parse(Some("params.long_only"), None).unwrap();
        assert_eq!(p.sort, TrialSort::Param("long_only".into()));
        assert_eq!(p.param_path().as_deref(), Some("$.long_only"));
        for bad in [
            "luck",
            "net_profit",
            "params.",
            "params.a-b",
            "params.x') --",
            "params.a.b",
            "sharpe; DROP TABLE x",
        ] {
            let e = TrialOrder::parse(Some(bad), None).unwrap_err();
            assert_eq!(e.field, "sort", "{bad}");
        }
        for bad in ["up", "ASC", ""] {
            let e = TrialOrder::parse(Some("sharpe"), Some(bad)).unwrap_err();
            assert_eq!(e.field, "order", "{bad}");
        }
    }
}
