//! Declared parameter spaces and resolved parameter values.
//!
//! A strategy declares its parameters once ([`ParamSpec`]); user input
//! (`--param fast=10`, JSON) is checked against that declaration by
//! [`ParamSpace::resolve`], which fills defaults and rejects unknown names,
//! wrong types and out-of-range values with a specific [`ParamError`].
//!
//! # Deriving
//!
//! A strategy's parameters are usually one struct deriving [`StrategyParams`]
//! with `#[derive(Params)]` (the `atf-macros` crate). The derive macro is
//! re-exported here under the name of the values struct
//! [`Params`](struct@Params) (macros and types live in different namespaces),
//! so `use atf_engine::params::Params` brings both. The field type decides the kind; the doc comment is the
//! description; a float needs its grid `step`, an integer's defaults to 1.
//! Code outside the `atf` facade names the crate that exports `params`:
//! `#[params(crate = atf_engine)]` here, `#[params(crate = crate)]` in the
//! built-ins.
//!
//! ```
//! use atf_engine::params::{Params, StrategyParams};
//!
//! #[derive(Debug, Clone, Params)]
//! #[params(crate = atf_engine)]
//! struct RsiDip {
//!     /// RSI period in main bars
//!     #[param(default = 14, min = 1, max = 10_000)]
//!     period: usize,
//!     /// Enter long below this RSI
//!     #[param(default = 30.0, min = 0.0, max = 100.0, step = 1.0)]
//!     oversold: f64,
//!     /// Only long positions
//!     #[param(default = true)]
//!     long_only: bool,
//!     /// Price the indicator reads
//!     #[param(default = "close", options("close", "hl2"))]
//!     source: &'static str,
//! }
//!
//! let params = RsiDip::space().resolve([("period", "20"), ("source", "hl2")]).unwrap();
//! let p = RsiDip::from_params(&params).unwrap();
//! assert_eq!((p.period, p.oversold, p.long_only, p.source), (20, 30.0, true, "hl2"));
//! ```
//!
//! Mistakes in the declaration are compile errors on the offending field.
//! A missing default:
//!
//! ```compile_fail
//! # use atf_engine::params::Params;
//! #[derive(Params)]
//! #[params(crate = atf_engine)]
//! struct P {
//!     #[param(min = 1, max = 10)]
//!     period: usize,
//! }
//! ```
//!
//! A default outside `min..=max`:
//!
//! ```compile_fail
//! # use atf_engine::params::Params;
//! #[derive(Params)]
//! #[params(crate = atf_engine)]
//! struct P {
//!     #[param(default = 0, min = 1, max = 10)]
//!     period: usize,
//! }
//! ```
//!
//! A type that is not a parameter kind:
//!
//! ```compile_fail
//! # use atf_engine::params::Params;
//! #[derive(Params)]
//! #[params(crate = atf_engine)]
//! struct P {
//!     #[param(default = "close")]
//!     source: String,
//! }
//! ```
//!
//! Bounds that do not fit the field type:
//!
//! ```compile_fail
//! # use atf_engine::params::Params;
//! #[derive(Params)]
//! #[params(crate = atf_engine)]
//! struct P {
//!     #[param(default = 1, min = -1, max = 10)]
//!     period: usize,
//! }
//! ```
//!
//! A float without its grid step:
//!
//! ```compile_fail
//! # use atf_engine::params::Params;
//! #[derive(Params)]
//! #[params(crate = atf_engine)]
//! struct P {
//!     #[param(default = 2.0, min = 0.5, max = 4.0)]
//!     k: f64,
//! }
//! ```
//!
//! A choice whose default is not an option:
//!
//! ```compile_fail
//! # use atf_engine::params::Params;
//! #[derive(Params)]
//! #[params(crate = atf_engine)]
//! struct P {
//!     #[param(default = "open", options("close", "hl2"))]
//!     source: &'static str,
//! }
//! ```
//!
//! An unknown key:
//!
//! ```compile_fail
//! # use atf_engine::params::Params;
//! #[derive(Params)]
//! #[params(crate = atf_engine)]
//! struct P {
//!     #[param(default = 3, min = 1, max = 10, stepp = 2)]
//!     period: u32,
//! }
//! ```

