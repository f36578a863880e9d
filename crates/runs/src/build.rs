//! The fingerprint of the running build, part of every run key.
//!
//! A strategy's results change when its code changes, whether or not its
//! author bumps `VERSION`. Strategies are compiled into the binary (ours or
//! a user's crate), so the binary itself names the code exactly: the key
//! covers a SHA-256 of the executable's bytes, and dedup can never serve a
//! result computed by other code. The price is that any rebuild — even one
//! that changes nothing a strategy does — starts dedup afresh; a finer
//! fingerprint per strategy would need the compiler to tell us what a
//! strategy's code reaches, which it does not.
//!
//! Workers plan each chunk's run key with their own fingerprint, so a
//! worker running other code (or lacking the strategy) refuses the chunk
//! rather than compute something else under the coordinator's key.
//!
//! Hashing a 20–40 MB executable takes 10–30 ms (SHA-NI); it happens once
//! per process, on the first key computed, never for commands that compute
//! none.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::OnceLock;

/// Hex digits of the fingerprint kept in a run key (128 bits).
const HEX_DIGITS: usize = 32;

/// The running executable's fingerprint: the first 128 bits of the
/// SHA-256 of its bytes, in hex. If the executable cannot be read (deleted
/// while running, no permission), a value unique to this process, so that
/// nothing is deduplicated against runs of other processes.
#[must_use]
pub fn fingerprint() -> &'static str {
    static FINGERPRINT: OnceLock<String> = OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        match std::env::current_exe().and_then(|p| hash_file(&p)) {
            Ok(hex) => hex,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the executable to fingerprint it; run keys are unique to this process");
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                format!("process-{}-{nanos}", std::process::id())
            }
        }
    })
}

fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    Ok(digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..HEX_DIGITS]
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_names_the_bytes() {
        let a = fingerprint();
        assert_eq!(a, fingerprint());
        assert_eq!(a.len(), HEX_DIGITS);
        let dir = tempfile::tempdir().unwrap();
        let (x, y) = (dir.path().join("x"), dir.path().join("y"));
        std::fs::write(&x, b"code one").unwrap();
        std::fs::write(&y, b"code two").unwrap();
        assert_ne!(hash_file(&x).unwrap(), hash_file(&y).unwrap());
        assert_eq!(hash_file(&x).unwrap(), hash_file(&x).unwrap());
    }
}
