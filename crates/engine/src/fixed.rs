//! Fixed-point numbers: prices, quantities, money and ratios as `i64`.
//!
//! Every value inside the engine is an integer count of the smallest unit of
//! its *scale* (a number of decimal places). The scale lives once per
//! instrument (see [`crate::Instrument`]), not in every value, so a value is
//! 8 bytes and arithmetic in the hot loop is plain integer arithmetic.
//!
//! | type | scale | example |
//! |---|---|---|
//! | [`Price`] | `Instrument::price_scale` | `123.45` at 2 dp = `12345` |
//! | [`Qty`] | `Instrument::qty_scale` | `0.001` BTC at 3 dp = `1` |
//! | [`Money`] | `Instrument::money_scale` | `10000.00` USD at 4 dp = `100000000` |
//! | [`Ratio`] | fixed 1e-9 ([`Ratio::ONE`]) | `0.1 %` = `0.001` = `1_000_000` |
//!
//! Text is parsed as decimals digit by digit ([`Scale::parse`]), never through
//! `f64`: `int(value * SCALE)` turns `0.29` into `28` at 2 dp. Conversions to
//! `f64` exist only for statistics and display ([`Scale::to_f64`]).
//!
//! Addition and subtraction of two values of one type panic on overflow in
//! debug and test builds (`overflow-checks`); products that can exceed `i64`
//! (price × quantity, notional × rate) are computed in `i128` and rounded once.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Why a decimal string could not be turned into a fixed-point value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FixedError {
    /// The text is not a plain decimal number (`-12.345`, `7`, `.5`).
    #[error("'{text}' is not a decimal number")]
    NotANumber {
        /// The offending text.
        text: String,
    },
    /// The number has more decimal places than the scale holds.
    #[error("'{text}' has more than {decimals} decimal places")]
    TooManyDecimals {
        /// The offending text.
        text: String,
        /// The scale's number of decimal places.
        decimals: u8,
    },
    /// The number does not fit in an `i64` at this scale.
    #[error("'{text}' is too large")]
    Overflow {
        /// The offending text.
        text: String,
    },
}

/// Largest number of decimal places a [`Scale`] supports (10^18 fits in i64).
pub const MAX_DECIMALS: u8 = 18;

/// A number of decimal places: how raw integers map to real numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scale(u8);

impl Scale {
    /// A scale of `decimals` decimal places.
    ///
    /// # Panics
    /// If `decimals > MAX_DECIMALS`.
    #[must_use]
    pub const fn new(decimals: u8) -> Self {
        assert!(decimals <= MAX_DECIMALS, "scale above 18 decimals");
        Self(decimals)
    }

    /// Number of decimal places.
    #[must_use]
    pub const fn decimals(self) -> u8 {
        self.0
    }

    /// `10^decimals`: the raw value of `1`.
    #[must_use]
    pub const fn unit(self) -> i64 {
        10i64.pow(self.0 as u32)
    }

    /// Parses a decimal string exactly.
    ///
    /// Accepts an optional sign, digits, an optional fraction and surrounding
    /// whitespace. Trailing zeros beyond the scale are accepted (`1.50` at
    /// 1 dp); any other extra digit is an error, never silently rounded.
    ///
    /// # Errors
    /// [`FixedError`] when the text is not a number, has too many decimals or
    /// overflows.
    pub fn parse(self, text: &str) -> Result<i64, FixedError> {
        parse_decimal(text.as_bytes(), self.0).map_err(|kind| kind.with_text(text, self.0))
    }

    /// Real value of `raw` for statistics and display only.
    #[must_use]
    pub fn to_f64(self, raw: i64) -> f64 {
        raw as f64 / self.unit() as f64
    }

    /// Exact decimal text of `raw`, trailing zeros kept (`12.50`).
    #[must_use]
    pub fn format(self, raw: i64) -> String {
        let unit = self.unit().unsigned_abs();
        let abs = raw.unsigned_abs();
        let sign = if raw < 0 { "-" } else { "" };
        if self.0 == 0 {
            return format!("{sign}{abs}");
        }
        format!(
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = self.0 as usize
        )
    }

    /// Converts a raw value at `self` to a raw value at `to`, rounding half
    /// away from zero when precision is lost. `None` on overflow.
    #[must_use]
    pub fn rescale(self, raw: i128, to: Scale) -> Option<i64> {
        let v = rescale_i128(raw, self.0, to.0);
        i64::try_from(v).ok()
    }
}

