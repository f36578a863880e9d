//! What the API tests add to `atf-testkit` (whose [`TestServer`] is the
//! real server, started through the wiring `atf serve` uses): the run
//! database read beside the server, and a grid that is still running when
//! a test acts on it.

pub use atf_testkit::http::call;
pub use atf_testkit::server::{backends, Backend, Options, TestServer};
use serde_json::Value;

/// The run database of `srv`, opened read-only beside it.
pub fn db(srv: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        srv.dir.join("runs.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

/// A grid big enough to still be running when the test acts on it
/// (sma-cross over the demo minute data, ~80k combinations).
pub fn big_optimization(tag: i64) -> Value {
    serde_json::json!({
        "strategy": "sma-cross",
        "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 400, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
        "constraints": ["fast < slow"],
        "cash": 10000 + tag,
    })
}
