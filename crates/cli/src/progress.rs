//! Progress bars on a terminal, fed by the engine's atomic counters.
//!
//! The engine never calls into the bar: a watcher thread samples the
//! counters ten times a second, so the hot loop pays only a relaxed store
//! every few thousand sub-bars (or one per optimization trial). When stderr
//! is not a terminal (piped, CI) no bar is drawn at all.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What a watcher shows at one instant: the position and an optional note
/// (e.g. "3 failed").
pub type Sample = (u64, String);

/// A [`Sample`] with the total: position, total, note.
pub type SizedSample = (u64, u64, String);

/// A bar drawn while a run works; finished on drop.
pub struct Watcher {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts drawing "Processed X / Total {unit}" if enabled and stderr is
    /// a terminal, calling `sample` for the position and note.
    pub fn start(
        total: u64,
        unit: &'static str,
        enabled: bool,
        sample: impl Fn() -> Sample + Send + 'static,
    ) -> Self {
        Self::start_sized(total, unit, enabled, move || {
            let (pos, note) = sample();
            (pos, total, note)
        })
    }

    /// As [`Watcher::start`], with a total that may change while it runs
    /// (a remote run's is exact only once the server has loaded the data):
    /// `sample` returns the position, the total and the note.
    pub fn start_sized(
        total: u64,
        unit: &'static str,
        enabled: bool,
        sample: impl Fn() -> SizedSample + Send + 'static,
    ) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Self { done, thread: None };
        }
        let bar =
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
        let template = format!(
            "{{spinner}} Processed {{pos}} / {{len}} {unit}{{msg}} [{{bar:30}}] {{percent}}% · {{per_sec}} · ETA {{eta}}"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        let flag = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let show = |bar: &ProgressBar| {
                let (pos, len, note) = sample();
                if bar.length() != Some(len) {
                    bar.set_length(len);
                }
                bar.set_position(pos);
                bar.set_message(if note.is_empty() {
                    note
                } else {
                    format!(" ({note})")
                });
            };
            while !flag.load(Ordering::Relaxed) {
                show(&bar);
                std::thread::sleep(Duration::from_millis(100));
            }
            show(&bar);
            bar.finish_and_clear();
        });
        Self {
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
