//! Fuzzing the importers (CSV, gzip-wrapped CSV, Parquet) on stable Rust.
//!
//! Why proptest rather than cargo-fuzz or bolero: cargo-fuzz needs nightly
//! and libFuzzer, and runs outside `cargo test`; bolero's coverage-guided
//! engines need the same, and on stable it falls back to random inputs
//! anyway. proptest runs on stable inside `cargo test --profile ci` (so CI
//! runs it like every other test), its runner takes a fixed seed (the same
//! inputs every run: a failure reproduces) and a fixed number of cases (a
//! bounded budget), and its strategies express both kinds of input we
//! want: *structured* ones (CSV rows built from plausible and hostile
//! fields, gzipped or not) and *byte-level* mutations of valid files (bit
//! flips, interesting bytes, insertions, deletions, duplications,
//! truncations — concentrated on a Parquet file's footer, where its claims
//! are).
//!
//! Every case imports through [`Catalog::import_bytes`] (the path uploads,
//! `atf data import` and the demo data take) and checks:
//! - no panic (proptest catches one and fails) and no abort (the process
//!   would die);
//! - peak memory, measured by a counting global allocator in this test
//!   binary, within [`K`] × the input (its decompressed size for gzip, as
//!   bounded by the limits) + [`SLACK`];
//! - a refused import leaves the catalog exactly as it was: the same rows,
//!   the same files, no temporary file.

#![allow(
    unsafe_code,
    reason = "a counting global allocator: the test measures peak memory"
)]

use atf_data::{Catalog, ImportLimits, ImportOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Bytes allocated now and at most since the last reset.
struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller's contract.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as the caller's contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak memory may be this many times the (decompressed) input…
const K: usize = 24;
/// …plus this: the catalog's SQLite page cache, the Parquet writer's
/// buffers, proptest's bookkeeping.
const SLACK: usize = 6 << 20;

/// Limits small enough that a bomb shows in the measurement: gzip and
/// Parquet pages may expand 32×, at least 1 MiB, at most 8 MiB; 200,000 rows.
const LIMITS: ImportLimits = ImportLimits {
    max_file_bytes: 4 << 20,
    max_decompressed_bytes: 8 << 20,
    max_gzip_ratio: 32,
    gzip_floor_bytes: 1 << 20,
    max_rows: 200_000,
};

/// Cases per input kind: 20,000 in an optimized build (the `ci` profile:
/// 80,000 cases in about 25 s on a 2-core VM), 1,500 in a debug one (about
/// 45 s) — a fixed budget either way.
const CASES: u32 = if cfg!(debug_assertions) {
    1_500
} else {
    20_000
};

/// One seed for every run: the same inputs each time.
const SEED: [u8; 32] = *b"atf issue 15: fuzz the importers";

/// `n` valid 1-minute bars as CSV.
fn valid_csv(n: usize) -> Vec<u8> {
    let mut s = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        let p = 100 + (i * 7 % 13);
        s += &format!(
            "{},{}.{:02},{}.50,{}.00,{}.25,{}\n",
            1_704_067_200 + 60 * i,
            p,
            i % 100,
            p + 1,
            p - 1,
            p,
            i * 3
        );
    }
    s.into_bytes()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// A valid Parquet file of `n` bars as the catalog stores them (snappy,
/// delta-encoded timestamps, decimals; two row groups when `n` is large).
fn valid_parquet(n: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let c = Catalog::open(dir.path()).unwrap();
    let r = c
        .import_bytes("seed.csv", &valid_csv(n), &ImportOptions::default())
        .unwrap();
    std::fs::read(dir.path().join(&r.dataset.file)).unwrap()
}

/// One byte-level edit.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

/// Bytes that break parsers: zero, sign bits, all ones, separators.
const INTERESTING: [u8; 10] = [0, 0x7f, 0x80, 0xff, b'\n', b',', b'-', b'9', b'.', 0x15];

fn edit() -> impl Strategy<Value = Edit> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 0u8..8).prop_map(|(p, b)| Edit::Flip(p, 1 << b)),
        (
            pos,
            prop_oneof![any::<u8>(), proptest::sample::select(&INTERESTING[..])]
        )
            .prop_map(|(p, v)| Edit::Set(p, v)),
        (pos, proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(p, v)| Edit::Insert(p, v)),
        (pos, 1usize..64).prop_map(|(p, n)| Edit::Delete(p, n)),
        (pos, 1usize..512).prop_map(|(p, n)| Edit::Duplicate(p, n)),
        pos.prop_map(Edit::Truncate),
    ]
}

