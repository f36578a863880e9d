//! Row validation, scale detection, timeframe detection and gap counting.
//!
//! Every source (CSV flavours, Parquet) feeds parsed rows into a
//! [`BarsBuilder`], so the rules are the same whatever the format:
//!
//! - timestamps strictly increase (a duplicate or an earlier one is an error);
//! - prices are non-negative, `low <= high`, open and close within `[low, high]`;
//! - volume is non-negative;
//! - the price scale is the most decimals written in any O/H/L/C value
//!   (at most [`MAX_DETECTED_DECIMALS`]) unless given explicitly, in which
//!   case a value with more non-zero decimals is an error; volume has its own
//!   detected scale, lowered (and volumes rounded) only when the largest
//!   volume would not fit in 18 digits. Values are kept at the scale seen so far and rescaled in
//!   place on the rare row that writes more decimals;
//! - the timeframe is the most frequent delta between consecutive bars; a
//!   smaller delta is an error, a larger one is a *gap* (counted, with the
//!   whole bar intervals it skips, but not an error).

use crate::decimal::Num;
use crate::error::DataError;
use crate::time::{format_iso, MAX_TS_MS, MIN_TS_MS};
use atf_engine::fixed::rescale_i128;
use atf_engine::{Bar, Bars, Timeframe};
use std::collections::HashMap;

/// Most price or volume decimals detected automatically.
pub const MAX_DETECTED_DECIMALS: u8 = 12;

/// Largest absolute raw value: DECIMAL(18, s) holds at most 18 digits.
const MAX_RAW: i64 = 999_999_999_999_999_999;

const NAMES: [&str; 4] = ["open", "high", "low", "close"];

/// The outcome of a successful validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validated {
    pub(crate) bars: Bars,
    pub(crate) price_decimals: u8,
    pub(crate) volume_decimals: u8,
    pub(crate) timeframe: Timeframe,
    pub(crate) gaps: u64,
    pub(crate) missing_bars: u64,
    /// Whether volumes had to be rounded to fit 18 digits.
    pub(crate) volume_rounded: bool,
}

/// One column family's scale: fixed by the user or detected.
#[derive(Debug, Clone, Copy)]
struct ScaleState {
    decimals: u8,
    fixed: bool,
}

/// Collects rows, validating each, then detects the timeframe.
pub(crate) struct BarsBuilder {
    file: String,
    price: ScaleState,
    volume: ScaleState,
    bars: Bars,
    lines: Vec<u64>,
    /// Most decimals written in any volume.
    volume_wanted: u8,
    /// Most integer digits of any volume.
    volume_int_digits: u8,
}

impl BarsBuilder {
    /// A builder for the source called `file` (used in error messages).
    pub(crate) fn new(file: &str, price_decimals: Option<u8>) -> Self {
        Self {
            file: file.to_owned(),
            price: ScaleState {
                decimals: price_decimals.unwrap_or(0),
                fixed: price_decimals.is_some(),
            },
            volume: ScaleState {
                decimals: 0,
                fixed: false,
            },
            bars: Bars::with_capacity(1024),
            lines: Vec::with_capacity(1024),
            volume_wanted: 0,
            volume_int_digits: 0,
        }
    }

    /// Reserves room for `n` more rows.
    pub(crate) fn reserve(&mut self, n: usize) {
        for v in [
            &mut self.bars.ts,
            &mut self.bars.open,
            &mut self.bars.high,
            &mut self.bars.low,
            &mut self.bars.close,
            &mut self.bars.volume,
        ] {
            v.reserve(n);
        }
        self.lines.reserve(n);
    }

    /// An [`DataError::InvalidRow`] for this source.
    pub(crate) fn error(&self, line: u64, reason: impl Into<String>) -> DataError {
        DataError::row(&self.file, line, reason)
    }

