//! A search's fitness by evaluation order — how it converged — read in
//! bounded memory: the trials stream out in evaluation order and fold into
//! at most `points` buckets, whatever the budget (up to 1,000,000).

use super::{u, RunStore, StoreError};
use serde::{Deserialize, Serialize};

/// Most buckets one answer holds.
pub const MAX_POINTS: u64 = 5000;

/// Consecutive evaluated trials folded into one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConvergencePoint {
    /// Evaluation order of the bucket's first trial (0 = first evaluated).
    pub first: u64,
    /// Evaluation order of its last trial.
    pub last: u64,
    /// Lowest fitness in the bucket (`null` when none of its trials has one).
    pub low: Option<f64>,
    /// Highest fitness in the bucket.
    pub high: Option<f64>,
    /// Best fitness found up to and including the bucket (the running best).
    pub best: Option<f64>,
}

/// An optimization's fitness by evaluation order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Convergence {
    /// Trials with an evaluation order: every trial of a search, none of a
    /// grid (its trials run in index order; `points` is empty).
    pub trials: u64,
    /// Trials per point (the last point may hold fewer).
    pub per_point: u64,
    /// The points, first evaluated first.
    pub points: Vec<ConvergencePoint>,
}

impl RunStore {
    /// Optimization `id`'s fitness by evaluation order in at most `points`
    /// (1 to [`MAX_POINTS`]) points; higher fitness is better, as ranked.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn convergence(&self, id: &str, points: u64) -> Result<Convergence, StoreError> {
        let points = points.clamp(1, MAX_POINTS);
        self.read(|c| {
            let trials: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM optimization_trials
                     WHERE optimization_id = ?1 AND eval_order IS NOT NULL",
                    [id],
                    |r| r.get(0),
                )
                .map_err(self.err())?;
            let trials = u(trials);
            let per_point = trials.div_ceil(points).max(1);
            let mut stmt = c
                .prepare_cached(
                    "SELECT eval_order, fitness FROM optimization_trials
                     WHERE optimization_id = ?1 AND eval_order IS NOT NULL
                     ORDER BY eval_order",
                )
                .map_err(self.err())?;
            let rows = stmt
                .query_map([id], |r| Ok((u(r.get(0)?), r.get::<_, Option<f64>>(1)?)))
                .map_err(self.err())?;
            let mut out: Vec<ConvergencePoint> = Vec::new();
            let mut best: Option<f64> = None;
            for (n, row) in rows.enumerate() {
                let (order, fitness) = row.map_err(self.err())?;
                // NaN is undefined, as in the ranking
                let fitness = fitness.filter(|f| !f.is_nan());
                if let Some(f) = fitness {
                    best = Some(best.map_or(f, |b| b.max(f)));
                }
                if (n as u64).is_multiple_of(per_point) {
                    out.push(ConvergencePoint {
                        first: order,
                        last: order,
                        low: fitness,
                        high: fitness,
                        best,
                    });
                } else if let Some(p) = out.last_mut() {
                    p.last = order;
                    if let Some(f) = fitness {
                        p.low = Some(p.low.map_or(f, |l| l.min(f)));
                        p.high = Some(p.high.map_or(f, |h| h.max(f)));
                    }
                    p.best = best;
                }
            }
            Ok(Convergence {
                trials,
                per_point,
                points: out,
            })
        })
    }
}
