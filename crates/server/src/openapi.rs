//! The OpenAPI 3.1 document of the API, generated from the code with
//! utoipa and served at `GET /api/openapi.json`.
//!
//! The handlers of `runs.rs` and `catalog.rs` carry their own
//! `#[utoipa::path]`. The run routes that `lib.rs` builds as closures over
//! the run kind (list, get, status, events, cancel) are described here by
//! doc-only functions, one per kind and route, whose paths are the router's.
//!
//! The request bodies and the stored runs are types of crates without
//! utoipa, so this module mirrors them as schema-only types
//! ([`BacktestRequestSchema`], [`OptimizationRequestSchema`],
//! [`StoredBacktestSchema`], …): they are never built, only described. The
//! unit tests check the document against the router, and `scripts/test.sh`
//! validates it with `openapi-spec-validator`.

use crate::dto::{
    BacktestStatus, BacktestSubmission, CancelResponse, ChartBar, DatasetBars, Health,
    OptimizationStatus, OptimizationSubmission,
};
use crate::problem::Problem;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearerAuth";

/// The document's generator: every route of [`crate::router`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "AlgoTradeForge API",
        version = env!("CARGO_PKG_VERSION"),
        description = "Backtests and parameter optimizations over a catalog of market data. \
Runs answer `202 Accepted` at once and are followed by polling `…/{id}/status` or by the \
server-sent events of `…/{id}/events`; an identical submission is answered with the existing \
run instead of running again. Errors are `application/problem+json` (RFC 9457) naming the \
request field at fault in `field`.\n\nWhen the server runs with `--api-token`, every `/api` \
request (this document included) must carry `Authorization: Bearer <token>`, except that \
`GET …/{id}/events` may pass `?access_token=<token>` instead (browsers' `EventSource` cannot \
set headers); without it no authentication is needed.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        crate::runs::submit_backtest,
        list_backtests,
        get_backtest,
        backtest_status,
        backtest_events,
        cancel_backtest,
        crate::runs::submit_optimization,
        list_optimizations,
        get_optimization,
        optimization_status,
        optimization_events,
        cancel_optimization,
        crate::runs::trials,
        crate::catalog::strategies,
        crate::catalog::datasets,
        crate::catalog::upload,
        crate::catalog::bars,
        crate::content::content,
        crate::catalog::health,
        document,
    ),
    components(
        schemas(
            Problem,
            BacktestRequestSchema,
            OptimizationRequestSchema,
            AxisSpecSchema,
            AxisRange,
            ParamValue,
            BacktestSubmission,
            OptimizationSubmission,
            BacktestStatus,
            OptimizationStatus,
            CancelResponse,
            BacktestRun,
            OptimizationRun,
            StoredBacktestSchema,
            StoredOptimizationSchema,
            RunSummaryPage,
            TrialPage,
            StrategyInfoSchema,
            DatasetInfoSchema,
            ImportReportSchema,
            DatasetUploadForm,
            DatasetBars,
            ChartBar,
            Health,
        ),
        responses(Unauthorized),
    ),
    modifiers(&BearerScheme),
    security((), ("bearerAuth" = [])),
    tags(
        (name = "backtests", description = "One strategy, one parameter set, one period."),
        (name = "optimizations", description = "A grid of parameter combinations, ranked by a fitness."),
        (name = "catalog", description = "Strategies and datasets."),
        (name = "service", description = "Health and this document."),
    )
)]
pub struct ApiDoc;

/// Adds the bearer security scheme the operations refer to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The server's `--api-token`. Required on every `/api` request only when \
                         the server runs with `--api-token`; a server started without it accepts \
                         requests without credentials. A `GET /api/backtests/{id}/events` or \
                         `GET /api/optimizations/{id}/events` may pass it as the query parameter \
                         `?access_token=<token>` instead of the header, for browsers' \
                         `EventSource`, which cannot set headers; every other request (and any \
                         other method) must use the header.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "service",
    operation_id = "getOpenApi",
    summary = "This OpenAPI 3.1 document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn document() -> Response {
    static JSON: OnceLock<Bytes> = OnceLock::new();
    let body = JSON
        .get_or_init(|| Bytes::from(serde_json::to_vec(&openapi()).unwrap_or_default()))
        .clone();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

// ---- reusable responses ----------------------------------------------------