use serde::{Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// The type, default and bounds of one parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ParamKind {
    /// Whole numbers in `min..=max`, moving by `step` in a grid.
    Int {
        /// Default value.
        default: i64,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
        /// Suggested grid step.
        step: i64,
    },
    /// Real numbers in `min..=max`.
    Float {
        /// Default value.
        default: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// Suggested grid step.
        step: f64,
    },
    /// `true` / `false`.
    Bool {
        /// Default value.
        default: bool,
    },
    /// One of a fixed list of names.
    Choice {
        /// Default option.
        default: &'static str,
        /// Accepted options.
        options: &'static [&'static str],
    },
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParamSpec {
    /// Name used on the CLI and in the API (`fast`, `long_only`).
    pub name: &'static str,
    /// What the parameter does.
    pub description: &'static str,
    /// Type, default and bounds.
    #[serde(flatten)]
    pub kind: ParamKind,
}

impl ParamSpec {
    /// An integer parameter.
    #[must_use]
    pub const fn int(
        name: &'static str,
        description: &'static str,
        default: i64,
        min: i64,
        max: i64,
    ) -> Self {
        Self {
            name,
            description,
            kind: ParamKind::Int {
                default,
                min,
                max,
                step: 1,
            },
        }
    }

    /// A float parameter.
    #[must_use]
    pub const fn float(
        name: &'static str,
        description: &'static str,
        default: f64,
        min: f64,
        max: f64,
        step: f64,
    ) -> Self {
        Self {
            name,
            description,
            kind: ParamKind::Float {
                default,
                min,
                max,
                step,
            },
        }
    }

    /// A boolean parameter.
    #[must_use]
    pub const fn bool(name: &'static str, description: &'static str, default: bool) -> Self {
        Self {
            name,
            description,
            kind: ParamKind::Bool { default },
        }
    }