/// Applies `edits` to `b`; positions are taken modulo the length, and with
/// `tail` set, within its last `tail` bytes (a Parquet footer).
fn mutate(mut b: Vec<u8>, edits: &[Edit], tail: Option<usize>) -> Vec<u8> {
    for e in edits {
        if b.is_empty() {
            break;
        }
        let at = |p: usize, len: usize| match tail {
            Some(t) => len - 1 - p % t.min(len),
            None => p % len,
        };
        let len = b.len();
        match e {
            Edit::Flip(p, m) => b[at(*p, len)] ^= m,
            Edit::Set(p, v) => b[at(*p, len)] = *v,
            Edit::Insert(p, v) => {
                let i = at(*p, len);
                b.splice(i..i, v.iter().copied());
            }
            Edit::Delete(p, n) => {
                let i = at(*p, len);
                b.drain(i..(i + n).min(len));
            }
            Edit::Duplicate(p, n) => {
                let i = at(*p, len);
                let part = b[i..(i + n).min(len)].to_vec();
                b.splice(i..i, part);
            }
            Edit::Truncate(p) => b.truncate(at(*p, len)),
        }
    }
    b
}

/// A field of a structured CSV row: plausible, or hostile.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..2_000_000_000).prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        (0u32..100_000, 0u32..100_000).prop_map(|(a, b)| format!("{a}.{b}")),
        any::<f64>().prop_map(|v| v.to_string()),
        Just("2024-01-01T00:00:00Z".to_owned()),
        Just("9999-12-31 23:59:59".to_owned()),
        Just("1e308".to_owned()),
        Just("-0".to_owned()),
        Just("\"1,5\"".to_owned()),
        Just(String::new()),
        "[0-9.eE+-]{1,30}",
        "\\PC{0,12}",
    ]
}

/// Structured CSV: a header (usual or not), then rows of 4–13 fields
/// mixing valid-looking timestamps and prices with hostile values.
fn structured_csv() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just("timestamp,open,high,low,close,volume".to_owned()),
        Just(
            "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>".to_owned()
        ),
        Just("open_time,open,high,low,close,volume,close_time,q,n,tb,tq,ignore".to_owned()),
        Just(String::new()),
        "[a-z,]{0,40}",
    ];
    let row = proptest::collection::vec(field(), 4..13);
    let sep = proptest::sample::select(vec![",", ";", "\t"]);
    (
        header,
        proptest::collection::vec((row, sep), 0..60),
        any::<bool>(),
    )
        .prop_map(|(h, rows, crlf)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut s = h;
            s += nl;
            for (fields, sep) in rows {
                s += &fields.join(sep);
                s += nl;
            }
            s.into_bytes()
        })
}

/// What memory an input may take: its size, or for gzip what it may
/// expand to under [`LIMITS`].
fn budget(input: &[u8]) -> usize {
    let expanded = if input.starts_with(&[0x1f, 0x8b]) {
        usize::try_from(LIMITS.decompressed_limit(input.len())).unwrap()
    } else {
        input.len()
    };
    K * expanded.max(input.len()) + SLACK
}

