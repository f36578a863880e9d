//! A distributed optimization's job, and how its grid is cut into chunks.

use atf_data::DatasetInfo;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ops::Range;
use std::path::PathBuf;

/// Sub-bars one thread simulates per second, conservatively (the engine
/// does 50–200 M on one core of this machine, depending on the strategy).
const SUB_BARS_PER_THREAD_SEC: u64 = 50_000_000;
/// Threads a chunk is sized for (a typical worker).
const SIZED_FOR_THREADS: u64 = 4;
/// Seconds a chunk should take on such a worker.
const CHUNK_SECS: u64 = 2;
/// Smallest chunk.
pub const MIN_CHUNK: u64 = 16;
/// Largest chunk (bounds one chunk's encoded trials to a few MiB).
pub const MAX_CHUNK: u64 = 20_000;
/// A grid is cut in at least this many chunks when it is large enough, so
/// every worker gets some and a lost one costs little.
const MIN_CHUNKS: u64 = 32;

/// The dataset of a job, as the coordinator's catalog has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDataset {
    /// Its id on the coordinator (`GET /api/datasets/{id}/content`).
    pub id: i64,
    /// Its name there.
    pub name: String,
    /// Instrument symbol.
    pub symbol: String,
    /// Bar timeframe.
    pub timeframe: String,
    /// First bar's open time.
    pub first_ts_ms: i64,
    /// Last bar's open time.
    pub last_ts_ms: i64,
    /// Bars.
    pub rows: u64,
    /// Price decimals.
    pub price_decimals: u8,
    /// Volume decimals.
    pub volume_decimals: u8,
    /// Content checksum: a worker runs nothing on data that does not match.
    pub sha256: String,
}

impl JobDataset {
    /// The identity of `ds`.
    #[must_use]
    pub fn of(ds: &DatasetInfo) -> Self {
        Self {
            id: ds.id,
            name: ds.name.clone(),
            symbol: ds.symbol.clone(),
            timeframe: ds.timeframe.to_string(),
            first_ts_ms: ds.first_ts_ms,
            last_ts_ms: ds.last_ts_ms,
            rows: ds.rows,
            price_decimals: ds.price_decimals,
            volume_decimals: ds.volume_decimals,
            sha256: ds.sha256.clone(),
        }
    }

    /// A catalog entry for planning, its bars in `file` (relative to the
    /// directory it is loaded from).
    ///
    /// # Errors
    /// The timeframe text is not one.
    pub fn info(&self, file: PathBuf) -> Result<DatasetInfo, String> {
        Ok(DatasetInfo {
            id: self.id,
            name: self.name.clone(),
            symbol: self.symbol.clone(),
            timeframe: self
                .timeframe
                .parse()
                .map_err(|e| format!("job timeframe {}: {e}", self.timeframe))?,
            first_ts_ms: self.first_ts_ms,
            last_ts_ms: self.last_ts_ms,
            rows: self.rows,
            price_decimals: self.price_decimals,
            volume_decimals: self.volume_decimals,
            sha256: self.sha256.clone(),
            file,
            imported_at_ms: 0,
            source_name: String::new(),
        })
    }
}

/// What a worker needs to run chunks of run `run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The run id.
    pub run: String,
    /// Its run key (a worker whose build plans another key refuses).
    pub run_key: String,
    /// The `POST /api/optimizations` body.
    pub request: Value,
    /// The dataset.
    pub dataset: JobDataset,
    /// Combinations in the grid.
    pub total: u64,
    /// Chunks published.
    pub chunks: u64,
    /// Failed deliveries of one chunk that fail the run (the coordinator's
    /// `--chunk-attempts`).
    #[serde(default = "default_max_deliveries")]
    pub max_deliveries: u64,
}

fn default_max_deliveries() -> u64 {
    super::limits::DEFAULT_MAX_DELIVERIES
}

/// Combinations per chunk for a grid of `total` over `sub_bars` sub-bars:
/// about `CHUNK_SECS` (2 s) on a 4-thread worker, at least `MIN_CHUNKS` (32)
/// chunks when the grid allows, within [`MIN_CHUNK`]..=[`MAX_CHUNK`].
#[must_use]
pub fn chunk_size(total: u64, sub_bars: u64) -> u64 {
    let by_time = CHUNK_SECS * SIZED_FOR_THREADS * SUB_BARS_PER_THREAD_SEC / sub_bars.max(1);
    by_time
        .min(total.div_ceil(MIN_CHUNKS))
        .clamp(MIN_CHUNK, MAX_CHUNK)
}

/// The chunks of a grid of `total` combinations, `size` each (the last
/// one shorter).
#[must_use]
pub fn chunks(total: u64, size: u64) -> Vec<Range<u64>> {
    let size = size.max(1);
    (0..total.div_ceil(size))
        .map(|c| c * size..((c + 1) * size).min(total))
        .collect()
}

/// A list chunk's combination indices as its stream entry carries them
/// (field `list`): decimal, comma-separated.
#[must_use]
pub fn encode_list(indices: &[u64]) -> String {
    let mut out = String::with_capacity(indices.len() * 8);
    for (n, i) in indices.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&i.to_string());
    }
    out
}

/// The indices of [`encode_list`]'s text; `None` when it is not one.
#[must_use]
pub fn decode_list(text: &str) -> Option<Vec<u64>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',').map(|i| i.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_grid_once() {
        let c = chunks(1_000, 64);
        assert_eq!(c.first(), Some(&(0..64)));
        assert_eq!(c.last(), Some(&(960..1_000)));
        assert_eq!(c.iter().map(|r| r.end - r.start).sum::<u64>(), 1_000);
        assert!(c.windows(2).all(|w| w[0].end == w[1].start));
        assert!(chunks(0, 10).is_empty());
    }

    #[test]
    fn chunk_size_takes_seconds_and_keeps_chunks_for_everyone() {
        // 31,757 sub-bars: 12,595 by time; small grids by the 32-chunk rule
        assert_eq!(chunk_size(1_000_000, 31_757), 12_595);
        assert_eq!(chunk_size(3_200, 31_757), 100);
        assert_eq!(chunk_size(10, 31_757), MIN_CHUNK);
        assert_eq!(chunk_size(10_000_000, 10), MAX_CHUNK);
        assert_eq!(chunk_size(1_000_000, 100_000_000), MIN_CHUNK);
    }

    #[test]
    fn lists_travel_as_text_and_back() {
        let l = [u64::MAX, 0, 42, 9_007_199_254_740_991];
        assert_eq!(decode_list(&encode_list(&l)), Some(l.to_vec()));
        assert_eq!(decode_list(&encode_list(&[])), Some(Vec::new()));
        assert_eq!(decode_list("1,,2"), None);
        assert_eq!(decode_list("1,x"), None);
    }
}
