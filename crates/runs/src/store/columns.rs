//! Rows ↔ result types: the metric and trade columns, named after the
//! engine's own field names (`finalEquity` → `final_equity`), and the
//! conversion of a row's values to and from those types.
//!
//! The field lists come from the types' derived `Deserialize`
//! ([`atf_engine::fields`]), so there is no second list to keep in step.

use atf_engine::fields::snake_case;
use atf_engine::report::Trade;
use atf_engine::PerformanceMetrics;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Row;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// A type's fields with their columns.
pub(super) struct Columns {
    /// JSON names (camelCase).
    pub fields: &'static [&'static str],
    /// Column names (snake_case), same order.
    pub columns: Vec<String>,
    /// The columns joined for a `SELECT` or `INSERT` list.
    pub list: String,
}

impl Columns {
    fn of(fields: &'static [&'static str]) -> Self {
        let columns: Vec<String> = fields.iter().map(|f| snake_case(f)).collect();
        let list = columns.join(", ");
        Self {
            fields,
            columns,
            list,
        }
    }

    /// `?first, ?first+1, …` for each column.
    pub fn placeholders(&self, first: usize) -> String {
        (first..first + self.fields.len())
            .map(|n| format!("?{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `value`'s fields as column values, in order.
    pub fn values<T: Serialize>(&self, value: &T) -> rusqlite::Result<Vec<SqlValue>> {
        let v = super::row_values::of(value)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        debug_assert_eq!(v.len(), self.fields.len(), "{:?}", self.fields);
        Ok(v)
    }

    /// The columns at `first..` of `row` read as a `T` (absent or `NULL`
    /// columns are absent fields).
    pub fn read<T: DeserializeOwned>(&self, row: &Row<'_>, first: usize) -> rusqlite::Result<T> {
        let mut m = Map::new();
        for (k, f) in self.fields.iter().enumerate() {
            let v = json_of(row.get_ref(first + k)?);
            if !v.is_null() {
                m.insert((*f).to_owned(), v);
            }
        }
        serde_json::from_value(Value::Object(m)).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                first,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    }
}

static METRICS: LazyLock<Columns> = LazyLock::new(|| Columns::of(PerformanceMetrics::fields()));
static TRADES: LazyLock<Columns> = LazyLock::new(|| Columns::of(atf_engine::fields::of::<Trade>()));

/// The metric columns of `backtest_runs` and `optimization_trials`.
pub(super) fn metrics() -> &'static Columns {
    &METRICS
}

/// The columns of `trades`.
pub(super) fn trades() -> &'static Columns {
    &TRADES
}

/// A column value as JSON (integers stay integers, reals stay reals).
pub(super) fn json_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) | ValueRef::Blob(t) => Value::String(String::from_utf8_lossy(t).into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_follow_the_engine_fields() {
        let m = super::metrics();
        assert_eq!(m.fields[0], "initialEquity");
        assert!(m.columns.iter().any(|c| c == "net_profit"));
        assert!(m.fields.contains(&"subBarsPerSecond"));
        assert_eq!(super::trades().columns[0], "side");
    }
}
