//! The OpenAPI 3.1 document of the API, generated from the code with
//! utoipa and served at `GET /api/openapi.json`.
//!
//! Every handler carries its own `#[utoipa::path]`, and `routes.rs`
//! registers each with the router and the document at once (utoipa-axum),
//! so the two list the same operations by construction.
//!
//! Every schema is derived from the type the server reads or writes with:
//! requests from `atf_runs::request_schema` (atf-runs' `openapi` feature),
//! answers from the results of atf-engine, the stored runs of atf-runs, the
//! statuses of atf-api and the catalog types of atf-data (their `openapi` /
//! `server` features). The unit tests check the document against the
//! router, `scripts/test.sh` validates it with `openapi-spec-validator`, and
//! `scripts/schemathesis.sh` tests a real server against it.

use crate::dto::{
    BacktestRun, BacktestStatus, BacktestSubmission, CancelResponse, ChartBar, DatasetBars, Health,
    OptimizationRun, OptimizationStatus, OptimizationSubmission, WalkForwardRun, WalkForwardStatus,
    WalkForwardSubmission,
};
use crate::problem::Problem;
use atf_engine::optimize::TrialRecord;
use atf_runs::request::{AxisSpec, BacktestRequest, OptimizationRequest};
use atf_runs::request_schema::ParamValue;
use atf_runs::store::{Page, RunSummary, StoredBacktest, StoredOptimization, StoredWalkForward};
use atf_runs::walkforward::{WalkForwardReport, WalkForwardRequest};
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
        description = "Backtests, parameter optimizations and walk-forward analyses over a catalog of market data. \
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
            WalkForwardRequest,
            AxisSpec,
            ParamValue,
            BacktestSubmission,
            OptimizationSubmission,
            BacktestStatus,
            OptimizationStatus,
            CancelResponse,
            BacktestRun,
            OptimizationRun,
            WalkForwardSubmission,
            WalkForwardStatus,
            WalkForwardRun,
            StoredBacktest,
            StoredOptimization,
            StoredWalkForward,
            WalkForwardReport,
            Page<RunSummary>,
            Page<TrialRecord>,
            atf_engine::registry::StrategyInfo,
            atf_data::DatasetInfo,
            atf_data::ImportReport,
            DatasetUploadForm,
            DatasetBars,
            ChartBar,
            Health,
        ),
        responses(Unauthorized, MisdirectedHost, ForeignOrigin),
    ),
    modifiers(&BearerScheme),
    security((), ("bearerAuth" = [])),
    tags(
        (name = "backtests", description = "One strategy, one parameter set, one period."),
        (name = "optimizations", description = "A grid of parameter combinations, ranked by a fitness."),
        (name = "walkforwards", description = "A grid optimized on rolling or anchored in-sample windows, each winner tested on the out-of-sample window after it."),
        (name = "runs", description = "Runs of every kind, listed together."),
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
                         requests without credentials. A `GET /api/backtests/{id}/events`, \
                         `GET /api/optimizations/{id}/events` or \
                         `GET /api/walkforwards/{id}/events` may pass it as the query parameter \
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
    edge_responses(&mut doc);
    doc
}

/// Every operation may be refused at the edge, before it runs: a `Host`
/// that is not this server's (`421`) or a foreign `Origin` (`403`; see
/// [`crate::edge`]). Added here, for all of them, like the middleware.
fn edge_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Ref, RefOr};
    for op in operations(doc) {
        let responses = &mut op.responses.responses;
        for (code, name) in [("403", "ForeignOrigin"), ("421", "MisdirectedHost")] {
            responses.insert(code.into(), RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}

/// Every operation of the document, whatever its method.
fn operations(
    doc: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    doc.paths
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
        .filter_map(Option::as_mut)
}

/// utoipa 5 serializes a response link's `operationId` as `operation_id`
/// (its `Link` lacks `rename_all`), which no client reads; this moves each
/// into an entry of the link's flattened map under its OpenAPI name.
fn camel_case_links(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for op in operations(doc) {
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

/// The `Host` does not name this server (DNS rebinding).
#[derive(ToResponse)]
#[response(
    description = "The `Host` header does not name this server (its bound address, `localhost`, `127.0.0.1` or `[::1]` with its port, or a name given with `--allow-host`): refused against DNS rebinding.",
    content_type = "application/problem+json"
)]
pub struct MisdirectedHost(pub Problem);

/// A browser request from another origin.
#[derive(ToResponse)]
#[response(
    description = "The request's `Origin` is not this server's own (a page of another site): cross-origin requests are refused.",
    content_type = "application/problem+json"
)]
pub struct ForeignOrigin(pub Problem);

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
//
// Results are the real types (atf-engine's and atf-runs' with their
// `openapi` feature): `StoredBacktest`, `StoredOptimization`, `Page<…>`,
// `TrialRecord`, `BacktestReport`, `PerformanceMetrics`, …

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
            // every route is behind the Host and Origin checks
            assert_eq!(
                responses["421"]["$ref"], "#/components/responses/MisdirectedHost",
                "{m} {p}"
            );
            assert_eq!(
                responses["403"]["$ref"], "#/components/responses/ForeignOrigin",
                "{m} {p}"
            );
            for (code, r) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let r = match r["$ref"].as_str() {
                        Some(name) => d.pointer(&name[1..]).unwrap(),
                        None => r,
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
        for kind in ["backtests", "optimizations", "walkforwards"] {
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
        for path in ["/api/backtests", "/api/optimizations", "/api/walkforwards"] {
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
            ("/api/walkforwards", "WalkForwardRequest"),
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
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let app = crate::router(
            crate::AppState::new(service.clone(), crate::ServerConfig::default()),
            listener.local_addr().unwrap(),
        );
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
