//! `kill -9` during `atf data import`: after a restart, no catalog row
//! without its file and no file without its row (DESIGN §13).
//!
//! The source is a FIFO the test writes, so where the kill lands is
//! decided by what the process has observably done, never by a sleep:
//! - while it reads: more was written into the pipe than the pipe holds,
//!   so the process is mid-read (nothing of the import is on disk yet);
//! - while it writes the dataset: its temporary file `datasets/.import-*`
//!   exists (the source fully read and validated, the Parquet file being
//!   written and synced, no row yet).
//!
//! The restart is the next `atf` command on the data directory
//! (`data list`), which opens the catalog and repairs what the kill left.

use atf_testkit::process::{command, Proc};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Liveness bound of every wait (it never happened, not "it was slow").
const PATIENCE: Duration = Duration::from_secs(120);

fn atf() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_atf"))
}

/// `n` valid one-minute bars as CSV, in blocks (to write as they are made).
fn csv_blocks(n: usize) -> impl Iterator<Item = Vec<u8>> {
    let header = b"timestamp,open,high,low,close,volume\n".to_vec();
    std::iter::once(header).chain((0..n).step_by(10_000).map(move |start| {
        let mut s = String::with_capacity(10_000 * 48);
        for i in start..(start + 10_000).min(n) {
            let p = 1000 + i % 97;
            s += &format!(
                "{},{}.25,{}.75,{}.00,{}.50,{}\n",
                1_262_304_000 + 60 * i as u64,
                p,
                p + 1,
                p - 1,
                p,
                i % 1000
            );
        }
        s.into_bytes()
    }))
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(st.success(), "mkfifo {}", path.display());
}

/// Starts `atf data import FIFO --name crashed` and opens the FIFO for
/// writing (which waits until the import opens it to read).
fn start_import(dir: &Path, fifo: &Path, log: &Path) -> (Proc, std::fs::File) {
    let mut cmd = command(&atf(), Some(log));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(["data", "import"])
        .arg(fifo)
        .args(["--name", "crashed"]);
    let proc = Proc::spawn(&mut cmd, Some(log));
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(fifo)
        .expect("the import opens its source");
    (proc, writer)
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("datasets"))
        .expect("datasets/ exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The restart: `atf data list --json`; checks that every row has its
/// file, every file its row, and no temporary file is left. Returns the
/// dataset names.
fn restart_and_check(dir: &Path) -> Vec<String> {
    let out = Command::new(atf())
        .env_remove("ATF_SERVER")
        .arg("--data-dir")
        .arg(dir)
        .args(["data", "list", "--json"])
        .output()
        .expect("atf runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = list.as_array().expect("an array");
    let mut named: Vec<String> = rows
        .iter()
        .map(|d| {
            let f = d["file"].as_str().expect("file");
            assert!(dir.join(f).is_file(), "row {d} without its file");
            Path::new(f)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    named.sort();
    assert_eq!(
        files(dir),
        named,
        "files in datasets/ without a row, or a temporary file left"
    );
    rows.iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Importing the same name again works: nothing half-written is in the way.
fn import_again(dir: &Path) {
    let src = dir.join("again.csv");
    let mut f = std::fs::File::create(&src).unwrap();
    for b in csv_blocks(1_000) {
        f.write_all(&b).unwrap();
    }
    let out = Command::new(atf())
        .arg("--data-dir")
        .arg(dir)
        .args(["data", "import"])
        .arg(&src)
        .args(["--name", "crashed"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kill_9_while_an_import_reads_its_source_leaves_the_catalog_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let before = restart_and_check(dir.path()); // the demo datasets
    let fifo = dir.path().join("source.csv");
    mkfifo(&fifo);
    let (mut proc, mut writer) = start_import(dir.path(), &fifo, &dir.path().join("log"));
    // 4 MB through a 64 KiB pipe: the import has read most of it; the rest
    // never comes
    let mut written = 0;
    for b in csv_blocks(1_000_000) {
        writer.write_all(&b).expect("the import reads");
        written += b.len();
        if written > 4 << 20 {
            break;
        }
    }
    proc.kill();
    drop(writer);
    assert_eq!(restart_and_check(dir.path()), before);
    import_again(dir.path());
}

#[test]
fn kill_9_while_an_import_writes_its_dataset_leaves_no_row_without_file_or_file_without_row() {
    let dir = tempfile::tempdir().unwrap();
    let before = restart_and_check(dir.path());
    let fifo = dir.path().join("source.csv");
    mkfifo(&fifo);
    let log = dir.path().join("log");
    let (mut proc, mut writer) = start_import(dir.path(), &fifo, &log);
    // a large source (2 million bars, ~90 MB): the dataset file takes a
    // while to encode and sync
    for b in csv_blocks(2_000_000) {
        writer.write_all(&b).expect("the import reads");
    }
    drop(writer);
    let datasets = dir.path().join("datasets");
    let t0 = Instant::now();
    let staged = loop {
        let tmp = std::fs::read_dir(&datasets)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with(".import-"));
        if let Some(tmp) = tmp {
            break tmp.path();
        }
        assert!(
            t0.elapsed() < PATIENCE,
            "no temporary dataset file appeared: {}",
            proc.log()
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    proc.kill();
    assert!(
        staged.exists()
            || files(dir.path())
                .iter()
                .any(|f| f.ends_with("-crashed.parquet")),
        "killed while its temporary file existed"
    );
    let after = restart_and_check(dir.path());
    // killed before its row committed: the catalog is as it was (the
    // rename and the insert commit together, so at most it completed)
    assert!(
        after == before || after.len() == before.len() + 1,
        "{after:?}"
    );
    assert!(
        !staged.exists(),
        "the dead import's temporary file is removed"
    );
    if after == before {
        import_again(dir.path());
    }
}
