//! Importing any Parquet file with a timestamp column and
//! `open`/`high`/`low`/`close` (and optionally `volume`) columns.
//!
//! Column names are matched as for CSV ([`crate::csv_source`]), plus
//! `__index_level_0__` for a pandas index. Supported column types:
//!
//! - timestamp: INT64 TIMESTAMP(MILLIS|MICROS|NANOS), INT96 (legacy
//!   pandas/Spark), INT32 DATE, or a plain INT32/INT64 taken as epoch
//!   seconds/ms/µs/ns by magnitude;
//! - prices and volume: DOUBLE/FLOAT (through the shortest round-trip
//!   decimal text, never `x * 10^n`), INT32/INT64 (plain or DECIMAL), and
//!   FIXED_LEN_BYTE_ARRAY/BYTE_ARRAY DECIMAL (as pyarrow writes them).
//!
//! Nulls are errors. Row numbers in errors are 1-based over the file.
//! Compression codecs: snappy (pandas' default) and zstd (polars' default).

use crate::decimal::Num;
use crate::error::DataError;
use crate::limits::ImportLimits;
use crate::parquet_check;
use crate::time::{EpochUnit, DAY_MS};
use crate::validate::BarsBuilder;
use bytes::Bytes;
use parquet::basic::{LogicalType, TimeUnit, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{AsBytes, DataType};
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

/// One column's values, decoded to what the importer needs.
enum Values {
    Ts(Vec<i64>),
    Num(Vec<Num>),
}

/// What a column's values mean.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Epoch values in this unit.
    Epoch(EpochUnit),
    /// Epoch values, unit by magnitude of the first value.
    EpochAuto,
    /// Days since the epoch.
    Date,
    /// INT96 (nanoseconds, Julian day).
    Int96,
    /// A number with this many decimals (0 for plain integers).
    Decimal(u8),
    /// A floating-point number.
    Float,
}

/// Reads every row of the Parquet file in `bytes` into `builder`.
/// The footer's claims are checked against the file first
/// ([`crate::parquet_check`]), so nothing is allocated by their word.
///
/// The `parquet` crate (57) panics on some malformed input instead of
/// returning an error (an `unwrap` on a footer's boolean field sent with
/// another wire type, found by `tests/fuzz.rs`): a panic while decoding a
/// source is caught and reported as the invalid file it is.
pub(crate) fn read(
    file: &str,
    bytes: Vec<u8>,
    builder: &mut BarsBuilder,
    limits: &ImportLimits,
) -> Result<(), DataError> {
    let decode = std::panic::AssertUnwindSafe(|| read_unguarded(file, bytes, builder, limits));
    std::panic::catch_unwind(decode).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(DataError::file(
            file,
            format!("cannot read Parquet: malformed file ({what})"),
        ))
    })
}

fn read_unguarded(
    file: &str,
    bytes: Vec<u8>,
    builder: &mut BarsBuilder,
    limits: &ImportLimits,
) -> Result<(), DataError> {
    let perr = |e: ParquetError| DataError::file(file, format!("cannot read Parquet: {e}"));
    let file_len = bytes.len();
    parquet_check::check_footer(file, &bytes)?;
    let bytes = Bytes::from(bytes);
    let reader = SerializedFileReader::new(bytes.clone()).map_err(perr)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let names: Vec<String> = (0..schema.num_columns())
        .map(|i| schema.column(i).path().string().to_ascii_lowercase())
        .collect();
    let find = |aliases: &[&str]| {
        aliases
            .iter()
            .find_map(|a| names.iter().position(|n| n == a))
    };
    let missing = |what: &str| {
        DataError::file(
            file,
            format!(
                "no '{what}' column (found: {}); expected timestamp,open,high,low,close[,volume]",
                names.join(", ")
            ),
        )
    };
    // pandas stores an unnamed index as `__index_level_0__`
    let ts_col = find(crate::csv_source::TIMESTAMP_ALIASES)
        .or_else(|| find(&["__index_level_0__"]))
        .ok_or_else(|| missing("timestamp"))?;
    let mut price_cols = [0usize; 4];
    for (slot, name) in price_cols.iter_mut().zip(["open", "high", "low", "close"]) {
        *slot = find(&[name]).ok_or_else(|| missing(name))?;
    }
    let vol_col = find(&["volume", "vol", "real_volume", "tickvol", "tick_volume"]);
    let mut cols = vec![ts_col];
    cols.extend(price_cols);
    cols.extend(vol_col);
    parquet_check::check(file, &bytes, reader.metadata(), &cols, limits)?;

    let mut unit: Option<EpochUnit> = None;
    let mut row_base: u64 = 0;
    // checked against max_rows; and never more rows than bytes up front
    let claimed = usize::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
    builder.reserve(claimed.min(file_len));
    for g in 0..reader.num_row_groups() {
        let rg = reader.get_row_group(g).map_err(perr)?;
        let rows = usize::try_from(rg.metadata().num_rows()).unwrap_or(0);
        let read_col = |i: usize| read_column(file, rg.as_ref(), i, rows, row_base, i == ts_col);
        let Values::Ts(mut ts) = read_col(ts_col)? else {
            return Err(DataError::file(
                file,
                format!("column '{}' is not a timestamp", names[ts_col]),
            ));
        };
        if matches!(
            kind(rg.metadata().column(ts_col).column_descr()),
            Some(Kind::EpochAuto)
        ) {
            let first = ts.first().copied().unwrap_or(0);
            let u = *unit.get_or_insert_with(|| EpochUnit::from_magnitude(first));
            for t in &mut ts {
                *t = u.to_ms(*t).unwrap_or(i64::MAX);
            }
        }
        let mut prices: [Vec<Num>; 4] = Default::default();
        for (out, &i) in prices.iter_mut().zip(&price_cols) {
            *out = numbers(file, &names[i], read_col(i)?)?;
        }
        let volume = match vol_col {
            Some(i) => numbers(file, &names[i], read_col(i)?)?,
            None => vec![Num::int(0); rows],
        };
        for r in 0..rows {
            let ohlc = [prices[0][r], prices[1][r], prices[2][r], prices[3][r]];
            builder.push(row_base + r as u64 + 1, ts[r], ohlc, volume[r])?;
        }
        row_base += rows as u64;
    }
    Ok(())
}

