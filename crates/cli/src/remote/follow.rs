//! Following a remote run: its server-sent events (`progress` every
//! 500 ms, then one terminal event carrying the whole status and result),
//! `/status` polled if the stream ends early, the same progress bar as a
//! local run, and Ctrl-C asking whether to cancel the remote run (without
//! asking when stdin is not a terminal): yes cancels it, no detaches and
//! says how to look it up later. Either exits 130.

use crate::exit::CliError;
use crate::progress::Watcher;
use atf_api::client::{runs_path, Client};
use atf_api::{AnyStatus, Submission};
use atf_runs::{RunKind, RunStatus};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How often `/status` is polled when the event stream is not available.
const POLL_EVERY: Duration = Duration::from_millis(500);

pub(super) fn noun(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Backtest => "backtest",
        RunKind::Optimization => "optimization",
        RunKind::WalkForward => "walk-forward",
    }
}

fn unit(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Backtest => "bars",
        RunKind::Optimization | RunKind::WalkForward => "combinations",
    }
}

pub(super) fn follow_hint(client: &Client, kind: RunKind, id: &str) -> String {
    format!("curl {}{}/{id}/status", client.base(), runs_path(kind))
}

/// What the follower waits for.
enum Msg {
    /// A status (a progress event, or the terminal one).
    Status(Box<AnyStatus>),
    /// The server can no longer be reached.
    Lost(String),
    /// Ctrl-C.
    Interrupt,
    /// The answer to "Cancel the remote run?".
    Answer(bool),
}

/// Reads the events of run `id` (or polls its status when they stop
/// early) until the terminal status, sending each to `tx`.
fn watch(client: &Client, kind: RunKind, id: &str, tx: &Sender<Msg>) {
    let send = |v: AnyStatus| tx.send(Msg::Status(Box::new(v))).is_ok();
    if let Ok(mut events) = client.events(kind, id) {
        // until it ends early or goes silent; then poll
        while let Ok(Some(v)) = events.next_status() {
            let end = v.status().is_terminal();
            if !send(v) || end {
                return;
            }
        }
    }
    loop {
        match client.status(kind, id) {
            Ok(v) => {
                let end = v.status().is_terminal();
                if !send(v) || end {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Msg::Lost(e.to_string()));
                return;
            }
        }
        std::thread::sleep(POLL_EVERY);
    }
}

#[cfg(unix)]
fn listen_ctrl_c() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
}

#[cfg(windows)]
fn listen_ctrl_c() -> std::io::Result<tokio::signal::windows::CtrlC> {
    tokio::signal::windows::ctrl_c()
}

/// A remote run from submission to its end: the server, and Ctrl-C
/// caught from before the submission so none is lost in between.
pub(super) struct Session {
    client: Client,
    kind: RunKind,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// Whether Ctrl-C is handled (while following); otherwise it exits 130.
    following: Arc<AtomicBool>,
}

