//! The JSON answers of the API: the contract's types, from `atf-api`
//! (shared with the typed client).

pub use atf_api::status::*;
