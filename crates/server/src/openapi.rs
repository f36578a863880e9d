//! The OpenAPI 3.1 document of the API, generated from the code with
//! utoipa and served at `GET /api/openapi.json`.
//!
//! Every handler carries its own `#[utoipa::path]`, and `routes.rs`
//! registers each with the router and the document at once (utoipa-axum),
//! so the two list the same operations by construction.
//!
//! The request bodies' schemas come from the types the server reads them
//! with (`atf_runs::request_schema`, atf-runs' `openapi` feature). The
//! stored runs are types of crates without utoipa, so this module mirrors
//! them as schema-only types ([`StoredBacktestSchema`], …): they are never
//! built, only described. The unit tests check the document against the
//! router, `scripts/test.sh` validates it with `openapi-spec-validator`, and
//! `scripts/schemathesis.sh` tests a real server against it.

use crate::dto::{
    BacktestStatus, BacktestSubmission, CancelResponse, ChartBar, DatasetBars, Health,
    OptimizationStatus, OptimizationSubmission,
};
use crate::problem::Problem;
use atf_runs::request::{AxisSpec, BacktestRequest, OptimizationRequest};
use atf_runs::request_schema::ParamValue;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearerAuth";

/// What the document says besides its operations (which
/// `routes.rs` adds from the handlers it registers): info, tags,
/// security, and the components operations refer to.
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
    components(
        schemas(
            Problem,
            BacktestRequest,
            OptimizationRequest,
            AxisSpec,
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

/// The document: [`ApiDoc`] with the operations of every route
/// [`crate::router`] serves, from the same list.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc =
        crate::routes::api(crate::ServerConfig::default().max_upload_bytes).into_openapi();
    camel_case_links(&mut doc);
    doc
}

/// utoipa 5 serializes a response link's `operationId` as `operation_id`
/// (its `Link` lacks `rename_all`), which no client reads; this moves each
/// into an entry of the link's flattened map under its OpenAPI name.
fn camel_case_links(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    let operations = doc
        .paths
        .paths
        .values_mut()
        .flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
        })
        .filter_map(Option::as_mut);
    for op in operations {
        for response in op.responses.responses.values_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            for link in response.links.values_mut() {
                let RefOr::T(link) = link else { continue };
                if !link.operation_id.is_empty() {
                    let id = std::mem::take(&mut link.operation_id);
                    link.extensions
                        .get_or_insert_with(Default::default)
                        .insert("operationId".into(), id.into());
                }
            }
        }
    }
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
#[allow(
    dead_code,
    reason = "only described: axum never reads it (the token middleware does)"
)]
pub struct AccessToken {
    /// The server's `--api-token`, for clients that cannot send an
    /// `Authorization` header (a browser's `EventSource`); accepted on
    /// these event streams only, and only when the header is absent.
    access_token: Option<String>,
}

// ---- request bodies ----------------------------------------------------------

/// The multipart form of `POST /api/datasets`. Other form fields are
/// refused (`422`); an empty `name`, `symbol` or `priceDecimals` counts as
/// absent.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatasetUploadForm {
    /// CSV, gzip CSV, Binance klines, MetaTrader 4/5 export or Parquet. Its
    /// file name only labels the dataset; it never chooses a path.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// Dataset name (default: from the file name): up to 64 letters,
    /// digits, `.`, `_` and `-`, not starting with `.` and not only digits
    /// (it would look like an id).
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 64,
        pattern = "^([A-Za-z_-]|[0-9]+[A-Za-z._-])[A-Za-z0-9._-]*$",
        example = "spy-1m"
    )]
    pub name: Option<String>,
    /// Instrument symbol (default: from the name).
    #[schema(nullable = false, example = "SPY")]
    pub symbol: Option<String>,
    /// Decimal places of prices, 0 to 12, at least as many as the file's
    /// prices have (default: detected).
    #[schema(nullable = false, minimum = 0, maximum = 12)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

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

    /// A submission links to the routes of the run it answers with, by
    /// operation ids that exist (and under their OpenAPI name).
    #[test]
    fn submissions_link_to_their_run_s_routes() {
        let d = doc();
        let ids: BTreeSet<String> = operations(&d)
            .into_iter()
            .map(|(m, p)| d["paths"][&p][m.to_ascii_lowercase()]["operationId"].to_string())
            .collect();
        for path in ["/api/backtests", "/api/optimizations"] {
            for code in ["200", "202"] {
                let links = d["paths"][path]["post"]["responses"][code]["links"]
                    .as_object()
                    .unwrap();
                assert!(links.len() >= 4, "{path} {code}");
                for (name, link) in links {
                    assert!(
                        ids.contains(&link["operationId"].to_string()),
                        "{name}: {link}"
                    );
                    assert_eq!(link["parameters"]["id"], "$response.body#/id");
                    assert!(link.get("operation_id").is_none(), "{link}");
                }
            }
        }
    }

    /// The request bodies are described by the types the server reads
    /// them with (their fields are checked in `atf_runs::request_schema`).
    #[test]
    fn the_request_bodies_are_the_real_request_types() {
        let d = doc();
        for (path, name) in [
            ("/api/backtests", "BacktestRequest"),
            ("/api/optimizations", "OptimizationRequest"),
        ] {
            let body = &d["paths"][path]["post"]["requestBody"];
            assert_eq!(body["required"], true, "{path}");
            assert_eq!(
                body["content"]["application/json"]["schema"]["$ref"],
                format!("#/components/schemas/{name}"),
                "{path}"
            );
            let schema = &d["components"]["schemas"][name];
            assert_eq!(schema["additionalProperties"], false, "{name}");
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

    /// The router serves exactly the documented operations: each answers
    /// something other than "no route" or 405, every other method on a
    /// documented path answers 405, and a path the document lacks has no
    /// route. (Both come from the one list of `routes.rs`; this checks that
    /// nothing bypasses it.) The served document is the generated one.
    #[test]
    fn the_router_serves_the_documented_operations() {
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

        let listed = operations(&doc());
        assert!(listed.len() >= 20, "{listed:?}");
        let paths: BTreeSet<&String> = listed.iter().map(|(_, p)| p).collect();
        for path in paths {
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                let (code, body) = call(method, path);
                if listed.contains(&(method.to_owned(), path.clone())) {
                    assert!(!unrouted(code, &body), "{method} {path}: {code} {body}");
                } else {
                    assert_eq!(
                        code, 405,
                        "{method} {path} is served but not documented: {body}"
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
