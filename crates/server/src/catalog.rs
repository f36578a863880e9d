//! `/api/strategies`, `/api/datasets` (list, upload, a period's bars),
//! `/api/health`.

use crate::dto::{ChartBar, DatasetBars, Health};
use crate::problem::Problem;
use crate::upload;
use crate::AppState;
use atf_data::{DataError, DatasetInfo, ImportOptions};
use atf_engine::{Bars, Scale, Timeframe};
use atf_runs::period::Period;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// `GET /api/strategies`: every strategy with its parameter space.
#[utoipa::path(
    get,
    path = "/api/strategies",
    tag = "catalog",
    operation_id = "listStrategies",
    summary = "Every strategy with its parameter space",
    responses(
        (status = 200, description = "The registered strategies.", body = [atf_engine::registry::StrategyInfo]),
        (status = 401, response = crate::openapi::Unauthorized),
    )
)]
pub async fn strategies(State(app): State<AppState>) -> Response {
    let all: Vec<_> = app.service.config().registry.infos().collect();
    Json(all).into_response()
}

/// `GET /api/datasets`.
#[utoipa::path(
    get,
    path = "/api/datasets",
    tag = "catalog",
    operation_id = "listDatasets",
    summary = "The datasets in the catalog",
    responses(
        (status = 200, description = "Every dataset.", body = [atf_data::DatasetInfo]),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 500, description = "Catalog failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn datasets(State(app): State<AppState>) -> Result<Response, Problem> {
    let svc = app.service.clone();
    let list = tokio::task::spawn_blocking(move || svc.with_catalog(|c| c.list()))
        .await
        .map_err(Problem::internal)?
        .map_err(Problem::internal)?;
    Ok(Json(list).into_response())
}

/// Bars `GET /api/datasets/{id}/bars` answers when `limit` is not given.
pub const DEFAULT_CHART_BARS: usize = 5_000;
/// The largest `limit` of `GET /api/datasets/{id}/bars`.
pub const MAX_CHART_BARS: usize = 20_000;
/// The standard chart timeframes a long period is resampled to, finest
/// first: 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w (in seconds).
const CHART_TIMEFRAMES: [u32; 8] = [60, 300, 900, 1_800, 3_600, 14_400, 86_400, 604_800];

/// The period, timeframe and size of `GET /api/datasets/{id}/bars`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BarsQuery {
    /// First day or instant (default: the dataset's start), as in run
    /// requests: `2024-01-01`, an ISO instant, or epoch seconds /
    /// milliseconds.
    #[param(example = "2011-01-10")]
    pub from: Option<String>,
    /// Last day or instant, included (default: the dataset's end); a bare
    /// date means through that day.
    #[param(example = "2011-03-31")]
    pub to: Option<String>,
    /// Bar timeframe (default: the dataset's): a whole multiple of the
    /// dataset's timeframe, e.g. `1h`.
    #[param(example = "1h")]
    pub timeframe: Option<String>,
    /// Most bars to answer (default 5000, at most 20000). A period with
    /// more bars at `timeframe` is answered at the smallest coarser
    /// standard timeframe (5m, 15m, 30m, 1h, 4h, 1d, 1w) that fits.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 20000, example = 5000)]
    pub limit: Option<String>,
}

