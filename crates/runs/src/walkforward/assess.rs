//! Parameter stability across folds and the pass/fail criteria.

use super::*;

pub(super) fn scalar_f64(v: &ParamScalar) -> Option<f64> {
    match v {
        #[allow(clippy::cast_precision_loss, reason = "parameter values are small")]
        ParamScalar::Int(i) => Some(*i as f64),
        ParamScalar::Float(f) => Some(*f),
        ParamScalar::Bool(_) | ParamScalar::Text(_) => None,
    }
}

pub(super) fn stability(spec: &OptimizeSpec, folds: &[FoldReport]) -> Vec<ParamStability> {
    spec.grid
        .axes()
        .iter()
        .map(|a| {
            let values: Vec<ParamScalar> = folds
                .iter()
                .filter_map(|f| f.winner.as_ref()?.params.get(a.name).cloned())
                .collect();
            let mut distinct: Vec<&ParamScalar> = Vec::new();
            for v in &values {
                if !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
            let nums: Option<Vec<f64>> = values.iter().map(scalar_f64).collect();
            let (mean, cv) = match nums {
                Some(x) if !x.is_empty() => {
                    #[allow(clippy::cast_precision_loss, reason = "a count of folds")]
                    let n = x.len() as f64;
                    let mean = x.iter().sum::<f64>() / n;
                    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                    (Some(mean), (mean != 0.0).then(|| var.sqrt() / mean.abs()))
                }
                _ => (None, None),
            };
            ParamStability {
                name: a.name.to_owned(),
                distinct: distinct.len(),
                values,
                mean,
                cv,
            }
        })
        .collect()
}

pub(super) fn checks(
    c: &Criteria,
    wfe: Option<f64>,
    s: &StitchedMetrics,
    folds: &[FoldReport],
) -> Vec<CriterionCheck> {
    #[allow(clippy::cast_precision_loss, reason = "counts of folds")]
    let profitable_pct =
        (s.folds > 0).then(|| f64::from(s.profitable_folds) / f64::from(s.folds) * 100.0);
    let total = s.net_profit;
    let share = (total > 0.0).then(|| {
        folds
            .iter()
            .map(|f| f.end_equity - f.start_equity)
            .fold(f64::NEG_INFINITY, f64::max)
            / total
            * 100.0
    });
    let fmt = |v: f64| {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    vec![
        CriterionCheck {
            name: "wfe".into(),
            rule: format!("walk-forward efficiency ≥ {} %", fmt(c.min_wfe_pct)),
            threshold: c.min_wfe_pct,
            value: wfe,
            passed: wfe.is_some_and(|v| v >= c.min_wfe_pct),
        },
        CriterionCheck {
            name: "profitableFolds".into(),
            rule: format!(
                "≥ {} % of folds profitable out of sample",
                fmt(c.min_profitable_folds_pct)
            ),
            threshold: c.min_profitable_folds_pct,
            value: profitable_pct,
            passed: profitable_pct.is_some_and(|v| v >= c.min_profitable_folds_pct),
        },
        CriterionCheck {
            name: "foldProfitShare".into(),
            rule: format!(
                "no fold ≥ {} % of the out-of-sample profit",
                fmt(c.max_fold_profit_share_pct)
            ),
            threshold: c.max_fold_profit_share_pct,
            value: share,
            passed: share.is_some_and(|v| v < c.max_fold_profit_share_pct),
        },
        CriterionCheck {
            name: "maxDrawdown".into(),
            rule: format!("out-of-sample max drawdown ≤ {} %", fmt(c.max_drawdown_pct)),
            threshold: c.max_drawdown_pct,
            value: Some(s.max_drawdown_pct),
            passed: !folds.is_empty() && s.max_drawdown_pct <= c.max_drawdown_pct,
        },
    ]
}