    /// A choice parameter.
    #[must_use]
    pub const fn choice(
        name: &'static str,
        description: &'static str,
        default: &'static str,
        options: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            description,
            kind: ParamKind::Choice { default, options },
        }
    }

    /// The same parameter with grid step `step` (integers and floats; a
    /// no-op for the other kinds).
    #[must_use]
    pub fn with_step(mut self, step: f64) -> Self {
        match &mut self.kind {
            ParamKind::Int { step: s, .. } => *s = step as i64,
            ParamKind::Float { step: s, .. } => *s = step,
            ParamKind::Bool { .. } | ParamKind::Choice { .. } => {}
        }
        self
    }

    /// The default value.
    #[must_use]
    pub fn default_value(&self) -> ParamValue {
        match self.kind {
            ParamKind::Int { default, .. } => ParamValue::Int(default),
            ParamKind::Float { default, .. } => ParamValue::Float(default),
            ParamKind::Bool { default } => ParamValue::Bool(default),
            ParamKind::Choice { default, .. } => ParamValue::Choice(default),
        }
    }

    /// Parses `text` as a value of this parameter and checks its bounds.
    ///
    /// # Errors
    /// [`ParamError::Invalid`] or [`ParamError::OutOfRange`].
    pub fn parse(&self, text: &str) -> Result<ParamValue, ParamError> {
        let t = text.trim();
        let invalid = |expected: &str| ParamError::Invalid {
            name: self.name.to_owned(),
            value: text.to_owned(),
            expected: expected.to_owned(),
        };
        let v = match self.kind {
            ParamKind::Int { .. } => ParamValue::Int(t.parse().map_err(|_| invalid("an integer"))?),
            ParamKind::Float { .. } => {
                let x: f64 = t.parse().map_err(|_| invalid("a number"))?;
                if !x.is_finite() {
                    return Err(invalid("a finite number"));
                }
                ParamValue::Float(x)
            }
            ParamKind::Bool { .. } => ParamValue::Bool(match t.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => return Err(invalid("true or false")),
            }),
            ParamKind::Choice { options, .. } => {
                match options.iter().find(|o| o.eq_ignore_ascii_case(t)) {
                    Some(o) => ParamValue::Choice(o),
                    None => return Err(invalid(&format!("one of {}", options.join(", ")))),
                }
            }
        };
        self.check(&v)?;
        Ok(v)
    }

    /// Checks that `v` has this parameter's type and lies within its bounds.
    ///
    /// # Errors
    /// [`ParamError::OutOfRange`] or [`ParamError::Invalid`] on a type mismatch.
    pub fn check(&self, v: &ParamValue) -> Result<(), ParamError> {
        let out = |min: String, max: String| ParamError::OutOfRange {
            name: self.name.to_owned(),
            value: v.to_string(),
            min,
            max,
        };
        match (&self.kind, v) {
            (ParamKind::Int { min, max, .. }, ParamValue::Int(x)) => {
                if x < min || x > max {
                    return Err(out(min.to_string(), max.to_string()));
                }
            }
            (ParamKind::Float { min, max, .. }, ParamValue::Float(x)) => {
                if x < min || x > max || !x.is_finite() {
                    return Err(out(min.to_string(), max.to_string()));
                }
            }
            (ParamKind::Bool { .. }, ParamValue::Bool(_)) => {}
            (ParamKind::Choice { options, .. }, ParamValue::Choice(c)) if options.contains(c) => {}
            _ => {
                return Err(ParamError::Invalid {
                    name: self.name.to_owned(),
                    value: v.to_string(),
                    expected: self.kind_name().to_owned(),
                })
            }
        }
        Ok(())
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            ParamKind::Int { .. } => "an integer",
            ParamKind::Float { .. } => "a number",
            ParamKind::Bool { .. } => "true or false",
            ParamKind::Choice { .. } => "one of the declared options",
        }
    }
}

/// A parameter value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A declared option.
    Choice(&'static str),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v}"),
            Self::Bool(v) => write!(f, "{v}"),
            Self::Choice(v) => f.write_str(v),
        }
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Self::Int(v) => s.serialize_i64(v),
            Self::Float(v) => s.serialize_f64(v),
            Self::Bool(v) => s.serialize_bool(v),
            Self::Choice(v) => s.serialize_str(v),
        }
    }
}

/// Why parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParamError {
    /// No parameter of that name.
    #[error("unknown parameter '{name}' (expected one of: {known})")]
    Unknown {
        /// Given name.
        name: String,
        /// Declared names, comma separated.
        known: String,
    },
    /// The value cannot be read as the parameter's type.
    #[error("parameter '{name}': '{value}' is not {expected}")]
    Invalid {
        /// Parameter name.
        name: String,
        /// Given value.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// The value is outside the declared bounds.
    #[error("parameter '{name}': {value} is outside the allowed range {min}..={max}")]
    OutOfRange {
        /// Parameter name.
        name: String,
        /// Given value.
        value: String,
        /// Lower bound.
        min: String,
        /// Upper bound.
        max: String,
    },
    /// Parameters that are valid alone but not together (e.g. `fast >= slow`).
    #[error("parameters: {0}")]
    Inconsistent(String),
    /// A `name=value` pair without `=`.
    #[error("parameter '{0}' must be written name=value")]
    Syntax(String),
}

impl ParamError {
    /// Values that are valid alone but not together, said in `reason`
    /// (`oversold must be below overbought`).
    #[must_use]
    pub fn inconsistent(reason: impl Into<String>) -> Self {
        Self::Inconsistent(reason.into())
    }
}

/// A strategy's declared parameters, in declaration order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ParamSpace(pub Vec<ParamSpec>);

