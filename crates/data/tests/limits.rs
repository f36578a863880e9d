//! Import bounds and crash repair, as a user of the catalog sees them.

mod common;

use atf_data::{Catalog, DataError, ImportLimits, ImportOptions, Limit};
use common::{catalog, gzip, snapshot};

/// `n` valid 1-minute bars as CSV.
fn csv(n: usize) -> String {
    let mut s = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        s += &format!("{},10.5,11,10,10.5,{i}\n", 1_704_067_200 + 60 * i);
    }
    s
}

fn with(limits: ImportLimits) -> ImportOptions {
    ImportOptions {
        limits,
        ..ImportOptions::default()
    }
}

#[test]
fn each_bound_refuses_with_its_flag_and_changes_nothing() {
    let (dir, c) = catalog();
    let before = snapshot(dir.path(), &c);
    let tight = ImportLimits {
        max_rows: 100,
        ..ImportLimits::default()
    };
    let e = c
        .import_bytes("a.csv", csv(101).as_bytes(), &with(tight))
        .unwrap_err();
    assert!(
        matches!(
            e,
            DataError::TooLarge {
                limit: Limit::Rows,
                value: 100,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "a.csv: more than 100 rows (limit: --max-rows)"
    );
    // exactly the limit is fine
    let ok = c
        .import_bytes("b.csv", csv(100).as_bytes(), &with(tight))
        .unwrap();
    assert_eq!(ok.rows, 100);
    c.remove("b").unwrap();

    let small_file = ImportLimits {
        max_file_bytes: 1000,
        ..ImportLimits::default()
    };
    let e = c
        .import_bytes("c.csv", csv(100).as_bytes(), &with(small_file))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("c.csv: the file is larger than 1000 bytes"),
        "{e}"
    );
    // the same through a reader (a pipe, an upload): read no further
    let e = c
        .import_reader("c.csv", csv(100).as_bytes(), &with(small_file))
        .unwrap_err();
    assert!(
        matches!(
            e,
            DataError::TooLarge {
                limit: Limit::FileBytes,
                ..
            }
        ),
        "{e}"
    );

    let no_inflation = ImportLimits {
        max_gzip_ratio: 2,
        gzip_floor_bytes: 1000,
        ..ImportLimits::default()
    };
    let e = c
        .import_bytes("d.csv.gz", &gzip(csv(1000).as_bytes()), &with(no_inflation))
        .unwrap_err();
    assert!(
        matches!(
            e,
            DataError::TooLarge {
                limit: Limit::DecompressedBytes,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.is_user_error());
    assert_eq!(snapshot(dir.path(), &c), before);
}

#[test]
fn a_parquet_footer_is_checked_before_its_rows_are_read() {
    let (dir, c) = catalog();
    let r = c
        .import_bytes("src.csv", csv(500).as_bytes(), &ImportOptions::default())
        .unwrap();
    let parquet = std::fs::read(dir.path().join(&r.dataset.file)).unwrap();
    let before = snapshot(dir.path(), &c);
    // the footer's row count alone refuses it
    let e = c
        .import_bytes(
            "p.parquet",
            &parquet,
            &with(ImportLimits {
                max_rows: 499,
                ..ImportLimits::default()
            }),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.parquet: the Parquet footer declares 500 rows, more than a dataset may hold \
         (limit: --max-rows)"
    );
    // pages that would decompress past the bound: refused before decoding
    let e = c
        .import_bytes(
            "p.parquet",
            &parquet,
            &with(ImportLimits {
                max_gzip_ratio: 1,
                gzip_floor_bytes: 0,
                max_decompressed_bytes: 100,
                ..ImportLimits::default()
            }),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            DataError::TooLarge {
                limit: Limit::DecompressedBytes,
                ..
            }
        ),
        "{e}"
    );
    // a file cut short: its footer now points past its end
    let mut cut = parquet[..parquet.len() / 2].to_vec();
    cut.extend_from_slice(&parquet[parquet.len() - 2000.min(parquet.len() / 2)..]);
    let e = c
        .import_bytes("cut.parquet", &cut, &ImportOptions::default())
        .unwrap_err();
    assert!(matches!(e, DataError::InvalidFile { .. }), "{e}");
    assert_eq!(snapshot(dir.path(), &c), before);
}

#[test]
fn opening_repairs_what_a_crash_left() {
    let (dir, c) = catalog();
    let keep = c
        .import_bytes("keep.csv", csv(10).as_bytes(), &ImportOptions::default())
        .unwrap()
        .dataset;
    let lost = c
        .import_bytes("lost.csv", csv(10).as_bytes(), &ImportOptions::default())
        .unwrap()
        .dataset;
    drop(c);
    let datasets = dir.path().join("datasets");
    // a file renamed into place whose row never committed
    std::fs::write(datasets.join("99-ghost.parquet"), b"PAR1").unwrap();
    // a dead import's temporary file (pid beyond any real one)
    std::fs::write(datasets.join(".import-4294967295-0.tmp"), b"half").unwrap();
    // a live import's temporary file (this process): kept
    let live = format!(".import-{}-7.tmp", std::process::id());
    std::fs::write(datasets.join(&live), b"busy").unwrap();
    // a dataset whose file was deleted by hand
    std::fs::remove_file(dir.path().join(&lost.file)).unwrap();

    let c = Catalog::open(dir.path()).unwrap();
    let fixed = c.reconciled();
    let mut removed: Vec<String> = fixed
        .removed_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    removed.sort();
    assert_eq!(
        removed,
        [
            "datasets/.import-4294967295-0.tmp",
            "datasets/99-ghost.parquet"
        ]
    );
    assert_eq!(fixed.dropped_rows, vec![lost]);
    let (rows, files) = snapshot(dir.path(), &c);
    assert_eq!(rows, vec![keep.clone()]);
    let mut expected = vec![
        live,
        keep.file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
    ];
    expected.sort();
    assert_eq!(files, expected);
    // and a second open has nothing left to do
    drop(c);
    std::fs::remove_file(datasets.join(format!(".import-{}-7.tmp", std::process::id()))).unwrap();
    assert!(Catalog::open(dir.path()).unwrap().reconciled().is_empty());
}
