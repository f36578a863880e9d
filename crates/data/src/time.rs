//! UTC timestamps as milliseconds since the Unix epoch, without a date crate.
//!
//! Dates are converted with Howard Hinnant's `days_from_civil` /
//! `civil_from_days` algorithms (proleptic Gregorian calendar), which are
//! exact for every `i64` day count used here and need no tables.
//!
//! Accepted text forms ([`parse_timestamp`]):
//! - ISO-8601 `2024-01-01T10:00:00Z`, with an offset (`+02:00`, `+0200`,
//!   `-05`), or naive (taken as UTC), with optional fractional seconds;
//! - `2024-01-01 10:00:00` and `2024-01-01 10:00` (UTC);
//! - a date alone, `2024-01-01` (midnight UTC);
//! - MetaTrader's `2017.01.02 07:00` (dots or slashes instead of dashes);
//! - epoch seconds or milliseconds, told apart by magnitude.
//!
//! Fractional seconds below a millisecond are truncated.

use std::fmt;
use thiserror::Error;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The first instant a bar may have: 0001-01-01T00:00:00Z.
///
/// Bars are bounded to four-digit years so that every sum the engine and
/// the run planner make with a timestamp (a bar's end, a bucket start, a
/// period's end, plus any timeframe up to `u32::MAX` seconds) stays far
/// inside `i64`: an import outside this range is refused, never wrapped.
pub const MIN_TS_MS: i64 = days_from_civil(1, 1, 1) * DAY_MS;

/// The last instant a bar may have: 9999-12-31T23:59:59.999Z.
pub const MAX_TS_MS: i64 = days_from_civil(10_000, 1, 1) * DAY_MS - 1;