impl ParamSpace {
    /// Looks up a parameter by name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&ParamSpec> {
        self.0.iter().find(|p| p.name == name)
    }

    /// Index of a parameter by name.
    #[must_use]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|p| p.name == name)
    }

    fn unknown(&self, name: &str) -> ParamError {
        ParamError::Unknown {
            name: name.to_owned(),
            known: self.0.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
        }
    }

    /// All defaults.
    #[must_use]
    pub fn defaults(&self) -> Params {
        Params {
            names: self.0.iter().map(|p| p.name).collect(),
            values: self.0.iter().map(ParamSpec::default_value).collect(),
        }
    }

    /// Resolves `name=value` text pairs: defaults for the rest, each checked.
    ///
    /// # Errors
    /// The first [`ParamError`] found.
    pub fn resolve<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Params, ParamError> {
        let mut params = self.defaults();
        for (name, text) in pairs {
            let i = self.index_of(name).ok_or_else(|| self.unknown(name))?;
            params.values[i] = self.0[i].parse(text)?;
        }
        Ok(params)
    }

    /// Builds parameters from typed values (e.g. decoded from a grid), each checked.
    ///
    /// # Errors
    /// The first [`ParamError`] found.
    pub fn resolve_values(&self, pairs: &[(&str, ParamValue)]) -> Result<Params, ParamError> {
        let mut params = self.defaults();
        for &(name, v) in pairs {
            let i = self.index_of(name).ok_or_else(|| self.unknown(name))?;
            self.0[i].check(&v)?;
            params.values[i] = v;
        }
        Ok(params)
    }
}

/// A strategy's parameters as one typed struct: the declaration and the
/// conversion from checked values, usually written by `#[derive(Params)]`
/// (the `atf-macros` crate, re-exported by the `atf` facade).
///
/// [`StrategyParams::space`] is the declaration every input is checked
/// against ([`ParamSpace::resolve`]); [`StrategyParams::from_params`] reads
/// values that already passed those checks, so it only fails for what the
/// declaration cannot express.
pub trait StrategyParams: Sized + Send + 'static {
    /// The declared parameters, in declaration order.
    fn space() -> ParamSpace;

    /// The typed values of `params` (resolved against [`StrategyParams::space`]).
    ///
    /// # Errors
    /// [`ParamError::Inconsistent`] for values the declaration allows but the
    /// type cannot hold.
    fn from_params(params: &Params) -> Result<Self, ParamError>;
}

/// No parameters at all.
impl StrategyParams for () {
    fn space() -> ParamSpace {
        ParamSpace(Vec::new())
    }

    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(())
    }
}

/// Splits `name=value`.
///
/// # Errors
/// [`ParamError::Syntax`] without `=`.
pub fn split_pair(text: &str) -> Result<(&str, &str), ParamError> {
    text.split_once('=')
        .map(|(n, v)| (n.trim(), v.trim()))
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| ParamError::Syntax(text.to_owned()))
}

/// `#[derive(Params)]`: implements [`StrategyParams`] for a struct (see the
/// [module docs](self#deriving) and the `atf-macros` crate). A derive macro
/// lives in the macro namespace, so it shares its name with the values
/// struct [`Params`](struct@Params) without ambiguity.
pub use atf_macros::Params;

/// Resolved parameter values, one per declared parameter, in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    names: Vec<&'static str>,
    values: Vec<ParamValue>,
}

impl Params {
    /// The value of `name`.
    ///
    /// # Panics
    /// If the strategy asks for a parameter it did not declare (a bug in the strategy).
    #[must_use]
    pub fn value(&self, name: &str) -> ParamValue {
        match self.names.iter().position(|n| *n == name) {
            Some(i) => self.values[i],
            None => panic!("strategy asked for undeclared parameter '{name}'"),
        }
    }

    /// An integer parameter.
    ///
    /// # Panics
    /// If `name` is undeclared or not an integer (a bug in the strategy).
    #[must_use]
    pub fn int(&self, name: &str) -> i64 {
        match self.value(name) {
            ParamValue::Int(v) => v,
            other => panic!("parameter '{name}' is {other:?}, not an integer"),
        }
    }

