//! Parameter grids for optimization: axes, their cartesian product, and
//! combination `i` decoded from its index (mixed radix), so any index range
//! can run anywhere — another thread now, another machine later.
//!
//! An axis is written `name=min..max:step` (ints or floats) or
//! `name=v1,v2,v3`; a constraint `a<b` (also `<=`, `>`, `>=`, `!=`)
//! skips combinations, which are counted apart from failures.

use crate::params::{ParamError, ParamKind, ParamSpace, ParamValue};
use thiserror::Error;

/// The largest grid accepted unless configured otherwise (CLI, server).
pub const DEFAULT_MAX_COMBINATIONS: u64 = 1_000_000;

/// Why a grid was refused (before any work).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GridError {
    /// Malformed axis text.
    #[error("axis '{text}': {reason}")]
    Syntax {
        /// The axis as written.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A value or name rejected by the strategy's declaration.
    #[error("axis: {0}")]
    Param(#[from] ParamError),
    /// The same parameter given twice.
    #[error("axis '{0}' given twice")]
    Duplicate(String),
    /// More combinations than allowed.
    #[error("grid of {size} combinations exceeds the limit of {limit}")]
    TooLarge {
        /// Combinations requested (saturating).
        size: u64,
        /// The configured maximum.
        limit: u64,
    },
    /// Malformed or unknown constraint.
    #[error("constraint '{text}': {reason}")]
    Constraint {
        /// The constraint as written.
        text: String,
        /// What is wrong.
        reason: String,
    },
}

/// One axis: a parameter and the values it takes, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Parameter name (as declared by the strategy).
    pub name: &'static str,
    /// Values, each checked against the declaration.
    pub values: Vec<ParamValue>,
}

fn syntax(text: &str, reason: impl Into<String>) -> GridError {
    GridError::Syntax {
        text: text.to_owned(),
        reason: reason.into(),
    }
}

/// Most values one axis may hold (a range with a tiny step is a typo).
const MAX_AXIS_VALUES: usize = 1_000_000;

impl Axis {
    /// Parses `name=min..max:step` or `name=v1,v2,…` against `space`.
    ///
    /// # Errors
    /// [`GridError`] for bad syntax, step ≤ 0, min > max, unknown names and
    /// values outside the declared range.
    pub fn parse(text: &str, space: &ParamSpace) -> Result<Self, GridError> {
        let (name, spec) = text
            .split_once('=')
            .ok_or_else(|| syntax(text, "expected name=min..max:step or name=a,b,c"))?;
        let name = name.trim();
        let decl = space.get(name).ok_or_else(|| {
            GridError::Param(ParamError::Unknown {
                name: name.to_owned(),
                known: space
                    .0
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        })?;
        let values = if let Some((range, step)) = spec
            .split_once("..")
            .map(|(a, rest)| (a, rest.split_once(':')))
        {
            let (max, step) =
                step.ok_or_else(|| syntax(text, "a range needs a step: min..max:step"))?;
            match decl.kind {
                ParamKind::Int { .. } => {
                    let num = |s: &str| {
                        s.trim()
                            .parse::<i64>()
                            .map_err(|_| syntax(text, format!("'{s}' is not an integer")))
                    };
                    let (lo, hi, st) = (num(range)?, num(max)?, num(step)?);
                    if st <= 0 {
                        return Err(syntax(text, "step must be positive"));
                    }
                    if lo > hi {
                        return Err(syntax(text, "min is greater than max"));
                    }
                    // in i128: `hi - lo` of two i64 can exceed i64 (a 422, never a wrap);
                    // every value generated below lies in lo..=hi, so it fits
                    let n = usize::try_from((i128::from(hi) - i128::from(lo)) / i128::from(st) + 1)
                        .unwrap_or(usize::MAX);
                    if n > MAX_AXIS_VALUES {
                        return Err(syntax(text, format!("more than {MAX_AXIS_VALUES} values")));
                    }
                    std::iter::successors(Some(lo), |v| v.checked_add(st).filter(|v| *v <= hi))
                        .map(ParamValue::Int)
                        .collect::<Vec<_>>()
                }
                ParamKind::Float { .. } => {
                    let num = |s: &str| {
                        s.trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|x| x.is_finite())
                            .ok_or_else(|| syntax(text, format!("'{s}' is not a number")))
                    };
                    let (lo, hi, st) = (num(range)?, num(max)?, num(step)?);
                    if st <= 0.0 {
                        return Err(syntax(text, "step must be positive"));
                    }
                    if lo > hi {
                        return Err(syntax(text, "min is greater than max"));
                    }
                    // count with a relative epsilon so 0.1..0.3:0.1 has 3 values
                    let n = ((hi - lo) / st * (1.0 + 1e-9)).floor() + 1.0;
                    if n > MAX_AXIS_VALUES as f64 {
                        return Err(syntax(text, format!("more than {MAX_AXIS_VALUES} values")));
                    }
                    (0..n as usize)
                        .map(|i| ParamValue::Float(lo + i as f64 * st))
                        .collect()
                }
                _ => {
                    return Err(syntax(
                        text,
                        "ranges are for int and float parameters; list the values instead",
                    ))
                }
            }
        } else {
            spec.split(',')
                .map(|v| decl.parse(v))
                .collect::<Result<Vec<_>, _>>()?
        };
        if values.is_empty() {
            return Err(syntax(text, "no values"));
        }
        for v in &values {
            decl.check(v)?;
        }
        Ok(Self {
            name: decl.name,
            values,
        })
    }
}

/// How a [`Constraint`] compares its two parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `!=`
    Ne,
}

