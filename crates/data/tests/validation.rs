//! Every validation rule: one error naming the file, the line and the
//! reason, and the catalog and `datasets/` left exactly as they were.

mod common;

use atf_data::{DataError, ImportOptions};
use common::{catalog, import_text, snapshot};

const HEADER: &str = "timestamp,open,high,low,close,volume\n";
const GOOD: [&str; 3] = [
    "2024-01-01T10:00:00Z,1.10,1.20,1.00,1.15,5",
    "2024-01-01T10:01:00Z,1.15,1.25,1.10,1.20,5",
    "2024-01-01T10:02:00Z,1.20,1.30,1.15,1.25,5",
];

/// A file whose line 3 (the second data row) is `bad`.
fn with_bad_row(bad: &str) -> String {
    format!("{HEADER}{}\n{bad}\n{}\n", GOOD[0], GOOD[2])
}

fn assert_rejected(text: &str, opts: &ImportOptions, expected: &str) {
    let (dir, c) = catalog();
    import_text(
        &c,
        "existing.csv",
        &format!("{HEADER}{}\n", GOOD.join("\n")),
    );
    let before = snapshot(dir.path(), &c);
    let err = c
        .import_bytes("data/bad.csv", text.as_bytes(), opts)
        .unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert!(err.is_user_error());
    assert_eq!(
        snapshot(dir.path(), &c),
        before,
        "nothing may stay behind after: {expected}"
    );
    let files = std::fs::read_dir(dir.path().join("datasets"))
        .unwrap()
        .count();
    assert_eq!(files, 1, "no temporary file left behind");
}

fn rejected(text: &str, expected: &str) {
    assert_rejected(text, &ImportOptions::default(), expected);
}

#[test]
fn high_below_low() {
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.25,1.20,1.30,1.25,5"),
        "data/bad.csv:3: high 1.20 is below low 1.30",
    );
}

#[test]
fn open_or_close_outside_the_range() {
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.35,1.30,1.10,1.20,5"),
        "data/bad.csv:3: open 1.35 is outside [low 1.10, high 1.30]",
    );
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.15,1.30,1.10,1.05,5"),
        "data/bad.csv:3: close 1.05 is outside [low 1.10, high 1.30]",
    );
}

#[test]
fn unparsable_numbers_and_timestamps() {
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.15,abc,1.10,1.20,5"),
        "data/bad.csv:3: high 'abc' is not a number",
    );
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.15,1.25,1.10,1.20,"),
        "data/bad.csv:3: volume '' is not a number",
    );
    let e = "data/bad.csv:3: cannot parse timestamp '2024-01-32T10:01:00Z'; expected ISO-8601 (2024-01-01T10:00:00Z), \
             'YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD' or epoch seconds/milliseconds";
    rejected(
        &with_bad_row("2024-01-32T10:01:00Z,1.15,1.25,1.10,1.20,5"),
        e,
    );
    rejected(
        "time,open,high,low,close\n1704103200,1,1,1,1\n2024-01-01T10:01:00Z,1,1,1,1\n",
        "data/bad.csv:3: timestamp '2024-01-01T10:01:00Z' is not an integer like the first row's (epoch seconds)",
    );
}

#[test]
fn duplicate_and_decreasing_timestamps() {
    rejected(
        &format!("{HEADER}{}\n{}\n", GOOD[0], GOOD[0]),
        "data/bad.csv:3: duplicate timestamp 2024-01-01T10:00:00Z",
    );
    rejected(
        &format!("{HEADER}{}\n{}\n", GOOD[1], GOOD[0]),
        "data/bad.csv:3: timestamp 2024-01-01T10:00:00Z is before the previous row's 2024-01-01T10:01:00Z: \
         rows must be in increasing time order",
    );
}

#[test]
fn negative_prices_and_volumes() {
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,-1,1.25,-1.10,1.20,5"),
        "data/bad.csv:3: open -1 is negative",
    );
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.15,1.25,1.10,1.20,-5"),
        "data/bad.csv:3: volume -5 is negative",
    );
}

#[test]
fn more_decimals_than_the_given_scale() {
    assert_rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.15,1.255,1.10,1.20,5"),
        &ImportOptions {
            price_decimals: Some(2),
            ..Default::default()
        },
        "data/bad.csv:3: high 1.255 has more than 2 decimal places (the price scale given)",
    );
}

#[test]
fn more_than_twelve_detected_decimals() {
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.15,1.25,1.1000000000001,1.20,5"),
        "data/bad.csv:3: low 1.1000000000001 has 13 decimal places; at most 12 are supported",
    );
}

#[test]
fn empty_files() {
    rejected("", "data/bad.csv: no data rows");
    rejected(HEADER, "data/bad.csv: no data rows");
    rejected(&format!("{HEADER}\n\n"), "data/bad.csv: no data rows");
}

#[test]
fn wrong_column_count_and_missing_columns() {
    rejected(
        &with_bad_row("2024-01-01T10:01:00Z,1.15,1.25,1.10"),
        "data/bad.csv:3: expected 6 columns, found 4",
    );
    rejected(
        "timestamp,open,high,close\n2024-01-01,1,1,1\n",
        "data/bad.csv:1: no 'low' column in the header (found: timestamp, open, high, close); \
         expected timestamp,open,high,low,close[,volume]",
    );
}

#[test]
fn step_below_the_detected_timeframe() {
    let text = format!(
        "{HEADER}{}\n{}\n{}\n2024-01-01T10:02:30Z,1.2,1.3,1.1,1.2,1\n",
        GOOD[0], GOOD[1], GOOD[2]
    );
    rejected(
        &text,
        "data/bad.csv:5: bar at 2024-01-01T10:02:30Z is 30s after the previous one, less than the detected timeframe 1m",
    );
}

#[test]
fn gaps_are_counted_not_rejected() {
    let (_d, c) = catalog();
    let text = format!(
        "{HEADER}{}\n{}\n{}\n2024-01-01T10:10:00Z,1.2,1.3,1.1,1.2,1\n",
        GOOD[0], GOOD[1], GOOD[2]
    );
    let r = import_text(&c, "gappy.csv", &text);
    assert_eq!((r.gaps, r.missing_bars), (1, 7));
}

#[test]
fn duplicate_and_invalid_names() {
    let (dir, c) = catalog();
    let text = format!("{HEADER}{}\n", GOOD.join("\n"));
    import_text(&c, "spy.csv", &text);
    let before = snapshot(dir.path(), &c);
    let err = c
        .import_bytes("spy.csv.gz", text.as_bytes(), &ImportOptions::default())
        .unwrap_err();
    assert!(matches!(err, DataError::DuplicateName { ref name } if name == "spy"));
    assert_eq!(
        err.to_string(),
        "a dataset named 'spy' already exists; choose another name with --name"
    );
    let bad = ImportOptions {
        name: Some("my data".into()),
        ..Default::default()
    };
    let err = c.import_bytes("x.csv", text.as_bytes(), &bad).unwrap_err();
    assert!(matches!(err, DataError::InvalidName { .. }), "{err}");
    assert_eq!(snapshot(dir.path(), &c), before);
}

#[test]
fn missing_source_file_names_the_path() {
    let (_d, c) = catalog();
    let err = c
        .import("no/such/file.csv".as_ref(), &ImportOptions::default())
        .unwrap_err();
    assert!(err.to_string().starts_with("no/such/file.csv: "), "{err}");
    assert!(err.is_user_error());
}