    /// Validates and appends one row. `ohlc` is open, high, low, close.
    pub(crate) fn push(
        &mut self,
        line: u64,
        ts: i64,
        ohlc: [Num; 4],
        volume: Num,
    ) -> Result<(), DataError> {
        if !(MIN_TS_MS..=MAX_TS_MS).contains(&ts) {
            return Err(self.error(
                line,
                format!(
                    "timestamp {} is outside the supported range {} to {}",
                    format_iso(ts),
                    format_iso(MIN_TS_MS),
                    format_iso(MAX_TS_MS)
                ),
            ));
        }
        if let Some(&prev) = self.bars.ts.last() {
            if ts == prev {
                return Err(self.error(line, format!("duplicate timestamp {}", format_iso(ts))));
            }
            if ts < prev {
                return Err(self.error(
                    line,
                    format!(
                        "timestamp {} is before the previous row's {}: rows must be in increasing time order",
                        format_iso(ts),
                        format_iso(prev)
                    ),
                ));
            }
        }
        for (v, name) in ohlc.iter().zip(NAMES) {
            if v.mantissa < 0 {
                return Err(self.error(line, format!("{name} {v} is negative")));
            }
        }
        if volume.mantissa < 0 {
            return Err(self.error(line, format!("volume {volume} is negative")));
        }
        let [o, h, l, c] = ohlc;
        if cmp(h, l).is_lt() {
            return Err(self.error(line, format!("high {h} is below low {l}")));
        }
        for (v, name) in [(o, "open"), (c, "close")] {
            if cmp(v, l).is_lt() || cmp(v, h).is_gt() {
                return Err(self.error(line, format!("{name} {v} is outside [low {l}, high {h}]")));
            }
        }

        let ohlc = self.fit_prices(line, ohlc)?;
        let volume = self.fit_volume(volume);
        self.bars.push(Bar {
            ts,
            open: ohlc[0],
            high: ohlc[1],
            low: ohlc[2],
            close: ohlc[3],
            volume,
        });
        self.lines.push(line);
        Ok(())
    }

    /// Converts the four prices to the price scale, widening it if needed.
    fn fit_prices(&mut self, line: u64, ohlc: [Num; 4]) -> Result<[i64; 4], DataError> {
        let ohlc = ohlc.map(|v| v.trim_zeros_above(MAX_DETECTED_DECIMALS));
        if !self.price.fixed {
            let (widest, name) = ohlc
                .iter()
                .zip(NAMES)
                .max_by_key(|(v, _)| v.decimals)
                .map_or((Num::int(0), "open"), |(v, n)| (*v, n));
            if widest.decimals > self.price.decimals {
                self.widen_prices(line, widest, name)?;
            }
        }
        let mut out = [0i64; 4];
        for ((slot, v), name) in out.iter_mut().zip(ohlc).zip(NAMES) {
            *slot = self.fit(line, name, v, self.price.decimals)?;
        }
        Ok(out)
    }

    /// Converts a volume to the volume scale: the most decimals written, as
    /// long as the largest volume still fits in 18 digits; beyond that (float
    /// artefacts like `218102.59507500002` on large volumes) volumes are
    /// rounded half away from zero, never prices.
    fn fit_volume(&mut self, v: Num) -> i64 {
        let int_digits = int_digits(v);
        self.volume_int_digits = self.volume_int_digits.max(int_digits);
        self.volume_wanted = self.volume_wanted.max(v.decimals);
        let target = self
            .volume_wanted
            .min(MAX_DETECTED_DECIMALS)
            .min(18 - self.volume_int_digits.min(18));
        if target != self.volume.decimals {
            let from = self.volume.decimals;
            for x in &mut self.bars.volume {
                *x = i64::try_from(rescale_i128(i128::from(*x), from, target)).unwrap_or(i64::MAX);
            }
            self.volume.decimals = target;
        }
        i64::try_from(rescale_i128(i128::from(v.mantissa), v.decimals, target)).unwrap_or(i64::MAX)
    }

    fn widen_prices(&mut self, line: u64, widest: Num, name: &str) -> Result<(), DataError> {
        if widest.decimals > MAX_DETECTED_DECIMALS {
            return Err(self.too_many_decimals(line, name, widest));
        }
        let by = widest.decimals - self.price.decimals;
        self.rescale_column(line, "price", by, |b| {
            vec![&mut b.open, &mut b.high, &mut b.low, &mut b.close]
        })?;
        self.price.decimals = widest.decimals;
        Ok(())
    }

    fn too_many_decimals(&self, line: u64, name: &str, v: Num) -> DataError {
        self.error(
            line,
            format!(
                "{name} {v} has {} decimal places; at most {MAX_DETECTED_DECIMALS} are supported",
                v.decimals
            ),
        )
    }

    /// Multiplies every stored value of some columns by `10^by`.
    fn rescale_column(
        &mut self,
        line: u64,
        what: &str,
        by: u8,
        cols: impl FnOnce(&mut Bars) -> Vec<&mut Vec<i64>>,
    ) -> Result<(), DataError> {
        let factor = 10i64.pow(u32::from(by));
        let mut overflow = false;
        for col in cols(&mut self.bars) {
            for v in col.iter_mut() {
                match v.checked_mul(factor).filter(|x| x.abs() <= MAX_RAW) {
                    Some(x) => *v = x,
                    None => overflow = true,
                }
            }
        }
        if overflow {
            return Err(self.error(
                line,
                format!("{what} values too large for 18 digits at this row's decimal places"),
            ));
        }
        Ok(())
    }