/// A relation between two numeric parameters that a combination must
/// satisfy to run (e.g. `fast<slow`); others are skipped, not failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// Left parameter.
    pub left: &'static str,
    /// Comparison.
    pub cmp: Cmp,
    /// Right parameter.
    pub right: &'static str,
}

impl Constraint {
    /// Parses `a<b`, `a<=b`, `a>b`, `a>=b` or `a!=b` over declared numeric parameters.
    ///
    /// # Errors
    /// [`GridError::Constraint`] for bad syntax or unknown/non-numeric names.
    pub fn parse(text: &str, space: &ParamSpace) -> Result<Self, GridError> {
        let bad = |reason: String| GridError::Constraint {
            text: text.to_owned(),
            reason,
        };
        let (at, op, cmp) = ["<=", ">=", "!=", "<", ">"]
            .iter()
            .find_map(|op| text.find(op).map(|i| (i, *op)))
            .map(|(i, op)| {
                let cmp = match op {
                    "<=" => Cmp::Le,
                    ">=" => Cmp::Ge,
                    "!=" => Cmp::Ne,
                    "<" => Cmp::Lt,
                    _ => Cmp::Gt,
                };
                (i, op, cmp)
            })
            .ok_or_else(|| bad("expected a<b, a<=b, a>b, a>=b or a!=b".to_owned()))?;
        let name = |n: &str| -> Result<&'static str, GridError> {
            let p = space
                .get(n.trim())
                .ok_or_else(|| bad(format!("unknown parameter '{}'", n.trim())))?;
            match p.kind {
                ParamKind::Int { .. } | ParamKind::Float { .. } => Ok(p.name),
                _ => Err(bad(format!("'{}' is not numeric", p.name))),
            }
        };
        Ok(Self {
            left: name(&text[..at])?,
            cmp,
            right: name(&text[at + op.len()..])?,
        })
    }

    /// Whether the values given by `value` (by parameter name) satisfy it;
    /// a parameter `value` does not know passes.
    #[must_use]
    pub fn allows(&self, value: impl Fn(&str) -> Option<f64>) -> bool {
        let (Some(a), Some(b)) = (value(self.left), value(self.right)) else {
            return true;
        };
        match self.cmp {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Ne => a != b,
        }
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.cmp {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Ne => "!=",
        };
        write!(f, "{} {op} {}", self.left, self.right)
    }
}

/// Numeric value of a parameter for constraint checks.
#[must_use]
pub fn numeric(v: ParamValue) -> Option<f64> {
    match v {
        ParamValue::Int(i) => Some(i as f64),
        ParamValue::Float(f) => Some(f),
        _ => None,
    }
}

/// The cartesian product of axes. Combination `i` has the first axis as
/// its most significant digit, so consecutive indices vary the last axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    axes: Vec<Axis>,
    size: u64,
}