/// Rounds `value / divisor` half away from zero (`divisor > 0`).
#[must_use]
pub fn div_round(value: i128, divisor: i128) -> i128 {
    debug_assert!(divisor > 0);
    // i128 division is a slow library call; most operands fit in i64.
    if let (Ok(v), Ok(d)) = (i64::try_from(value), i64::try_from(divisor)) {
        let (q, r) = (v / d, v % d);
        let bump = i64::from(r.unsigned_abs() >= d.unsigned_abs() - r.unsigned_abs()) * v.signum();
        return i128::from(q + bump);
    }
    let q = value / divisor;
    let r = value % divisor;
    if 2 * r.abs() >= divisor {
        q + value.signum()
    } else {
        q
    }
}

/// Rounds `value / divisor` toward negative infinity (`divisor > 0`).
#[must_use]
pub fn div_floor(value: i128, divisor: i128) -> i128 {
    debug_assert!(divisor > 0);
    if let (Ok(v), Ok(d)) = (i64::try_from(value), i64::try_from(divisor)) {
        return i128::from(v.div_euclid(d));
    }
    value.div_euclid(divisor)
}

fn pow10_i128(n: u8) -> i128 {
    10i128.pow(u32::from(n))
}

/// Moves `raw` from `from` decimals to `to` decimals, rounding half away from zero.
#[must_use]
pub fn rescale_i128(raw: i128, from: u8, to: u8) -> i128 {
    use std::cmp::Ordering;
    match from.cmp(&to) {
        Ordering::Equal => raw,
        Ordering::Less => raw * pow10_i128(to - from),
        Ordering::Greater => div_round(raw, pow10_i128(from - to)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParseKind {
    NotANumber,
    TooManyDecimals,
    Overflow,
}

impl ParseKind {
    fn with_text(self, text: &str, decimals: u8) -> FixedError {
        let text = text.to_owned();
        match self {
            Self::NotANumber => FixedError::NotANumber { text },
            Self::TooManyDecimals => FixedError::TooManyDecimals { text, decimals },
            Self::Overflow => FixedError::Overflow { text },
        }
    }
}

/// Byte-level decimal parser shared by [`Scale::parse`] and the importers'
/// hot path (no allocation on success).
fn parse_decimal(bytes: &[u8], decimals: u8) -> Result<i64, ParseKind> {
    let s = bytes.trim_ascii();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(ParseKind::NotANumber);
    }
    let mut value: i64 = 0;
    let mut seen_digit = false;
    let mut frac_digits: u8 = 0;
    let mut in_frac = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                let d = i64::from(b - b'0');
                if in_frac {
                    if frac_digits == decimals {
                        if d != 0 {
                            return Err(ParseKind::TooManyDecimals);
                        }
                        continue;
                    }
                    frac_digits += 1;
                }
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(d))
                    .ok_or(ParseKind::Overflow)?;
            }
            b'.' if !in_frac => in_frac = true,
            _ => return Err(ParseKind::NotANumber),
        }
    }
    if !seen_digit {
        return Err(ParseKind::NotANumber);
    }
    let pad = 10i64
        .checked_pow(u32::from(decimals - frac_digits))
        .ok_or(ParseKind::Overflow)?;
    value = value.checked_mul(pad).ok_or(ParseKind::Overflow)?;
    Ok(if neg { -value } else { value })
}

/// Number of decimal places written in a decimal string (`"1.250"` → 3),
/// used by importers to detect a dataset's price scale. Trailing zeros count:
/// they show the precision the source wrote.
#[must_use]
pub fn decimals_written(text: &str) -> u8 {
    let t = text.trim();
    match t.find('.') {
        Some(dot) => u8::try_from(t.len() - dot - 1).unwrap_or(u8::MAX),
        None => 0,
    }
}

macro_rules! raw_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);

            /// Wraps a raw value already at the right scale.
            #[must_use]
            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw integer (count of the scale's smallest unit).
            #[must_use]
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// `self + rhs`, `None` on overflow.
            #[must_use]
            pub const fn checked_add(self, rhs: Self) -> Option<Self> {
                match self.0.checked_add(rhs.0) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }
        }

        impl std::ops::Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl std::ops::Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }

        impl std::ops::Neg for $name {
            type Output = Self;
            fn neg(self) -> Self {
                Self(-self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}raw", self.0)
            }
        }
    };
}

raw_newtype!(
    /// A price in units of the instrument's price scale.
    Price
);
raw_newtype!(
    /// A signed quantity in units of the instrument's quantity scale
    /// (positive = long / buy, negative = short / sell).
    Qty
);
raw_newtype!(
    /// An amount of the quote currency in units of the money scale.
    Money
);

