//! Every incremental indicator against TA-Lib (the PyPI package `TA-Lib`,
//! which bundles the C library) on real market data.
//!
//! The test reads each dataset itself, runs the indicators bar by bar, and
//! runs `tests/talib/reference.py` in the test venv (`ATF_TEST_VENV`, default
//! `$HOME/.cache/atf-test-venv`; `scripts/test.sh` installs it) for TA-Lib's
//! values of the same integer inputs. Every value must agree to a relative
//! 1e-9 (of the price for the MACD lines, of 100 for the oscillators, see
//! `scale_floor`), and both sides must agree on where values begin (NaN in TA-Lib ⇔
//! `None` here, at `warmup() − 1`). The one allowance: TA-Lib's standard
//! deviation is `√(E[x²] − E[x]²)` in `f64`, which cancels when the
//! deviation is small next to the price, while ours is exact; there the
//! difference may reach TA-Lib's own rounding error (see `std_allowance`).
//!
//! `shared_indicator_lines_match_talib` checks the same way the lines a
//! strategy reads ([`atf_engine::Indicators`], computed once and shared
//! through the optimization's cache) for RSI, ATR, MACD, Bollinger and ADX,
//! so what strategies use is what was checked.
//!
//! Without the venv or TA-Lib every test here fails (never skips), saying
//! to run `bash scripts/test.sh`, which installs them, or to point
//! `ATF_TEST_VENV` at a venv that has them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use atf_engine::indicators::{
    Adx, Atr, Bollinger, Donchian, Ema, Keltner, Macd, Obv, RollingExtreme, RollingStd,
    RollingVwap, Rsi, Sma, Stoch, Vwap, Wma,
};
use atf_engine::series::{SeriesCache, DEFAULT_BUDGET};
use atf_engine::{Indicators, Line};

/// The indicators and parameters checked, as `reference.py` spells them.
const SPECS: &[&str] = &[
    "sma:1",
    "sma:2",
    "sma:14",
    "sma:50",
    "ema:2",
    "ema:14",
    "ema:50",
    "wma:2",
    "wma:14",
    "wma:50",
    "rsi:2",
    "rsi:14",
    "rsi:50",
    "atr:1",
    "atr:2",
    "atr:14",
    "atr:50",
    "macd:12:26:9",
    "macd:2:3:2",
    "macd:5:35:5",
    "bbands:2:2",
    "bbands:20:2",
    "bbands:50:1",
    "stddev:2",
    "stddev:14",
    "stddev:50",
    "max:2",
    "max:14",
    "max:50",
    "min:2",
    "min:14",
    "min:50",
    "stoch:5:3:3",
    "stoch:14:3:3",
    "stoch:2:1:1",
    "stoch:50:5:7",
    "adx:2",
    "adx:14",
    "adx:50",
    "donchian:2",
    "donchian:20",
    "donchian:50",
    "keltner:20:10:2",
    "keltner:2:14:1.5",
    "keltner:50:2:3",
    "vwap",
    "rvwap:2",
    "rvwap:14",
    "rvwap:50",
    "obv",
];

const REL_TOL: f64 = 1e-9;

/// The magnitude a line's rounding error is relative to, when that is not
/// the value itself: the oscillators (0..=100) round relative to their range,
/// and the MACD lines, differences of two EMAs of the price, relative to the
/// price; near zero their relative difference says nothing (TA-Lib's EMAs
/// differ from ours by an ulp on a few bars, and an ulp of a price is 1e-9
/// of a MACD that is 1e-7 of the price).
fn scale_floor(spec: &str, close: i64) -> f64 {
    match spec.split(':').next().unwrap() {
        "rsi" | "stoch" | "adx" => 100.0,
        "macd" => close.unsigned_abs() as f64,
        _ => f64::MIN_POSITIVE,
    }
}

