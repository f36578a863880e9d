//! The accept loop: HTTP/1.1 connections served by hyper with a header
//! read timeout, and a graceful stop bounded by a grace period.
//!
//! `axum::serve` has no header timeout, so a client that opens connections
//! and sends a request line a byte at a time (slowloris) would hold each
//! one, and its task and buffer, forever. Here every connection must
//! deliver a request's complete head within `header_timeout` of the
//! server starting to wait for it — which also ends keep-alive connections
//! left idle that long — or it is closed.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// How the loop treats connections.
#[derive(Debug, Clone, Copy)]
pub(super) struct Http {
    /// A request's head must be read within this (slowloris).
    pub header_timeout: Duration,
    /// Connections still open this long after the stop are dropped.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `stop` resolves; then stops accepting
/// and, while `stopped` runs (the runs in flight being saved), lets open
/// connections finish their requests for `grace` at most (each closes
/// after its current answer); returns `stopped`'s output once both are
/// done.
pub(super) async fn serve<T>(
    listener: TcpListener,
    app: Router,
    http: Http,
    stop: impl Future<Output = ()> + Send,
    stopped: impl Future<Output = T> + Send,
) -> T {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(http.header_timeout);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // out of file descriptors and the like: pause instead
                    // of spinning; a reset connection is the client's end
                    if !is_connection_error(&e) {
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // a client gone or too slow: nothing to tell anyone
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    let grace_over = tokio::time::Instant::now() + http.grace;
    let conns = graceful.shutdown();
    let mut conns = std::pin::pin!(conns);
    let mut stopped = std::pin::pin!(stopped);
    let mut conns_done = false;
    let out = loop {
        tokio::select! {
            out = &mut stopped => break out,
            () = &mut conns, if !conns_done => conns_done = true,
        }
    };
    // `stopped` has told the event streams to end: what is left of the
    // grace period, and at least a moment for their last event
    if !conns_done {
        let left = grace_over.saturating_duration_since(tokio::time::Instant::now());
        if tokio::time::timeout(left.max(LAST_WORDS), conns)
            .await
            .is_err()
        {
            tracing::warn!(
                grace_secs = http.grace.as_secs_f64(),
                "connections still open after the grace period; closing them"
            );
        }
    }
    out
}

/// How long connections get after `stopped` even when the grace period is
/// over: an event stream's last event is on its way.
const LAST_WORDS: Duration = Duration::from_secs(1);

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
