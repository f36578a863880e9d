//! Decimal numbers as written: an integer mantissa and a count of decimals.
//!
//! Values are parsed digit by digit, never through `f64`, so `0.29` is
//! `(29, 2)`. The importer detects a dataset's scale from the decimals the
//! source wrote, then rescales every value once ([`Num::to_scale`]).

use std::fmt;

/// Most decimal places a value may be written with (`i64` holds 10^18).
pub(crate) const MAX_WRITTEN: u8 = 18;

/// A decimal number: `mantissa / 10^decimals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Num {
    pub(crate) mantissa: i64,
    pub(crate) decimals: u8,
}

impl Num {
    /// An integer.
    pub(crate) const fn int(v: i64) -> Self {
        Self {
            mantissa: v,
            decimals: 0,
        }
    }

    /// Parses `-12.345`, `7`, `.5`, `+1.` (surrounding ASCII whitespace
    /// allowed). Trailing zeros count as written decimals. `None` when the
    /// text is not a plain decimal or does not fit in `i64`.
    pub(crate) fn parse(b: &[u8]) -> Option<Self> {
        let s = b.trim_ascii();
        let (neg, digits) = match s.first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let mut mantissa: i64 = 0;
        let mut seen_digit = false;
        let mut decimals: u8 = 0;
        let mut in_frac = false;
        for &c in digits {
            match c {
                b'0'..=b'9' => {
                    seen_digit = true;
                    if in_frac {
                        decimals = decimals.checked_add(1)?;
                    }
                    mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
                }
                b'.' if !in_frac => in_frac = true,
                _ => return None,
            }
        }
        if !seen_digit || decimals > MAX_WRITTEN {
            return None;
        }
        Some(Self {
            mantissa: if neg { -mantissa } else { mantissa },
            decimals,
        })
    }

    /// Parses an `f64` through its shortest round-trip decimal text
    /// (`0.1` → `(1, 1)`), never `x * 10^n as i64`. `None` for NaN, infinities,
    /// values that need an exponent and values that do not fit.
    pub(crate) fn from_f64(x: f64) -> Option<Self> {
        if !x.is_finite() {
            return None;
        }
        let text = format!("{x}");
        Self::parse(text.as_bytes()).map(Self::trim_zeros)
    }

    /// Drops trailing fractional zeros: `(1500, 3)` → `(15, 1)`.
    pub(crate) fn trim_zeros(mut self) -> Self {
        while self.decimals > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.decimals -= 1;
        }
        self
    }

    /// Drops trailing fractional zeros only while more than `cap` decimals.
    pub(crate) fn trim_zeros_above(mut self, cap: u8) -> Self {
        while self.decimals > cap && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.decimals -= 1;
        }
        self
    }

    /// The raw value at `scale` decimals. `Err(true)` if precision would be
    /// lost (more non-zero decimals than the scale), `Err(false)` on overflow.
    pub(crate) fn to_scale(self, scale: u8) -> Result<i64, bool> {
        if self.decimals <= scale {
            10i64
                .checked_pow(u32::from(scale - self.decimals))
                .and_then(|p| self.mantissa.checked_mul(p))
                .ok_or(false)
        } else {
            let p = 10i64
                .checked_pow(u32::from(self.decimals - scale))
                .ok_or(true)?;
            if self.mantissa % p == 0 {
                Ok(self.mantissa / p)
            } else {
                Err(true)
            }
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.mantissa.unsigned_abs();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if self.decimals == 0 {
            return write!(f, "{sign}{abs}");
        }
        let unit = 10u64.pow(u32::from(self.decimals));
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = usize::from(self.decimals)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(m: i64, d: u8) -> Num {
        Num {
            mantissa: m,
            decimals: d,
        }
    }

    #[test]
    fn parses_as_written() {
        assert_eq!(Num::parse(b"0.29"), Some(n(29, 2)));
        assert_eq!(Num::parse(b"1.250"), Some(n(1250, 3)));
        assert_eq!(Num::parse(b" -7 "), Some(n(-7, 0)));
        assert_eq!(Num::parse(b".5"), Some(n(5, 1)));
        assert_eq!(Num::parse(b"5."), Some(n(5, 0)));
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"1e5",
            b"1.2.3",
            b"abc",
            b"99999999999999999999",
        ] {
            assert_eq!(Num::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floats_go_through_shortest_text() {
        assert_eq!(Num::from_f64(0.1), Some(n(1, 1)));
        assert_eq!(Num::from_f64(1.05155), Some(n(105_155, 5)));
        assert_eq!(Num::from_f64(100.0), Some(n(100, 0)));
        assert_eq!(Num::from_f64(0.29), Some(n(29, 2)));
        assert_eq!(Num::from_f64(f64::NAN), None);
    }

    #[test]
    fn rescales_exactly() {
        assert_eq!(n(15, 1).to_scale(3), Ok(1500));
        assert_eq!(n(1500, 3).to_scale(1), Ok(15));
        assert_eq!(n(1501, 3).to_scale(1), Err(true));
        assert_eq!(n(i64::MAX, 0).to_scale(1), Err(false));
        assert_eq!(n(-105, 2).to_string(), "-1.05");
        assert_eq!(n(120, 2).to_string(), "1.20");
        assert_eq!(n(3, 0).to_string(), "3");
    }
}