/// `GET /api/datasets/{id}/bars`: a period of a dataset's bars, in display
/// units, resampled so that at most `limit` come back.
#[utoipa::path(
    get,
    path = "/api/datasets/{id}/bars",
    tag = "catalog",
    operation_id = "getDatasetBars",
    summary = "A period of a dataset's bars, for a chart",
    description = "The bars with `from <= time <= to` at `timeframe`, oldest first, prices and volumes in display units. \
When the period holds more than `limit` bars at that timeframe, they are resampled (UTC-aligned buckets, as runs do) \
to the smallest coarser standard timeframe (`5m`, `15m`, `30m`, `1h`, `4h`, `1d`, `1w`, those that are whole multiples \
of the dataset's) that fits, and `timeframe` says which; only when even `1w` does not fit are the last `limit` bars \
answered with `truncated: true`. A period outside the dataset answers no bars.",
    params(
        ("id" = String, Path, description = "Dataset name or numeric id."),
        BarsQuery,
    ),
    responses(
        (status = 200, description = "The bars.", body = DatasetBars),
        (status = 400, description = "Unreadable query string.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, description = "No dataset with this name or id.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `from`, `to`, `timeframe` (unreadable, or not a whole multiple of the dataset's) or `limit` (out of 1..20000), named in `field`.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Catalog or file failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bars(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<BarsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let period = Period::parse(q.from.as_deref(), q.to.as_deref())?;
    let timeframe = q
        .timeframe
        .as_deref()
        .map(|t| {
            t.parse::<Timeframe>()
                .map_err(|e| Problem::field("timeframe", e))
        })
        .transpose()?;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_CHART_BARS,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_CHART_BARS).contains(n))
            .ok_or_else(|| {
                Problem::field(
                    "limit",
                    format!("'{text}': expected a whole number from 1 to {MAX_CHART_BARS}"),
                )
            })?,
    };
    let svc = app.service.clone();
    let answer = tokio::task::spawn_blocking(move || {
        // the catalog only for the entry; the file is read without it
        let ds = svc.with_catalog(|c| c.get(&id)).map_err(|e| match e {
            DataError::DatasetNotFound { .. } => Problem::new(StatusCode::NOT_FOUND, e.to_string()),
            other => Problem::internal(other),
        })?;
        let timeframe = timeframe.unwrap_or(ds.timeframe);
        if !timeframe.is_multiple_of(ds.timeframe) {
            return Err(Problem::field(
                "timeframe",
                format!(
                    "{timeframe} is not a whole multiple of dataset '{}''s timeframe {}",
                    ds.name, ds.timeframe
                ),
            ));
        }
        let bars = ds
            .load(&svc.config().data_dir, period.from_ms, period.to_ms)
            .map_err(Problem::internal)?;
        let (bars, used, truncated) = fit_bars(bars, ds.timeframe, timeframe, limit);
        Ok(chart(&ds, &bars, used, truncated))
    })
    .await
    .map_err(|e| Problem::internal(format!("worker thread: {e}")))??;
    Ok(Json(answer).into_response())
}

/// `bars` (at the data's timeframe `data_tf`) at `tf` when at most `limit`
/// of them, otherwise at the finest coarser standard timeframe that fits;
/// when none does, the last `limit` bars at the coarsest. Returns the bars,
/// their timeframe and whether they were cut to `limit`.
fn fit_bars(
    bars: Bars,
    data_tf: Timeframe,
    tf: Timeframe,
    limit: usize,
) -> (Bars, Timeframe, bool) {
    let count = |t: Timeframe| {
        if t == data_tf {
            bars.len()
        } else {
            buckets(&bars.ts, t)
        }
    };
    let mut used = tf;
    let mut fits = count(tf) <= limit;
    if !fits {
        let coarser = CHART_TIMEFRAMES
            .map(Timeframe::from_secs)
            .into_iter()
            .filter(|t| *t > tf && t.is_multiple_of(data_tf));
        for t in coarser {
            used = t;
            if count(t) <= limit {
                fits = true;
                break;
            }
        }
    }
    let mut out = if used == data_tf {
        bars
    } else {
        bars.resample(used).0
    };
    if !fits {
        let cut = out.len().saturating_sub(limit);
        for col in [
            &mut out.ts,
            &mut out.open,
            &mut out.high,
            &mut out.low,
            &mut out.close,
            &mut out.volume,
        ] {
            col.drain(..cut);
        }
    }
    (out, used, !fits)
}

/// How many bars of `tf` the sorted open times `ts` make (empty buckets
/// skipped, as [`Bars::resample`] does).
fn buckets(ts: &[i64], tf: Timeframe) -> usize {
    let mut n = 0;
    let mut last = None;
    for &t in ts {
        let b = tf.bucket_start(t);
        if last != Some(b) {
            n += 1;
            last = Some(b);
        }
    }
    n
}

/// The answer: raw fixed-point values in display units at the dataset's
/// price and volume scales (as the engine's reports convert them).
fn chart(ds: &DatasetInfo, bars: &Bars, tf: Timeframe, truncated: bool) -> DatasetBars {
    let instrument = ds.instrument();
    let volume = Scale::new(ds.volume_decimals);
    let price = |p: i64| instrument.price_f64(p);
    let bars = (0..bars.len())
        .map(|i| ChartBar {
            time: bars.ts[i],
            open: price(bars.open[i]),
            high: price(bars.high[i]),
            low: price(bars.low[i]),
            close: price(bars.close[i]),
            volume: volume.to_f64(bars.volume[i]),
        })
        .collect();
    DatasetBars {
        dataset: ds.name.clone(),
        timeframe: tf.to_string(),
        bars,
        truncated,
    }
}