/// The API token is missing or wrong; only when the server runs with
/// `--api-token`.
#[derive(ToResponse)]
#[response(
    description = "The API token is missing or wrong (only when the server runs with `--api-token`).",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`"))
)]
pub struct Unauthorized(pub Problem);

/// The token of an event stream in its URL.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "a schema: the middleware reads the token")]
pub struct AccessToken {
    /// The server's `--api-token`, for clients that cannot send an
    /// `Authorization` header (a browser's `EventSource`); accepted on
    /// these event streams only, and only when the header is absent.
    access_token: Option<String>,
}

// ---- request bodies ----------------------------------------------------------

/// A parameter value: a number, a boolean or a string (a choice's name).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum ParamValue {
    /// An `int` or `float` parameter's value.
    Number(f64),
    /// A `bool` parameter's value.
    Boolean(bool),
    /// A `choice` parameter's value.
    Text(String),
}

/// `POST /api/backtests`: the strategy, the data, the period, fixed
/// parameter values, costs, cash and sizing. Absent fields take the CLI's
/// defaults (10,000 cash, no costs, all-in); unknown fields are refused
/// (`422`, so a misspelt `comissionPct` never silently means 0). Numbers are
/// read from their decimal text, so `0.1` is exactly 0.1 %.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "strategy": "sma-cross",
    "dataset": "spy-1m",
    "timeframe": "1h",
    "from": "2024-01-01",
    "to": "2024-03-31",
    "params": {"fast": 10, "slow": 30},
    "cash": 10000,
    "commissionPct": 0.1,
    "slippageTicks": 0,
    "sizePct": 100
}))]
pub struct BacktestRequestSchema {
    /// Strategy name (see `GET /api/strategies`).
    #[schema(example = "sma-cross")]
    pub strategy: String,
    /// Dataset name or id (see `GET /api/datasets`).
    #[schema(example = "spy-1m")]
    pub dataset: String,
    /// Main timeframe (default: the dataset's): a number followed by s, m,
    /// h, d or w.
    #[schema(example = "1h")]
    pub timeframe: Option<String>,
    /// First day or instant (default: the dataset's start): `2024-01-01`,
    /// an ISO instant, or epoch seconds / milliseconds.
    #[schema(example = "2024-01-01")]
    pub from: Option<String>,
    /// Last day or instant, included (default: the dataset's end); a bare
    /// date means through that day.
    #[schema(example = "2024-03-31")]
    pub to: Option<String>,
    /// Parameter values by name (default: the strategy's).
    #[serde(default)]
    #[schema(example = json!({"fast": 10, "slow": 30}))]
    pub params: BTreeMap<String, ParamValue>,
    /// Initial cash (default 10000).
    #[schema(example = 10000)]
    pub cash: Option<f64>,
    /// Commission, % of notional (default 0).
    #[schema(example = 0.1)]
    pub commission_pct: Option<f64>,
    /// Fixed commission per order (default 0).
    #[schema(example = 0)]
    pub commission_fixed: Option<f64>,
    /// Slippage in ticks (default 0).
    #[schema(example = 0)]
    pub slippage_ticks: Option<i64>,
    /// Order size, % of equity (default 100).
    #[schema(example = 100)]
    pub size_pct: Option<f64>,
    /// Fixed order quantity (instead of `sizePct`).
    pub size_qty: Option<f64>,
}

/// One optimization axis: `{"min": 5, "max": 50, "step": 5}`.
#[derive(ToSchema)]
#[schema(example = json!({"min": 5, "max": 50, "step": 5}))]
pub struct AxisRange {
    /// First value.
    pub min: f64,
    /// Last value (included when the steps reach it).
    pub max: f64,
    /// Step (> 0).
    #[schema(exclusive_minimum = 0)]
    pub step: f64,
}

/// One optimization axis: a range, or a list of values (`[20, 30, 40]`,
/// `[true, false]`, `["a", "b"]`).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum AxisSpecSchema {
    /// `{"min": 5, "max": 50, "step": 5}`.
    Range(AxisRange),
    /// `[20, 30, 40]` or `[true, false]` or `["a", "b"]`.
    List(Vec<ParamValue>),
}

/// `POST /api/optimizations`: every combination of the axes' values, each
/// run as a backtest with the fixed fields of [`BacktestRequestSchema`],
/// ranked by `maximize`. Unknown fields are refused (`422`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "strategy": "sma-cross",
    "dataset": "spy-1m",
    "axes": {"fast": {"min": 5, "max": 50, "step": 5}, "slow": [20, 30, 40]},
    "constraints": ["fast < slow"],
    "maximize": "sharpe",
    "top": 20
}))]
pub struct OptimizationRequestSchema {
    /// Strategy name (see `GET /api/strategies`).
    #[schema(example = "sma-cross")]
    pub strategy: String,
    /// Dataset name or id (see `GET /api/datasets`).
    #[schema(example = "spy-1m")]
    pub dataset: String,
    /// The grid: parameter → axis (combination order follows the names'
    /// sorted order). At least one; an axis may not also be in `params`.
    #[schema(example = json!({"fast": {"min": 5, "max": 50, "step": 5}, "slow": [20, 30, 40]}))]
    pub axes: BTreeMap<String, AxisSpecSchema>,
    /// Relations that skip combinations (`"fast < slow"`).
    #[serde(default)]
    #[schema(example = json!(["fast < slow"]))]
    pub constraints: Vec<String>,
    /// Fitness to rank by (default `sharpe`): `sharpe`, `net-profit`,
    /// `return-over-drawdown`, `profit-factor`, `sortino` or `win-rate`
    /// (`netProfit` and `net_profit` are accepted too).
    #[schema(example = "sharpe")]
    pub maximize: Option<String>,
    /// Best trials kept in full, as backtests with their equity curve and
    /// trades (default 20, at most 1,000).
    #[schema(example = 20, minimum = 1, maximum = 1000)]
    pub top: Option<u64>,
    /// Main timeframe (default: the dataset's).
    #[schema(example = "1h")]
    pub timeframe: Option<String>,
    /// First day or instant (default: the dataset's start).
    #[schema(example = "2024-01-01")]
    pub from: Option<String>,
    /// Last day or instant, included (default: the dataset's end).
    #[schema(example = "2024-03-31")]
    pub to: Option<String>,
    /// Values of the parameters that are not axes (default: the
    /// strategy's).
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// Initial cash (default 10000).
    #[schema(example = 10000)]
    pub cash: Option<f64>,
    /// Commission, % of notional (default 0).
    #[schema(example = 0.1)]
    pub commission_pct: Option<f64>,
    /// Fixed commission per order (default 0).
    pub commission_fixed: Option<f64>,
    /// Slippage in ticks (default 0).
    pub slippage_ticks: Option<i64>,
    /// Order size, % of equity (default 100).
    pub size_pct: Option<f64>,
    /// Fixed order quantity (instead of `sizePct`).
    pub size_qty: Option<f64>,
}

/// The multipart form of `POST /api/datasets`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetUploadForm {
    /// CSV, gzip CSV, Binance klines, MetaTrader 4/5 export or Parquet. Its
    /// file name only labels the dataset; it never chooses a path.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// Dataset name (default: from the file name).
    pub name: Option<String>,
    /// Instrument symbol (default: from the name).
    pub symbol: Option<String>,
    /// Decimal places of prices, 0 to 12 (default: detected).
    #[schema(minimum = 0, maximum = 12)]
    pub price_decimals: Option<u8>,
}

// ---- answers -----------------------------------------------------------------

/// A run's lifecycle state.
#[derive(ToSchema)]
pub enum RunStatusSchema {
    /// Accepted, waiting for a slot.
    Pending,
    /// Working.
    Running,
    /// Finished with a result.
    Completed,
    /// Ended by an error.
    Failed,
    /// Stopped on request.
    Cancelled,
}

/// Backtest or optimization.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RunKindSchema {
    /// One parameter set.
    Backtest,
    /// Every combination of a grid.
    Optimization,
}

/// A stored backtest: what was asked, what the run key was computed from,
/// and the report.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredBacktestSchema {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// Terminal status.
    pub status: RunStatusSchema,
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
    /// Period start, ms (`null`: the dataset's start).
    #[schema(required = true)]
    pub from_ms: Option<i64>,
    /// Period end, exclusive, ms (`null`: the dataset's end).
    #[schema(required = true)]
    pub to_ms: Option<i64>,
    /// Sub-bars in the period.
    pub total: u64,
    /// Why it failed.
    #[schema(required = true)]
    pub error_message: Option<String>,
    /// Where it failed.
    #[schema(required = true)]
    pub error_stack_trace: Option<String>,
    /// Accepted at, ms since epoch.
    pub submitted_at_ms: i64,
    /// Started at, ms.
    #[schema(required = true)]
    pub started_at_ms: Option<i64>,
    /// Ended at, ms.
    pub finished_at_ms: i64,
    /// The request body as submitted (what "run again" resubmits).
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// What the run key was computed from.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Sub-bars simulated.
    pub processed: u64,
    /// The optimization it is a kept trial of.
    #[schema(required = true)]
    pub optimization_id: Option<String>,
    /// Its combination index there.
    #[schema(required = true)]
    pub combination_index: Option<u64>,
    /// Resolved parameters.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// The report (`metrics`, `equityCurve`, `trades`, …), if it completed.
    #[schema(value_type = Option<Object>, required = true)]
    pub result: serde_json::Value,
}

/// A stored optimization: what was asked, the trial counts and the result.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredOptimizationSchema {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// Terminal status.
    pub status: RunStatusSchema,
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
    /// Period start, ms (`null`: the dataset's start).
    #[schema(required = true)]
    pub from_ms: Option<i64>,
    /// Period end, exclusive, ms (`null`: the dataset's end).
    #[schema(required = true)]
    pub to_ms: Option<i64>,
    /// Combinations in the grid.
    pub total: u64,
    /// Why it failed.
    #[schema(required = true)]
    pub error_message: Option<String>,
    /// Where it failed.
    #[schema(required = true)]
    pub error_stack_trace: Option<String>,
    /// Accepted at, ms since epoch.
    pub submitted_at_ms: i64,
    /// Started at, ms.
    #[schema(required = true)]
    pub started_at_ms: Option<i64>,
    /// Ended at, ms.
    pub finished_at_ms: i64,
    /// The request body as submitted (what "run again" resubmits).
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// What the run key was computed from.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Trials that completed.
    pub completed: u64,
    /// Trials that failed.
    pub failed: u64,
    /// Combinations skipped by constraints.
    pub skipped: u64,
    /// Summary and ranked trials (the first 1,000; page the rest with
    /// `/trials`), complete, or partial when cancelled.
    #[schema(value_type = Option<Object>, required = true)]
    pub result: serde_json::Value,
}

/// `GET /api/backtests/{id}`: the stored run once it has ended, its
/// status while pending or running.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum BacktestRun {
    /// Ended: the stored run.
    Stored(Box<StoredBacktestSchema>),
    /// Pending or running: its status.
    InFlight(Box<BacktestStatus>),
}

/// `GET /api/optimizations/{id}`: the stored run once it has ended, its
/// status while pending or running.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum OptimizationRun {
    /// Ended: the stored run.
    Stored(Box<StoredOptimizationSchema>),
    /// Pending or running: its status.
    InFlight(Box<OptimizationStatus>),
}

/// One line of a runs list.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSummarySchema {
    /// Run id.
    pub id: String,
    /// Backtest or optimization.
    pub kind: RunKindSchema,
    /// Terminal status.
    pub status: RunStatusSchema,
    /// Strategy name.
    pub strategy: String,
    /// Dataset name.
    pub dataset: String,
    /// Main timeframe.
    pub timeframe: String,
    /// Total work: sub-bars or combinations.
    pub total: u64,
    /// Work done (bars, or completed + failed + skipped combinations).
    pub processed: u64,
    /// Failed trials (optimizations).
    pub failed: u64,
    /// Why it failed.
    #[schema(required = true)]
    pub error_message: Option<String>,
    /// Accepted at, ms since epoch.
    pub submitted_at_ms: i64,
    /// Ended at, ms.
    pub finished_at_ms: i64,
    /// Headline metrics of a completed backtest, or of an optimization's
    /// best trial.
    #[schema(value_type = Option<Object>, required = true)]
    pub metrics: serde_json::Value,
}

/// A page of finished runs, newest first.
#[derive(ToSchema)]
pub struct RunSummaryPage {
    /// The runs.
    pub items: Vec<RunSummarySchema>,
    /// How many there are in all.
    pub total: u64,
    /// First item's position.
    pub offset: u64,
    /// Page size asked for.
    pub limit: u64,
}

/// How a trial ended.
#[derive(ToSchema)]
pub enum TrialStatusSchema {
    /// Ran to the end: `fitness` and `metrics` are set.
    Completed,
    /// Failed: `errorMessage` and `errorStackTrace` are set.
    Failed,
}

/// One trial of an optimization.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialSchema {
    /// Combination index in the grid.
    pub index: u64,
    /// Rank by fitness (1 = best).
    pub rank: u64,
    /// The combination's parameter values.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// How it ended.
    pub status: TrialStatusSchema,
    /// Its score (completed trials; `null` when the metric is undefined).
    pub fitness: Option<f64>,
    /// Its metrics (completed trials).
    #[schema(value_type = Option<Object>)]
    pub metrics: serde_json::Value,
    /// Why it failed (failed trials).
    pub error_message: Option<String>,
    /// Where it failed (failed trials).
    pub error_stack_trace: Option<String>,
    /// The backtest kept in full for it (the best trials only).
    pub backtest_id: Option<String>,
}

/// A page of an optimization's trials in rank order.
#[derive(ToSchema)]
pub struct TrialPage {
    /// The trials.
    pub items: Vec<TrialSchema>,
    /// How many there are in all.
    pub total: u64,
    /// First trial's position.
    pub offset: u64,
    /// Page size asked for.
    pub limit: u64,
}

/// A declared strategy parameter: its type, default and bounds.
#[derive(ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ParamSpecSchema {
    /// Whole numbers in `min..=max`, moving by `step` in a grid.
    Int {
        /// Name used on the CLI and in the API (`fast`).
        name: String,
        /// What the parameter does.
        description: String,
        /// Default value.
        default: i64,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
        /// Suggested grid step.
        step: i64,
    },
    /// Real numbers in `min..=max`.
    Float {
        /// Name used on the CLI and in the API.
        name: String,
        /// What the parameter does.
        description: String,
        /// Default value.
        default: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// Suggested grid step.
        step: f64,
    },
    /// `true` / `false`.
    Bool {
        /// Name used on the CLI and in the API (`long_only`).
        name: String,
        /// What the parameter does.
        description: String,
        /// Default value.
        default: bool,
    },
    /// One of a fixed list of names.
    Choice {
        /// Name used on the CLI and in the API.
        name: String,
        /// What the parameter does.
        description: String,
        /// Default option.
        default: String,
        /// Accepted options.
        options: Vec<String>,
    },
}

/// A strategy with its parameter space.
#[derive(ToSchema)]
pub struct StrategyInfoSchema {
    /// Name (`sma-cross`).
    #[schema(example = "sma-cross")]
    pub name: String,
    /// Version (part of every run key).
    pub version: String,
    /// One line.
    pub description: String,
    /// Declared parameters, in declaration order.
    pub params: Vec<ParamSpecSchema>,
}

/// One dataset in the catalog.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetInfoSchema {
    /// Catalog id (never reused).
    pub id: i64,
    /// Unique name.
    #[schema(example = "spy-1m")]
    pub name: String,
    /// Instrument symbol.
    pub symbol: String,
    /// The bars' timeframe.
    #[schema(example = "1m")]
    pub timeframe: String,
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
    /// Lowercase hex SHA-256 of the normalized content.
    pub sha256: String,
    /// The Parquet file, relative to the data directory.
    pub file: String,
    /// When it was imported, ms since epoch.
    pub imported_at_ms: i64,
    /// The file name it was imported from.
    pub source_name: String,
}

/// The detected format of an imported file.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormatSchema {
    /// CSV with a header row `timestamp,open,high,low,close[,volume]`.
    Csv,
    /// Binance kline CSV.
    Binance,
    /// MetaTrader 4 history export.
    #[serde(rename = "mt4")]
    MetaTrader4,
    /// MetaTrader 5 export.
    #[serde(rename = "mt5")]
    MetaTrader5,
    /// Apache Parquet.
    Parquet,
}

/// `201` to `POST /api/datasets`: what the import did.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReportSchema {
    /// The new catalog entry.
    pub dataset: DatasetInfoSchema,
    /// The detected source format.
    pub format: SourceFormatSchema,
    /// Whether the source was gzip-compressed.
    pub gzipped: bool,
    /// Bars imported.
    pub rows: u64,
    /// Places where consecutive bars are more than one timeframe apart.
    pub gaps: u64,
    /// Whole bar intervals skipped by those gaps.
    pub missing_bars: u64,
    /// Whether some volumes had more decimals than fit and were rounded
    /// (prices never are).
    pub volume_rounded: bool,
}

// ---- the run routes lib.rs builds as closures over the run kind ------------

/// List finished backtests
///
/// Newest first, one page at a time; backtests kept as an optimization's
/// best trials are not listed.
#[utoipa::path(
    get,
    path = "/api/backtests",
    tag = "backtests",
    operation_id = "listBacktests",
    params(crate::runs::ListQuery),
    responses(
        (status = 200, description = "A page of finished backtests.", body = RunSummaryPage),
        (status = 400, description = "Unreadable query string.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 422, description = "`limit` out of 1..500 or unknown `status` (named in `field`).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn list_backtests() {}

/// Get a backtest
///
/// The stored run (with its report) once it has ended; its status while
/// it is pending or running.
#[utoipa::path(
    get,
    path = "/api/backtests/{id}",
    tag = "backtests",
    operation_id = "getBacktest",
    params(("id" = String, Path, description = "Backtest id.")),
    responses(
        (status = 200, description = "The stored backtest, or its status while in flight.", body = BacktestRun),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn get_backtest() {}

/// A backtest's status
///
/// Progress in sub-bars, and the report once completed. Poll it, or follow
/// `/events`.
#[utoipa::path(
    get,
    path = "/api/backtests/{id}/status",
    tag = "backtests",
    operation_id = "getBacktestStatus",
    params(("id" = String, Path, description = "Backtest id.")),
    responses(
        (status = 200, description = "The backtest's status.", body = BacktestStatus),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn backtest_status() {}

/// Follow a backtest
///
/// Server-sent events: the current status at once, a `progress` event at
/// least every second while it is pending or running, then one
/// `completed`, `failed` or `cancelled` event, and the stream ends (at once
/// for a run that has already ended). Keep-alive comments may come between
/// events. Every event's `data` is the
/// status JSON of `GET /api/backtests/{id}/status` (schema
/// `BacktestStatus`). If the run vanishes or storage fails the stream ends
/// early: fall back to polling `/status`.
#[utoipa::path(
    get,
    path = "/api/backtests/{id}/events",
    tag = "backtests",
    operation_id = "streamBacktestEvents",
    params(("id" = String, Path, description = "Backtest id."), AccessToken),
    responses(
        (status = 200, description = "A `text/event-stream` of `progress` events (`Pending` or `Running`), then one `completed`, `failed` or `cancelled` event; each event's `data` is a `BacktestStatus` JSON object.",
            content_type = "text/event-stream", body = String,
            example = "event: progress\ndata: {\"id\":\"…\",\"status\":\"Running\",\"processedBars\":12000,\"totalBars\":31757,…}\n\nevent: completed\ndata: {\"id\":\"…\",\"status\":\"Completed\",\"processedBars\":31757,\"totalBars\":31757,\"result\":{…},…}\n\n"),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id (answered before the stream starts).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn backtest_events() {}

/// Cancel a backtest
#[utoipa::path(
    post,
    path = "/api/backtests/{id}/cancel",
    tag = "backtests",
    operation_id = "cancelBacktest",
    params(("id" = String, Path, description = "Backtest id.")),
    responses(
        (status = 200, description = "Cancelled.", body = CancelResponse),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The backtest has already ended.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn cancel_backtest() {}

/// List finished optimizations
///
/// Newest first, one page at a time; `metrics` are the best trial's.
#[utoipa::path(
    get,
    path = "/api/optimizations",
    tag = "optimizations",
    operation_id = "listOptimizations",
    params(crate::runs::ListQuery),
    responses(
        (status = 200, description = "A page of finished optimizations.", body = RunSummaryPage),
        (status = 400, description = "Unreadable query string.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 422, description = "`limit` out of 1..500 or unknown `status` (named in `field`).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn list_optimizations() {}

/// Get an optimization
///
/// The stored run (summary and ranked trials) once it has ended; its status
/// while it is pending or running.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}",
    tag = "optimizations",
    operation_id = "getOptimization",
    params(("id" = String, Path, description = "Optimization id.")),
    responses(
        (status = 200, description = "The stored optimization, or its status while in flight.", body = OptimizationRun),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn get_optimization() {}

/// An optimization's status
///
/// Progress in combinations and the live leaderboard; the result once
/// ended. Poll it, or follow `/events`.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}/status",
    tag = "optimizations",
    operation_id = "getOptimizationStatus",
    params(("id" = String, Path, description = "Optimization id.")),
    responses(
        (status = 200, description = "The optimization's status.", body = OptimizationStatus),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn optimization_status() {}

/// Follow an optimization
///
/// Server-sent events: the current status at once, a `progress` event at
/// least every second while it is pending or running, then one
/// `completed`, `failed` or `cancelled` event, and the stream ends (at once
/// for a run that has already ended). Keep-alive comments may come between
/// events. Every event's `data` is the
/// status JSON of `GET /api/optimizations/{id}/status` (schema
/// `OptimizationStatus`). If the run vanishes or storage fails the stream
/// ends early: fall back to polling `/status`.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}/events",
    tag = "optimizations",
    operation_id = "streamOptimizationEvents",
    params(("id" = String, Path, description = "Optimization id."), AccessToken),
    responses(
        (status = 200, description = "A `text/event-stream` of `progress` events (`Pending` or `Running`), then one `completed`, `failed` or `cancelled` event; each event's `data` is an `OptimizationStatus` JSON object.",
            content_type = "text/event-stream", body = String,
            example = "event: progress\ndata: {\"id\":\"…\",\"status\":\"Running\",\"processedCombinations\":12,\"totalCombinations\":30,\"leaders\":[…],…}\n\nevent: completed\ndata: {\"id\":\"…\",\"status\":\"Completed\",\"processedCombinations\":30,\"totalCombinations\":30,\"result\":{…},…}\n\n"),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id (answered before the stream starts).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn optimization_events() {}

/// Cancel an optimization
///
/// Trials already done are kept; the result is partial.
#[utoipa::path(
    post,
    path = "/api/optimizations/{id}/cancel",
    tag = "optimizations",
    operation_id = "cancelOptimization",
    params(("id" = String, Path, description = "Optimization id.")),
    responses(
        (status = 200, description = "Cancelled.", body = CancelResponse),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The optimization has already ended.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code, reason = "documents a route; the handler is in the router")]
fn cancel_optimization() {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

    /// Every route of [`crate::router`], as `(method, path)`. A route added
    /// to the router must be added here and documented.
    const ROUTES: &[(&str, &str)] = &[
        ("GET", "/api/backtests"),
        ("POST", "/api/backtests"),
        ("GET", "/api/backtests/{id}"),
        ("GET", "/api/backtests/{id}/status"),
        ("GET", "/api/backtests/{id}/events"),
        ("POST", "/api/backtests/{id}/cancel"),
        ("GET", "/api/optimizations"),
        ("POST", "/api/optimizations"),
        ("GET", "/api/optimizations/{id}"),
        ("GET", "/api/optimizations/{id}/status"),
        ("GET", "/api/optimizations/{id}/events"),
        ("POST", "/api/optimizations/{id}/cancel"),
        ("GET", "/api/optimizations/{id}/trials"),
        ("GET", "/api/strategies"),
        ("GET", "/api/datasets"),
        ("POST", "/api/datasets"),
        ("GET", "/api/datasets/{id}/bars"),
        ("GET", "/api/datasets/{id}/content"),
        ("GET", "/api/health"),
        ("GET", "/api/openapi.json"),
    ];

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    fn doc() -> Value {
        serde_json::to_value(openapi()).unwrap()
    }

    fn operations(doc: &Value) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for m in METHODS {
                if item.get(m).is_some() {
                    out.insert((m.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    fn listed() -> BTreeSet<(String, String)> {
        ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect()
    }

    fn refs<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let d = doc();
        assert!(
            d["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            d["openapi"]
        );
        assert_eq!(d["info"]["version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn every_route_of_the_router_is_documented_with_its_methods() {
        assert_eq!(operations(&doc()), listed());
    }

    #[test]
    fn every_ref_resolves_to_a_component() {
        let d = doc();
        let mut all = Vec::new();
        refs(&d, &mut all);
        assert!(all.len() > 50, "only {} refs", all.len());
        for r in all {
            assert!(r.starts_with("#/components/"), "{r} is not a component");
            assert!(d.pointer(&r[1..]).is_some(), "{r} does not resolve");
        }
    }

    #[test]
    fn every_operation_is_unique_documented_and_answers_problems() {
        let d = doc();
        let mut ids = BTreeSet::new();
        for (m, p) in operations(&d) {
            let op = &d["paths"][&p][m.to_ascii_lowercase()];
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{m} {p}: operationId '{id}' twice"
            );
            assert!(op["summary"].is_string(), "{m} {p}: no summary");
            assert!(op["tags"].is_array(), "{m} {p}: no tag");
            let responses = op["responses"].as_object().unwrap();
            assert_eq!(
                responses["401"]["$ref"], "#/components/responses/Unauthorized",
                "{m} {p}"
            );
            for (code, r) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let r = if r.get("$ref").is_some() {
                        &d["components"]["responses"]["Unauthorized"]
                    } else {
                        r
                    };
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{m} {p} {code}"
                    );
                }
            }
            if p.contains("{id}") {
                let params = op["parameters"].as_array().unwrap();
                assert!(
                    params
                        .iter()
                        .any(|x| x["name"] == "id" && x["in"] == "path"),
                    "{m} {p}: no id parameter"
                );
            }
        }
        // the bearer scheme exists and is optional everywhere
        assert_eq!(
            d["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        assert_eq!(d["security"], serde_json::json!([{}, {BEARER: []}]));
    }

    #[test]
    fn events_are_an_event_stream() {
        let d = doc();
        for kind in ["backtests", "optimizations"] {
            let ok = &d["paths"][format!("/api/{kind}/{{id}}/events")]["get"]["responses"]["200"];
            assert!(ok["content"]["text/event-stream"].is_object(), "{ok}");
            let text = ok["description"].as_str().unwrap();
            for ev in ["progress", "completed", "failed", "cancelled"] {
                assert!(
                    text.contains(&format!("`{ev}`")),
                    "{kind}: {ev} undescribed"
                );
            }
        }
        // the token may come in the URL of the event streams (EventSource), and only there
        for (path, item) in d["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let in_url = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "access_token"));
                let events = method == "get" && path.ends_with("/events");
                assert_eq!(in_url, events, "{method} {path}");
                if events {
                    let p = op["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|p| p["name"] == "access_token")
                        .unwrap();
                    assert_eq!((&p["in"], &p["required"]), (&"query".into(), &false.into()));
                }
            }
        }
        let bearer = d["components"]["securitySchemes"][BEARER]["description"]
            .as_str()
            .unwrap();
        assert!(bearer.contains("?access_token="), "{bearer}");
        let upload = &d["paths"]["/api/datasets"]["post"]["requestBody"]["content"];
        assert!(upload["multipart/form-data"].is_object(), "{upload}");
    }

    /// The request schemas name every field the real request types accept:
    /// each field of these bodies is a property of its schema.
    #[test]
    fn the_request_schemas_cover_the_request_types() {
        let d = doc();
        let schemas = &d["components"]["schemas"];
        let backtest = serde_json::json!({
            "strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "1h",
            "from": "2024-01-01", "to": "2024-03-31", "params": {"fast": 10},
            "cash": 10000, "commissionPct": 0.1, "commissionFixed": 1,
            "slippageTicks": 0, "sizePct": 100, "sizeQty": 1
        });
        let mut optimization = backtest.clone();
        let extra = serde_json::json!({
            "axes": {"fast": {"min": 5, "max": 50, "step": 5}, "slow": [20, 30]},
            "constraints": ["fast < slow"], "maximize": "sharpe", "top": 20
        });
        for (k, v) in extra.as_object().unwrap() {
            optimization[k] = v.clone();
        }
        // the real types read every field, and refuse any other
        atf_runs::request::BacktestRequest::from_json(&backtest).unwrap();
        atf_runs::request::OptimizationRequest::from_json(&optimization).unwrap();
        let misspelt = |body: &Value| {
            let mut other = body.clone();
            other["comissionPct"] = serde_json::json!(0.1);
            other
        };
        let e = atf_runs::request::BacktestRequest::from_json(&misspelt(&backtest)).unwrap_err();
        assert_eq!(e.field, "comissionPct");
        let e = atf_runs::request::OptimizationRequest::from_json(&misspelt(&optimization))
            .unwrap_err();
        assert_eq!(e.field, "comissionPct");
        for (name, body) in [
            ("BacktestRequestSchema", &backtest),
            ("OptimizationRequestSchema", &optimization),
        ] {
            let s = &schemas[name];
            assert_eq!(s["additionalProperties"], false, "{name}");
            let props: BTreeSet<&String> = s["properties"].as_object().unwrap().keys().collect();
            let fields: BTreeSet<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(props, fields, "{name}");
        }
    }

    /// Writes the document to `target/openapi.json` for `scripts/test.sh`
    /// to validate with `openapi-spec-validator`.
    #[test]
    fn writes_the_document_for_the_validator() {
        let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
        std::fs::create_dir_all(&target).unwrap();
        let tmp = target.join(format!("openapi.json.{}", std::process::id()));
        std::fs::write(&tmp, openapi().to_pretty_json().unwrap()).unwrap();
        std::fs::rename(&tmp, target.join("openapi.json")).unwrap();
    }

    /// The router serves exactly the listed methods on the listed paths:
    /// each answers something other than "no route" or 405, and every
    /// other method on those paths answers 405. The served document is
    /// the generated one.
    #[test]
    fn the_router_serves_the_listed_routes() {
        use atf_runs::cache::MemoryCache;
        use atf_runs::service::{RunService, ServiceConfig};
        use std::sync::Arc;
        use std::time::Duration;

        let dir = tempfile::tempdir().unwrap();
        let service = RunService::start(
            ServiceConfig::new(
                dir.path().to_owned(),
                Arc::new(atf_engine::Registry::builtin()),
            ),
            Arc::new(MemoryCache::new()),
        )
        .unwrap();
        let app = crate::router(service.clone(), crate::ServerConfig::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .unwrap();
                });
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let call = |method: &str, path: &str| -> (u16, Value) {
            let url = format!("{base}{}", path.replace("{id}", "no-such-run"));
            let res = match method {
                "GET" => agent.get(&url).call(),
                "DELETE" => agent.delete(&url).call(),
                "POST" => agent.post(&url).send_empty(),
                "PUT" => agent.put(&url).send_empty(),
                "PATCH" => agent.patch(&url).send_empty(),
                _ => unreachable!(),
            };
            let mut res = res.unwrap();
            let code = res.status().as_u16();
            let body = res.body_mut().read_to_string().unwrap_or_default();
            (code, serde_json::from_str(&body).unwrap_or(Value::Null))
        };
        let unrouted = |code: u16, body: &Value| {
            code == 405
                || (code == 404
                    && body["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("no route")))
        };
        // the probe tells a missing route
        let (code, body) = call("GET", "/api/no-such-route");
        assert!(unrouted(code, &body), "{code} {body}");

        let listed = listed();
        let paths: BTreeSet<&String> = listed.iter().map(|(_, p)| p).collect();
        for path in paths {
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                let (code, body) = call(method, path);
                if listed.contains(&(method.to_owned(), path.clone())) {
                    assert!(!unrouted(code, &body), "{method} {path}: {code} {body}");
                } else {
                    assert_eq!(
                        code, 405,
                        "{method} {path} is served but not listed: {body}"
                    );
                }
            }
        }
        let (code, served) = call("GET", "/api/openapi.json");
        assert_eq!(code, 200);
        assert_eq!(served, doc());

        service.shutdown();
        let _ = stop.send(());
        server.join().unwrap();
    }
}
