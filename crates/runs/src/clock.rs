//! Where time comes from for what expires: the system's monotonic clock,
//! or — so that tests check expiry by moving time rather than sleeping
//! through it — a clock that moves only when told.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The time since this clock's fixed origin.
    fn now(&self) -> Duration;

    /// Waits `d` (a retry's backoff): the system clock sleeps, a manual
    /// clock moves itself forward, so tests of retries take no time.
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The system's monotonic clock (the default).
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock standing still until [`ManualClock::advance`] moves it.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock at its origin.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves it `by` forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(by, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = ManualClock::new();
        assert_eq!(c.now(), Duration::ZERO);
        c.advance(Duration::from_millis(1500));
        c.advance(Duration::from_millis(500));
        assert_eq!(c.now(), Duration::from_secs(2));
        assert_eq!(c.now(), Duration::from_secs(2));
        c.sleep(Duration::from_secs(1));
        assert_eq!(c.now(), Duration::from_secs(3), "sleeping moves it");
    }

    #[test]
    fn the_system_clock_never_goes_back() {
        let c = SystemClock::default();
        let a = c.now();
        assert!(c.now() >= a);
    }
}
