//! MetaTrader exports.
//!
//! - **MT4** history CSV, no header: `2017.01.02,07:00,1.05155,1.05197,1.05155,1.05190,123`
//!   (date, time, open, high, low, close, volume).
//! - **MT5** tab-separated with a header
//!   `<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>`;
//!   time `07:00:00` or `07:00`. Volume is `<VOL>`, or `<TICKVOL>` on rows
//!   where `<VOL>` is 0 (forex symbols have no real volume).
//!
//! Timestamps are taken as UTC: MetaTrader writes the broker's *server* time
//! and does not say which zone that is, so it is not converted. Shift the
//! file beforehand if UTC matters.

use crate::csv_source::{CsvLayout, TsCols};
use crate::detect::SourceFormat;

/// Whether a header names MetaTrader 5 columns (`<DATE>`, `<OPEN>`, …).
pub(crate) fn is_mt5_header(fields: &[&[u8]]) -> bool {
    fields
        .iter()
        .any(|f| f.starts_with(b"<") && f.ends_with(b">"))
}

/// The layout of an MT4 history line (`YYYY.MM.DD`, `HH:MM`, O, H, L, C[, V]),
/// or `None` if `fields` is not one.
pub(crate) fn mt4_layout(fields: &[&[u8]], delimiter: u8) -> Option<CsvLayout> {
    let (date, time) = (fields.first()?, fields.get(1)?);
    let mt_date = date.len() == 10 && date[4] == b'.' && date[7] == b'.';
    let mt_time = matches!(time.len(), 4..=8) && time.contains(&b':');
    if !(mt_date && mt_time && (6..=7).contains(&fields.len())) {
        return None;
    }
    Some(CsvLayout {
        format: SourceFormat::MetaTrader4,
        delimiter,
        has_header: false,
        columns: fields.len(),
        ts: TsCols::DateTime(0, 1),
        ohlc: [2, 3, 4, 5],
        volume: (fields.len() == 7).then_some(6),
        volume_fallback: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_mt4_lines_only() {
        let line: Vec<&[u8]> = vec![b"2017.01.02", b"07:00", b"1", b"1", b"1", b"1", b"5"];
        let l = mt4_layout(&line, b',').unwrap();
        assert_eq!(l.volume, Some(6));
        let iso: Vec<&[u8]> = vec![b"2017-01-02", b"07:00", b"1", b"1", b"1", b"1", b"5"];
        assert!(mt4_layout(&iso, b',').is_none());
        assert!(is_mt5_header(&[b"<DATE>", b"<TIME>"]));
        assert!(!is_mt5_header(&[b"date", b"time"]));
    }
}
