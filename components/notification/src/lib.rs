//! Notification: turns `reminder.scheduled` / `reminder.cancelled` into
//! durable jobs, and publishes `reminder.triggered` when one fires. Logic
//! in plain modules (native tests against `MemoryKv` and `MemoryJobs`);
//! WIT glue in `component`, wasm only.

pub mod reminders;

#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(target_arch = "wasm32")]
mod component;

/// CloudEvent `source` of everything this service publishes.
pub const SOURCE: &str = "notification";
