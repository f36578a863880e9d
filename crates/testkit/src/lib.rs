//! # atf-testkit
//!
//! What the workspace's test suites share, in one copy each (a
//! dev-dependency only, `publish = false`: none of it reaches a release
//! build):
//!
//! - [`walk`]: a seeded random walk of one-minute bars;
//! - [`wait`]: liveness waits;
//! - `redis` (feature `redis-server`): a throwaway `redis-server` on a
//!   free port — tests needing it fail when it is missing, never skip;
//! - feature `server`: `server::TestServer`, a real server in this
//!   process started through `atf_server::serve` (the wiring `atf serve`
//!   uses), `http::Api`, a JSON client of the API with liveness waits,
//!   `process`, `atf` processes (`serve`, `worker`) killed on drop, and
//!   `chunks`, what a scale-out's Redis says about chunks and workers.
//!
//! Waits here are liveness bounds ("poll until it holds, fail after a
//! generous time"), never latency targets: other tests share the cores.

#[cfg(feature = "server")]
pub mod chunks;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod process;
#[cfg(feature = "redis-server")]
pub mod redis;
#[cfg(feature = "server")]
pub mod server;
pub mod wait;
pub mod walk;
