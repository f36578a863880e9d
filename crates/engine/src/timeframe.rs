//! Bar durations (`1m`, `5m`, `1h`, `1d`, …) and their UTC-aligned buckets.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A bar duration in whole seconds.
///
/// Buckets are aligned to the Unix epoch, i.e. to UTC boundaries: an hourly
/// bar starts at `hh:00:00Z`, a daily bar at `00:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timeframe(u32);

/// A timeframe string that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid timeframe '{0}': expected a number followed by s, m, h, d or w (e.g. 1m, 15m, 1h, 4h, 1d)")]
pub struct TimeframeError(pub String);

impl Timeframe {
    /// One minute.
    pub const M1: Self = Self(60);
    /// One hour.
    pub const H1: Self = Self(3600);
    /// One day.
    pub const D1: Self = Self(86_400);

    /// A timeframe of `secs` seconds (`secs > 0`).
    #[must_use]
    pub const fn from_secs(secs: u32) -> Self {
        assert!(secs > 0, "timeframe must be positive");
        Self(secs)
    }

    /// Length in seconds.
    #[must_use]
    pub const fn secs(self) -> u32 {
        self.0
    }

    /// Length in milliseconds.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0 as i64 * 1000
    }

    /// Start (ms) of the bucket that contains `ts_ms`.
    #[must_use]
    pub const fn bucket_start(self, ts_ms: i64) -> i64 {
        ts_ms - ts_ms.rem_euclid(self.millis())
    }

    /// Whether bars of `self` can be built from bars of `sub`: a whole multiple.
    #[must_use]
    pub const fn is_multiple_of(self, sub: Timeframe) -> bool {
        self.0 >= sub.0 && self.0.is_multiple_of(sub.0)
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s.is_multiple_of(604_800) {
            write!(f, "{}w", s / 604_800)
        } else if s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl FromStr for Timeframe {
    type Err = TimeframeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || TimeframeError(text.to_owned());
        let t = text.trim();
        let unit_at = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (num, unit) = t.split_at(unit_at);
        let n: u32 = num.parse().map_err(|_| err())?;
        let mult = match unit {
            "s" => 1,
            "m" | "min" => 60,
            "h" | "H" => 3600,
            "d" | "D" => 86_400,
            "w" | "W" => 604_800,
            _ => return Err(err()),
        };
        match n.checked_mul(mult) {
            Some(secs) if secs > 0 => Ok(Self(secs)),
            _ => Err(err()),
        }
    }
}

impl TryFrom<String> for Timeframe {
    type Error = TimeframeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Timeframe> for String {
    fn from(t: Timeframe) -> Self {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        for (s, secs) in [
            ("1m", 60),
            ("15m", 900),
            ("1h", 3600),
            ("4h", 14_400),
            ("1d", 86_400),
        ] {
            let tf: Timeframe = s.parse().unwrap();
            assert_eq!(tf.secs(), secs);
            assert_eq!(tf.to_string(), s);
        }
        assert!("0m".parse::<Timeframe>().is_err());
        assert!("h".parse::<Timeframe>().is_err());
        assert!("5x".parse::<Timeframe>().is_err());
    }

    #[test]
    fn buckets_align_to_utc() {
        let h = Timeframe::H1;
        // 2024-01-01T10:59:00Z
        let ts = 1_704_106_740_000;
        assert_eq!(h.bucket_start(ts), 1_704_103_200_000);
        assert!(Timeframe::H1.is_multiple_of(Timeframe::M1));
        assert!(!Timeframe::M1.is_multiple_of(Timeframe::H1));
    }
}
