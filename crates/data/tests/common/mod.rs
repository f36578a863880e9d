//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code, reason = "each test file uses a different subset")]

use atf_data::{Catalog, DatasetInfo, ImportOptions, ImportReport};
use std::io::Write;
use std::path::Path;
use tempfile::TempDir;

/// A fresh catalog in a temporary directory.
pub fn catalog() -> (TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let c = Catalog::open(dir.path()).unwrap();
    (dir, c)
}

/// Imports `text` as a file named `name`.
pub fn import_text(c: &Catalog, name: &str, text: &str) -> ImportReport {
    c.import_bytes(name, text.as_bytes(), &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The catalog rows and the files under `datasets/` (sorted).
pub fn snapshot(dir: &Path, c: &Catalog) -> (Vec<DatasetInfo>, Vec<String>) {
    let mut files: Vec<String> = std::fs::read_dir(dir.join("datasets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    (c.list().unwrap(), files)
}

/// Gzips bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}