impl Grid {
    /// Builds a grid, refusing duplicates and more than `limit` combinations.
    ///
    /// # Errors
    /// [`GridError::Duplicate`] or [`GridError::TooLarge`].
    pub fn new(axes: Vec<Axis>, limit: u64) -> Result<Self, GridError> {
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.name == a.name) {
                return Err(GridError::Duplicate(a.name.to_owned()));
            }
        }
        let size = axes
            .iter()
            .fold(1u64, |acc, a| acc.saturating_mul(a.values.len() as u64));
        if size > limit {
            return Err(GridError::TooLarge { size, limit });
        }
        Ok(Self { axes, size })
    }

    /// Number of combinations (`totalCombinations`).
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The axes.
    #[must_use]
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Writes combination `index` into `out` (one value per axis, in axis
    /// order), reusing its allocation.
    ///
    /// # Panics
    /// If `index >= size()`.
    pub fn decode_into(&self, index: u64, out: &mut Vec<(&'static str, ParamValue)>) {
        assert!(
            index < self.size,
            "combination {index} outside a grid of {}",
            self.size
        );
        out.clear();
        out.extend(self.axes.iter().map(|a| (a.name, a.values[0])));
        let mut rest = index;
        for (slot, axis) in out.iter_mut().zip(&self.axes).rev() {
            let n = axis.values.len() as u64;
            slot.1 = axis.values[(rest % n) as usize];
            rest /= n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{ParamSpec, StrategyParams};

    #[test]
    fn decodes_every_combination_once_in_mixed_radix() {
        let space = crate::strategies::SmaCrossParams::space();
        let fast = Axis::parse("fast=5..50:5", &space).unwrap();
        let slow = Axis::parse("slow=20..200:10", &space).unwrap();
        let grid = Grid::new(vec![fast, slow], 1_000_000).unwrap();
        assert_eq!(grid.size(), 190);
        let mut out = Vec::new();
        grid.decode_into(0, &mut out);
        assert_eq!(
            out,
            vec![("fast", ParamValue::Int(5)), ("slow", ParamValue::Int(20))]
        );
        grid.decode_into(20, &mut out);
        assert_eq!(
            out,
            vec![("fast", ParamValue::Int(10)), ("slow", ParamValue::Int(30))]
        );
        grid.decode_into(189, &mut out);
        assert_eq!(
            out,
            vec![
                ("fast", ParamValue::Int(50)),
                ("slow", ParamValue::Int(200))
            ]
        );
        let mut seen = std::collections::HashSet::new();
        for i in 0..grid.size() {
            grid.decode_into(i, &mut out);
            assert!(seen.insert(format!("{out:?}")));
        }
    }

    #[test]
    fn refuses_bad_axes_clearly() {
        let space = crate::strategies::SmaCrossParams::space();
        let err = |t: &str| Axis::parse(t, &space).unwrap_err().to_string();
        assert_eq!(
            err("fast=5..50:0"),
            "axis 'fast=5..50:0': step must be positive"
        );
        assert_eq!(
            err("fast=50..5:5"),
            "axis 'fast=50..5:5': min is greater than max"
        );
        assert!(err("fats=1..2:1").contains("unknown parameter 'fats'"));
        assert!(err("fast=0..10:5").contains("outside the allowed range"));
        assert!(err("fast=1..10").contains("needs a step"));
        let list = Axis::parse("long_only=true,false", &space).unwrap();
        assert_eq!(list.values.len(), 2);
        let a = Axis::parse("fast=1..10000:1", &space).unwrap();
        let b = Axis::parse("slow=1..10000:1", &space).unwrap();
        assert!(matches!(
            Grid::new(vec![a, b], 1_000_000),
            Err(GridError::TooLarge {
                size: 100_000_000,
                ..
            })
        ));
    }

    #[test]
    fn integer_axes_at_the_i64_edges_are_refused_or_exact_never_wrapped() {
        let space = ParamSpace(vec![ParamSpec::int("n", "any i64", 0, i64::MIN, i64::MAX)]);
        let err = |t: &str| Axis::parse(t, &space).unwrap_err().to_string();
        // the whole i64 range: counted without overflow, refused by size
        assert!(err("n=-9223372036854775808..9223372036854775807:1").contains("more than"));
        // a step that crosses zero from the bottom: exact values, the last at max
        let a = Axis::parse(
            "n=-9223372036854775808..9223372036854775807:1000000000000000000",
            &space,
        )
        .unwrap();
        assert_eq!(a.values.len(), 19);
        assert_eq!(a.values[0], ParamValue::Int(i64::MIN));
        assert_eq!(a.values[18], ParamValue::Int(8_776_627_963_145_224_192));
        // the next value would pass i64::MAX: the axis stops, it does not wrap
        let b = Axis::parse("n=9223372036854775800..9223372036854775807:3", &space).unwrap();
        assert_eq!(
            b.values,
            vec![
                ParamValue::Int(i64::MAX - 7),
                ParamValue::Int(i64::MAX - 4),
                ParamValue::Int(i64::MAX - 1)
            ]
        );
    }

    #[test]
    fn constraints_skip_combinations() {
        let space = crate::strategies::SmaCrossParams::space();
        let c = Constraint::parse("fast<slow", &space).unwrap();
        let grid = Grid::new(
            vec![
                Axis::parse("fast=5..50:5", &space).unwrap(),
                Axis::parse("slow=20..200:10", &space).unwrap(),
            ],
            1_000_000,
        )
        .unwrap();
        let mut out = Vec::new();
        let allowed = (0..grid.size())
            .filter(|&i| {
                grid.decode_into(i, &mut out);
                c.allows(|n| {
                    out.iter()
                        .find(|(k, _)| *k == n)
                        .and_then(|(_, v)| numeric(*v))
                })
            })
            .count();
        // fast 50 vs slow 20..50 (4), fast 45 vs 20..40 (3), 40: 3, 35: 2, 30: 2, 25: 1, 20: 1
        assert_eq!(allowed, 190 - 16);
        assert!(Constraint::parse("fast<long_only", &space).is_err());
        assert!(Constraint::parse("fast~slow", &space).is_err());
        assert!(Constraint::parse("fast<nope", &space).is_err());
    }

    #[test]
    fn float_ranges_include_their_end() {
        let space = crate::strategies::BollingerReversionParams::space();
        let k = Axis::parse("k=1.5..2.5:0.5", &space).unwrap();
        assert_eq!(
            k.values,
            vec![
                ParamValue::Float(1.5),
                ParamValue::Float(2.0),
                ParamValue::Float(2.5)
            ]
        );
    }
}