impl Session {
    pub(super) fn start(client: Client, kind: RunKind) -> Result<Self, CliError> {
        let (tx, rx) = mpsc::channel();
        let following = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        {
            let tx = tx.clone();
            let following = Arc::clone(&following);
            std::thread::Builder::new()
                .name("atf-ctrl-c".into())
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    rt.block_on(async move {
                        let mut signal = match listen_ctrl_c() {
                            Ok(s) => s,
                            Err(e) => {
                                let _ = ready_tx.send(Err(e.to_string()));
                                return;
                            }
                        };
                        let _ = ready_tx.send(Ok(()));
                        while signal.recv().await.is_some() {
                            if !following.load(Ordering::SeqCst) {
                                // not following (submitting, printing): as without a handler
                                std::process::exit(130);
                            }
                            if tx.send(Msg::Interrupt).is_err() {
                                std::process::exit(130);
                            }
                        }
                    });
                })
                .map_err(|e| CliError::failed(format!("cannot start a thread: {e}")))?;
        }
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(CliError::failed(format!("cannot catch Ctrl-C: {e}"))),
            Err(_) => return Err(CliError::failed("cannot catch Ctrl-C")),
        }
        Ok(Self {
            client,
            kind,
            tx,
            rx,
            following,
        })
    }

    /// Follows the run to its end with a progress bar, handling Ctrl-C:
    /// its final status.
    pub(super) fn follow(
        &self,
        sub: &Submission,
        show_progress: bool,
    ) -> Result<AnyStatus, CliError> {
        let kind = self.kind;
        let id = sub.id().to_owned();
        if std::io::stderr().is_terminal() {
            if sub.existing() && sub.status() == RunStatus::Completed {
                eprintln!(
                    "atf: an identical {} already ran on {} ({id}); showing its result",
                    noun(kind),
                    self.client.base()
                );
            } else {
                eprintln!(
                    "atf: {} {id} submitted to {} (Ctrl-C to cancel or detach)",
                    noun(kind),
                    self.client.base()
                );
            }
        }
        {
            let (client, tx, id) = (self.client.clone(), self.tx.clone(), id.clone());
            std::thread::Builder::new()
                .name("atf-follow".into())
                .spawn(move || watch(&client, kind, &id, &tx))
                .map_err(|e| CliError::failed(format!("cannot start a thread: {e}")))?;
        }
        self.following.store(true, Ordering::SeqCst);
        let result = self.follow_loop(sub, show_progress);
        self.following.store(false, Ordering::SeqCst);
        result
    }

    fn follow_loop(&self, sub: &Submission, show_progress: bool) -> Result<AnyStatus, CliError> {
        let kind = self.kind;
        let id = sub.id();
        let shown = Arc::new(Mutex::new((0u64, sub.total(), String::new())));
        let mut watcher = Some({
            let shown = Arc::clone(&shown);
            Watcher::start_sized(sub.total(), unit(kind), show_progress, move || {
                shown.lock().unwrap_or_else(PoisonError::into_inner).clone()
            })
        });
        let mut asking = false;
        let mut ended: Option<AnyStatus> = None;
        loop {
            let Ok(msg) = self.rx.recv() else {
                return Err(CliError::failed(format!(
                    "lost track of the {} {id}; see {}",
                    noun(kind),
                    follow_hint(&self.client, kind, id)
                )));
            };
            match msg {
                Msg::Status(v) => {
                    let v = *v;
                    if v.status().is_terminal() {
                        if asking {
                            ended = Some(v); // answered after the question
                            continue;
                        }
                        drop(watcher.take());
                        return Ok(v);
                    }
                    *shown.lock().unwrap_or_else(PoisonError::into_inner) = progress_of(&v);
                }
                Msg::Lost(e) => {
                    drop(watcher.take());
                    return Err(CliError::failed(format!(
                        "lost the server while following the {} {id}: {e}\n(it may still be running: {})",
                        noun(kind),
                        follow_hint(&self.client, kind, id)
                    )));
                }
                Msg::Interrupt if asking => {
                    // Ctrl-C again at the question: the default answer, no
                    eprintln!();
                    return Err(self.detach(id));
                }
                Msg::Interrupt => {
                    drop(watcher.take());
                    if std::io::stdin().is_terminal() {
                        eprint!("\nCancel the remote run {id}? [y/N] ");
                        let _ = std::io::stderr().flush();
                        let tx = self.tx.clone();
                        asking = true;
                        std::thread::spawn(move || {
                            let mut line = String::new();
                            let yes = match std::io::stdin().read_line(&mut line) {
                                Ok(0) | Err(_) => false,
                                Ok(_) => {
                                    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
                                }
                            };
                            let _ = tx.send(Msg::Answer(yes));
                        });
                    } else if let Some(e) = self.cancel(id)? {
                        return Err(e);
                    }
                }
                Msg::Answer(yes) => {
                    asking = false;
                    if let Some(v) = ended.take() {
                        if yes {
                            eprintln!("the {} {id} had already ended", noun(kind));
                        }
                        return Ok(v);
                    }
                    if !yes {
                        return Err(self.detach(id));
                    }
                    if let Some(e) = self.cancel(id)? {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Cancels the run: `Some(error to end with)` once cancelled, `None`
    /// when it had already ended (its terminal status follows).
    fn cancel(&self, id: &str) -> Result<Option<CliError>, CliError> {
        let kind = self.kind;
        match self.client.cancel(kind, id) {
            Ok(true) => Ok(Some(CliError::Interrupted(format!(
                "cancelled the remote {} {id}",
                noun(kind)
            )))),
            Ok(false) => {
                eprintln!("the {} {id} had already ended", noun(kind));
                Ok(None)
            }
            Err(e) => Err(CliError::failed(format!("cannot cancel: {e}"))),
        }
    }

    fn detach(&self, id: &str) -> CliError {
        CliError::Interrupted(format!(
            "detached: the {} {id} keeps running on the server; follow it with\n  {}",
            noun(self.kind),
            follow_hint(&self.client, self.kind, id)
        ))
    }
}

fn progress_of(v: &AnyStatus) -> (u64, u64, String) {
    let mut note = Vec::new();
    if v.status() == RunStatus::Pending {
        note.push("queued on the server".to_owned());
    }
    match v {
        AnyStatus::Backtest(b) => (b.processed_bars, b.total_bars, note.join(", ")),
        AnyStatus::Optimization(o) => {
            if o.failed_combinations > 0 {
                note.push(format!("{} failed", o.failed_combinations));
            }
            if o.skipped_combinations > 0 {
                note.push(format!("{} skipped", o.skipped_combinations));
            }
            (
                o.processed_combinations,
                o.total_combinations,
                note.join(", "),
            )
        }
        AnyStatus::WalkForward(w) => {
            // as a local walk-forward's bar says it
            let fold = w
                .current_fold
                .unwrap_or(w.folds_processed + 1)
                .min(w.total_folds);
            note.push(format!("fold {fold}/{}", w.total_folds));
            if w.failed_trials > 0 {
                note.push(format!("{} failed", w.failed_trials));
            }
            (
                w.processed_combinations,
                w.total_combinations,
                note.join(", "),
            )
        }
    }
}

/// The final status of a run that completed, or the error it ended with.
pub(super) fn completed(client: &Client, status: AnyStatus) -> Result<AnyStatus, CliError> {
    let (kind, id, error, trace) = match &status {
        AnyStatus::Backtest(b) => (
            RunKind::Backtest,
            b.id.clone(),
            b.error_message.clone(),
            b.error_stack_trace.clone(),
        ),
        AnyStatus::Optimization(o) => (
            RunKind::Optimization,
            o.id.clone(),
            o.error_message.clone(),
            o.error_stack_trace.clone(),
        ),
        AnyStatus::WalkForward(w) => (
            RunKind::WalkForward,
            w.id.clone(),
            w.error_message.clone(),
            w.error_stack_trace.clone(),
        ),
    };
    match status.status() {
        RunStatus::Completed => Ok(status),
        RunStatus::Failed => Err(CliError::Failed {
            message: format!(
                "{} failed: {}",
                noun(kind),
                error.as_deref().unwrap_or("no error message")
            ),
            detail: trace,
        }),
        RunStatus::Cancelled => Err(CliError::failed(format!(
            "the {} {id} was cancelled on the server (what it did: {})",
            noun(kind),
            follow_hint(client, kind, &id)
        ))),
        other => Err(unexpected(&format!("the run ended as {other}"))),
    }
}

fn unexpected(what: &str) -> CliError {
    CliError::failed(format!("unexpected answer from the server: {what}"))
}