fn numbers(file: &str, name: &str, v: Values) -> Result<Vec<Num>, DataError> {
    match v {
        Values::Num(v) => Ok(v),
        Values::Ts(_) => Err(DataError::file(
            file,
            format!("column '{name}' is a timestamp, not a number"),
        )),
    }
}

fn kind(d: &ColumnDescriptor) -> Option<Kind> {
    let decimals = |scale: i32| u8::try_from(scale).ok().map(Kind::Decimal);
    match (d.physical_type(), d.logical_type_ref()) {
        (PhysicalType::INT64, Some(LogicalType::Timestamp { unit, .. })) => {
            Some(Kind::Epoch(match unit {
                TimeUnit::MILLIS => EpochUnit::Millis,
                TimeUnit::MICROS => EpochUnit::Micros,
                TimeUnit::NANOS => EpochUnit::Nanos,
            }))
        }
        (PhysicalType::INT32, Some(LogicalType::Date)) => Some(Kind::Date),
        (PhysicalType::INT96, _) => Some(Kind::Int96),
        (_, Some(LogicalType::Decimal { scale, .. })) => decimals(*scale),
        (PhysicalType::INT32 | PhysicalType::INT64, _)
            if d.converted_type() == parquet::basic::ConvertedType::DECIMAL =>
        {
            decimals(d.type_scale())
        }
        (PhysicalType::INT32 | PhysicalType::INT64, _) => Some(Kind::EpochAuto),
        (PhysicalType::FLOAT | PhysicalType::DOUBLE, _) => Some(Kind::Float),
        _ => None,
    }
}

