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

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
