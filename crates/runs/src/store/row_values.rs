//! A serde serializer that writes a flat struct's fields straight into
//! SQLite column values, in declaration order — how a million trials'
//! metrics are saved without a JSON detour per trial, and without a
//! hand-kept list of fields that could fall out of step with the engine.

use rusqlite::types::Value as SqlValue;
use serde::ser::{self, Impossible, Serialize};
use std::fmt;

/// `value`'s fields as column values (a struct of scalars, options and
/// unit enum variants; anything else is an error).
pub(super) fn of<T: Serialize>(value: &T) -> Result<Vec<SqlValue>, NotFlat> {
    let mut out = Vec::new();
    value.serialize(Fields(&mut out))?;
    Ok(out)
}

/// The value was not a flat struct of scalars.
#[derive(Debug)]
pub(super) struct NotFlat(String);

impl fmt::Display for NotFlat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a flat record: {}", self.0)
    }
}

impl std::error::Error for NotFlat {}

impl ser::Error for NotFlat {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Self(msg.to_string())
    }
}

fn not_flat<T>(what: &str) -> Result<T, NotFlat> {
    Err(NotFlat(what.to_owned()))
}

/// Serializes the outer struct: each field through [`Scalar`].
struct Fields<'a>(&'a mut Vec<SqlValue>);

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = NotFlat;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), NotFlat> {
        self.0.push(value.serialize(Scalar)?);
        Ok(())
    }

    fn skip_field(&mut self, _key: &'static str) -> Result<(), NotFlat> {
        // a field left out when unknown (skip_serializing_if) is NULL
        self.0.push(SqlValue::Null);
        Ok(())
    }

    fn end(self) -> Result<(), NotFlat> {
        Ok(())
    }
}

macro_rules! only_structs {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<(), NotFlat> { not_flat(stringify!($method)) })*
    };
}

impl<'a> ser::Serializer for Fields<'a> {
    type Ok = ();
    type Error = NotFlat;
    type SerializeSeq = Impossible<(), NotFlat>;
    type SerializeTuple = Impossible<(), NotFlat>;
    type SerializeTupleStruct = Impossible<(), NotFlat>;
    type SerializeTupleVariant = Impossible<(), NotFlat>;
    type SerializeMap = Impossible<(), NotFlat>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), NotFlat>;

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Self, NotFlat> {
        self.0.reserve(len);
        Ok(self)
    }

    only_structs!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), NotFlat> {
        not_flat("option")
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotFlat> {
        not_flat("newtype")
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotFlat> {
        not_flat("newtype variant")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotFlat> {
        not_flat("sequence")
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotFlat> {
        not_flat("tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotFlat> {
        not_flat("tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotFlat> {
        not_flat("tuple variant")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotFlat> {
        not_flat("map")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotFlat> {
        not_flat("struct variant")
    }
}

/// Serializes one field's value to a column value.
struct Scalar;

impl ser::Serializer for Scalar {
    type Ok = SqlValue;
    type Error = NotFlat;
    type SerializeSeq = Impossible<SqlValue, NotFlat>;
    type SerializeTuple = Impossible<SqlValue, NotFlat>;
    type SerializeTupleStruct = Impossible<SqlValue, NotFlat>;
    type SerializeTupleVariant = Impossible<SqlValue, NotFlat>;
    type SerializeMap = Impossible<SqlValue, NotFlat>;
    type SerializeStruct = Impossible<SqlValue, NotFlat>;
    type SerializeStructVariant = Impossible<SqlValue, NotFlat>;

    fn serialize_bool(self, v: bool) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(i64::from(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(v))
    }
    fn serialize_u8(self, v: u8) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Integer(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<SqlValue, NotFlat> {
        // beyond i64 (never a count or time in practice): stored as a real
        Ok(i64::try_from(v).map_or(SqlValue::Real(v as f64), SqlValue::Integer))
    }
    fn serialize_f32(self, v: f32) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Real(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<SqlValue, NotFlat> {
        // JSON has no NaN or infinity: what serde_json writes as null is NULL
        Ok(if v.is_finite() {
            SqlValue::Real(v)
        } else {
            SqlValue::Null
        })
    }
    fn serialize_char(self, v: char) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Text(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Blob(v.to_vec()))
    }
    fn serialize_none(self) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<SqlValue, NotFlat> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<SqlValue, NotFlat> {
        Ok(SqlValue::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<SqlValue, NotFlat> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<SqlValue, NotFlat> {
        not_flat("newtype variant")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotFlat> {
        not_flat("sequence")
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotFlat> {
        not_flat("tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotFlat> {
        not_flat("tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotFlat> {
        not_flat("tuple variant")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotFlat> {
        not_flat("map")
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotFlat> {
        not_flat("nested struct")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotFlat> {
        not_flat("struct variant")
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as SqlValue;

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        a: f64,
        b: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        c: Option<f64>,
        d: u64,
        e: atf_engine::ExitReason,
    }

    #[test]
    fn fields_become_columns_in_order_skipped_ones_null() {
        let v = super::of(&Sample {
            a: 1.5,
            b: None,
            c: None,
            d: 7,
            e: atf_engine::ExitReason::StopLoss,
        })
        .unwrap();
        assert_eq!(
            v,
            [
                SqlValue::Real(1.5),
                SqlValue::Null,
                SqlValue::Null,
                SqlValue::Integer(7),
                SqlValue::Text("stopLoss".into())
            ]
        );
        assert!(super::of(&vec![1]).is_err());
    }
}