struct Bars {
    open: Vec<i64>,
    high: Vec<i64>,
    low: Vec<i64>,
    close: Vec<i64>,
    volume: Vec<i64>,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn decimals(s: &str) -> usize {
    s.find('.').map_or(0, |i| s.len() - i - 1)
}

/// Some feeds write volumes with float noise (`289169.9847625`); volumes
/// keep at most this many decimals, the rest truncated (as `reference.py`).
const MAX_VOLUME_DECIMALS: usize = 4;

/// The decimal text times `10^scale`, exactly (extra decimals truncated when
/// `truncate`).
fn to_raw(s: &str, scale: usize, truncate: bool) -> i64 {
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |t| (true, t));
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(
        truncate || frac.len() <= scale,
        "{s}: more decimals than the scale"
    );
    let frac = &frac[..frac.len().min(scale)];
    let digits = format!("{whole}{frac}{}", "0".repeat(scale - frac.len()));
    let v: i64 = digits.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    if neg {
        -v
    } else {
        v
    }
}

fn load(path: &Path) -> Bars {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("dataset"))
        .read_to_string(&mut text)
        .expect("gzip csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("timestamp,open,high,low,close,volume"),
        "{path:?}"
    );
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let dp = rows
        .iter()
        .flat_map(|r| r[1..5].iter().map(|s| decimals(s)))
        .max()
        .unwrap_or(0);
    let dv = rows
        .iter()
        .map(|r| decimals(r[5]))
        .max()
        .unwrap_or(0)
        .min(MAX_VOLUME_DECIMALS);
    let col = |i: usize, d: usize| {
        rows.iter()
            .map(|r| to_raw(r[i], d, i == 5))
            .collect::<Vec<_>>()
    };
    Bars {
        open: col(1, dp),
        high: col(2, dp),
        low: col(3, dp),
        close: col(4, dp),
        volume: col(5, dv),
    }
}

/// One output line of one indicator, bar by bar, and the `warmup()` it
/// declared.
struct Ours {
    lines: Vec<Vec<Option<f64>>>,
    warmup: usize,
}

fn run<T: Copy, const L: usize>(
    b: &Bars,
    warmup: usize,
    mut push: impl FnMut(usize) -> Option<T>,
    split: impl Fn(T) -> [f64; L],
) -> Ours {
    let mut lines: Vec<Vec<_>> = (0..L).map(|_| Vec::with_capacity(b.close.len())).collect();
    for i in 0..b.close.len() {
        let v = push(i).map(&split);
        for (j, line) in lines.iter_mut().enumerate() {
            line.push(v.map(|v| v[j]));
        }
    }
    Ours { lines, warmup }
}

fn ours(spec: &str, b: &Bars) -> Ours {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap();
    let p: Vec<&str> = parts.collect();
    let n = |i: usize| p[i].parse::<usize>().unwrap();
    let f = |i: usize| p[i].parse::<f64>().unwrap();
    let (h, l, c, v) = (&b.high, &b.low, &b.close, &b.volume);
    match name {
        "sma" => {
            let mut x = Sma::new(n(0));
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]).then(|| x.value()), |v| [v])
        }
        "ema" => {
            let mut x = Ema::new(n(0));
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]).then(|| x.value()), |v| [v])
        }
        "wma" => {
            let mut x = Wma::new(n(0));
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]), |v| [v])
        }
        "rsi" => {
            let mut x = Rsi::new(n(0));
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]), |v| [v])
        }
        "atr" => {
            let mut x = Atr::new(n(0));
            let w = x.warmup();
            run(b, w, |i| x.push(h[i], l[i], c[i]), |v| [v])
        }
        "stddev" => {
            let mut x = RollingStd::new(n(0));
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]), |(_, sd)| [sd])
        }
        "max" | "min" => {
            let mut x = if name == "max" {
                RollingExtreme::max(n(0))
            } else {
                RollingExtreme::min(n(0))
            };
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]), |v| [v as f64])
        }
        "macd" => {
            let mut x = Macd::new(n(0), n(1), n(2));
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]), |v| [v.macd, v.signal, v.histogram])
        }
        "bbands" => {
            let mut x = Bollinger::new(n(0), f(1));
            let w = x.warmup();
            run(b, w, |i| x.push(c[i]), |v| [v.upper, v.middle, v.lower])
        }
        "stoch" => {
            let mut x = Stoch::new(n(0), n(1), n(2));
            let w = x.warmup();
            run(b, w, |i| x.push(h[i], l[i], c[i]), |v| [v.k, v.d])
        }
        "adx" => {
            // the ADX line from push, ±DI from di() (defined earlier, as
            // TA-Lib's PLUS_DI / MINUS_DI), checked equal to push's where both are
            let mut x = Adx::new(n(0));
            let mut lines: Vec<Vec<_>> = (0..3).map(|_| Vec::with_capacity(c.len())).collect();
            for i in 0..c.len() {
                let v = x.push(h[i], l[i], c[i]);
                let di = x.di();
                if let Some(v) = v {
                    assert_eq!(di, Some((v.plus_di, v.minus_di)), "{spec} row {i}");
                }
                lines[0].push(v.map(|v| v.adx));
                lines[1].push(di.map(|d| d.0));
                lines[2].push(di.map(|d| d.1));
            }
            let first_di = lines[1].iter().position(Option::is_some);
            assert_eq!(first_di, Some(n(0)), "{spec}: ±DI start after n + 1 inputs");
            Ours {
                lines,
                warmup: x.warmup(),
            }
        }
        "donchian" => {
            let mut x = Donchian::new(n(0));
            let w = x.warmup();
            run(
                b,
                w,
                |i| x.push(h[i], l[i]),
                |v| [v.upper, v.middle, v.lower],
            )
        }
        "keltner" => {
            let mut x = Keltner::new(n(0), n(1), f(2));
            let w = x.warmup();
            run(
                b,
                w,
                |i| x.push(h[i], l[i], c[i]),
                |v| [v.upper, v.middle, v.lower],
            )
        }
        "vwap" => {
            let mut x = Vwap::new();
            let w = x.warmup();
            run(b, w, |i| x.push(h[i], l[i], c[i], v[i]), |v| [v])
        }
        "rvwap" => {
            let mut x = RollingVwap::new(n(0));
            let w = x.warmup();
            run(b, w, |i| x.push(h[i], l[i], c[i], v[i]), |v| [v])
        }
        "obv" => {
            let mut x = Obv::new();
            let w = x.warmup();
            run(b, w, |i| x.push(c[i], v[i]), |v| [v])
        }
        _ => panic!("unknown spec {spec}"),
    }
}

