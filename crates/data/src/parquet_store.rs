//! The stored form of a dataset: one Parquet file, written with the
//! low-level column writer (no Arrow), read back by row group.
//!
//! Schema (all columns required):
//!
//! | column | physical | logical |
//! |---|---|---|
//! | `timestamp` | INT64 | TIMESTAMP(MILLIS, UTC), delta-encoded |
//! | `open`, `high`, `low`, `close` | INT64 | DECIMAL(18, price_decimals) |
//! | `volume` | INT64 | DECIMAL(18, volume_decimals) |
//!
//! Key-value metadata: `atf.price_decimals`, `atf.volume_decimals`,
//! `atf.timeframe`, `atf.symbol`. Snappy compression, row groups of
//! [`ROW_GROUP_ROWS`] rows whose `timestamp` min/max statistics let
//! [`read_bars`] skip the groups outside a period. pandas (pyarrow) and
//! polars read the prices as decimals.

use crate::error::DataError;
use atf_engine::{Bars, Timeframe};
use parquet::basic::{Compression, Encoding};
use parquet::column::reader::ColumnReader;
use parquet::data_type::Int64Type;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Rows per row group: small enough that loading a period skips most of a
/// large file, large enough to compress well.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Column names in stored order.
pub const COLUMNS: [&str; 6] = ["timestamp", "open", "high", "low", "close", "volume"];

/// The scales and labels written into a stored file's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMeta {
    /// Decimal places of the four price columns.
    pub price_decimals: u8,
    /// Decimal places of the volume column.
    pub volume_decimals: u8,
    /// The bars' timeframe.
    pub timeframe: Timeframe,
    /// The instrument's symbol.
    pub symbol: String,
}

/// Writes `bars` as a stored dataset to `out`.
///
/// # Errors
/// [`DataError::Parquet`] when encoding or writing fails (`label` names the
/// destination in the message).
pub fn write_bars<W: Write + Send>(
    out: W,
    label: &str,
    bars: &Bars,
    meta: &StoredMeta,
) -> Result<(), DataError> {
    let err = |e| DataError::parquet(label, e);
    let schema = format!(
        "message bars {{
            REQUIRED INT64 timestamp (TIMESTAMP(MILLIS,true));
            REQUIRED INT64 open (DECIMAL(18,{p}));
            REQUIRED INT64 high (DECIMAL(18,{p}));
            REQUIRED INT64 low (DECIMAL(18,{p}));
            REQUIRED INT64 close (DECIMAL(18,{p}));
            REQUIRED INT64 volume (DECIMAL(18,{v}));
        }}",
        p = meta.price_decimals,
        v = meta.volume_decimals
    );
    let schema = Arc::new(parse_message_type(&schema).map_err(err)?);
    let kv = [
        ("atf.price_decimals", meta.price_decimals.to_string()),
        ("atf.volume_decimals", meta.volume_decimals.to_string()),
        ("atf.timeframe", meta.timeframe.to_string()),
        ("atf.symbol", meta.symbol.clone()),
    ]
    .into_iter()
    .map(|(k, v)| KeyValue::new(k.to_owned(), v))
    .collect();
    let ts_col = ColumnPath::from("timestamp");
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_key_value_metadata(Some(kv))
        .set_created_by(format!("atf-data {}", env!("CARGO_PKG_VERSION")))
        .set_column_dictionary_enabled(ts_col.clone(), false)
        .set_column_encoding(ts_col, Encoding::DELTA_BINARY_PACKED)
        .build();
    let mut writer = SerializedFileWriter::new(out, schema, Arc::new(props)).map_err(err)?;
    let columns = [
        &bars.ts,
        &bars.open,
        &bars.high,
        &bars.low,
        &bars.close,
        &bars.volume,
    ];
    let mut start = 0;
    while start < bars.len() {
        let end = (start + ROW_GROUP_ROWS).min(bars.len());
        let mut rg = writer.next_row_group().map_err(err)?;
        for values in columns {
            let Some(mut col) = rg.next_column().map_err(err)? else {
                break;
            };
            col.typed::<Int64Type>()
                .write_batch(&values[start..end], None, None)
                .map_err(err)?;
            col.close().map_err(err)?;
        }
        rg.close().map_err(err)?;
        start = end;
    }
    writer.close().map_err(err)?;
    Ok(())
}

/// Reads the stored metadata of the file at `path`.
///
/// # Errors
/// [`DataError::Io`] / [`DataError::Parquet`] when the file cannot be read,
/// [`DataError::Corrupt`] when the metadata is missing or malformed.
pub fn read_meta(path: &Path) -> Result<StoredMeta, DataError> {
    let reader = open(path)?;
    meta_of(path, &reader)
}