    /// One value at `scale`, with a clear error when it does not fit.
    fn fit(&self, line: u64, name: &str, v: Num, scale: u8) -> Result<i64, DataError> {
        match v.to_scale(scale) {
            Ok(raw) if raw.abs() <= MAX_RAW => Ok(raw),
            Err(true) => Err(self.error(
                line,
                format!("{name} {v} has more than {scale} decimal places (the price scale given)"),
            )),
            _ => Err(self.error(
                line,
                format!("{name} {v} is too large for 18 digits at {scale} decimal places"),
            )),
        }
    }

    /// Detects the timeframe and counts gaps.
    ///
    /// # Errors
    /// [`DataError::Empty`] without rows; [`DataError::InvalidFile`] with a
    /// single row or a timeframe that is not whole seconds;
    /// [`DataError::InvalidRow`] for a delta below the timeframe.
    pub(crate) fn finish(self) -> Result<Validated, DataError> {
        let ts = &self.bars.ts;
        if ts.is_empty() {
            return Err(DataError::Empty { file: self.file });
        }
        if ts.len() < 2 {
            return Err(DataError::file(
                &self.file,
                "only one bar: at least two are needed to detect the timeframe",
            ));
        }
        let mut counts: HashMap<i64, u64> = HashMap::new();
        for w in ts.windows(2) {
            *counts.entry(w[1] - w[0]).or_default() += 1;
        }
        // Most frequent delta; ties go to the smallest.
        let tf_ms = counts
            .iter()
            .max_by_key(|&(&d, &n)| (n, std::cmp::Reverse(d)))
            .map_or(0, |(&d, _)| d);
        let timeframe = u32::try_from(tf_ms / 1000)
            .ok()
            .filter(|&s| s > 0 && tf_ms % 1000 == 0)
            .map(Timeframe::from_secs)
            .ok_or_else(|| {
                DataError::file(
                    &self.file,
                    format!(
                        "the most frequent time step ({tf_ms} ms) is not a whole number of seconds"
                    ),
                )
            })?;
        let (mut gaps, mut missing_bars) = (0u64, 0u64);
        for (i, w) in ts.windows(2).enumerate() {
            let delta = w[1] - w[0];
            if delta < tf_ms {
                return Err(self.error(
                    self.lines[i + 1],
                    format!(
                        "bar at {} is {} after the previous one, less than the detected timeframe {timeframe}",
                        format_iso(w[1]),
                        format_duration(delta)
                    ),
                ));
            }
            if delta > tf_ms {
                gaps += 1;
                missing_bars += u64::try_from(delta / tf_ms - 1).unwrap_or(0);
            }
        }
        Ok(Validated {
            bars: self.bars,
            price_decimals: self.price.decimals,
            volume_decimals: self.volume.decimals,
            timeframe,
            gaps,
            missing_bars,
            volume_rounded: self.volume_wanted > self.volume.decimals,
        })
    }
}

/// Digits of the integer part (0 for values below 1).
fn int_digits(v: Num) -> u8 {
    let mut int = v.mantissa.unsigned_abs() / 10u64.pow(u32::from(v.decimals));
    let mut n = 0;
    while int > 0 {
        int /= 10;
        n += 1;
    }
    n
}

/// Compares two decimals exactly (in `i128` at the larger scale).
fn cmp(a: Num, b: Num) -> std::cmp::Ordering {
    let d = a.decimals.max(b.decimals);
    let wide = |v: Num| i128::from(v.mantissa) * 10i128.pow(u32::from(d - v.decimals));
    wide(a).cmp(&wide(b))
}