/// Ours (exact) vs TA-Lib's standard deviation: TA-Lib's `E[x²] − E[x]²`
/// carries an absolute error of a few ulps of `E[x²]` (`≈ mean²`), so the
/// variances may differ by that much: `|a² − b²| ≤ 8·ε·mean²`.
fn std_allowance(a: f64, b: f64, mean: f64) -> bool {
    (a * a - b * b).abs() <= 8.0 * f64::EPSILON * mean * mean
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("ATF_TEST_VENV").map_or_else(
        || Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/atf-test-venv"),
        PathBuf::from,
    );
    venv.join("bin/python")
}

/// TA-Lib's series for `SPECS`, by name (`spec#line`). Fails when the venv
/// or TA-Lib is missing: a check that cannot run must not pass.
fn reference(csv: &Path) -> (serde_json::Value, BTreeMap<String, Vec<f64>>) {
    let python = venv_python();
    let ready = Command::new(&python)
        .args(["-c", "import talib, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ready,
        "{python:?} cannot import talib and numpy: run `bash scripts/test.sh` (it installs \
         them in the test venv) or set ATF_TEST_VENV to a venv with TA-Lib and numpy \
         (pip install TA-Lib numpy)"
    );
    // one directory per call: two tests may read the same dataset at once
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let out_dir = std::env::temp_dir().join(format!(
        "atf-talib-{}-{}-{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed),
        csv.file_name().unwrap().to_string_lossy()
    ));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/talib/reference.py");
    let status = Command::new(&python)
        .arg(&script)
        .arg(csv)
        .arg(&out_dir)
        .args(SPECS)
        .status()
        .expect("run reference.py");
    assert!(status.success(), "reference.py failed on {csv:?}");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("index.json")).unwrap()).unwrap();
    let bytes = std::fs::read(out_dir.join("values.f64")).unwrap();
    std::fs::remove_dir_all(&out_dir).unwrap();
    let rows = index["rows"].as_u64().unwrap() as usize;
    let names = index["series"].as_array().unwrap();
    assert_eq!(bytes.len(), names.len() * rows * 8);
    let series = names
        .iter()
        .zip(bytes.chunks_exact(rows * 8))
        .map(|(name, chunk)| {
            let values = chunk
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                .collect();
            (name.as_str().unwrap().to_owned(), values)
        })
        .collect();
    (index, series)
}

