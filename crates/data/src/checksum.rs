//! The content checksum of a dataset.
//!
//! SHA-256 over the *normalized* bars, not the source bytes: the price and
//! volume decimal places as one byte each, then for every bar `ts`, `open`,
//! `high`, `low`, `close`, `volume` as `i64` little-endian. The same bars
//! imported from CSV or Parquet, gzipped or not, have the same checksum;
//! run keys depend on it, so this layout must never change.

use atf_engine::Bars;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Lowercase hex SHA-256 of `bars` at the given scales.
#[must_use]
pub fn content_sha256(bars: &Bars, price_decimals: u8, volume_decimals: u8) -> String {
    let mut h = Sha256::new();
    h.update([price_decimals, volume_decimals]);
    const CHUNK: usize = 1024;
    let mut buf = Vec::with_capacity(CHUNK * 48);
    for start in (0..bars.len()).step_by(CHUNK) {
        buf.clear();
        for i in start..(start + CHUNK).min(bars.len()) {
            for v in [
                bars.ts[i],
                bars.open[i],
                bars.high[i],
                bars.low[i],
                bars.close[i],
                bars.volume[i],
            ] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        h.update(&buf);
    }
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::Bar;

    #[test]
    fn hashes_scales_then_rows() {
        assert_eq!(
            content_sha256(&Bars::default(), 0, 0),
            // sha256 of the two bytes 00 00
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
        );
        let mut b = Bars::default();
        b.push(Bar {
            ts: 1,
            open: 2,
            high: 3,
            low: 1,
            close: 2,
            volume: 0,
        });
        let one = content_sha256(&b, 2, 0);
        assert_ne!(
            one,
            content_sha256(&b, 3, 0),
            "scale is part of the content"
        );
        assert_eq!(one.len(), 64);
    }
}
