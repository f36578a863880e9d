//! How every Redis user here (the progress cache, the coordinator, the
//! workers) opens its client: `redis://` plain, `rediss://` over TLS
//! (rustls), trusting the system's roots or, with a CA file
//! (`--redis-ca` / `ATF_REDIS_CA`), only that private CA.

use std::path::PathBuf;
use std::time::Duration;

/// Default [`RedisOptions::lease`].
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How to reach a Redis server besides its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// A PEM file of the CA that signed a `rediss://` server's certificate
    /// (instead of the system's roots).
    pub ca_file: Option<PathBuf>,
    /// How long an in-flight run's snapshot lives without being refreshed
    /// (the server refreshes it every `publish_every`): after a crash of
    /// its server the run reads `Failed` instead of `Running` for ever.
    pub lease: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            ca_file: None,
            lease: DEFAULT_LEASE,
        }
    }
}

/// A client of `url` (already known to be shown as `shown`, password
/// redacted).
///
/// # Errors
/// One line naming what is wrong: the URL, or the CA file.
pub fn client(url: &str, shown: &str, opts: &RedisOptions) -> Result<redis::Client, String> {
    let Some(ca) = &opts.ca_file else {
        return redis::Client::open(url).map_err(|e| format!("invalid Redis URL {shown}: {e}"));
    };
    if !url.starts_with("rediss://") {
        return Err(format!(
            "a Redis CA file ({}) is given but {shown} is not a rediss:// URL",
            ca.display()
        ));
    }
    let pem = std::fs::read(ca)
        .map_err(|e| format!("cannot read the Redis CA file {}: {e}", ca.display()))?;
    redis::Client::build_with_tls(
        url,
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        },
    )
    .map_err(|e| format!("Redis URL {shown} with CA file {}: {e}", ca.display()))
}
