//! `atf data import` and `atf data list`.

use crate::args::{Global, ImportArgs, ListArgs};
use crate::exit::CliResult;
use crate::out::outln;
use crate::render::print_json;
use crate::setup::open_catalog;
use atf_data::{time::format_iso, ImportOptions};

pub fn import(global: &Global, a: &ImportArgs) -> CliResult {
    let catalog = open_catalog(global)?;
    let opts = ImportOptions {
        name: a.name.clone(),
        symbol: a.symbol.clone(),
        price_decimals: a.price_decimals,
        limits: a
            .import_limits
            .limits(a.max_file_mb.saturating_mul(1 << 20)),
    };
    let r = catalog.import(&a.file, &opts)?;
    if a.json {
        return print_json(&r.dataset);
    }
    let d = &r.dataset;
    outln!(
        "imported '{}' (id {}): {} {} bars of {}, {} → {}, {} price decimals, {:?} format",
        d.name,
        d.id,
        d.rows,
        d.timeframe,
        d.symbol,
        format_iso(d.first_ts_ms),
        format_iso(d.last_ts_ms),
        d.price_decimals,
        r.format
    );
    if r.gaps > 0 {
        outln!(
            "note: {} gaps in time ({} missing bars); gaps are kept as they are, not filled",
            r.gaps,
            r.missing_bars
        );
    }
    outln!("sha256 {}", d.sha256);
    Ok(())
}

pub fn list(global: &Global, a: &ListArgs) -> CliResult {
    let catalog = open_catalog(global)?;
    let list = catalog.list()?;
    if a.json {
        return print_json(&list);
    }
    let w = list.iter().map(|d| d.name.len()).max().unwrap_or(4).max(4);
    outln!(
        "{:>4}  {:<w$}  {:<8} {:>4} {:>9}  {:<20}  {:<20}  {:>3}",
        "id",
        "name",
        "symbol",
        "tf",
        "rows",
        "first",
        "last",
        "dp"
    );
    for d in list {
        outln!(
            "{:>4}  {:<w$}  {:<8} {:>4} {:>9}  {:<20}  {:<20}  {:>3}",
            d.id,
            d.name,
            d.symbol,
            d.timeframe.to_string(),
            d.rows,
            format_iso(d.first_ts_ms),
            format_iso(d.last_ts_ms),
            d.price_decimals
        );
    }
    Ok(())
}