fn import_problem(e: DataError) -> Problem {
    match e {
        DataError::DuplicateName { .. } => Problem::new(StatusCode::CONFLICT, e.to_string()),
        DataError::InvalidName { .. } => Problem::field("name", e.to_string()),
        DataError::InvalidOption(_) => Problem::field("priceDecimals", e.to_string()),
        DataError::TooLarge { .. } => Problem {
            field: Some("file".into()),
            ..Problem::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        },
        DataError::InvalidRow { .. } | DataError::InvalidFile { .. } | DataError::Empty { .. } => {
            Problem::field("file", e.to_string())
        }
        other => Problem::internal(other),
    }
}

/// `POST /api/datasets`: a multipart form with `file` (CSV, gzip CSV,
/// Binance, MetaTrader or Parquet) and optional `name`, `symbol`,
/// `priceDecimals` — validated exactly like `atf data import`.
///
/// The import starts with the file's first bytes, on its own catalog
/// connection: the service's catalog (which every submission reads) is
/// never held by an upload, and the catalog's write lock only for the
/// brief rename and insert at the end ([`atf_data::Catalog`]).
#[utoipa::path(
    post,
    path = "/api/datasets",
    tag = "catalog",
    operation_id = "uploadDataset",
    summary = "Import a dataset",
    description = "A `multipart/form-data` upload with `file` (CSV, gzip CSV, Binance klines, MetaTrader 4/5 or Parquet) \
and optional `name`, `symbol` and `priceDecimals`, validated exactly like `atf data import`. \
The file's name only labels the dataset; it never chooses a path on disk.",
    request_body(content = crate::openapi::DatasetUploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Imported: the new catalog entry and what the import found.", body = atf_data::ImportReport),
        (status = 400, description = "A malformed multipart body.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 409, description = "A dataset with this name exists.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The upload is larger than the server's limit, or the file expands past an import bound (decompressed bytes, rows; `field`: `file`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a `multipart/form-data` body.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing or invalid field or file, or an unknown form field (named in `field`: `file`, `name`, `priceDecimals`, …).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Catalog failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    State(app): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Problem> {
    let mut multipart = multipart.map_err(|e| {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected a multipart/form-data upload: {}", e.body_text()),
        )
    })?;
    let mut import: Option<upload::Import> = None;
    let mut opts = ImportOptions {
        limits: app.config.import_limits,
        ..ImportOptions::default()
    };
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| Problem::new(e.status(), format!("upload: {}", e.body_text())))?
    {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                if import.is_some() {
                    return Err(Problem::field("file", "given more than once"));
                }
                // the name only labels the dataset; it never chooses a path
                let file_name = field.file_name().unwrap_or("upload.csv").to_owned();
                let started = upload::Import::start(
                    app.service.config().data_dir.clone(),
                    file_name,
                    opts.limits.max_file_bytes,
                );
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| Problem::new(e.status(), format!("upload: {}", e.body_text())))?
                {
                    if !started.feed(chunk).await {
                        break; // the import stopped reading (too large): its error follows
                    }
                }
                import = Some(started);
            }
            "name" | "symbol" | "priceDecimals" => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| Problem::new(e.status(), e.body_text()))?;
                let text = text.trim().to_owned();
                if text.is_empty() {
                    continue;
                }
                match name.as_str() {
                    "name" => opts.name = Some(text),
                    "symbol" => opts.symbol = Some(text),
                    _ => {
                        opts.price_decimals = Some(text.parse().map_err(|_| {
                            Problem::field("priceDecimals", "expected a number from 0 to 12")
                        })?);
                    }
                }
            }
            other => {
                return Err(Problem::field(
                    other,
                    "unknown form field (file, name, symbol, priceDecimals)",
                ));
            }
        }
    }
    let import = import.ok_or_else(|| Problem::field("file", "required"))?;
    let report = import.finish(opts).await?.map_err(import_problem)?;
    Ok((StatusCode::CREATED, Json(report)).into_response())
}

