//! The folds' windows, planned from the dataset's catalog entry alone,
//! and the checked job.

use super::*;

/// One fold's windows, `[from, to)` in epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FoldWindow {
    /// 1 = first.
    pub fold: u32,
    /// In-sample start.
    pub is_from_ms: i64,
    /// In-sample end (excluded) = out-of-sample start.
    pub is_to_ms: i64,
    /// Out-of-sample start.
    pub oos_from_ms: i64,
    /// Out-of-sample end (excluded).
    pub oos_to_ms: i64,
}

/// A duration as users write it (`180d`, `12w`, `6h`, `90m`, `30s`), in ms.
///
/// # Errors
/// `field`: not a whole number and a unit.
pub fn parse_duration(field: &str, text: &str) -> Result<i64, FieldError> {
    text.parse::<Timeframe>()
        .map(Timeframe::millis)
        .map_err(|_| {
            FieldError::new(
                field,
                format!(
                    "'{text}' is not a duration: a whole number and s, m, h, d or w (180d, 12w)"
                ),
            )
        })
}

pub(super) fn days(ms: i64) -> String {
    #[allow(
        clippy::cast_precision_loss,
        reason = "a period's length in days, for a message"
    )]
    let d = ms as f64 / 86_400_000.0;
    format!("{d:.1} days")
}

/// The folds of `w` over `[start, end)` at main bars of `bar_ms`.
///
/// # Errors
/// The refused field: both ways of sizing given (`folds`), neither
/// (`inSample`), a missing half (`outOfSample` / `oosFraction`), a bad
/// duration, a duration that is not whole bars, an OOS fraction outside
/// (0, 1), fewer than one fold or more than [`MAX_FOLDS`], windows that do
/// not fit the period.
pub fn plan_windows(
    w: &WindowFields,
    start: i64,
    end: i64,
    timeframe: Timeframe,
) -> Result<Vec<FoldWindow>, FieldError> {
    let bar_ms = timeframe.millis();
    let span = end - start;
    let by_duration = w.in_sample.is_some() || w.out_of_sample.is_some();
    let by_folds = w.folds.is_some() || w.oos_fraction.is_some();
    let (is, oos, n) = match (by_duration, by_folds) {
        (true, true) => {
            return Err(FieldError::new(
                "folds",
                "give inSample and outOfSample, or folds and oosFraction, not both",
            ))
        }
        (false, false) => {
            return Err(FieldError::new(
                "inSample",
                "required: give inSample and outOfSample (180d, 30d), or folds and oosFraction",
            ))
        }
        (true, false) => {
            let is_text = w
                .in_sample
                .as_deref()
                .ok_or_else(|| FieldError::new("inSample", "required with outOfSample"))?;
            let oos_text = w
                .out_of_sample
                .as_deref()
                .ok_or_else(|| FieldError::new("outOfSample", "required with inSample"))?;
            let is = parse_duration("inSample", is_text)?;
            let oos = parse_duration("outOfSample", oos_text)?;
            for (field, v) in [("inSample", is), ("outOfSample", oos)] {
                if v % bar_ms != 0 {
                    return Err(FieldError::new(
                        field,
                        format!("must be a whole number of bars of the timeframe {timeframe}"),
                    ));
                }
            }
            if is + oos > span {
                return Err(FieldError::new(
                    "inSample",
                    format!(
                        "in-sample {is_text} + out-of-sample {oos_text} do not fit the period \
                         ({} from {})",
                        days(span),
                        time::format_iso(start)
                    ),
                ));
            }
            let n = (span - is) / oos;
            if n > i64::from(MAX_FOLDS) {
                return Err(FieldError::new(
                    "outOfSample",
                    format!("{n} folds, more than the limit of {MAX_FOLDS}: use a longer window"),
                ));
            }
            (is, oos, n)
        }
        (false, true) => {
            let folds = w
                .folds
                .ok_or_else(|| FieldError::new("folds", "required with oosFraction"))?;
            let f = w
                .oos_fraction
                .ok_or_else(|| FieldError::new("oosFraction", "required with folds"))?;
            if !(1..=MAX_FOLDS).contains(&folds) {
                return Err(FieldError::new(
                    "folds",
                    format!("must be between 1 and {MAX_FOLDS}"),
                ));
            }
            if !(f > 0.0 && f < 1.0) {
                return Err(FieldError::new(
                    "oosFraction",
                    "must be between 0 and 1 (both excluded)",
                ));
            }
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                reason = "window lengths in ms, far below 2^52, rounded down to whole bars"
            )]
            let oos = {
                let raw = span as f64 / (f64::from(folds) + (1.0 - f) / f);
                (raw as i64 / bar_ms) * bar_ms
            };
            let is = ((span - i64::from(folds) * oos) / bar_ms) * bar_ms;
            if oos < bar_ms || is < bar_ms {
                return Err(FieldError::new(
                    "folds",
                    format!(
                        "{folds} folds with oosFraction {f} leave windows shorter than one bar \
                         ({timeframe}) in a period of {}",
                        days(span)
                    ),
                ));
            }
            (is, oos, i64::from(folds))
        }
    };
    if n < 1 {
        return Err(FieldError::new(
            "outOfSample",
            "fewer than 1 fold fits the period",
        ));
    }
    Ok((0..n)
        .map(|k| {
            let is_from = match w.mode {
                WindowMode::Rolling => start + k * oos,
                WindowMode::Anchored => start,
            };
            let is_to = start + is + k * oos;
            FoldWindow {
                fold: u32::try_from(k + 1).unwrap_or(u32::MAX),
                is_from_ms: is_from,
                is_to_ms: is_to,
                oos_from_ms: is_to,
                oos_to_ms: is_to + oos,
            }
        })
        .collect())
}

