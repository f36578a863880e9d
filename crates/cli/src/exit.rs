//! How the binary fails: one line on stderr and an exit code that tells
//! bad input (2) from a failed run (1) and from a run interrupted with
//! Ctrl-C (130).

use std::process::ExitCode;

/// An error at the binary's edge.
#[derive(Debug)]
pub enum CliError {
    /// The user asked for something invalid: exit 2.
    Usage(String),
    /// Something failed while working: exit 1, with optional detail (a stack trace).
    Failed {
        message: String,
        detail: Option<String>,
    },
    /// The user interrupted (Ctrl-C) a run they were following: exit 130,
    /// the message as it is (what became of the run).
    Interrupted(String),
    /// Stdout's reader has gone (`atf … | head -1`): exit 141 quietly
    /// (see `crate::out`).
    StdoutClosed,
}

impl CliError {
    /// Prints the error and returns the exit code.
    pub fn report(self) -> ExitCode {
        match self {
            Self::Usage(m) => {
                eprintln!("error: {m}");
                ExitCode::from(2)
            }
            Self::Failed { message, detail } => {
                eprintln!("error: {message}");
                if let Some(d) = detail.filter(|d| !d.is_empty()) {
                    eprintln!("stack trace:\n{d}");
                }
                ExitCode::from(1)
            }
            Self::Interrupted(m) => {
                eprintln!("{m}");
                ExitCode::from(130)
            }
            Self::StdoutClosed => ExitCode::from(crate::out::CLOSED_PIPE),
        }
    }

    /// A bad-input error.
    pub fn usage(m: impl std::fmt::Display) -> Self {
        Self::Usage(m.to_string())
    }

    /// A failure while working.
    pub fn failed(m: impl std::fmt::Display) -> Self {
        Self::Failed {
            message: m.to_string(),
            detail: None,
        }
    }
}

impl From<atf_data::DataError> for CliError {
    fn from(e: atf_data::DataError) -> Self {
        if e.is_user_error() {
            Self::Usage(e.to_string())
        } else {
            Self::failed(e)
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Self::StdoutClosed;
        }
        Self::failed(e)
    }
}

impl From<serde_json::Error> for CliError {
    /// A write that failed while serializing: its I/O error (a closed
    /// stdout ends quietly); anything else a failure.
    fn from(e: serde_json::Error) -> Self {
        match e.io_error_kind() {
            Some(kind) => std::io::Error::from(kind).into(),
            None => Self::failed(e),
        }
    }
}

/// Prints a clap error as one line (help and version pass through) and
/// returns its exit code.
pub fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.render().to_string();
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    eprintln!("{} (see --help)", line.trim_end());
    ExitCode::from(2)
}

/// Result of a command.
pub type CliResult = Result<(), CliError>;
