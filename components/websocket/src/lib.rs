//! WebSocket: real-time sync of each user's changes and reminders.
//!
//! - [`feed`]: the per-user event log that gives every event its cursor
//!   (the same on every replica) and serves replays.
//! - [`fanout`]: an event arrives -> it is logged, then pushed to the
//!   user's connections held by this host.
//! - [`session`]: connect (authentication, hello), resume, ack, start,
//!   keep-alive and disconnect of one connection.
//! - [`connections`]: connection tracking in state, with a TTL.
//! - [`tickets`]: single-use tickets for browsers (`POST
//!   /api/realtime/ticket`), [`api`] the HTTP routes.
//! - [`reminders`]: reminders each device has yet to acknowledge;
//!   `reminder.delivered` / `reminder.failed`.
//!
//! Logic in plain modules (native tests against `MemoryKv`, `MemoryPush`
//! and `MemoryJobs`); WIT glue in `component`, wasm only.

pub mod api;
pub mod config;
pub mod connections;
pub mod fanout;
pub mod feed;
pub mod frames;
pub mod push;
pub mod reminders;
pub mod session;
pub mod tickets;

#[cfg(test)]
mod tests;

#[cfg(target_arch = "wasm32")]
mod component;

/// CloudEvent `source` of everything this service publishes.
pub const SOURCE: &str = "websocket";

/// Unix ms now.
pub fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// `ms` (Unix ms) as RFC 3339 with milliseconds, UTC.
pub fn rfc3339(ms: u64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