/// The catalog's rows and every file in `datasets/`.
fn snapshot(dir: &Path, c: &Catalog) -> (Vec<i64>, Vec<String>) {
    let mut files: Vec<String> = std::fs::read_dir(dir.join("datasets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    (c.list().unwrap().iter().map(|d| d.id).collect(), files)
}

/// Peak memory seen across all cases, as a multiple of the budget (for the
/// report at the end).
static WORST: Mutex<(f64, usize, usize)> = Mutex::new((0.0, 0, 0));

/// Imports `input` and checks the three properties.
fn import_checked(dir: &Path, c: &Catalog, name: &str, input: &[u8]) -> Result<(), TestCaseError> {
    let before = snapshot(dir, c);
    let opts = ImportOptions {
        name: Some("fuzzed".into()),
        limits: LIMITS,
        ..ImportOptions::default()
    };
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = c.import_bytes(name, input, &opts);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let allowed = budget(input);
    {
        let mut w = WORST.lock().unwrap();
        let ratio = peak as f64 / allowed as f64;
        if ratio > w.0 {
            *w = (ratio, peak, input.len());
        }
    }
    prop_assert!(
        peak <= allowed,
        "{name}: {} input bytes took {peak} bytes at peak, more than {allowed}",
        input.len()
    );
    match result {
        Ok(r) => {
            // accepted: its row and its file, nothing else; then gone again
            let (ids, files) = snapshot(dir, c);
            prop_assert_eq!(ids.len(), before.0.len() + 1);
            prop_assert!(dir.join(&r.dataset.file).is_file());
            prop_assert_eq!(files.len(), before.1.len() + 1);
            c.remove("fuzzed").unwrap();
        }
        Err(e) => {
            prop_assert!(e.is_user_error(), "{name}: not the input's fault: {e}");
            prop_assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
    }
    prop_assert_eq!(snapshot(dir, c), before, "{}: the catalog changed", name);
    Ok(())
}

fn runner(salt: u8) -> TestRunner {
    let mut seed = SEED;
    seed[0] ^= salt;
    TestRunner::new_with_rng(
        Config {
            cases: CASES,
            failure_persistence: None,
            max_shrink_iters: 200,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    )
}

#[test]
fn importers_survive_fuzzing_within_bounded_memory_and_leave_nothing_half_written() {
    // The parquet crate panics on some malformed footers (caught by the
    // importer, reported as an invalid file); the default hook would
    // symbolize a backtrace, loading this binary's debug info (~50 MB)
    // into the measurement. One line instead.
    std::panic::set_hook(Box::new(|info| eprintln!("panic (caught): {info}")));
    let dir = tempfile::tempdir().unwrap();
    let c = Catalog::open(dir.path()).unwrap();
    let csv = valid_csv(300);
    let csv_gz = gzip(&csv);
    let parquet = valid_parquet(300);
    let edits = || proptest::collection::vec(edit(), 1..8);

    // structured CSV, plain and gzipped
    runner(1)
        .run(&(structured_csv(), any::<bool>()), |(text, gz)| {
            let (name, input) = if gz {
                ("s.csv.gz", gzip(&text))
            } else {
                ("s.csv", text)
            };
            import_checked(dir.path(), &c, name, &input)
        })
        .unwrap();
    // byte-level mutations of a valid CSV, and of the CSV under gzip
    runner(2)
        .run(&(edits(), any::<bool>()), |(e, gz)| {
            let text = mutate(csv.clone(), &e, None);
            let (name, input) = if gz {
                ("m.csv.gz", gzip(&text))
            } else {
                ("m.csv", text)
            };
            import_checked(dir.path(), &c, name, &input)
        })
        .unwrap();
    // byte-level mutations of the gzip stream itself
    runner(3)
        .run(&edits(), |e| {
            import_checked(
                dir.path(),
                &c,
                "g.csv.gz",
                &mutate(csv_gz.clone(), &e, None),
            )
        })
        .unwrap();
    // Parquet: anywhere, and concentrated on the footer's last 600 bytes
    runner(4)
        .run(&(edits(), any::<bool>()), |(e, footer)| {
            let tail = footer.then_some(600);
            import_checked(
                dir.path(),
                &c,
                "p.parquet",
                &mutate(parquet.clone(), &e, tail),
            )
        })
        .unwrap();
    // gzip bombs: zeros and repeated rows past the ratio
    for body in [vec![b'0'; 16 << 20], valid_csv(400_000)] {
        let input = gzip(&body);
        import_checked(dir.path(), &c, "bomb.csv.gz", &input).unwrap();
    }
    let w = WORST.lock().unwrap();
    eprintln!(
        "worst case: {:.3} of the budget ({} bytes at peak for {} input bytes)",
        w.0, w.1, w.2
    );
}
