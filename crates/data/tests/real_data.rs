//! Every real dataset in `shared/data` imports with the figures MANIFEST.md
//! gives for it. The files must be there: a missing file fails the test.

use atf_data::time::{format_iso, parse_timestamp};
use atf_data::{Catalog, ImportOptions, SourceFormat};
use std::path::PathBuf;

struct Expected {
    file: &'static str,
    rows: u64,
    timeframe: &'static str,
    first: &'static str,
    last: &'static str,
    gaps: u64,
    missing: u64,
    price_decimals: u8,
}

const FILES: [Expected; 11] = [
    Expected {
        file: "eurusd_1m_histdata_2017h1.csv.gz",
        rows: 186_348,
        timeframe: "1m",
        first: "2017-01-02T07:00:00Z",
        last: "2017-06-30T21:58:00Z",
        gaps: 306,
        missing: 72_311,
        price_decimals: 6,
    },
    Expected {
        file: "spy_1m_ninjatrader_2011-01_2011-03.csv.gz",
        rows: 31_757,
        timeframe: "1m",
        first: "2011-01-03T09:00:00Z",
        last: "2011-03-31T23:58:00Z",
        gaps: 2_850,
        missing: 94_422,
        price_decimals: 2,
    },
    Expected {
        file: "spy_1m_lean_2013-10.csv.gz",
        rows: 4_839,
        timeframe: "1m",
        first: "2013-10-04T08:06:00Z",
        last: "2013-10-11T23:59:00Z",
        gaps: 446,
        missing: 6_195,
        price_decimals: 2,
    },
    Expected {
        file: "6eh4_1m_cme_2024-01.csv.gz",
        rows: 29_996,
        timeframe: "1m",
        first: "2024-01-01T23:00:00Z",
        last: "2024-01-31T23:58:00Z",
        gaps: 375,
        missing: 13_263,
        price_decimals: 5,
    },
    Expected {
        file: "btcperp_1m_2022-01.csv.gz",
        rows: 45_031,
        timeframe: "1m",
        first: "2021-12-31T23:00:00Z",
        last: "2022-02-01T05:30:00Z",
        gaps: 0,
        missing: 0,
        price_decimals: 3,
    },
    Expected {
        file: "gbpusd_1m_fxcm_bid_2012-02.csv.gz",
        rows: 30_117,
        timeframe: "1m",
        first: "2012-02-01T00:00:00Z",
        last: "2012-03-01T00:00:00Z",
        gaps: 111,
        missing: 11_644,
        price_decimals: 5,
    },
    Expected {
        file: "spy_1h_lean_1998_2021.csv.gz",
        rows: 40_832,
        timeframe: "1h",
        first: "1998-01-02T14:00:00Z",
        last: "2021-03-31T19:00:00Z",
        gaps: 5_848,
        missing: 162_910,
        price_decimals: 4,
    },
    Expected {
        file: "spy_1d_lean_1998_2021.csv.gz",
        rows: 5_849,
        timeframe: "1d",
        first: "1998-01-02T00:00:00Z",
        last: "2021-03-31T00:00:00Z",
        gaps: 1_267,
        missing: 2_641,
        price_decimals: 4,
    },
    Expected {
        file: "eurusd_1h_oanda_bid_lean_2007_2018.csv.gz",
        rows: 74_439,
        timeframe: "1h",
        first: "2007-01-01T21:00:00Z",
        last: "2018-12-31T21:00:00Z",
        gaps: 641,
        missing: 30_730,
        price_decimals: 5,
    },
    Expected {
        file: "goog_1d_backtestingpy_2004_2013.csv.gz",
        rows: 2_148,
        timeframe: "1d",
        first: "2004-08-19T00:00:00Z",
        last: "2013-03-01T00:00:00Z",
        gaps: 463,
        missing: 969,
        price_decimals: 2,
    },
    Expected {
        file: "eurusd_1h_backtestingpy_2017_2018.csv.gz",
        rows: 5_000,
        timeframe: "1h",
        first: "2017-04-19T09:00:00Z",
        last: "2018-02-07T15:00:00Z",
        gaps: 42,
        missing: 2_063,
        price_decimals: 5,
    },
];

fn shared_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

#[test]
fn every_real_dataset_matches_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    for e in &FILES {
        let path = shared_data().join(e.file);
        assert!(
            path.is_file(),
            "missing real data file {} (shared/data must be beside the repo)",
            path.display()
        );
        let r = catalog
            .import(&path, &ImportOptions::default())
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let d = &r.dataset;
        assert_eq!(r.format, SourceFormat::Csv, "{}", e.file);
        assert!(r.gzipped);
        assert_eq!(r.rows, e.rows, "{} rows", e.file);
        assert_eq!(d.rows, e.rows);
        assert_eq!(d.timeframe.to_string(), e.timeframe, "{} timeframe", e.file);
        assert_eq!(format_iso(d.first_ts_ms), e.first, "{} first", e.file);
        assert_eq!(format_iso(d.last_ts_ms), e.last, "{} last", e.file);
        assert_eq!(
            (r.gaps, r.missing_bars),
            (e.gaps, e.missing),
            "{} gaps",
            e.file
        );
        assert_eq!(
            d.price_decimals, e.price_decimals,
            "{} price decimals",
            e.file
        );
        assert_eq!(d.first_ts_ms, parse_timestamp(e.first).unwrap());

        let bars = catalog.load(d, None, None).unwrap();
        assert_eq!(bars.len() as u64, e.rows);
        assert_eq!(bars.ts.first(), Some(&d.first_ts_ms));
        assert_eq!(bars.ts.last(), Some(&d.last_ts_ms));
    }
    let names: Vec<String> = catalog
        .list()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names.len(), FILES.len());
    assert_eq!(names[0], "eurusd_1m_histdata_2017h1");
}

#[test]
fn first_bar_is_the_exact_decimal_written() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    let path = shared_data().join("spy_1d_lean_1998_2021.csv.gz");
    let r = catalog.import(&path, &ImportOptions::default()).unwrap();
    assert_eq!(r.dataset.symbol, "SPY");
    assert_eq!(r.dataset.name, "spy_1d_lean_1998_2021");
    let bars = catalog.load(&r.dataset, None, None).unwrap();
    let text = flate2_first_data_line(&path);
    let fields: Vec<&str> = text.split(',').collect();
    let scale = atf_engine::Scale::new(r.dataset.price_decimals);
    assert_eq!(bars.open[0], scale.parse(fields[1]).unwrap());
    assert_eq!(bars.close[0], scale.parse(fields[4]).unwrap());
}

fn flate2_first_data_line(path: &std::path::Path) -> String {
    use std::io::{BufRead, BufReader};
    let f = std::fs::File::open(path).unwrap();
    let mut lines = BufReader::new(flate2::read::GzDecoder::new(f)).lines();
    lines.next();
    lines.next().unwrap().unwrap()
}