/// `90s`, `5m`, `1500ms`: a short human duration.
fn format_duration(ms: i64) -> String {
    if ms % 1000 != 0 {
        format!("{ms}ms")
    } else if ms % 60_000 != 0 {
        format!("{}s", ms / 1000)
    } else if let Ok(secs) = u32::try_from(ms / 1000) {
        Timeframe::from_secs(secs).to_string()
    } else {
        format!("{}s", ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Num {
        Num::parse(s.as_bytes()).unwrap()
    }

    fn row(
        b: &mut BarsBuilder,
        line: u64,
        ts_min: i64,
        o: &str,
        h: &str,
        l: &str,
        c: &str,
    ) -> Result<(), DataError> {
        b.push(
            line,
            ts_min * 60_000,
            [num(o), num(h), num(l), num(c)],
            num("1"),
        )
    }

    #[test]
    fn detects_scale_and_rescales_earlier_rows() {
        let mut b = BarsBuilder::new("f.csv", None);
        row(&mut b, 2, 0, "1", "2", "1", "1.5").unwrap();
        row(&mut b, 3, 1, "1.5", "1.75", "1.25", "1.5").unwrap();
        row(&mut b, 4, 3, "1.5", "1.75", "1.25", "1.5").unwrap();
        let v = b.finish().unwrap();
        assert_eq!(v.price_decimals, 2);
        assert_eq!(v.bars.close, vec![150, 150, 150]);
        assert_eq!(v.bars.high[0], 200);
        assert_eq!(v.timeframe, Timeframe::M1);
        assert_eq!((v.gaps, v.missing_bars), (1, 1));
    }

    #[test]
    fn rejects_bad_rows_with_line_and_reason() {
        let cases = [
            (["1.3", "1.2", "1.3", "1.3"], "high 1.2 is below low 1.3"),
            (
                ["1.5", "1.4", "1.0", "1.2"],
                "open 1.5 is outside [low 1.0, high 1.4]",
            ),
            (
                ["1.1", "1.4", "1.0", "0.9"],
                "close 0.9 is outside [low 1.0, high 1.4]",
            ),
            (["-1", "1", "-1", "0"], "open -1 is negative"),
        ];
        for (vals, msg) in cases {
            let mut b = BarsBuilder::new("f.csv", None);
            let [o, h, l, c] = vals;
            let e = row(&mut b, 7, 0, o, h, l, c).unwrap_err();
            assert_eq!(e.to_string(), format!("f.csv:7: {msg}"));
        }
    }

    #[test]
    fn timestamps_beyond_four_digit_years_are_refused_not_wrapped() {
        let bar = [num("1"), num("2"), num("1"), num("1.5")];
        for ts in [i64::MAX, i64::MIN, MAX_TS_MS + 1, MIN_TS_MS - 1] {
            let mut b = BarsBuilder::new("f.parquet", None);
            let e = b.push(2, ts, bar, num("1")).unwrap_err().to_string();
            assert!(
                e.starts_with("f.parquet:2: timestamp ")
                    && e.ends_with(
                        "is outside the supported range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z"
                    ),
                "{e}"
            );
        }
        let mut b = BarsBuilder::new("f.parquet", None);
        b.push(2, MIN_TS_MS, bar, num("1")).unwrap();
        b.push(3, MAX_TS_MS, bar, num("1")).unwrap();
    }

    #[test]
    fn explicit_scale_rejects_extra_decimals() {
        let mut b = BarsBuilder::new("f.csv", Some(2));
        row(&mut b, 2, 0, "1.10", "1.200", "1", "1").unwrap();
        let e = row(&mut b, 3, 1, "1.10", "1.205", "1", "1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:3: high 1.205 has more than 2 decimal places (the price scale given)"
        );
    }

    #[test]
    fn detected_scale_is_capped() {
        let mut b = BarsBuilder::new("f.csv", None);
        let e = row(&mut b, 2, 0, "1", "1.0000000000001", "1", "1").unwrap_err();
        assert!(e.to_string().contains("13 decimal places"), "{e}");
        let mut b = BarsBuilder::new("f.csv", None);
        row(&mut b, 2, 0, "1", "1.000000000000000", "1", "1").unwrap();
    }

    #[test]
    fn order_and_timeframe_errors() {
        let mut b = BarsBuilder::new("f.csv", None);
        row(&mut b, 2, 5, "1", "1", "1", "1").unwrap();
        let e = row(&mut b, 3, 5, "1", "1", "1", "1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:3: duplicate timestamp 1970-01-01T00:05:00Z"
        );
        let e = row(&mut b, 3, 4, "1", "1", "1", "1").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("f.csv:3: timestamp 1970-01-01T00:04:00Z is before"));

        let mut b = BarsBuilder::new("f.csv", None);
        for (line, t) in [(2, 0), (3, 5), (4, 10), (5, 12), (6, 17)] {
            row(&mut b, line, t, "1", "1", "1", "1").unwrap();
        }
        let e = b.finish().unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:5: bar at 1970-01-01T00:12:00Z is 2m after the previous one, less than the detected timeframe 5m"
        );
    }

    #[test]
    fn volume_scale_shrinks_to_fit_18_digits() {
        let mut b = BarsBuilder::new("f.csv", None);
        let p = [num("1"); 4];
        b.push(2, 0, p, num("0.12345678901")).unwrap();
        b.push(3, 60_000, p, num("218102.59507500002")).unwrap();
        b.push(4, 120_000, p, num("134918704.7632")).unwrap();
        let v = b.finish().unwrap();
        assert_eq!(v.volume_decimals, 9);
        assert!(v.volume_rounded);
        assert_eq!(
            v.bars.volume,
            vec![123_456_789, 218_102_595_075_000, 134_918_704_763_200_000]
        );
    }

    #[test]
    fn empty_and_single_row() {
        let b = BarsBuilder::new("f.csv", None);
        assert!(matches!(b.finish(), Err(DataError::Empty { .. })));
        let mut b = BarsBuilder::new("f.csv", None);
        row(&mut b, 2, 0, "1", "1", "1", "1").unwrap();
        assert!(matches!(b.finish(), Err(DataError::InvalidFile { .. })));
    }
}
