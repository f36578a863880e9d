//! Progress bars on a terminal, fed by the engine's atomic counter.
//!
//! The engine never calls into the bar: a watcher thread reads the
//! [`Progress`] counter ten times a second, so the hot loop pays only a
//! relaxed store every few thousand sub-bars. When stderr is not a terminal
//! (piped, CI) no bar is drawn at all.

use atf_engine::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A bar drawn while a run works; finished on drop.
pub struct Watcher {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts drawing "Processed X / Total {unit}" if stderr is a terminal.
    pub fn start(progress: Arc<Progress>, total: u64, unit: &'static str, enabled: bool) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Self { done, thread: None };
        }
        let bar =
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
        let template = format!(
            "{{spinner}} Processed {{pos}} / {{len}} {unit} [{{bar:30}}] {{percent}}% · {{per_sec}} · ETA {{eta}}"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        let flag = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                bar.set_position(progress.processed());
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.set_position(progress.processed());
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