    /// A float parameter.
    ///
    /// # Panics
    /// If `name` is undeclared or not a float.
    #[must_use]
    pub fn float(&self, name: &str) -> f64 {
        match self.value(name) {
            ParamValue::Float(v) => v,
            ParamValue::Int(v) => v as f64,
            other => panic!("parameter '{name}' is {other:?}, not a number"),
        }
    }

    /// A boolean parameter.
    ///
    /// # Panics
    /// If `name` is undeclared or not a boolean.
    #[must_use]
    pub fn bool(&self, name: &str) -> bool {
        match self.value(name) {
            ParamValue::Bool(v) => v,
            other => panic!("parameter '{name}' is {other:?}, not a boolean"),
        }
    }

    /// A choice parameter.
    ///
    /// # Panics
    /// If `name` is undeclared or not a choice.
    #[must_use]
    pub fn choice(&self, name: &str) -> &'static str {
        match self.value(name) {
            ParamValue::Choice(v) => v,
            other => panic!("parameter '{name}' is {other:?}, not a choice"),
        }
    }

    /// Position of `name` among the declared parameters.
    #[must_use]
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }

    /// Overwrites the value at `position` (as given by [`Params::position`])
    /// without checks: for values already checked, e.g. a grid's.
    pub(crate) fn set_at(&mut self, position: usize, value: ParamValue) {
        self.values[position] = value;
    }

    /// `(name, value)` pairs in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, ParamValue)> + '_ {
        self.names.iter().copied().zip(self.values.iter().copied())
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.names.len()))?;
        for (n, v) in self.iter() {
            m.serialize_entry(n, &v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> ParamSpace {
        ParamSpace(vec![
            ParamSpec::int("fast", "", 10, 1, 10_000),
            ParamSpec::float("k", "", 2.0, 0.1, 10.0, 0.1),
            ParamSpec::bool("long_only", "", true),
            ParamSpec::choice("mode", "", "close", &["close", "hl2"]),
        ])
    }

    #[test]
    fn resolves_with_defaults() {
        let p = space()
            .resolve([("fast", "12"), ("long_only", "false")])
            .unwrap();
        assert_eq!(p.int("fast"), 12);
        assert!((p.float("k") - 2.0).abs() < f64::EPSILON);
        assert!(!p.bool("long_only"));
        assert_eq!(p.choice("mode"), "close");
    }

    /// The derive inside the engine itself, as the built-ins use it.
    #[derive(Debug, Params)]
    #[params(crate = crate)]
    struct Derived {
        /// Fast period
        #[param(default = 10, min = 1, max = 10_000)]
        fast: u32,
        #[param(default = 2.0, min = 0.1, max = 10.0, step = 0.1)]
        k: f64,
    }

    #[test]
    fn derives_inside_the_engine() {
        assert_eq!(
            Derived::space(),
            ParamSpace(vec![
                ParamSpec::int("fast", "Fast period", 10, 1, 10_000),
                ParamSpec::float("k", "", 2.0, 0.1, 10.0, 0.1),
            ])
        );
        let d = Derived::from_params(&Derived::space().resolve([("fast", "12")]).unwrap()).unwrap();
        assert_eq!((d.fast, d.k), (12, 2.0));
    }

    #[test]
    fn refuses_bad_input_specifically() {
        let s = space();
        assert!(matches!(
            s.resolve([("fats", "1")]),
            Err(ParamError::Unknown { .. })
        ));
        let e = s.resolve([("fast", "0")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parameter 'fast': 0 is outside the allowed range 1..=10000"
        );
        assert!(matches!(
            s.resolve([("fast", "x")]),
            Err(ParamError::Invalid { .. })
        ));
        assert!(matches!(
            s.resolve([("mode", "open")]),
            Err(ParamError::Invalid { .. })
        ));
        assert!(split_pair("fast").is_err());
    }
}
