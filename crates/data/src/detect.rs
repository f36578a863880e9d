//! Which format a source is in: gzip is unwrapped by its magic bytes, then
//! Parquet is recognised by `PAR1`, and text by its first line.
//!
//! | first line | format |
//! |---|---|
//! | header with `<DATE>`, `<TIME>`, … (tab-separated) | MetaTrader 5 |
//! | header with `open_time` and `close_time` | Binance klines (with header) |
//! | any other header naming a timestamp and `open,high,low,close` | CSV |
//! | `2017.01.02,07:00,1.05155,…` (no header) | MetaTrader 4 |
//! | 12 fields, the first an integer (no header) | Binance klines |

use crate::csv_source::{layout_from_header, CsvLayout, TsCols};
use crate::error::{DataError, Limit};
use crate::limits::ImportLimits;
use crate::metatrader;
use crate::time::{parse_datetime, parse_uint};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use std::io::Read;

/// The format a dataset was imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SourceFormat {
    /// CSV with a header row `timestamp,open,high,low,close[,volume]`.
    Csv,
    /// Binance kline CSV (12 columns, open time in epoch ms or µs).
    Binance,
    /// MetaTrader 4 history export (`2017.01.02,07:00,O,H,L,C,V`, no header).
    #[serde(rename = "mt4")]
    MetaTrader4,
    /// MetaTrader 5 export (tab-separated, `<DATE>\t<TIME>\t<OPEN>…` header).
    #[serde(rename = "mt5")]
    MetaTrader5,
    /// Apache Parquet.
    Parquet,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Csv => "CSV",
            Self::Binance => "Binance klines",
            Self::MetaTrader4 => "MetaTrader 4",
            Self::MetaTrader5 => "MetaTrader 5",
            Self::Parquet => "Parquet",
        })
    }
}

/// What a source turned out to be.
#[derive(Debug)]
pub(crate) enum Detected {
    Parquet,
    Csv(CsvLayout),
}

/// The bytes with gzip removed (any number of members), and whether it was
/// gzip; refused when they would expand past
/// [`ImportLimits::decompressed_limit`] (read through a bounded reader, so a
/// bomb never gets further than the limit).
pub(crate) fn gunzip<'a>(
    file: &str,
    bytes: &'a [u8],
    limits: &ImportLimits,
) -> Result<(Cow<'a, [u8]>, bool), DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok((Cow::Borrowed(bytes), false));
    }
    let limit = limits.decompressed_limit(bytes.len());
    let start = (bytes.len() as u64).saturating_mul(6).min(limit);
    let mut out = Vec::with_capacity(usize::try_from(start).unwrap_or(0));
    let read = flate2::read::MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DataError::file(file, format!("cannot decompress gzip: {e}")))?;
    if read as u64 > limit {
        return Err(DataError::too_large(
            file,
            Limit::DecompressedBytes,
            limit,
            format!(
                "gzip expands to more than {limit} bytes ({}× its {} compressed bytes, at least \
                 {}, at most {}): market data compresses far less; decompress it yourself if it \
                 really is",
                limits.max_gzip_ratio,
                bytes.len(),
                limits.gzip_floor_bytes,
                limits.max_decompressed_bytes
            ),
        ));
    }
    Ok((Cow::Owned(out), true))
}

/// Detects the format of (already decompressed) `bytes`.
pub(crate) fn detect(file: &str, bytes: &[u8]) -> Result<Detected, DataError> {
    if bytes.starts_with(b"PAR1") {
        return Ok(Detected::Parquet);
    }
    let text = strip_bom(bytes);
    let Some(first) = text
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty())
    else {
        return Err(DataError::Empty {
            file: file.to_owned(),
        });
    };
    if first.contains(&0) {
        return Err(DataError::file(
            file,
            "not a text file; expected CSV (optionally gzipped) or Parquet",
        ));
    }
    let delimiter = sniff_delimiter(first);
    let fields: Vec<&[u8]> = first
        .split(|&b| b == delimiter)
        .map(|f| unquote(f.trim_ascii()))
        .collect();
    let first_field = fields.first().copied().unwrap_or_default();
    let is_data = parse_uint(first_field).is_some() || parse_datetime(first_field).is_some();
    if !is_data {
        return layout_from_header(file, &fields, delimiter).map(Detected::Csv);
    }
    if let Some(layout) = metatrader::mt4_layout(&fields, delimiter) {
        return Ok(Detected::Csv(layout));
    }
    if fields.len() == 12 && parse_uint(first_field).is_some() {
        return Ok(Detected::Csv(CsvLayout {
            format: SourceFormat::Binance,
            delimiter,
            has_header: false,
            columns: 12,
            ts: TsCols::Single(0),
            ohlc: [1, 2, 3, 4],
            volume: Some(5),
            volume_fallback: None,
        }));
    }
    Err(DataError::row(
        file,
        1,
        format!(
            "no header line and not a known headerless format ({} fields); expected a header \
             `timestamp,open,high,low,close,volume`, a Binance kline file (12 columns) or a MetaTrader 4 export",
            fields.len()
        ),
    ))
}

