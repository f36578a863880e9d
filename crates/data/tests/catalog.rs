//! Catalog behaviour: listing, lookup, period loads, demo seeding, reopening.

mod common;

use atf_data::time::parse_timestamp;
use atf_data::{Catalog, DataError, ImportOptions};
use common::{catalog, import_text};

/// `n` one-minute bars from 2024-01-01T00:00Z with a known close per index.
fn minutes_csv(n: usize) -> String {
    let mut s = String::with_capacity(n * 48);
    s.push_str("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        let secs = 1_704_067_200 + i as i64 * 60;
        let c = 100 + (i % 1000) as i64;
        s += &format!("{secs},{c}.00,{}.50,{}.50,{c}.25,{i}\n", c, c - 1);
    }
    s
}

#[test]
fn load_reads_only_the_period() {
    let (dir, c) = catalog();
    let n = 300_000; // three row groups of 128k
    let r = import_text(&c, "big.csv", &minutes_csv(n));
    assert_eq!(r.rows, n as u64);
    let all = c.load(&r.dataset, None, None).unwrap();
    assert_eq!(all.len(), n);
    assert_eq!(all.close[5], 10_525);
    assert_eq!(all.volume[299_999], 299_999);

    // A period inside the third row group, bounds half-open.
    let t = |i: i64| 1_704_067_200_000 + i * 60_000;
    let part = c
        .load(&r.dataset, Some(t(270_000)), Some(t(270_010)))
        .unwrap();
    assert_eq!(part.len(), 10);
    assert_eq!(part.ts[0], t(270_000));
    assert_eq!(part.ts[9], t(270_009));
    assert_eq!(part, all.slice_time(t(270_000), t(270_010)));
    // Spanning two row groups, open-ended.
    let tail = c.load(&r.dataset, Some(t(131_000)), None).unwrap();
    assert_eq!(tail.len(), n - 131_000);
    let head = c.load(&r.dataset, None, Some(t(10))).unwrap();
    assert_eq!(head.len(), 10);
    assert!(c
        .load(&r.dataset, Some(t(n as i64)), None)
        .unwrap()
        .is_empty());

    let stored = std::fs::File::open(dir.path().join(&r.dataset.file)).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(stored).unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.num_row_groups(), 3, "row groups of 128k rows");

    let meta = atf_data::parquet_store::read_meta(&dir.path().join(&r.dataset.file)).unwrap();
    assert_eq!(meta.timeframe.to_string(), "1m");
    assert_eq!(meta.symbol, "BIG");
}

#[test]
fn list_get_remove_and_reopen() {
    let (dir, c) = catalog();
    let text = "timestamp,open,high,low,close\n2024-01-01,1,1,1,1\n2024-01-02,1,1,1,1\n";
    let a = import_text(&c, "a.csv", text).dataset;
    let b = c
        .import_bytes(
            "b.csv",
            text.as_bytes(),
            &ImportOptions {
                symbol: Some("ES".into()),
                ..Default::default()
            },
        )
        .unwrap()
        .dataset;
    assert_eq!(b.symbol, "ES");
    assert_eq!(
        a.file,
        std::path::Path::new("datasets").join(format!("{}-a.parquet", a.id))
    );
    assert!(dir.path().join(&a.file).is_file());
    assert_eq!(c.list().unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(c.get("a").unwrap(), a);
    assert_eq!(c.get(&b.id.to_string()).unwrap(), b);
    let err = c.get("zzz").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no dataset 'zzz' in the catalog; available: a, b"
    );
    assert!(
        matches!(err, DataError::DatasetNotFound { ref available, .. } if available.len() == 2)
    );

    c.remove("a").unwrap();
    assert!(!dir.path().join(&a.file).exists());
    drop(c);
    let c = Catalog::open(dir.path()).unwrap();
    assert_eq!(c.list().unwrap(), vec![b.clone()]);
    // ids are never reused
    let a2 = import_text(&c, "a.csv", text).dataset;
    assert!(a2.id > b.id);
    assert_eq!(parse_timestamp("2024-01-02").unwrap(), a2.last_ts_ms);
}

#[test]
fn json_uses_camel_case() {
    let (_d, c) = catalog();
    let d = import_text(
        &c,
        "a.csv",
        "timestamp,open,high,low,close\n2024-01-01,1,1,1,1\n2024-01-02,1,1,1,1\n",
    )
    .dataset;
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["firstTsMs"], 1_704_067_200_000_i64);
    assert_eq!(v["timeframe"], "1d");
    assert_eq!(v["priceDecimals"], 0);
    assert_eq!(v["file"], format!("datasets/{}-a.parquet", d.id));
}

#[test]
fn ensure_demo_imports_once_and_respects_deletion() {
    let (dir, c) = catalog();
    let added = c.ensure_demo().unwrap();
    let names: Vec<&str> = added.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["spy-1m", "spy-1d"]);
    assert!(added.iter().all(|d| d.symbol == "SPY"));
    assert_eq!(added[0].rows, 31_757);
    assert_eq!(added[1].rows, 5_849);
    assert_eq!(added[1].timeframe.to_string(), "1d");
    assert!(c.ensure_demo().unwrap().is_empty(), "idempotent");
    assert_eq!(c.list().unwrap().len(), 2);

    c.remove("spy-1m").unwrap();
    drop(c);
    let c = Catalog::open(dir.path()).unwrap();
    assert!(
        c.ensure_demo().unwrap().is_empty(),
        "a deleted demo stays deleted"
    );
    assert_eq!(c.list().unwrap().len(), 1);
}

#[test]
fn catalog_uses_wal_and_records_migrations() {
    let (dir, c) = catalog();
    drop(c);
    let conn = rusqlite::Connection::open(dir.path().join("catalog.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let v: i64 = conn
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(v, 1);
    // Reopening applies nothing twice.
    drop(conn);
    Catalog::open(dir.path()).unwrap();
}
