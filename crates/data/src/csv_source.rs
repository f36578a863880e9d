//! Reading delimited text (CSV, Binance klines, MetaTrader) into a
//! [`BarsBuilder`], one validated row at a time.
//!
//! Header names are matched case-insensitively, ignoring `<>` brackets and
//! quotes. Timestamp column: `timestamp`, `datetime`, `date_time`,
//! `open_time`, `time`, `date` or `ts`; a separate `date` and `time` pair is
//! joined. Prices: `open`, `high`, `low`, `close`. Volume (optional, 0 when
//! absent): `volume`, `vol` or `real_volume`, falling back to `tickvol` /
//! `tick_volume` on rows where it is 0.
//!
//! Integer timestamps are epoch seconds, milliseconds, microseconds or
//! nanoseconds, chosen once per file from the first row's magnitude.

use crate::decimal::Num;
use crate::detect::SourceFormat;
use crate::error::DataError;
use crate::metatrader;
use crate::time::{parse_datetime, parse_uint, EpochUnit};
use crate::validate::BarsBuilder;

/// Where the timestamp is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsCols {
    /// One column.
    Single(usize),
    /// A date column and a time column.
    DateTime(usize, usize),
}

/// How to read the rows of a delimited text source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvLayout {
    pub(crate) format: SourceFormat,
    pub(crate) delimiter: u8,
    pub(crate) has_header: bool,
    /// Fields every row must have.
    pub(crate) columns: usize,
    pub(crate) ts: TsCols,
    pub(crate) ohlc: [usize; 4],
    pub(crate) volume: Option<usize>,
    /// Used on rows where `volume` is zero (MT5 `<TICKVOL>`).
    pub(crate) volume_fallback: Option<usize>,
}

fn normalize(name: &[u8]) -> String {
    String::from_utf8_lossy(name)
        .trim()
        .trim_matches(|c| c == '"' || c == '<' || c == '>')
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
}

/// The layout named by a header line.
pub(crate) fn layout_from_header(
    file: &str,
    fields: &[&[u8]],
    delimiter: u8,
) -> Result<CsvLayout, DataError> {
    let names: Vec<String> = fields.iter().map(|f| normalize(f)).collect();
    let find = |aliases: &[&str]| {
        aliases
            .iter()
            .find_map(|a| names.iter().position(|n| n == a))
    };
    let ts = match (find(&["date"]), find(&["time"])) {
        (Some(d), Some(t)) => TsCols::DateTime(d, t),
        _ => find(TIMESTAMP_ALIASES)
            .map(TsCols::Single)
            .ok_or_else(|| missing(file, "timestamp", &names))?,
    };
    let mut ohlc = [0; 4];
    for (slot, name) in ohlc.iter_mut().zip(["open", "high", "low", "close"]) {
        *slot = find(&[name]).ok_or_else(|| missing(file, name, &names))?;
    }
    let mut volume = find(&["volume", "vol", "real_volume"]);
    let mut volume_fallback = find(&["tickvol", "tick_volume"]);
    if volume.is_none() {
        volume = volume_fallback.take();
    }
    let format = if metatrader::is_mt5_header(fields) {
        SourceFormat::MetaTrader5
    } else if find(&["open_time"]).is_some() && find(&["close_time"]).is_some() {
        SourceFormat::Binance
    } else {
        SourceFormat::Csv
    };
    Ok(CsvLayout {
        format,
        delimiter,
        has_header: true,
        columns: fields.len(),
        ts,
        ohlc,
        volume,
        volume_fallback,
    })
}

fn missing(file: &str, what: &str, names: &[String]) -> DataError {
    DataError::row(
        file,
        1,
        format!(
            "no '{what}' column in the header (found: {}); expected timestamp,open,high,low,close[,volume]",
            names.join(", ")
        ),
    )
}

/// How the timestamps of a file are written, fixed by its first data row.
#[derive(Debug, Clone, Copy)]
enum TsMode {
    Epoch(EpochUnit),
    Text,
}

