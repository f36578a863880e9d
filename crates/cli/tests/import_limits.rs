//! `atf data import`'s bounds as flags: a refusal is one line naming the
//! flag, exit 2, and the catalog stays as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn atf(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atf"))
        .env_remove("ATF_SERVER")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("atf runs")
}

fn state(dir: &Path) -> (String, Vec<PathBuf>) {
    let list = atf(dir, &["data", "list", "--json"]);
    assert!(list.status.success());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("datasets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    (String::from_utf8(list.stdout).unwrap(), files)
}

/// Runs an import that must be refused; its one stderr line.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = atf(dir, args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err.trim_end().to_owned()
}

#[test]
fn each_import_bound_is_a_flag_and_a_refusal_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let before = state(dir.path());
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..1000 {
        csv += &format!("{},10.5,11,10,10.5,{i}\n", 1_704_067_200 + 60 * i);
    }
    let file = dir.path().join("bars.csv");
    std::fs::write(&file, &csv).unwrap();
    let f = file.to_str().unwrap();

    let line = refused(dir.path(), &["data", "import", f, "--max-rows", "999"]);
    assert!(
        line.ends_with("bars.csv: more than 999 rows (limit: --max-rows)"),
        "{line}"
    );
    let big = dir.path().join("big.csv");
    std::fs::write(&big, csv.repeat(40)).unwrap(); // 1.3 MB
    let line = refused(
        dir.path(),
        &[
            "data",
            "import",
            big.to_str().unwrap(),
            "--max-file-mb",
            "1",
        ],
    );
    assert!(
        line.ends_with("big.csv: the file is larger than 1048576 bytes (limit: --max-file-mb, or --max-upload-mb for uploads)"),
        "{line}"
    );
    let gz = dir.path().join("bars.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, csv.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let line = refused(
        dir.path(),
        &[
            "data",
            "import",
            gz.to_str().unwrap(),
            "--max-gzip-ratio",
            "2",
            "--gzip-floor-mb",
            "0",
        ],
    );
    assert!(line.contains("gzip expands to more than"), "{line}");
    assert!(line.contains("--max-gzip-ratio"), "{line}");
    assert_eq!(state(dir.path()), before);

    // within its bounds the same file imports
    let out = atf(dir.path(), &["data", "import", f, "--max-rows", "1000"]);
    assert!(out.status.success(), "{out:?}");
}