/// Drops a UTF-8 byte order mark.
pub(crate) fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// Tab if the line has one, else `;` if it has one and no comma, else `,`.
fn sniff_delimiter(line: &[u8]) -> u8 {
    if line.contains(&b'\t') {
        b'\t'
    } else if line.contains(&b';') && !line.contains(&b',') {
        b';'
    } else {
        b','
    }
}

fn unquote(f: &[u8]) -> &[u8] {
    f.strip_prefix(b"\"")
        .and_then(|f| f.strip_suffix(b"\""))
        .unwrap_or(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> CsvLayout {
        match detect("t.csv", text.as_bytes()).unwrap() {
            Detected::Csv(l) => l,
            Detected::Parquet => panic!("parquet"),
        }
    }

    #[test]
    fn recognises_each_text_format() {
        assert_eq!(
            csv("timestamp,open,high,low,close,volume\n").format,
            SourceFormat::Csv
        );
        assert_eq!(
            csv("1704103200000,1,2,0.5,1.5,10,1704103259999,1,2,3,4,0\n").format,
            SourceFormat::Binance
        );
        assert_eq!(
            csv("open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n").format,
            SourceFormat::Binance
        );
        assert_eq!(
            csv("2017.01.02,07:00,1.05155,1.05197,1.05155,1.05190,123\n").format,
            SourceFormat::MetaTrader4
        );
        let mt5 =
            csv("<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n");
        assert_eq!(mt5.format, SourceFormat::MetaTrader5);
        assert_eq!(mt5.delimiter, b'\t');
        assert_eq!(mt5.volume, Some(7));
        assert_eq!(mt5.volume_fallback, Some(6));
    }

    #[test]
    fn rejects_headerless_generic_and_binary() {
        let e = detect("t.csv", b"2024-01-01T00:00:00Z,1,1,1,1,1\n").unwrap_err();
        assert!(e.to_string().starts_with("t.csv:1: no header line"), "{e}");
        assert!(matches!(
            detect("t.csv", b"\n\n"),
            Err(DataError::Empty { .. })
        ));
        assert!(matches!(detect("t.csv", b"PAR1xx"), Ok(Detected::Parquet)));
    }

    #[test]
    fn gunzips_by_magic() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"hello").unwrap();
        let gz = enc.finish().unwrap();
        let l = ImportLimits::default();
        let (out, was) = gunzip("x", &gz, &l).unwrap();
        assert!(was);
        assert_eq!(&*out, b"hello");
        let (out, was) = gunzip("x", b"plain", &l).unwrap();
        assert!(!was);
        assert_eq!(&*out, b"plain");
        assert!(gunzip("x", &gz[..5], &l).is_err());
    }

    /// A gzip "bomb" (zeros compress ~1,000×) is refused once it has
    /// expanded past its limit, never read to its end.
    #[test]
    fn a_gzip_bomb_stops_at_its_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..80 {
            enc.write_all(&zeros).unwrap(); // 80 MiB of '0'
        }
        let gz = enc.finish().unwrap();
        assert!(gz.len() < 1 << 20, "{}", gz.len());
        let l = ImportLimits::default();
        assert_eq!(l.decompressed_limit(gz.len()), l.gzip_floor_bytes);
        let e = gunzip("bomb.csv.gz", &gz, &l).unwrap_err().to_string();
        assert!(
            e.starts_with("bomb.csv.gz: gzip expands to more than 67108864 bytes"),
            "{e}"
        );
        assert!(
            e.ends_with("(limit: --max-gzip-ratio, --gzip-floor-mb, --max-decompressed-mb)"),
            "{e}"
        );
    }
}
