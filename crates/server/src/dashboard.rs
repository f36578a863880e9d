//! The dashboard of DESIGN §7: a single page of plain ES modules (no build
//! step) served at `/`, its files under `/assets/…`, every byte embedded in
//! the binary so `atf serve` and a browser are all a trader needs.
//!
//! File names carry no content hash, so every answer has a strong `ETag`
//! and `Cache-Control: no-cache`: a browser revalidates and gets `304 Not
//! Modified` until the binary changes. The page's Content-Security-Policy
//! allows nothing but this origin (the dashboard fetches nothing from
//! anywhere else).

use crate::problem::Problem;
use crate::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::LazyLock;

/// One embedded file: its path under `assets/` and its bytes.
struct Asset {
    path: &'static str,
    body: &'static [u8],
}

/// Lists files of `crates/server/assets/` to embed.
macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset { path: $path, body: include_bytes!(concat!("../assets/", $path)) }),*]
    };
}

/// Every file of the dashboard (a test checks that none is left out).
static ASSETS: &[Asset] = assets![
    "index.html",
    "app.css",
    "favicon.svg",
    "js/api.js",
    "js/dom.js",
    "js/feed.js",
    "js/format.js",
    "js/grid.js",
    "js/kinds.js",
    "js/main.js",
    "js/router.js",
    "js/token.js",
    "js/windows.js",
    "js/charts/equity.js",
    "js/charts/convergence.js",
    "js/charts/heatmap.js",
    "js/charts/lwc.js",
    "js/charts/price.js",
    "js/charts/walkforward.js",
    "js/pages/backtest-report.js",
    "js/pages/datasets.js",
    "js/pages/new-run.js",
    "js/pages/optimization-report.js",
    "js/pages/param-rows.js",
    "js/pages/progress.js",
    "js/pages/run.js",
    "js/pages/runs.js",
    "js/pages/trials-table.js",
    "js/pages/walkforward-fields.js",
    "js/pages/walkforward-report.js",
    "js/ui/dialog.js",
    "js/ui/error-panel.js",
    "js/ui/fields.js",
    "js/ui/pager.js",
    "js/ui/status.js",
    "js/ui/table.js",
    "vendor/LICENSE",
    "vendor/README.md",
    "vendor/lightweight-charts.standalone.production.mjs",
];

/// The page's policy: this origin only (inline styles are allowed because
/// the chart library positions its elements with them).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// `ETag`s of [`ASSETS`], in the same order (FNV-1a over the bytes).
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let hash = a.body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
            HeaderValue::from_str(&format!("\"{hash:016x}\"")).expect("hex is a valid header")
        })
        .collect()
});

/// The media type of an asset, from its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map_or("", |(_, ext)| ext) {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "md" => "text/markdown; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Answers with the asset at `path`, `304` when the client's copy is current.
fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.path == path) else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            format!("no dashboard asset '{path}'"),
        )
        .into_response();
    };
    let etag = ETAGS[i].clone();
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag.to_str().unwrap_or_default()
        });
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let asset = &ASSETS[i];
        (
            [(header::CONTENT_TYPE, content_type(asset.path))],
            asset.body,
        )
            .into_response()
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if path == "index.html" {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    res
}

/// `GET /` (the page) and `GET /assets/{*path}` (its files); unknown
/// assets answer a `404` problem.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { serve("index.html", &headers) }),
        )
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move {
                serve(&path, &headers)
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn files_under(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(&path, base, out);
            } else {
                let rel = path.strip_prefix(base).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_the_assets_folder_is_embedded() {
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut on_disk = Vec::new();
        files_under(&base, &base, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("js/main.js"), "text/javascript; charset=utf-8");
        assert_eq!(
            content_type("vendor/x.standalone.production.mjs"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("vendor/LICENSE"), "text/plain; charset=utf-8");
    }

    #[test]
    fn a_current_copy_is_not_sent_again() {
        let first = serve("app.css", &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].clone();
        assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag.clone());
        let second = serve("app.css", &again);
        assert_eq!(second.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(second.headers()[header::ETAG], etag);
        let mut stale = HeaderMap::new();
        stale.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"0\""));
        assert_eq!(serve("app.css", &stale).status(), StatusCode::OK);
    }

    #[test]
    fn unknown_assets_are_problems() {
        let res = serve("js/nope.js", &HeaderMap::new());
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}
