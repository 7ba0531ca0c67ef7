//! The running application: components, backends, and calls into exports.

pub mod calls;
pub mod dispatch;
pub mod http;
pub mod pod;
pub mod timers;
pub mod websocket;

use std::sync::Arc;

use crate::capabilities::Backends;
use crate::components::Registry;
use crate::manifest::Manifest;

pub struct Runtime {
    pub manifest: Manifest,
    pub registry: Arc<Registry>,
    pub backends: Backends,
    pub sockets: Arc<websocket::Sockets>,
    /// Unix ms when this host started: jobs due before it fire "late".
    pub started_at: u64,
}

/// A firing this long after its instant is late even without a restart
/// (the Scheduler, a sidecar or the broker was away, or the host is
/// overloaded): well above normal lateness, well below what a person
/// notices as "the reminder came late".
pub const LATE_AFTER_MS: u64 = 5_000;

impl Runtime {
    /// Whether a job due at `occurrence` and firing at `fired_at` is late:
    /// it came due before this host started (it was down), or it fires
    /// [`LATE_AFTER_MS`] or more after its instant.
    pub fn is_late(&self, occurrence: u64, fired_at: u64) -> bool {
        occurrence < self.started_at || fired_at.saturating_sub(occurrence) >= LATE_AFTER_MS
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
