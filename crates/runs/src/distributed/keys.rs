//! Redis key names of the scale-out protocol (see [`super`]).

/// The stream of chunks.
pub const CHUNKS: &str = "atf:chunks";
/// The consumer group every worker reads [`CHUNKS`] in.
pub const GROUP: &str = "atf-workers";
/// The coordinator's advertised URL.
pub const COORDINATOR: &str = "atf:coordinator";
/// Heartbeat keys' prefix.
pub const WORKER_PREFIX: &str = "atf:worker:";

/// `atf:opt:{id}:{what}`.
#[must_use]
pub fn run(id: &str, what: &str) -> String {
    format!("atf:opt:{id}:{what}")
}

/// The job of run `id`.
#[must_use]
pub fn job(id: &str) -> String {
    run(id, "job")
}

/// The cancel flag of run `id`.
#[must_use]
pub fn cancel(id: &str) -> String {
    run(id, "cancel")
}

/// The recorded chunks of run `id`.
#[must_use]
pub fn chunks(id: &str) -> String {
    run(id, "chunks")
}

/// The counters of run `id`.
#[must_use]
pub fn progress(id: &str) -> String {
    run(id, "progress")
}

/// The leaderboard of run `id`.
#[must_use]
pub fn leaders(id: &str) -> String {
    run(id, "leaders")
}

/// The leaders' metrics of run `id`.
#[must_use]
pub fn leader_metrics(id: &str) -> String {
    run(id, "leader-metrics")
}

/// The failed deliveries of run `id`'s chunks: chunk start → count, and
/// `{start}:error` → the latest error.
#[must_use]
pub fn failures(id: &str) -> String {
    run(id, "failures")
}

/// Why run `id` cannot go on (a chunk failed too often), once set.
#[must_use]
pub fn poison(id: &str) -> String {
    run(id, "poison")
}

/// The heartbeat of worker `name`.
#[must_use]
pub fn worker(name: &str) -> String {
    format!("{WORKER_PREFIX}{name}")
}
