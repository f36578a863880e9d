//! Turning a strategy's panic into a recorded failure with its backtrace.
//!
//! A panic hook installed once records the message and a forced backtrace
//! in a thread-local when the panic happens inside [`catch`]; panics
//! elsewhere go to the previous hook unchanged. `catch_unwind` then stops the
//! unwinding at the run boundary, so one failing run (or optimization trial)
//! never takes the process or its siblings down.

use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A run that ended in a panic or error: what to show and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The panic or error message.
    pub message: String,
    /// Where it happened.
    pub backtrace: String,
}

thread_local! {
    static CAPTURING: Cell<u32> = const { Cell::new(0) };
    static LAST: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) > 0 {
                let payload = info.payload();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic with a non-string payload".to_owned());
                let message = match info.location() {
                    Some(l) => format!("panicked at {}:{}: {msg}", l.file(), l.line()),
                    None => format!("panicked: {msg}"),
                };
                let backtrace = Backtrace::force_capture().to_string();
                LAST.with(|l| *l.borrow_mut() = Some(Failure { message, backtrace }));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into a [`Failure`] with message and backtrace.
///
/// # Errors
/// The captured [`Failure`] when `f` panicked.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Failure> {
    install_hook();
    CAPTURING.with(|c| c.set(c.get() + 1));
    let out = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(c.get() - 1));
    out.map_err(|_| {
        LAST.with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| Failure {
                message: "panicked (message unavailable)".to_owned(),
                backtrace: String::new(),
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_message_and_backtrace() {
        let f = catch(|| -> u32 { panic!("boom {}", 42) }).unwrap_err();
        assert!(f.message.contains("boom 42"), "{}", f.message);
        assert!(f.message.contains("failure.rs"), "{}", f.message);
        assert!(!f.backtrace.is_empty());
        assert_eq!(catch(|| 7), Ok(7));
    }
}