/// Reads all values of column `i` of one row group.
fn read_column(
    file: &str,
    rg: &dyn RowGroupReader,
    i: usize,
    rows: usize,
    row_base: u64,
    want_ts: bool,
) -> Result<Values, DataError> {
    let perr = |e: ParquetError| DataError::file(file, format!("cannot read Parquet: {e}"));
    let descr = rg.metadata().column(i).column_descr_ptr();
    let name = descr.path().string();
    let unsupported = || {
        DataError::file(
            file,
            format!(
                "column '{name}' has an unsupported type {}",
                descr.physical_type()
            ),
        )
    };
    if descr.max_rep_level() > 0 {
        return Err(DataError::file(file, format!("column '{name}' is a list")));
    }
    let kind = kind(&descr).ok_or_else(unsupported)?;
    let max_def = descr.max_def_level();
    let bad = |row: usize, what: &str| {
        DataError::row(file, row_base + row as u64 + 1, format!("{name} {what}"))
    };
    // Integer-like columns: either timestamps or exact numbers.
    let ints = |v: Vec<i64>| -> Result<Values, DataError> {
        Ok(match kind {
            Kind::Epoch(u) => Values::Ts(
                v.into_iter()
                    .map(|x| u.to_ms(x).unwrap_or(i64::MAX))
                    .collect(),
            ),
            Kind::Date => Values::Ts(v.into_iter().map(|d| d.saturating_mul(DAY_MS)).collect()),
            // A plain integer: epoch timestamps (unit by magnitude, decided by the caller) or an integer price.
            Kind::EpochAuto if want_ts => Values::Ts(v),
            Kind::EpochAuto => Values::Num(v.into_iter().map(Num::int).collect()),
            Kind::Decimal(d) => Values::Num(
                v.into_iter()
                    .map(|m| Num {
                        mantissa: m,
                        decimals: d,
                    })
                    .collect(),
            ),
            Kind::Float | Kind::Int96 => return Err(unsupported()),
        })
    };
    let floats = |v: Vec<f64>| -> Result<Values, DataError> {
        v.into_iter()
            .enumerate()
            .map(|(r, x)| {
                Num::from_f64(x)
                    .ok_or_else(|| bad(r, &format!("value {x} cannot be stored as a decimal")))
            })
            .collect::<Result<_, _>>()
            .map(Values::Num)
    };
    let bytes_dec = |v: Vec<&[u8]>| -> Result<Values, DataError> {
        let Kind::Decimal(d) = kind else {
            return Err(unsupported());
        };
        v.into_iter()
            .enumerate()
            .map(|(r, b)| {
                be_int(b)
                    .map(|m| Num {
                        mantissa: m,
                        decimals: d,
                    })
                    .ok_or_else(|| bad(r, "value does not fit in 64 bits"))
            })
            .collect::<Result<_, _>>()
            .map(Values::Num)
    };
    match rg.get_column_reader(i).map_err(perr)? {
        ColumnReader::Int32ColumnReader(r) => {
            let v = read_all(file, &name, r, rows, max_def, row_base)?;
            ints(v.into_iter().map(i64::from).collect())
        }
        ColumnReader::Int64ColumnReader(r) => {
            ints(read_all(file, &name, r, rows, max_def, row_base)?)
        }
        ColumnReader::FloatColumnReader(r) => {
            // Through f32's own shortest text, not f64's (0.1f32 is "0.1").
            let v = read_all(file, &name, r, rows, max_def, row_base)?;
            v.into_iter()
                .enumerate()
                .map(|(r, x)| {
                    x.is_finite()
                        .then(|| Num::parse(format!("{x}").as_bytes()).map(Num::trim_zeros))
                        .flatten()
                        .ok_or_else(|| bad(r, &format!("value {x} cannot be stored as a decimal")))
                })
                .collect::<Result<_, _>>()
                .map(Values::Num)
        }
        ColumnReader::DoubleColumnReader(r) => {
            floats(read_all(file, &name, r, rows, max_def, row_base)?)
        }
        ColumnReader::Int96ColumnReader(r) => {
            let v = read_all(file, &name, r, rows, max_def, row_base)?;
            Ok(Values::Ts(
                v.iter()
                    .map(|x| x.to_nanos().div_euclid(1_000_000))
                    .collect(),
            ))
        }
        ColumnReader::FixedLenByteArrayColumnReader(r) => {
            let v = read_all(file, &name, r, rows, max_def, row_base)?;
            bytes_dec(v.iter().map(AsBytes::as_bytes).collect())
        }
        ColumnReader::ByteArrayColumnReader(r) => {
            let v = read_all(file, &name, r, rows, max_def, row_base)?;
            bytes_dec(v.iter().map(AsBytes::as_bytes).collect())
        }
        ColumnReader::BoolColumnReader(_) => Err(unsupported()),
    }
}

/// Big-endian two's complement integer of up to 16 bytes, if it fits in i64.
fn be_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let neg = b[0] & 0x80 != 0;
    let mut v: i128 = if neg { -1 } else { 0 };
    for &x in b {
        v = (v << 8) | i128::from(x);
    }
    i64::try_from(v).ok()
}

/// Records read per call: the reader sizes its buffers by the records
/// asked for, so a row group's claimed size never decides an allocation.
const BATCH: usize = 64 * 1024;

/// All values of one column chunk; an error naming the row of the first null.
fn read_all<T: DataType>(
    file: &str,
    name: &str,
    mut r: ColumnReaderImpl<T>,
    rows: usize,
    max_def: i16,
    row_base: u64,
) -> Result<Vec<T::T>, DataError> {
    let mut values = Vec::with_capacity(rows.min(BATCH));
    let mut defs = Vec::new();
    let mut done = 0;
    while done < rows {
        let want = (rows - done).min(BATCH);
        let def_buf = (max_def > 0).then_some(&mut defs);
        let (records, _, _) = r
            .read_records(want, def_buf, None, &mut values)
            .map_err(|e| DataError::file(file, format!("cannot read Parquet: {e}")))?;
        if records == 0 {
            break;
        }
        done += records;
    }
    if values.len() != rows {
        let row = defs
            .iter()
            .position(|&d| d < max_def)
            .unwrap_or(values.len());
        return Err(DataError::row(
            file,
            row_base + row as u64 + 1,
            format!("{name} is missing (null)"),
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::be_int;

    #[test]
    fn big_endian_decimals() {
        assert_eq!(be_int(&[0x01, 0x00]), Some(256));
        assert_eq!(be_int(&[0xff, 0xff]), Some(-1));
        assert_eq!(
            be_int(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x30, 0x39]),
            Some(12345)
        );
        assert_eq!(be_int(&[0x7f; 16]), None);
    }
}
