//! A Parquet file can hold any `i64` in a TIMESTAMP(MILLIS) column; bars
//! that far out would overflow the engine's and the planner's sums with a
//! timeframe (a bar's end, a bucket start). They are refused at import with
//! the row and the supported range, and the catalog is left as it was.

mod common;

use atf_data::ImportOptions;
use common::{catalog, snapshot};
use parquet::data_type::{DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::sync::Arc;

/// Three daily bars at `ts` (TIMESTAMP(MILLIS)), as pyarrow writes them.
fn parquet_millis(ts: &[i64; 3]) -> Vec<u8> {
    let schema = parse_message_type(
        "message m {
            REQUIRED INT64 timestamp (TIMESTAMP(MILLIS,true));
            REQUIRED DOUBLE open; REQUIRED DOUBLE high; REQUIRED DOUBLE low; REQUIRED DOUBLE close;
        }",
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = SerializedFileWriter::new(
        &mut out,
        Arc::new(schema),
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<Int64Type>()
        .write_batch(ts, None, None)
        .unwrap();
    col.close().unwrap();
    for vals in [[1.0; 3], [2.0; 3], [0.5; 3], [1.5, 1.6, 1.7]] {
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<DoubleType>()
            .write_batch(&vals, None, None)
            .unwrap();
        col.close().unwrap();
    }
    rg.close().unwrap();
    w.close().unwrap();
    out
}

#[test]
fn bars_beyond_year_9999_or_before_year_1_are_refused_and_nothing_is_stored() {
    const DAY: i64 = 86_400_000;
    let top = i64::MAX - i64::MAX % DAY;
    let bottom = -top;
    let (dir, c) = catalog();
    let before = snapshot(dir.path(), &c);
    for (name, ts, line) in [
        ("late.parquet", [top - 2 * DAY, top - DAY, top], 1),
        ("early.parquet", [bottom, bottom + DAY, bottom + 2 * DAY], 1),
        (
            "edge.parquet",
            [
                253_402_128_000_000, // 9999-12-30
                253_402_214_400_000, // 9999-12-31
                253_402_300_800_000, // 10000-01-01
            ],
            3, // Parquet rows count from 1
        ),
    ] {
        let err = c
            .import_bytes(name, &parquet_millis(&ts), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{name}:{line}: timestamp "))
                && err.ends_with(
                    "is outside the supported range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z"
                ),
            "{err}"
        );
        assert_eq!(
            snapshot(dir.path(), &c),
            before,
            "{name} left something behind"
        );
    }
    // the last whole days inside the range import
    let ok = c
        .import_bytes(
            "last-days.parquet",
            &parquet_millis(&[
                253_402_041_600_000,
                253_402_128_000_000,
                253_402_214_400_000,
            ]),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(ok.dataset.rows, 3);
}