/// Reads every data row of `text` into `builder`.
pub(crate) fn read(
    file: &str,
    text: &[u8],
    layout: &CsvLayout,
    builder: &mut BarsBuilder,
) -> Result<(), DataError> {
    // a row has at least 10 bytes ("t,o,h,l,c\n"): reserving per newline
    // alone would let a file of newlines reserve 48 bytes per byte
    builder.reserve(memchr_count(text).min(text.len() / 10));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(layout.delimiter)
        .from_reader(text);
    let mut rec = csv::ByteRecord::new();
    let mut mode: Option<TsMode> = None;
    let mut first = true;
    let mut buf = [0u8; 64];
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(DataError::row(file, line, format!("cannot read CSV: {e}")));
            }
        }
        let line = rec.position().map_or(0, csv::Position::line);
        if std::mem::take(&mut first) && layout.has_header {
            continue;
        }
        if rec.len() == 1 && rec[0].trim_ascii().is_empty() {
            continue;
        }
        if rec.len() != layout.columns {
            return Err(DataError::row(
                file,
                line,
                format!("expected {} columns, found {}", layout.columns, rec.len()),
            ));
        }
        let ts_text: &[u8] = match layout.ts {
            TsCols::Single(i) => rec[i].trim_ascii(),
            TsCols::DateTime(d, t) => join(&mut buf, &rec[d], &rec[t]),
        };
        let mode = *mode.get_or_insert_with(|| match parse_uint(ts_text) {
            Some(v) if matches!(layout.ts, TsCols::Single(_)) => {
                TsMode::Epoch(EpochUnit::from_magnitude(v))
            }
            _ => TsMode::Text,
        });
        let ts = match mode {
            TsMode::Epoch(unit) => {
                parse_uint(ts_text)
                    .and_then(|v| unit.to_ms(v))
                    .ok_or_else(|| {
                        DataError::row(
                            file,
                            line,
                            format!(
                        "timestamp '{}' is not an integer like the first row's (epoch {unit})",
                        shown(ts_text)
                    ),
                        )
                    })?
            }
            TsMode::Text => parse_datetime(ts_text).ok_or_else(|| {
                DataError::row(
                    file,
                    line,
                    format!(
                        "cannot parse timestamp '{}'; expected ISO-8601 (2024-01-01T10:00:00Z), \
                         'YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD' or epoch seconds/milliseconds",
                        shown(ts_text)
                    ),
                )
            })?,
        };
        let mut ohlc = [Num::int(0); 4];
        for ((slot, &col), name) in ohlc
            .iter_mut()
            .zip(&layout.ohlc)
            .zip(["open", "high", "low", "close"])
        {
            *slot = number(file, line, name, &rec[col])?;
        }
        let mut volume = match layout.volume {
            Some(i) => number(file, line, "volume", &rec[i])?,
            None => Num::int(0),
        };
        if let (0, Some(i)) = (volume.mantissa, layout.volume_fallback) {
            volume = number(file, line, "tick volume", &rec[i])?;
        }
        builder.push(line, ts, ohlc, volume)?;
    }
    Ok(())
}

/// Longest field quoted in a message.
const SHOWN_CHARS: usize = 40;

/// A field as an error message quotes it: on one line (control characters
/// escaped: a stray quote can make a "field" of many lines) and short.
fn shown(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(field);
    let mut out: String = text
        .chars()
        .take(SHOWN_CHARS)
        .flat_map(|c| {
            let esc: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            esc
        })
        .collect();
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn number(file: &str, line: u64, name: &str, field: &[u8]) -> Result<Num, DataError> {
    Num::parse(field).ok_or_else(|| {
        DataError::row(
            file,
            line,
            format!("{name} '{}' is not a number", shown(field.trim_ascii())),
        )
    })
}

/// `date + ' ' + time` in `buf` (truncated to its size, which no valid
/// timestamp exceeds).
fn join<'a>(buf: &'a mut [u8; 64], date: &[u8], time: &[u8]) -> &'a [u8] {
    let (date, time) = (date.trim_ascii(), time.trim_ascii());
    let n = (date.len() + 1 + time.len()).min(buf.len());
    let mut w = 0;
    for &b in date.iter().chain(b" ").chain(time).take(n) {
        buf[w] = b;
        w += 1;
    }
    &buf[..w]
}

fn memchr_count(text: &[u8]) -> usize {
    text.iter().filter(|&&b| b == b'\n').count()
}

/// Column names accepted for the timestamp, in order of preference
/// (shared with the Parquet reader).
pub(crate) const TIMESTAMP_ALIASES: &[&str] = &[
    "timestamp",
    "datetime",
    "date_time",
    "open_time",
    "time",
    "date",
    "ts",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_aliases_and_errors() {
        let f: Vec<&[u8]> = vec![b"Date", b"Open", b"High", b"Low", b"Close"];
        let l = layout_from_header("t.csv", &f, b',').unwrap();
        assert_eq!(
            (l.ts, l.ohlc, l.volume),
            (TsCols::Single(0), [1, 2, 3, 4], None)
        );
        let f: Vec<&[u8]> = vec![b"time", b"open", b"high", b"close"];
        let e = layout_from_header("t.csv", &f, b',').unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:1: no 'low' column in the header (found: time, open, high, close); expected timestamp,open,high,low,close[,volume]"
        );
    }

    #[test]
    fn joins_date_and_time() {
        let mut buf = [0; 64];
        assert_eq!(
            join(&mut buf, b"2017.01.02", b" 07:00"),
            b"2017.01.02 07:00"
        );
    }
}
