//! One chunk's trials as one compact binary value.
//!
//! Layout (little-endian): `ATF1`, the chunk's skipped count (`u64`), then
//! per trial its index (`u64`) and a tag byte: `0` = completed, then the
//! 15 `u64` of [`TrialMetrics::to_bits`] (exact, NaN included); `2` =
//! completed with its per-block return sums (PBO's input), the same
//! followed by the 32 `u64` of [`BlockReturns::to_bits`]; `1` = failed,
//! then the message and the backtrace, each a `u32` length and UTF-8
//! bytes. A completed trial takes 385 bytes (129 without block sums: a
//! report assembled from such trials has no PBO, the rest is unchanged).

use atf_engine::metrics::TrialMetrics;
use atf_engine::optimize::{Trial, TrialFailure, TrialOutcome};
use atf_engine::robustness::{BlockReturns, BLOCKS};
use std::collections::HashMap;
use std::sync::Arc;

const MAGIC: &[u8; 4] = b"ATF1";

/// A chunk's results, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkResults {
    /// Combinations its constraints skipped.
    pub skipped: u64,
    /// Its trials, in index order.
    pub trials: Vec<Trial>,
}

/// Encodes a chunk's trials and skipped count.
#[must_use]
pub fn encode(skipped: u64, trials: &[Trial]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + trials.len() * 385);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&skipped.to_le_bytes());
    for t in trials {
        out.extend_from_slice(&t.index.to_le_bytes());
        match &t.outcome {
            TrialOutcome::Completed(m) => {
                out.push(if t.blocks.is_some() { 2 } else { 0 });
                for b in m.to_bits() {
                    out.extend_from_slice(&b.to_le_bytes());
                }
                for b in t.blocks.iter().flat_map(BlockReturns::to_bits) {
                    out.extend_from_slice(&b.to_le_bytes());
                }
            }
            TrialOutcome::Failed(f) => {
                out.push(1);
                for text in [&*f.message, &*f.backtrace] {
                    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
                    out.extend_from_slice(&len.to_le_bytes());
                    out.extend_from_slice(&text.as_bytes()[..len as usize]);
                }
            }
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.bytes.len() < n {
            return Err("chunk results are truncated".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| "short u64")?))
    }

    fn text(&mut self) -> Result<String, String> {
        let b = self.take(4)?;
        let len = u32::from_le_bytes(b.try_into().map_err(|_| "short u32")?);
        let raw = self.take(len as usize)?;
        Ok(String::from_utf8_lossy(raw).into_owned())
    }
}

/// Decodes [`encode`]'s output. Backtraces repeated across calls sharing
/// `interned` are stored once.
///
/// # Errors
/// A message when the bytes are not an encoded chunk.
pub fn decode(
    bytes: &[u8],
    interned: &mut HashMap<String, Arc<str>>,
) -> Result<ChunkResults, String> {
    let mut r = Reader { bytes };
    if r.take(4)? != MAGIC {
        return Err("not an encoded chunk".into());
    }
    let skipped = r.u64()?;
    let mut trials = Vec::new();
    while !r.bytes.is_empty() {
        let index = r.u64()?;
        let mut blocks = None;
        let outcome = match r.take(1)?[0] {
            tag @ (0 | 2) => {
                let mut bits = [0u64; 15];
                for b in &mut bits {
                    *b = r.u64()?;
                }
                if tag == 2 {
                    let mut cells = [0u64; 2 * BLOCKS];
                    for b in &mut cells {
                        *b = r.u64()?;
                    }
                    blocks = Some(BlockReturns::from_bits(&cells));
                }
                TrialOutcome::Completed(TrialMetrics::from_bits(&bits))
            }
            1 => {
                let message = r.text()?;
                let bt = r.text()?;
                let backtrace = Arc::clone(
                    interned
                        .entry(bt)
                        .or_insert_with_key(|k| Arc::from(k.as_str())),
                );
                TrialOutcome::Failed(Box::new(TrialFailure {
                    message: message.into_boxed_str(),
                    backtrace,
                }))
            }
            tag => return Err(format!("unknown trial tag {tag}")),
        };
        trials.push(Trial {
            index,
            outcome,
            blocks,
        });
    }
    Ok(ChunkResults { skipped, trials })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(x: f64) -> TrialMetrics {
        let mut bits = [0u64; 15];
        for (i, b) in bits.iter_mut().enumerate() {
            *b = (x + i as f64).to_bits();
        }
        bits[4] = f64::NAN.to_bits();
        bits[12] = 7;
        bits[13] = 4;
        bits[14] = 3;
        TrialMetrics::from_bits(&bits)
    }

    #[test]
    fn trials_round_trip_exactly() {
        let trials = vec![
            Trial {
                index: 3,
                outcome: TrialOutcome::Completed(metrics(1.5)),
                blocks: None,
            },
            Trial {
                index: 4,
                outcome: TrialOutcome::Completed(metrics(-2.0)),
                blocks: Some(BlockReturns::new(std::array::from_fn(|k| {
                    [k as f64 / 7.0 - 1.0, f64::from(k as u8) * 1e-300]
                }))),
            },
            Trial {
                index: 9,
                outcome: TrialOutcome::Failed(Box::new(TrialFailure {
                    message: "boom ü".into(),
                    backtrace: Arc::from("at line 1\nat line 2"),
                })),
                blocks: None,
            },
        ];
        let bytes = encode(5, &trials);
        assert_eq!(bytes.len(), 12 + 129 + 385 + 9 + 4 + 7 + 4 + 19);
        let back = decode(&bytes, &mut HashMap::new()).unwrap();
        assert_eq!(back.skipped, 5);
        assert_eq!(back.trials.len(), 3);
        assert_eq!(back.trials[0].blocks, None);
        assert_eq!(
            back.trials[1].blocks, trials[1].blocks,
            "block sums bit for bit"
        );
        let (TrialOutcome::Completed(a), TrialOutcome::Completed(b)) =
            (&back.trials[0].outcome, &trials[0].outcome)
        else {
            panic!("completed")
        };
        assert_eq!(a.to_bits(), b.to_bits());
        assert_eq!(back.trials[2], trials[2]);
        assert!(decode(&bytes[..20], &mut HashMap::new()).is_err());
        assert!(decode(b"nope", &mut HashMap::new()).is_err());
    }
}
