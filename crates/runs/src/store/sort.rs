//! How a page of trials is ordered: a key from a fixed list (rank,
//! fitness, index, a metric, a parameter), never SQL from the request.

use super::columns;
use crate::settings::FieldError;

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
    /// A search's evaluation order (first evaluated first); a grid's
    /// trials have none and keep rank order.
    EvalOrder,
    /// A metric, a field of [`PerformanceMetrics`](atf_engine::PerformanceMetrics)
    /// (camelCase, as serialized).
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
    /// Parses the API's `sort` (`rank` by default, `fitness`, `index`,
    /// `evalOrder`, a
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
            Some("evalOrder") => TrialSort::EvalOrder,
            Some(text) => {
                if let Some(m) = columns::metrics().fields.iter().find(|m| **m == text) {
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
                            "unknown sort '{text}' (rank, fitness, index, evalOrder, \
                             params.<name>, or a metric: {})",
                            columns::metrics().fields.join(", ")
                        ),
                    ));
                }
            }
        };
        let order = match order.map(str::trim) {
            None => match sort {
                TrialSort::Rank | TrialSort::Index | TrialSort::EvalOrder => SortOrder::Asc,
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
    /// comes from the engine's field list, never from the request); a parameter
    /// is read with `json_extract(params_json, ?4)`, its path bound as `?4`.
    pub(super) fn order_by(&self) -> String {
        let dir = match self.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let key = match &self.sort {
            TrialSort::Rank => return format!("rank {dir}"),
            TrialSort::Index => "combination_index".to_owned(),
            TrialSort::EvalOrder => "eval_order".to_owned(),
            TrialSort::Fitness => "fitness".to_owned(),
            TrialSort::Metric(m) => atf_engine::fields::snake_case(m),
            TrialSort::Param(_) => "json_extract(params_json, ?4)".to_owned(),
        };
        format!("{key} IS NULL, {key} {dir}, rank ASC")
    }

    /// The JSON path bound to `?4` (`$.name`; `NULL` unless sorting by a
    /// parameter).
    pub(super) fn param_path(&self) -> Option<String> {
        match &self.sort {
            TrialSort::Param(name) => Some(format!("$.{name}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
