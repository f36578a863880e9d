//! Results on stdout that end quietly when their reader has gone.
//!
//! `atf optimize … | head -1` closes the pipe after one line; Rust ignores
//! SIGPIPE, so the next write fails with `EPIPE` — and `println!` panics
//! on it, printing a panic message about a "broken pipe". Every command
//! that writes results to stdout writes through [`outln!`] (and
//! `render::print_json` through `CliError::StdoutClosed`) instead: when the
//! reader has gone, the process ends at once, silently, with status
//! [`CLOSED_PIPE`].
//!
//! **Why 141.** It is what a shell reports for a program killed by SIGPIPE
//! (128 + 13): `seq 1000000 | head -1`, `yes | head`, `grep … | head` all
//! end that way, so `atf` behaves like the filters it is piped with. A `0`
//! would claim the output was delivered when the reader took only part of
//! it; with `set -o pipefail` a script sees the cut as it would for any of
//! those tools (and without it, the pipeline's status is `head`'s, as
//! usual). Not by restoring SIGPIPE's default action instead: that needs
//! `unsafe` libc calls, and `atf serve` and `atf worker` (the same
//! process image) must never die of a peer closing a socket.

use std::io::Write;

/// Exit status of a command whose stdout reader closed the pipe: the
/// shell's status for a process killed by SIGPIPE.
pub const CLOSED_PIPE: u8 = 141;

/// `println!` for results: ends the process quietly with [`CLOSED_PIPE`]
/// when stdout's reader has gone.
macro_rules! outln {
    () => {
        $crate::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes `args` and a newline to stdout; see [`outln!`].
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        cannot_write(&e);
    }
}

/// Ends the process after a failed write to stdout: quietly with
/// [`CLOSED_PIPE`] when the reader has gone, else with the error (exit 1,
/// as any failure).
pub fn cannot_write(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(CLOSED_PIPE));
    }
    eprintln!("error: cannot write to stdout: {e}");
    std::process::exit(1);
}
