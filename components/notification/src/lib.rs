//! Notification: turns `reminder.scheduled` / `reminder.cancelled` into
//! durable jobs, publishes `reminder.triggered` when one fires, and records
//! what became of it (`reminder.delivered` / `reminder.failed`). Logic
//! in plain modules (native tests against `MemoryKv` and `MemoryJobs`);
//! WIT glue in `component`, wasm only.

pub mod outcomes;
pub mod reminders;

#[cfg(target_arch = "wasm32")]
mod component;

/// CloudEvent `source` of everything this service publishes.
pub const SOURCE: &str = "notification";