fn check_dataset(file: &str) {
    let csv = data_dir().join(file);
    let bars = load(&csv);
    let (index, talib) = reference(&csv);
    println!(
        "{file}: {} bars, price decimals {}, volume decimals {}, TA-Lib {} (C {})",
        index["rows"],
        index["price_decimals"],
        index["volume_decimals"],
        index["talib"],
        index["ta_lib_c"]
    );
    check_inputs(file, &bars, &talib);
    let mut failures = Vec::new();
    print_header();
    for spec in SPECS {
        let got = ours(spec, &bars);
        let first = got.lines[0].iter().position(Option::is_some);
        if let Some(first) = first {
            if spec.starts_with("vwap") || spec.starts_with("rvwap") {
                assert!(first + 1 >= got.warmup, "{file} {spec}: before warmup()");
            } else {
                assert_eq!(
                    first + 1,
                    got.warmup,
                    "{file} {spec}: first value vs warmup()"
                );
            }
        }
        compare(file, spec, &got, &bars, &talib, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn print_header() {
    println!(
        "{:<20} {:>8} {:>8} {:>10} {:>9}",
        "indicator#line", "compared", "bitexact", "max rel", "allowance"
    );
}

/// Both sides read identical inputs.
fn check_inputs(file: &str, bars: &Bars, talib: &BTreeMap<String, Vec<f64>>) {
    for (name, ours) in [
        ("open", &bars.open),
        ("high", &bars.high),
        ("low", &bars.low),
        ("close", &bars.close),
        ("volume", &bars.volume),
    ] {
        let theirs = &talib[name];
        assert_eq!(ours.len(), theirs.len(), "{file}: {name} rows");
        for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
            assert_eq!(a as f64, b, "{file}: {name} row {i} parsed differently");
        }
    }
}

/// Compares every line of `got` (the indicator `spec` over `bars`) with
/// TA-Lib's, value by value: equal to `REL_TOL` (see `scale_floor`), or
/// within `std_allowance` for the standard deviation and Bollinger bands,
/// and defined on the same bars. Mismatches go to `failures` (the first
/// 20); prints one summary row per line.
fn compare(
    file: &str,
    spec: &str,
    got: &Ours,
    bars: &Bars,
    talib: &BTreeMap<String, Vec<f64>>,
    failures: &mut Vec<String>,
) {
    for (j, line) in got.lines.iter().enumerate() {
        let name = format!("{spec}#{j}");
        let theirs = &talib[&name];
        let (mut compared, mut exact, mut allowed, mut max_rel) = (0usize, 0usize, 0usize, 0f64);
        for (i, (a, &b)) in line.iter().zip(theirs).enumerate() {
            match (*a, b.is_nan()) {
                (None, true) => {}
                (Some(a), false) => {
                    compared += 1;
                    if a.to_bits() == b.to_bits() {
                        exact += 1;
                        continue;
                    }
                    let rel =
                        (a - b).abs() / a.abs().max(b.abs()).max(scale_floor(spec, bars.close[i]));
                    if rel <= REL_TOL {
                        max_rel = max_rel.max(rel);
                        continue;
                    }
                    // TA-Lib's cancellation in the standard deviation
                    let std_pair = if spec.starts_with("stddev") {
                        Some((a, b))
                    } else if spec.starts_with("bbands") && j != 1 {
                        let k: f64 = spec.rsplit(':').next().unwrap().parse().unwrap();
                        let mid_ours = got.lines[1][i].unwrap();
                        let mid_theirs = talib[&format!("{spec}#1")][i];
                        Some(((a - mid_ours).abs() / k, (b - mid_theirs).abs() / k))
                    } else {
                        None
                    };
                    let mean = talib
                        .get(&format!("sma:{}#0", spec.split(':').nth(1).unwrap_or("")))
                        .map_or(f64::NAN, |m| m[i]);
                    let mean = if mean.is_nan() {
                        bars.close[i] as f64
                    } else {
                        mean
                    };
                    if std_pair.is_some_and(|(sa, sb)| std_allowance(sa, sb, mean)) {
                        allowed += 1;
                        continue;
                    }
                    if failures.len() < 20 {
                        failures.push(format!(
                            "{file} {name} row {i}: ours {a:?} TA-Lib {b:?} (rel {rel:.3e})"
                        ));
                    }
                }
                (a, _) => {
                    if failures.len() < 20 {
                        failures.push(format!(
                            "{file} {name} row {i}: ours {a:?} TA-Lib {b:?} (defined on one side only)"
                        ));
                    }
                }
            }
        }
        println!("{name:<20} {compared:>8} {exact:>8} {max_rel:>10.2e} {allowed:>9}");
        assert!(
            compared > 0 || spec.contains("vwap"),
            "{file} {name}: nothing compared"
        );
    }
}

#[test]
fn spy_daily_matches_talib() {
    check_dataset("spy_1d_lean_1998_2021.csv.gz");
}

#[test]
fn eurusd_hourly_matches_talib() {
    check_dataset("eurusd_1h_oanda_bid_lean_2007_2018.csv.gz");
}

#[test]
fn btc_perpetual_minutes_match_talib() {
    check_dataset("btcperp_1m_2022-01.csv.gz");
}

/// The lines [`Indicators`] gives a strategy for `spec` (as `reference.py`
/// spells it), in TA-Lib's order of outputs; `None` for indicators this
/// check leaves to the incremental types.
fn shared_lines(spec: &str, ind: &Indicators<'_>) -> Option<Vec<Line>> {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap();
    let p: Vec<&str> = parts.collect();
    let n = |i: usize| p[i].parse::<usize>().unwrap();
    let f = |i: usize| p[i].parse::<f64>().unwrap();
    Some(match name {
        "rsi" => vec![ind.rsi(n(0))],
        "atr" => vec![ind.atr(n(0))],
        "macd" => {
            let m = ind.macd(n(0), n(1), n(2));
            vec![m.macd, m.signal, m.histogram]
        }
        "bbands" => {
            let b = ind.bollinger(n(0), f(1));
            vec![b.upper, b.middle, b.lower]
        }
        "adx" => {
            let a = ind.adx(n(0));
            vec![a.adx, a.plus_di, a.minus_di]
        }
        _ => return None,
    })
}

/// The shared lines strategies read (RSI, ATR, MACD, Bollinger, ADX from
/// [`Indicators`], through an optimization's cache) against TA-Lib, with
/// the comparison and tolerances of the incremental types, and bit for bit
/// equal to those.
#[test]
fn shared_indicator_lines_match_talib() {
    let file = "eurusd_1h_oanda_bid_lean_2007_2018.csv.gz";
    let csv = data_dir().join(file);
    let bars = load(&csv);
    let (_, talib) = reference(&csv);
    check_inputs(file, &bars, &talib);
    let engine_bars = atf_engine::Bars {
        ts: (0..bars.close.len() as i64).collect(),
        open: bars.open.clone(),
        high: bars.high.clone(),
        low: bars.low.clone(),
        close: bars.close.clone(),
        volume: bars.volume.clone(),
    };
    let cache = SeriesCache::new(DEFAULT_BUDGET);
    let ind = Indicators::new(&engine_bars, &cache);
    let specs: Vec<(&str, Vec<Line>)> = SPECS
        .iter()
        .filter_map(|&spec| Some((spec, shared_lines(spec, &ind)?)))
        .collect();
    for kind in ["rsi", "atr", "macd", "bbands", "adx"] {
        assert!(
            specs.iter().any(|(s, _)| s.starts_with(kind)),
            "{kind} not checked"
        );
    }
    let mut failures = Vec::new();
    print_header();
    for (spec, first) in &specs {
        // a later trial asking the same reads the first one's lines
        let lines = shared_lines(spec, &ind).unwrap();
        for (a, b) in lines.iter().zip(first) {
            assert_eq!(
                a.values().as_ptr(),
                b.values().as_ptr(),
                "{spec}: not shared"
            );
        }
        let incremental = ours(spec, &bars);
        let got = Ours {
            lines: lines
                .iter()
                .map(|l| (0..l.len()).map(|i| l.get(i)).collect())
                .collect(),
            warmup: incremental.warmup,
        };
        assert_eq!(got.lines.len(), incremental.lines.len(), "{spec}: lines");
        for (j, (a, b)) in got.lines.iter().zip(&incremental.lines).enumerate() {
            let bits =
                |l: &[Option<f64>]| l.iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
            assert!(
                bits(a) == bits(b),
                "{spec}#{j}: shared line differs from the incremental type"
            );
        }
        compare(file, spec, &got, &bars, &talib, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