/// A dimensionless ratio with 9 decimal places (`1.0` = [`Ratio::ONE`]).
///
/// Used for commission rates and sizing fractions so that `0.1 %` is exact.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Ratio(i64);

impl Ratio {
    /// Decimal places of a ratio.
    pub const SCALE: Scale = Scale::new(9);
    /// `1.0`.
    pub const ONE: Self = Self(1_000_000_000);
    /// `0`.
    pub const ZERO: Self = Self(0);

    /// Wraps a raw ratio (1e-9 units).
    #[must_use]
    pub const fn from_raw(raw: i64) -> Self {
        Self(raw)
    }

    /// The raw value in 1e-9 units.
    #[must_use]
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// Parses a percentage (`"0.1"` → 0.001) exactly.
    ///
    /// # Errors
    /// [`FixedError`] if the text is not a decimal with at most 7 places.
    pub fn from_percent_str(text: &str) -> Result<Self, FixedError> {
        // percent with 7 dp == ratio with 9 dp
        Scale::new(7).parse(text).map(Self)
    }

    /// The ratio as a percentage, for display.
    #[must_use]
    pub fn to_percent_f64(self) -> f64 {
        self.0 as f64 / 1e7
    }

    /// `value * self`, rounded half away from zero.
    #[must_use]
    pub fn apply(self, value: i128) -> i128 {
        div_round(value * i128::from(self.0), i128::from(Self::ONE.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_without_float_rounding() {
        let s = Scale::new(2);
        assert_eq!(s.parse("0.29"), Ok(29));
        assert_eq!(s.parse("1.5"), Ok(150));
        assert_eq!(s.parse("-12.30"), Ok(-1230));
        assert_eq!(s.parse(" 7 "), Ok(700));
        assert_eq!(s.parse(".5"), Ok(50));
        assert_eq!(
            s.parse("1.500"),
            Ok(150),
            "trailing zeros beyond scale are fine"
        );
    }

    #[test]
    fn rejects_bad_decimals() {
        let s = Scale::new(2);
        assert!(matches!(
            s.parse("1.234"),
            Err(FixedError::TooManyDecimals { .. })
        ));
        assert!(matches!(s.parse("abc"), Err(FixedError::NotANumber { .. })));
        assert!(matches!(
            s.parse("1.2.3"),
            Err(FixedError::NotANumber { .. })
        ));
        assert!(matches!(s.parse(""), Err(FixedError::NotANumber { .. })));
        assert!(matches!(s.parse("-"), Err(FixedError::NotANumber { .. })));
        assert!(matches!(s.parse("1e5"), Err(FixedError::NotANumber { .. })));
        assert!(matches!(
            Scale::new(9).parse("99999999999"),
            Err(FixedError::Overflow { .. })
        ));
    }

    #[test]
    fn format_round_trips() {
        let s = Scale::new(4);
        for raw in [0, 1, -1, 12_345, -98_765_432, i64::MAX / 10] {
            assert_eq!(s.parse(&s.format(raw)), Ok(raw));
        }
        assert_eq!(s.format(-5), "-0.0005");
        assert_eq!(Scale::new(0).format(42), "42");
    }

    #[test]
    fn rescale_rounds_half_away_from_zero() {
        assert_eq!(rescale_i128(125, 2, 1), 13);
        assert_eq!(rescale_i128(-125, 2, 1), -13);
        assert_eq!(rescale_i128(124, 2, 1), 12);
        assert_eq!(rescale_i128(12, 1, 3), 1200);
    }

    #[test]
    fn fast_and_wide_division_agree() {
        for v in [
            -7i128,
            -6,
            -5,
            -1,
            0,
            1,
            5,
            6,
            7,
            149,
            150,
            151,
            -150,
            123_456_789,
        ] {
            for d in [1i128, 2, 3, 10, 300] {
                let wide = |x: i128| x * (1i128 << 70);
                assert_eq!(div_round(v, d), div_round(wide(v), wide(d)), "{v}/{d}");
                assert_eq!(div_floor(v, d), div_floor(wide(v), wide(d)), "{v}/{d}");
            }
        }
    }

    #[test]
    fn percent_ratio_is_exact() {
        let r = Ratio::from_percent_str("0.1").unwrap();
        assert_eq!(r.raw(), 1_000_000);
        // 0.1 % of 12345.6789 (at 4 dp) = 12.3456789 -> 12.3457
        assert_eq!(r.apply(123_456_789), 123_457);
    }

    #[test]
    fn counts_written_decimals() {
        assert_eq!(decimals_written("1.250"), 3);
        assert_eq!(decimals_written("17"), 0);
    }
}
