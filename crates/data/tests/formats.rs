//! Each source format imports to the same exact bars.

mod common;

use atf_data::time::parse_timestamp;
use atf_data::{ImportOptions, SourceFormat};
use atf_engine::{Bar, Bars, Timeframe};
use common::{catalog, gzip, import_text};
use parquet::data_type::{
    ByteArray, DoubleType, FixedLenByteArray, FixedLenByteArrayType, Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::sync::Arc;

const T0: i64 = 1_704_103_200_000; // 2024-01-01T10:00:00Z

/// The three bars every fixture below describes (prices at 4 dp, volume at 1 dp).
fn expected() -> Bars {
    let mut b = Bars::default();
    for (i, (o, h, l, c, v)) in [
        (10_500, 10_550, 10_490, 10_520, 125),
        (10_520, 10_600, 10_510, 10_590, 0),
        (10_590, 10_590, 10_400, 10_410, 70),
    ]
    .into_iter()
    .enumerate()
    {
        let m = [0, 1, 3][i];
        b.push(Bar {
            ts: T0 + m * 60_000,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        });
    }
    b
}

const CSV_ISO: &str = "timestamp,open,high,low,close,volume
2024-01-01T10:00:00Z,1.05,1.055,1.049,1.052,12.5
2024-01-01T10:01:00Z,1.052,1.06,1.051,1.059,0
2024-01-01T10:03:00Z,1.059,1.059,1.04,1.0410,7
";

fn check(c: &atf_data::Catalog, r: &atf_data::ImportReport, format: SourceFormat) {
    assert_eq!(r.format, format);
    assert_eq!(r.dataset.timeframe, Timeframe::M1);
    assert_eq!((r.gaps, r.missing_bars), (1, 1));
    assert_eq!(
        (r.dataset.price_decimals, r.dataset.volume_decimals),
        (4, 1)
    );
    assert_eq!(c.load(&r.dataset, None, None).unwrap(), expected());
}

#[test]
fn csv_with_iso_timestamps() {
    let (_d, c) = catalog();
    let r = import_text(&c, "eurusd_test.csv", CSV_ISO);
    check(&c, &r, SourceFormat::Csv);
    assert_eq!(r.dataset.name, "eurusd_test");
    assert_eq!(r.dataset.symbol, "EURUSD");
    assert_eq!(r.dataset.instrument().price_scale.decimals(), 4);
}

#[test]
fn csv_timestamp_variants_and_aliases() {
    let (_d, c) = catalog();
    let variants = [
        (
            "Time,Open,High,Low,Close,Volume",
            ["1704103200", "1704103260", "1704103380"],
        ),
        (
            "date,open,high,low,close,volume",
            ["1704103200000", "1704103260000", "1704103380000"],
        ),
        (
            "datetime,open,high,low,close,volume",
            [
                "2024-01-01 10:00:00",
                "2024-01-01 10:01:00",
                "2024-01-01 10:03:00",
            ],
        ),
        (
            "open_time,open,high,low,close,volume",
            [
                "2024-01-01T12:00:00+02:00",
                "2024-01-01T12:01:00+02:00",
                "2024-01-01T12:03:00+02:00",
            ],
        ),
        (
            "timestamp,open,high,low,close,volume",
            [
                "2024-01-01T10:00:00",
                "2024-01-01T10:01:00.000",
                "2024-01-01T10:03:00Z",
            ],
        ),
    ];
    let rows = [
        "1.05,1.055,1.049,1.052,12.5",
        "1.052,1.06,1.051,1.059,0",
        "1.059,1.059,1.04,1.0410,7",
    ];
    for (i, (header, ts)) in variants.iter().enumerate() {
        let mut text = format!("{header}\n");
        for (t, r) in ts.iter().zip(rows) {
            text += &format!("{t},{r}\n");
        }
        let r = import_text(&c, &format!("v{i}.csv"), &text);
        check(&c, &r, SourceFormat::Csv);
    }
}

#[test]
fn csv_without_volume_and_date_only() {
    let (_d, c) = catalog();
    let r = import_text(
        &c,
        "goog.csv",
        "Date,Open,High,Low,Close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1.5,2,1,2\n",
    );
    assert_eq!(r.dataset.timeframe, Timeframe::D1);
    let bars = c.load(&r.dataset, None, None).unwrap();
    assert_eq!(bars.volume, vec![0, 0]);
    assert_eq!(bars.ts[1], parse_timestamp("2024-01-02").unwrap());
    assert_eq!(r.dataset.volume_decimals, 0);
}

#[test]
fn gzipped_csv() {
    let (_d, c) = catalog();
    let gz = gzip(CSV_ISO.as_bytes());
    let r = c
        .import_bytes("x.csv.gz", &gz, &ImportOptions::default())
        .unwrap();
    assert!(r.gzipped);
    assert_eq!(r.dataset.name, "x");
    check(&c, &r, SourceFormat::Csv);
}

#[test]
fn binance_klines_ms_us_and_header() {
    let (_d, c) = catalog();
    let rows = |scale: i64| {
        [
            (0, "1.0500,1.0550,1.0490,1.0520,12.5"),
            (1, "1.0520,1.0600,1.0510,1.0590,0.0"),
            (3, "1.0590,1.0590,1.0400,1.0410,7.0"),
        ]
        .iter()
        .map(|(m, r)| {
            let t = (T0 + m * 60_000) * scale;
            format!("{t},{r},{},100.0,42,1.0,2.0,0\n", t + 59_999 * scale)
        })
        .collect::<String>()
    };
    let r = import_text(&c, "BTCUSDT-1m-2024-01-01.csv", &rows(1));
    check(&c, &r, SourceFormat::Binance);
    assert_eq!(r.dataset.symbol, "BTCUSDT");
    let r = import_text(&c, "micro.csv", &rows(1000));
    check(&c, &r, SourceFormat::Binance);
    let header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n";
    let r = import_text(&c, "with-header.csv", &format!("{header}{}", rows(1)));
    check(&c, &r, SourceFormat::Binance);
}

#[test]
fn metatrader4_history() {
    let (_d, c) = catalog();
    let text = "2024.01.01,10:00,1.0500,1.0550,1.0490,1.0520,12.5\n\
                2024.01.01,10:01,1.0520,1.0600,1.0510,1.0590,0\n\
                2024.01.01,10:03,1.0590,1.0590,1.0400,1.0410,7.0\n";
    let r = import_text(&c, "EURUSD1.csv", text);
    check(&c, &r, SourceFormat::MetaTrader4);
}

#[test]
fn metatrader5_export_uses_tickvol_when_vol_is_zero() {
    let (_d, c) = catalog();
    let text = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n\
                2024.01.01\t10:00:00\t1.0500\t1.0550\t1.0490\t1.0520\t12.5\t0\t3\n\
                2024.01.01\t10:01\t1.0520\t1.0600\t1.0510\t1.0590\t99\t0.0\t3\n\
                2024.01.01\t10:03:00\t1.0590\t1.0590\t1.0400\t1.0410\t55\t7\t3\n";
    let r = import_text(&c, "EURUSD_M1.csv", text);
    assert_eq!(r.format, SourceFormat::MetaTrader5);
    let bars = c.load(&r.dataset, None, None).unwrap();
    assert_eq!(bars.volume, vec![125, 990, 70], "TICKVOL where VOL is 0");
    assert_eq!(bars.close, expected().close);
    assert_eq!(bars.ts, expected().ts);
}

/// A Parquet file with a TIMESTAMP(MICROS) column and DOUBLE prices, as
/// pandas writes them.
fn parquet_doubles() -> Vec<u8> {
    let schema = parse_message_type(
        "message m {
            REQUIRED INT64 ts (TIMESTAMP(MICROS,true));
            REQUIRED DOUBLE open; REQUIRED DOUBLE high; REQUIRED DOUBLE low; REQUIRED DOUBLE close;
            OPTIONAL DOUBLE volume;
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
    let ts: Vec<i64> = expected().ts.iter().map(|t| t * 1000).collect();
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<Int64Type>()
        .write_batch(&ts, None, None)
        .unwrap();
    col.close().unwrap();
    for vals in [
        [1.05, 1.052, 1.059],
        [1.055, 1.06, 1.059],
        [1.049, 1.051, 1.04],
        [1.052, 1.059, 1.041],
    ] {
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<DoubleType>()
            .write_batch(&vals, None, None)
            .unwrap();
        col.close().unwrap();
    }
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<DoubleType>()
        .write_batch(&[12.5, 0.0, 7.0], Some(&[1, 1, 1]), None)
        .unwrap();
    col.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();
    out
}

#[test]
fn parquet_with_doubles_and_micros() {
    let (_d, c) = catalog();
    let r = c
        .import_bytes("p.parquet", &parquet_doubles(), &ImportOptions::default())
        .unwrap();
    assert_eq!(r.dataset.name, "p");
    // 1.05 etc. written as doubles: scale from their shortest text (1.0410 -> 1.041: 3 dp)
    assert_eq!(r.dataset.price_decimals, 3);
    let bars = c.load(&r.dataset, None, None).unwrap();
    assert_eq!(bars.close, vec![1052, 1059, 1041]);
    assert_eq!(bars.ts, expected().ts);
    assert_eq!(bars.volume, vec![125, 0, 70]);
    // gzipped Parquet too
    let r = c
        .import_bytes(
            "p2.parquet.gz",
            &gzip(&parquet_doubles()),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!((r.format, r.gzipped), (SourceFormat::Parquet, true));
}

#[test]
fn parquet_with_fixed_len_decimals_like_pyarrow() {
    let schema = parse_message_type(
        "message m {
            REQUIRED INT64 timestamp (TIMESTAMP(NANOS,false));
            REQUIRED FIXED_LEN_BYTE_ARRAY (8) open (DECIMAL(18,4));
            REQUIRED FIXED_LEN_BYTE_ARRAY (8) high (DECIMAL(18,4));
            REQUIRED FIXED_LEN_BYTE_ARRAY (8) low (DECIMAL(18,4));
            REQUIRED FIXED_LEN_BYTE_ARRAY (8) close (DECIMAL(18,4));
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
    let e = expected();
    let ts: Vec<i64> = e.ts.iter().map(|t| t * 1_000_000).collect();
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<Int64Type>()
        .write_batch(&ts, None, None)
        .unwrap();
    col.close().unwrap();
    for vals in [&e.open, &e.high, &e.low, &e.close] {
        let fl: Vec<FixedLenByteArray> = vals
            .iter()
            .map(|v| FixedLenByteArray::from(ByteArray::from(v.to_be_bytes().to_vec())))
            .collect();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<FixedLenByteArrayType>()
            .write_batch(&fl, None, None)
            .unwrap();
        col.close().unwrap();
    }
    rg.close().unwrap();
    w.close().unwrap();
    let (_d, c) = catalog();
    let r = c
        .import_bytes("dec.parquet", &out, &ImportOptions::default())
        .unwrap();
    assert_eq!(r.dataset.price_decimals, 4);
    let bars = c.load(&r.dataset, None, None).unwrap();
    assert_eq!((bars.open, bars.close, bars.ts), (e.open, e.close, e.ts));
}

#[test]
fn stored_parquet_round_trips_with_the_same_checksum() {
    let (dir, c) = catalog();
    let from_csv = import_text(&c, "a.csv", CSV_ISO);
    let stored = std::fs::read(dir.path().join(&from_csv.dataset.file)).unwrap();
    let from_pq = c
        .import_bytes(
            "a.parquet",
            &stored,
            &ImportOptions {
                name: Some("a-again".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(from_pq.format, SourceFormat::Parquet);
    assert_eq!(from_pq.dataset.sha256, from_csv.dataset.sha256);
    assert_eq!(c.load(&from_pq.dataset, None, None).unwrap(), expected());
    // And through a file path on disk.
    let r = c
        .import(
            &dir.path().join(&from_csv.dataset.file),
            &ImportOptions {
                name: Some("a3".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.dataset.sha256, from_csv.dataset.sha256);
}

#[test]
fn same_bars_same_checksum_whatever_the_format() {
    let (_d, c) = catalog();
    let a = import_text(&c, "a.csv", CSV_ISO);
    let mt4 = "2024.01.01,10:00,1.0500,1.0550,1.0490,1.0520,12.5\n\
               2024.01.01,10:01,1.0520,1.0600,1.0510,1.0590,0\n\
               2024.01.01,10:03,1.0590,1.0590,1.0400,1.0410,7.0\n";
    let b = import_text(&c, "b.csv", mt4);
    assert_eq!(a.dataset.sha256, b.dataset.sha256);
    let other = import_text(&c, "c.csv", &CSV_ISO.replace("12.5", "12.6"));
    assert_ne!(a.dataset.sha256, other.dataset.sha256);
}

#[test]
fn explicit_price_decimals() {
    let (_d, c) = catalog();
    let opts = ImportOptions {
        price_decimals: Some(6),
        ..Default::default()
    };
    let r = c.import_bytes("a.csv", CSV_ISO.as_bytes(), &opts).unwrap();
    assert_eq!(r.dataset.price_decimals, 6);
    assert_eq!(c.load(&r.dataset, None, None).unwrap().close[0], 1_052_000);
}
