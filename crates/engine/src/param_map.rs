//! Parameter values as results carry them: owned and ordered, so a report
//! survives a JSON round trip (to SQLite, Redis, over HTTP and back) intact.
//!
//! The engine's [`Params`](struct@Params) borrow their names and choices from the
//! strategy's declaration (`&'static str`), which is what a trial needs
//! and what a deserialized report cannot have: a report read back from the
//! run database is no longer tied to a compiled strategy. [`ParamMap`] is
//! the reported form: `{"fast": 10, "k": 2.0, "long_only": false, "mode": "close"}`,
//! in declaration order, an integer staying an integer and a float a float.

use crate::params::{ParamValue, Params};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One reported parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamScalar {
    /// A whole number.
    Int(i64),
    /// A real number (always written with a decimal point or exponent).
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A declared option.
    Text(String),
}

/// One schema of three types rather than a `oneOf` of four: an integer
/// is also a JSON Schema number, so `oneOf [integer, number]` would refuse
/// every whole value.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ParamScalar {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Number, Type::Boolean, Type::String]))
            .description(Some(
                "A parameter's value: a number (an integer stays one), a boolean or a choice's name.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ParamScalar {}

impl From<ParamValue> for ParamScalar {
    fn from(v: ParamValue) -> Self {
        match v {
            ParamValue::Int(i) => Self::Int(i),
            ParamValue::Float(f) => Self::Float(f),
            ParamValue::Bool(b) => Self::Bool(b),
            ParamValue::Choice(c) => Self::Text(c.to_owned()),
        }
    }
}

impl fmt::Display for ParamScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v}"),
            Self::Bool(v) => write!(f, "{v}"),
            Self::Text(v) => f.write_str(v),
        }
    }
}

/// An ordered map written as a JSON object, keys in insertion order (a
/// `BTreeMap` would sort them; a strategy's parameters read best in the
/// order it declares them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> OrderedMap<V> {
    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(256));
                while let Some((k, v)) = a.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// Resolved parameter values as reported (see the [module docs](self)).
pub type ParamMap = OrderedMap<ParamScalar>;

impl From<&Params> for ParamMap {
    fn from(p: &Params) -> Self {
        Self(p.iter().map(|(n, v)| (n.to_owned(), v.into())).collect())
    }
}

/// A grid's axes as reported: parameter → its values, in grid order.
pub type AxisValues = OrderedMap<Vec<ParamScalar>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_number_kinds_through_json() {
        let m: ParamMap = OrderedMap(vec![
            ("slow".into(), ParamScalar::Int(30)),
            ("fast".into(), ParamScalar::Int(10)),
            ("k".into(), ParamScalar::Float(2.0)),
            ("long_only".into(), ParamScalar::Bool(false)),
            ("mode".into(), ParamScalar::Text("close".into())),
        ]);
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(
            text,
            r#"{"slow":30,"fast":10,"k":2.0,"long_only":false,"mode":"close"}"#
        );
        let back: ParamMap = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
    }
}
