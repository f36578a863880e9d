//! The files `atf new` writes, compiled and tested here as they are: the
//! example strategy and its unit tests (the scaffold's `src/tests.rs`).

#[path = "../templates/rsi_dip.rs"]
mod rsi_dip;
#[path = "../templates/tests.rs"]
mod tests;
