//! Liveness waits: poll until something holds, fail the test after a
//! generous bound. The bound says "it never happened", not "it was slow":
//! assert how fast something is in a benchmark, not here.

use std::time::{Duration, Instant};

/// The default bound: long enough that a loaded 2-core machine running
/// other test binaries never trips it when the code works.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// How often [`eventually`] polls.
pub const POLL: Duration = Duration::from_millis(20);

/// Calls `probe` every [`POLL`] until it returns `Ok`, and returns that.
///
/// # Panics
/// When `probe` still says `Err(what it saw)` after `bound`; the message
/// quotes it.
pub fn eventually<T>(bound: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let t0 = Instant::now();
    loop {
        match probe() {
            Ok(v) => return v,
            Err(seen) => assert!(
                t0.elapsed() < bound,
                "gave up after {bound:?} (a liveness bound): {seen}"
            ),
        }
        std::thread::sleep(POLL);
    }
}
