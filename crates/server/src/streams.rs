//! The open event streams (`GET …/{id}/events`): how many there may be,
//! and the signal that ends them all at shutdown.
//!
//! Each stream holds a connection and a task for as long as its run lasts
//! (hours for a large optimization), so they are counted and capped
//! (`--max-event-streams`; beyond it `503`, and clients poll `/status`);
//! and a stream watching a long run would otherwise keep the server from
//! stopping until that run ends, so shutdown ends every one of them at once.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// Open event streams of one server, their cap and the shutdown signal.
#[derive(Debug)]
pub struct EventStreams {
    open: AtomicUsize,
    max: usize,
    closing: watch::Sender<bool>,
}

/// One open stream's place; freed when dropped (the stream ended or its
/// client went away).
#[derive(Debug)]
pub struct StreamSlot(Arc<EventStreams>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl EventStreams {
    /// At most `max` streams open at once.
    #[must_use]
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max,
            closing: watch::channel(false).0,
        })
    }

    /// A place for one more stream, or `None` when `max` are open (or the
    /// server is shutting down).
    #[must_use]
    pub fn open(self: &Arc<Self>) -> Option<StreamSlot> {
        if *self.closing.borrow() {
            return None;
        }
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamSlot(Arc::clone(self)))
    }

    /// Streams open now.
    #[must_use]
    pub fn count(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// The cap.
    #[must_use]
    pub fn max(&self) -> usize {
        self.max
    }

    /// Ends every open stream (and refuses new ones): shutdown has begun.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`EventStreams::close_all`] has been called.
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.closing.subscribe();
        async move {
            // an error means the sender is gone: the server is, too
            let _ = rx.wait_for(|closing| *closing).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_freed_and_shutdown_refuses_new_ones() {
        let s = EventStreams::new(2);
        let a = s.open().unwrap();
        let _b = s.open().unwrap();
        assert!(s.open().is_none());
        drop(a);
        assert_eq!(s.count(), 1);
        let _c = s.open().unwrap();
        s.close_all();
        drop(_c);
        assert!(s.open().is_none());
    }
}