/// `GET /api/health`.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "service",
    operation_id = "getHealth",
    summary = "Liveness, versions and load",
    responses(
        (status = 200, description = "The server is up.", body = Health),
        (status = 401, response = crate::openapi::Unauthorized),
    )
)]
pub async fn health(State(app): State<AppState>) -> Json<Health> {
    let load = app.service.load();
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        engine_version: atf_engine::ENGINE_VERSION.into(),
        build: atf_runs::build::fingerprint().into(),
        cache_backend: app.service.cache_backend().into(),
        queue_depth: load.pending,
        running: load.running,
        active_workers: load.workers,
        limits: crate::dto::Limits {
            max_combinations: app.service.config().max_combinations,
            max_top: atf_runs::plan::MAX_TOP as u64,
            max_kept_points: app.service.config().max_kept_points,
            max_page: crate::queries::MAX_PAGE,
            max_upload_bytes: app.config.max_upload_bytes as u64,
            max_pending: app.service.config().max_pending as u64,
            max_event_streams: app.config.max_event_streams as u64,
            max_import_rows: app.config.import_limits.max_rows,
            max_decompressed_bytes: app.config.import_limits.max_decompressed_bytes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::Bar;

    /// `n` one-minute bars from midnight UTC, close = index.
    fn minutes(n: usize) -> Bars {
        let mut b = Bars::with_capacity(n);
        for i in 0..n {
            let i = i64::try_from(i).unwrap();
            b.push(Bar {
                ts: 1_704_067_200_000 + i * 60_000,
                open: i,
                high: i + 1,
                low: i - 1,
                close: i,
                volume: 1,
            });
        }
        b
    }

    #[test]
    fn bars_that_fit_come_back_as_they_are() {
        let b = minutes(100);
        let (out, tf, cut) = fit_bars(b.clone(), Timeframe::M1, Timeframe::M1, 100);
        assert_eq!((out, tf, cut), (b, Timeframe::M1, false));
        let (out, tf, cut) = fit_bars(minutes(120), Timeframe::M1, Timeframe::H1, 5);
        assert_eq!((out.len(), tf, cut), (2, Timeframe::H1, false));
        assert_eq!(out.volume, vec![60, 60]);
    }

    #[test]
    fn too_many_bars_move_to_the_finest_standard_timeframe_that_fits() {
        // 3 days of minutes: 4320 bars; 5m = 864, 15m = 288, 30m = 144
        let b = minutes(3 * 1440);
        let (out, tf, cut) = fit_bars(b.clone(), Timeframe::M1, Timeframe::M1, 300);
        assert_eq!((tf.to_string(), out.len(), cut), ("15m".into(), 288, false));
        assert_eq!(out, b.resample(tf).0);
        // asked for 3m (not standard): the next standard one above it
        let (_, tf, _) = fit_bars(b.clone(), Timeframe::M1, "3m".parse().unwrap(), 1_000);
        assert_eq!(tf.to_string(), "5m");
        // 2h data: 1h and finer are not multiples, 4h is
        let two_hours = b.resample("2h".parse().unwrap()).0;
        assert_eq!(two_hours.len(), 36);
        let (out, tf, _) = fit_bars(two_hours, "2h".parse().unwrap(), "2h".parse().unwrap(), 20);
        assert_eq!((tf.to_string(), out.len()), ("4h".into(), 18));
    }

    #[test]
    fn only_when_weeks_do_not_fit_the_last_bars_are_kept() {
        // 3 weeks + a bit of minutes: 4 weekly buckets at most
        let b = minutes(22 * 1440);
        let weeks = b.resample(Timeframe::from_secs(604_800)).0;
        let (out, tf, cut) = fit_bars(b, Timeframe::M1, Timeframe::M1, 2);
        assert_eq!((tf.to_string(), cut), ("1w".into(), true));
        assert_eq!(out.len(), 2);
        assert_eq!(out.ts, weeks.ts[weeks.len() - 2..].to_vec());
        assert_eq!(out.close, weeks.close[weeks.len() - 2..].to_vec());
    }

    #[test]
    fn bucket_counts_match_resampling() {
        let b = minutes(1_000);
        for secs in CHART_TIMEFRAMES {
            let tf = Timeframe::from_secs(secs);
            assert_eq!(buckets(&b.ts, tf), b.resample(tf).0.len(), "{tf}");
        }
    }
}
