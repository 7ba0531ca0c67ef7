//! Audit: stores every event it receives exactly once, in a tamper-evident
//! chain of keyed hashes, and serves queries and a verification of the chain.
//! Logic in plain modules (native tests against `MemoryKv`); WIT glue in
//! `component`, wasm only.

pub mod api;
pub mod chain;
pub mod ingest;
pub mod keys;
pub mod query;
pub mod store;
pub mod verify;

#[cfg(target_arch = "wasm32")]
mod component;
