//! recurring-task: when an occurrence of a recurring series is completed
//! (or deleted while open), computes the series' next due and asks chat-api
//! to create that task, then announces it. Logic in `series` (native tests
//! through chat-api's real handler); WIT glue in `component`, wasm only.

pub mod series;

#[cfg(target_arch = "wasm32")]
mod component;

/// CloudEvent `source` of everything this service publishes.
pub const SOURCE: &str = "recurring-task";
/// The app that creates tasks (and its route for the next instance).
pub const CHAT_API: &str = "chat-api";
pub const INSTANCES_ROUTE: &str = "/internal/series/instances";

#[cfg(test)]
mod tests;
