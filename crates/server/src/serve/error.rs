//! Why a server did not start or stopped serving.

use atf_runs::distributed::DistError;
use atf_runs::service::ServiceError;
use atf_runs::CacheError;
use std::net::SocketAddr;

/// A server that could not start, or whose listener failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is reachable from other machines and no API token was
    /// given (DESIGN §5: only loopback may go without one).
    #[error("{addr} is reachable from other machines: an API token is required so every /api request needs it")]
    TokenRequired {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be bound (in use, not ours, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The progress cache (Redis) cannot be reached; names the URL with
    /// its password redacted.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The scale-out's Redis cannot be reached, or refused to set up the
    /// chunk stream or the advertised URL.
    #[error("scale-out: {0}")]
    ScaleOut(#[from] DistError),
    /// The catalog, the run database or the service's threads.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// A thread (the local worker) could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Tokio runtime of [`super::Server::run`] could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Accepting connections failed.
    #[error("serving HTTP on {addr}: {source}")]
    Serve {
        /// The bound address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