/// A checked walk-forward: the optimization each fold runs and its windows.
#[derive(Debug, Clone)]
pub struct WalkForwardJob {
    /// Strategy, data, period, costs (the period covers every window).
    pub target: Target,
    /// The grid each fold optimizes.
    pub spec: OptimizeSpec,
    /// Rolling or anchored.
    pub mode: WindowMode,
    /// The folds, in order.
    pub windows: Vec<FoldWindow>,
    /// Pass/fail thresholds.
    pub criteria: Criteria,
    /// Total work: folds × combinations per fold.
    pub total: u64,
}

impl WalkForwardJob {
    /// The bars [`run`] needs, read from the dataset's file under
    /// `data_dir` (the catalog's directory): the period's, with the warm-up
    /// an ordinary run from the period's start would take before them —
    /// enough for every window, whose warm-up lies between them and it.
    ///
    /// # Errors
    /// As `DatasetInfo::load`.
    pub fn load(&self, data_dir: &std::path::Path) -> Result<Bars, atf_data::DataError> {
        let (mut bars, period) = crate::warmup::load(&self.target, data_dir)?;
        bars.extend_from(&period);
        Ok(bars)
    }
}

/// Checks a walk-forward as [`plan::check_optimization`] checks its
/// optimization (keeping only the best trial of each fold in full: `top` is
/// 1), then plans its windows from the catalog entry alone.
///
/// # Errors
/// The first refused field.
pub fn check_walkforward(
    registry: &Registry,
    req: &WalkForwardRequest,
    dataset: DatasetInfo,
    limits: GridLimits,
    qty_decimals: Option<u8>,
) -> Result<WalkForwardJob, FieldError> {
    // each fold needs only its winner in full (the ranking, and so the
    // winner, does not depend on how many are kept): `top` is 1 whatever
    // the request says, which also keeps the kept-curve bound out of the way
    if req
        .optimization
        .method
        .is_some_and(|m| m != crate::request::Method::Grid)
    {
        // a fold's progress and total count its grid; searches per fold
        // are for a later increment of issue 17
        return Err(FieldError::new(
            "method",
            "walk-forward folds run the whole grid: a search per fold is not available yet",
        ));
    }
    let mut optimization = req.optimization.clone();
    optimization.top = Some(1);
    let job = plan::check_optimization(registry, &optimization, dataset, limits, qty_decimals)
        .map_err(|e| {
            if e.field == "top" {
                // one kept trial over the period's bars: the bound on what a
                // run keeps (each fold's winner, the stitched curve, both
                // within the period) is the period's length at the timeframe
                FieldError::new(
                    "timeframe",
                    format!(
                        "the period holds more bars at this timeframe than the {} equity \
                         points a run may keep: use a coarser timeframe or a shorter period \
                         (or raise --max-kept-points)",
                        limits.max_kept_points
                    ),
                )
            } else {
                e
            }
        })?;
    let Work::Optimization(mut spec) = job.work else {
        return Err(FieldError::new("axes", "not an optimization"));
    };
    // a fold keeps only its winner: no robustness to assess per fold
    spec.assess = false;
    let t = job.target;
    let ds = &t.dataset;
    let data_end = ds.last_ts_ms + ds.timeframe.millis();
    let first = t
        .period
        .from_ms
        .map_or(ds.first_ts_ms, |f| f.max(ds.first_ts_ms));
    // windows start on a bar of the run's timeframe (UTC-aligned, as the
    // engine's resampling buckets are), so none begins inside a main bar
    let bucket = t.timeframe.bucket_start(first);
    let start = if bucket == first {
        first
    } else {
        bucket + t.timeframe.millis()
    };
    let end = t.period.to_ms.map_or(data_end, |e| e.min(data_end));
    let windows = plan_windows(&req.windows, start, end, t.timeframe)?;
    let criteria = Criteria::from_fields(&req.windows.criteria)?;
    let total = spec.grid.size().saturating_mul(windows.len() as u64);
    Ok(WalkForwardJob {
        target: t,
        spec,
        mode: req.windows.mode,
        windows,
        criteria,
        total,
    })
}

/// Plans a walk-forward for the run service: [`check_walkforward`] (whole
/// units, as the API trades) and its run key, which covers the windows and
/// the criteria besides everything an optimization's key does.
///
/// # Errors
/// The first refused field.
pub fn plan_walkforward(
    registry: &Registry,
    req: &WalkForwardRequest,
    dataset: DatasetInfo,
    limits: GridLimits,
) -> Result<plan::Plan, FieldError> {
    let job = check_walkforward(registry, req, dataset, limits, None)?;
    Ok(plan::Job {
        total: job.total,
        target: job.target.clone(),
        work: Work::WalkForward(Box::new(job)),
    }
    .into_plan())
}