fn open(path: &Path) -> Result<SerializedFileReader<File>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    SerializedFileReader::new(file).map_err(|e| DataError::parquet(path.display(), e))
}

fn meta_of(path: &Path, reader: &SerializedFileReader<File>) -> Result<StoredMeta, DataError> {
    let corrupt = |reason: String| DataError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let kv = reader.metadata().file_metadata().key_value_metadata();
    let get = |key: &str| {
        kv.and_then(|kv| kv.iter().find(|e| e.key == key))
            .and_then(|e| e.value.clone())
            .ok_or_else(|| corrupt(format!("no '{key}' metadata")))
    };
    let num = |key: &str| -> Result<u8, DataError> {
        get(key)?
            .parse()
            .map_err(|_| corrupt(format!("'{key}' is not a number")))
    };
    Ok(StoredMeta {
        price_decimals: num("atf.price_decimals")?,
        volume_decimals: num("atf.volume_decimals")?,
        timeframe: get("atf.timeframe")?
            .parse()
            .map_err(|e| corrupt(format!("{e}")))?,
        symbol: get("atf.symbol")?,
    })
}

/// Loads the bars with `from_ms <= ts < to_ms` (`None` = unbounded) from a
/// stored file, skipping row groups whose `timestamp` statistics lie
/// outside the period.
///
/// # Errors
/// [`DataError::Io`] / [`DataError::Parquet`] when reading fails,
/// [`DataError::Corrupt`] when the file is not in the stored layout.
pub fn read_bars(
    path: &Path,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<(Bars, StoredMeta), DataError> {
    let reader = open(path)?;
    let meta = meta_of(path, &reader)?;
    let corrupt = |reason: String| DataError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let schema = reader.metadata().file_metadata().schema_descr();
    let mut idx = [0usize; 6];
    for (slot, name) in idx.iter_mut().zip(COLUMNS) {
        *slot = (0..schema.num_columns())
            .find(|&i| schema.column(i).name() == name)
            .ok_or_else(|| corrupt(format!("no '{name}' column")))?;
    }
    let (lo, hi) = (from_ms.unwrap_or(i64::MIN), to_ms.unwrap_or(i64::MAX));
    let mut bars = Bars::default();
    for g in 0..reader.num_row_groups() {
        let rg_meta = reader.metadata().row_group(g);
        if let Some(Statistics::Int64(s)) = rg_meta.column(idx[0]).statistics() {
            if let (Some(&min), Some(&max)) = (s.min_opt(), s.max_opt()) {
                if max < lo || min >= hi {
                    continue;
                }
            }
        }
        let rg = reader
            .get_row_group(g)
            .map_err(|e| DataError::parquet(path.display(), e))?;
        let rows = usize::try_from(rg_meta.num_rows()).unwrap_or(0);
        let mut cols: [Vec<i64>; 6] = Default::default();
        for (out, &i) in cols.iter_mut().zip(&idx) {
            *out = read_i64(path, rg.as_ref(), i, rows)?;
        }
        let ts = &cols[0];
        let a = ts.partition_point(|&t| t < lo);
        let b = ts.partition_point(|&t| t < hi);
        if bars.is_empty() && a == 0 && b == ts.len() {
            // the whole first group: take the columns, no copy
            let [t, o, h, l, c, v] = cols;
            (
                bars.ts,
                bars.open,
                bars.high,
                bars.low,
                bars.close,
                bars.volume,
            ) = (t, o, h, l, c, v);
            continue;
        }
        let [t, o, h, l, c, v] = &cols;
        bars.ts.extend_from_slice(&t[a..b]);
        bars.open.extend_from_slice(&o[a..b]);
        bars.high.extend_from_slice(&h[a..b]);
        bars.low.extend_from_slice(&l[a..b]);
        bars.close.extend_from_slice(&c[a..b]);
        bars.volume.extend_from_slice(&v[a..b]);
    }
    Ok((bars, meta))
}

fn read_i64(
    path: &Path,
    rg: &dyn RowGroupReader,
    i: usize,
    rows: usize,
) -> Result<Vec<i64>, DataError> {
    let perr = |e| DataError::parquet(path.display(), e);
    let ColumnReader::Int64ColumnReader(mut r) = rg.get_column_reader(i).map_err(perr)? else {
        return Err(DataError::Corrupt {
            path: path.to_owned(),
            reason: format!("column {i} is not INT64"),
        });
    };
    let mut values = Vec::with_capacity(rows);
    r.read_records(rows, None, None, &mut values)
        .map_err(perr)?;
    if values.len() != rows {
        return Err(DataError::Corrupt {
            path: path.to_owned(),
            reason: format!("column {i} has {} values for {rows} rows", values.len()),
        });
    }
    Ok(values)
}