/// A timestamp text that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot parse timestamp '{0}': expected ISO-8601 (2024-01-01T10:00:00Z), 'YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD' or epoch seconds/milliseconds")]
pub struct TimestampError(pub String);

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d`.
///
/// `m` is 1..=12 and `d` 1..=31; the result is meaningless for other values.
#[must_use]
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = m as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 }; // [0, 11]
    let doy = (153 * mp + 2) / 5 + d as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of `z` days since 1970-01-01.
#[must_use]
pub const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

const fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The unit of an integer epoch timestamp, chosen by magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl EpochUnit {
    /// Seconds below 1e11 (until year 5138), milliseconds below 1e14,
    /// microseconds below 1e17, nanoseconds above.
    pub(crate) fn from_magnitude(v: i64) -> Self {
        match v.unsigned_abs() {
            0..100_000_000_000 => Self::Seconds,
            100_000_000_000..100_000_000_000_000 => Self::Millis,
            100_000_000_000_000..100_000_000_000_000_000 => Self::Micros,
            _ => Self::Nanos,
        }
    }

    /// `v` in this unit as milliseconds (sub-millisecond parts truncated
    /// toward negative infinity); `None` on overflow.
    pub(crate) fn to_ms(self, v: i64) -> Option<i64> {
        match self {
            Self::Seconds => v.checked_mul(1000),
            Self::Millis => Some(v),
            Self::Micros => Some(v.div_euclid(1000)),
            Self::Nanos => Some(v.div_euclid(1_000_000)),
        }
    }
}

impl fmt::Display for EpochUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Seconds => "seconds",
            Self::Millis => "milliseconds",
            Self::Micros => "microseconds",
            Self::Nanos => "nanoseconds",
        })
    }
}

/// Parses a plain non-negative integer (ASCII digits only, at most 18).
pub(crate) fn parse_uint(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// A cursor over the bytes of a date-time text.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0u32;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Parses the text date-time forms (not epoch numbers) to ms since epoch.
pub(crate) fn parse_datetime(b: &[u8]) -> Option<i64> {
    let b = b.trim_ascii();
    let mut c = Cursor { b, i: 0 };
    let year = c.digits(4)?;
    let sep = c.peek()?;
    if !matches!(sep, b'-' | b'.' | b'/') {
        return None;
    }
    c.i += 1;
    let month = c.digits(2)?;
    if !c.eat(sep) {
        return None;
    }
    let day = c.digits(2)?;
    let year = i64::from(year);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if c.done() {
        return Some(days * DAY_MS);
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    while c.eat(b' ') {}
    let hour = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut millis = 0;
    if c.eat(b':') {
        second = c.digits(2)?;
        if c.eat(b'.') || c.eat(b',') {
            let start = c.i;
            let mut scale = 100;
            while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                millis += u32::from(d - b'0') * scale;
                scale /= 10;
                c.i += 1;
            }
            if c.i == start {
                return None;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut offset_min: i64 = 0;
    while c.eat(b' ') {}
    match c.peek() {
        None => {}
        Some(b'Z' | b'z') => c.i += 1,
        Some(s @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.digits(2)?;
            let om = if c.eat(b':') {
                c.digits(2)?
            } else {
                c.digits(2).unwrap_or(0)
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let total = i64::from(oh * 60 + om);
            offset_min = if s == b'-' { -total } else { total };
        }
        Some(_) => return None,
    }
    if !c.done() {
        return None;
    }
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_min * 60;
    Some(secs * 1000 + i64::from(millis))
}

/// Parses one timestamp to milliseconds since the Unix epoch (UTC).
///
/// See the [module docs](self) for the accepted forms. A bare integer is
/// epoch seconds below `1e11`, milliseconds below `1e14`, microseconds
/// below `1e17` and nanoseconds above.
///
/// # Errors
/// [`TimestampError`] when the text is none of the accepted forms or names
/// an impossible date or time.
pub fn parse_timestamp(s: &str) -> Result<i64, TimestampError> {
    let b = s.trim().as_bytes();
    if let Some(v) = parse_uint(b) {
        return EpochUnit::from_magnitude(v)
            .to_ms(v)
            .ok_or_else(|| TimestampError(s.to_owned()));
    }
    parse_datetime(b).ok_or_else(|| TimestampError(s.to_owned()))
}

/// Formats ms since the epoch as ISO-8601 UTC: `2024-01-01T10:00:00Z`, with
/// `.mmm` only when the milliseconds are not zero.
#[must_use]
pub fn format_iso(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (secs, milli) = (rem / 1000, rem % 1000);
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_704_103_200_000; // 2024-01-01T10:00:00Z

    #[test]
    fn civil_round_trips_over_centuries() {
        for z in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn parses_every_accepted_form() {
        for s in [
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00",
            "2024-01-01T10:00:00.000Z",
            "2024-01-01 10:00:00",
            "2024-01-01 10:00",
            "2024-01-01T12:00:00+02:00",
            "2024-01-01T12:00:00+0200",
            "2024-01-01T05:00:00-05:00",
            "2024-01-01 10:00:00+00:00",
            "2024.01.01 10:00",
            "1704103200",
            "1704103200000",
            " 2024-01-01T10:00:00Z ",
        ] {
            assert_eq!(parse_timestamp(s), Ok(T), "{s}");
        }
        assert_eq!(parse_timestamp("2024-01-01"), Ok(T - 10 * 3_600_000));
        assert_eq!(parse_timestamp("2024-01-01T10:00:00.25Z"), Ok(T + 250));
        assert_eq!(parse_timestamp("2024-01-01T10:00:00.1239Z"), Ok(T + 123));
        assert_eq!(parse_timestamp("1704103200000000"), Ok(T), "microseconds");
    }

    #[test]
    fn rejects_impossible_dates_and_junk() {
        for s in [
            "",
            "2023-02-29",
            "2024-13-01",
            "2024-01-32",
            "2024-01-01T24:00:00Z",
            "2024-01-01T10:60",
            "2024-01-01X10:00",
            "2024-01-01T10:00:00Q",
            "2024-01.01",
            "yesterday",
            "2024-01-01T10:00:00.Z",
        ] {
            assert!(parse_timestamp(s).is_err(), "{s}");
        }
        assert!(parse_timestamp("2024-02-29").is_ok());
    }

    #[test]
    fn the_supported_range_is_the_four_digit_years() {
        assert_eq!(format_iso(MIN_TS_MS), "0001-01-01T00:00:00Z");
        assert_eq!(format_iso(MAX_TS_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(parse_timestamp("9999-12-31T23:59:59.999Z"), Ok(MAX_TS_MS));
    }

    #[test]
    fn formats_iso() {
        assert_eq!(format_iso(T), "2024-01-01T10:00:00Z");
        assert_eq!(format_iso(T + 5), "2024-01-01T10:00:00.005Z");
        assert_eq!(format_iso(-1000), "1969-12-31T23:59:59Z");
        assert_eq!(parse_timestamp(&format_iso(-86_399_000)), Ok(-86_399_000));
    }

    #[test]
    fn epoch_unit_by_magnitude() {
        assert_eq!(EpochUnit::from_magnitude(1_704_103_200), EpochUnit::Seconds);
        assert_eq!(EpochUnit::from_magnitude(T), EpochUnit::Millis);
        assert_eq!(EpochUnit::from_magnitude(T * 1000), EpochUnit::Micros);
        assert_eq!(EpochUnit::from_magnitude(T * 1_000_000), EpochUnit::Nanos);
    }
}
