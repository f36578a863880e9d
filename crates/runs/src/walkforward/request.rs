//! The walk-forward request: the optimization's fields, the windows and
//! the pass/fail criteria.

use super::*;

/// Most folds one walk-forward may have.
pub const MAX_FOLDS: u32 = 500;

/// How in-sample windows move from fold to fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum WindowMode {
    /// A fixed-length in-sample window sliding by the out-of-sample length.
    #[default]
    Rolling,
    /// Every in-sample window starts at the period's start and grows.
    Anchored,
}

/// Pass/fail thresholds of a request, in % (absent: the defaults).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriteriaFields {
    /// Least walk-forward efficiency (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1e9, example = 50))]
    pub min_wfe_pct: Option<f64>,
    /// Least share of profitable out-of-sample folds (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100, example = 50))]
    pub min_profitable_folds_pct: Option<f64>,
    /// A fold's share of the stitched profit must stay below this (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100, example = 50))]
    pub max_fold_profit_share_pct: Option<f64>,
    /// Largest stitched maximum drawdown (default 25).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100, example = 25))]
    pub max_drawdown_pct: Option<f64>,
}

/// The walk-forward fields of a request: the windows and the criteria.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowFields {
    /// `rolling` (default) or `anchored`.
    #[serde(default)]
    pub mode: WindowMode,
    /// In-sample length, a duration (`180d`, `12w`, `6h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "720d"))]
    pub in_sample: Option<String>,
    /// Out-of-sample length (and the step), a duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "180d"))]
    pub out_of_sample: Option<String>,
    /// Number of folds (instead of the durations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 500, example = 8))]
    pub folds: Option<u32>,
    /// Out-of-sample share of each fold's in-sample + out-of-sample span, in (0, 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(exclusive_minimum = 0, exclusive_maximum = 1, example = 0.2)
    )]
    pub oos_fraction: Option<f64>,
    /// Pass/fail thresholds.
    #[serde(default, skip_serializing_if = "is_default")]
    pub criteria: CriteriaFields,
}

pub(super) fn is_default(c: &CriteriaFields) -> bool {
    *c == CriteriaFields::default()
}

/// The fields a walk-forward body has besides its optimization's.
pub const WINDOW_FIELDS: [&str; 6] = [
    "mode",
    "inSample",
    "outOfSample",
    "folds",
    "oosFraction",
    "criteria",
];

/// A walk-forward request: an optimization request (strategy, dataset,
/// period, axes, constraints, fitness, costs) and the windows — the body
/// `POST /api/walkforwards` will read, flat like the optimization's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkForwardRequest {
    /// Windows and criteria.
    #[serde(flatten)]
    pub windows: WindowFields,
    /// What each fold optimizes, on what.
    #[serde(flatten)]
    pub optimization: OptimizationRequest,
}

impl WalkForwardRequest {
    /// Reads a request body, a refusal naming the field at fault.
    ///
    /// # Errors
    /// [`FieldError`] for a missing, unknown or mistyped field.
    pub fn from_json(body: &Value) -> Result<Self, FieldError> {
        let (mut windows, rest) = split_fields(body, &WINDOW_FIELDS)?;
        let criteria = windows.remove("criteria");
        let mut windows: WindowFields = read(&Value::Object(windows), "")?;
        if let Some(c) = criteria {
            windows.criteria = read(&c, "criteria.")?;
        }
        let optimization = OptimizationRequest::from_json(&Value::Object(rest))?;
        if optimization.top.is_some() {
            // a stored `top` the run ignored would read as if it counted
            return Err(FieldError::new(
                "top",
                "not a walk-forward field: each fold keeps only its winner",
            ));
        }
        Ok(Self {
            windows,
            optimization,
        })
    }
}

/// Pass/fail thresholds, in %.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Criteria {
    /// Least walk-forward efficiency.
    pub min_wfe_pct: f64,
    /// Least share of profitable out-of-sample folds.
    pub min_profitable_folds_pct: f64,
    /// A fold's share of the stitched profit must stay below this.
    pub max_fold_profit_share_pct: f64,
    /// Largest stitched maximum drawdown.
    pub max_drawdown_pct: f64,
}

impl Default for Criteria {
    /// WFE ≥ 50 %, ≥ 50 % of folds profitable, no fold ≥ 50 % of the
    /// profit, maximum drawdown ≤ 25 %.
    fn default() -> Self {
        Self {
            min_wfe_pct: 50.0,
            min_profitable_folds_pct: 50.0,
            max_fold_profit_share_pct: 50.0,
            max_drawdown_pct: 25.0,
        }
    }
}

impl Criteria {
    /// The request's thresholds over the defaults.
    ///
    /// # Errors
    /// `criteria.<name>`: not a finite number, negative, or a share above 100.
    pub fn from_fields(c: &CriteriaFields) -> Result<Self, FieldError> {
        let d = Self::default();
        let pick = |v: Option<f64>, default: f64, name: &str, most: f64| {
            let v = v.unwrap_or(default);
            if v.is_finite() && (0.0..=most).contains(&v) {
                Ok(v)
            } else {
                Err(FieldError::new(
                    format!("criteria.{name}"),
                    format!("must be between 0 and {most}"),
                ))
            }
        };
        Ok(Self {
            min_wfe_pct: pick(c.min_wfe_pct, d.min_wfe_pct, "minWfePct", 1e9)?,
            min_profitable_folds_pct: pick(
                c.min_profitable_folds_pct,
                d.min_profitable_folds_pct,
                "minProfitableFoldsPct",
                100.0,
            )?,
            max_fold_profit_share_pct: pick(
                c.max_fold_profit_share_pct,
                d.max_fold_profit_share_pct,
                "maxFoldProfitSharePct",
                100.0,
            )?,
            max_drawdown_pct: pick(
                c.max_drawdown_pct,
                d.max_drawdown_pct,
                "maxDrawdownPct",
                100.0,
            )?,
        })
    }
}
