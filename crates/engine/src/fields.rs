//! The field names of a struct, read from its derived `Deserialize`.
//!
//! A derived `Deserialize` hands the deserializer the list of the struct's
//! field names as serialized (after `rename_all`); a deserializer that
//! records that list and stops gives it back without a hand-kept copy. The
//! run database names its metric columns this way, so a metric added to
//! [`PerformanceMetrics`](crate::PerformanceMetrics) needs no second list.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// The field names of `T`, a struct with a derived `Deserialize`; empty
/// for anything else.
#[must_use]
pub fn of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Recorder { names: &mut names });
    names
}

/// A field's JSON name as a column name: `finalEquity` → `final_equity`
/// (the run database's columns, the CSV's headers).
#[must_use]
pub fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

struct Recorder<'a> {
    names: &'a mut &'static [&'static str],
}

/// The recorder's only error: "stopped after reading the names".
#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Self
    }
}

impl<'de> Deserializer<'de> for Recorder<'_> {
    type Error = Stop;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.names = fields;
        Err(Stop)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_serialized_names_in_order() {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code, reason = "only its field names are read")]
        struct Sample {
            net_profit: f64,
            max_drawdown_pct: f64,
        }
        assert_eq!(super::of::<Sample>(), ["netProfit", "maxDrawdownPct"]);
        assert!(super::of::<u64>().is_empty());
        assert_eq!(super::snake_case("maxDrawdownPct"), "max_drawdown_pct");
    }
}
