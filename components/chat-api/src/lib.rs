//! Chat API: the REST front door and the only writer of tasks. Business
//! logic lives in plain modules tested natively against `MemoryKv`; the
//! WIT glue is in `component` and only exists in the wasm build.

pub mod accounts;
pub mod api;
pub mod chat;
pub mod context;
pub mod events;
pub mod idempotency;
pub mod listing;
pub mod mcp;
pub mod occurrences;
pub mod preview;
pub mod series;
pub mod store;
pub mod tasks;
pub mod tools;

#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
mod component;

/// CloudEvent `source` of everything this service publishes.
pub const SOURCE: &str = "chat-api";
