//! Host-held WebSockets: the host owns the sockets, components see
//! connection ids (`websocket-handler` export, `realtime` import).
//!
//! Per connection the host keeps a bounded queue, the ordered stream (see
//! [`conn`]), keep-alive pings, and the expiry the component gave at
//! connect. Every keep-alive interval each component hears which of its
//! connections are alive (`on-alive`), which is how it keeps its
//! connection records fresh.

mod conn;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::capabilities::realtime::RealtimeBackend;
use crate::capabilities::{CapError, CapResult};
use conn::Conn;
pub use conn::{QUEUE_BYTES, QUEUE_FRAMES, REPLAY_BYTES, REPLAY_FRAMES};
pub use session::upgrade;

/// Keep-alive settings (`crate::config::HostEnv::ws_ping_interval`, the
/// same in both modes).
#[derive(Debug, Clone)]
pub struct KeepAlive {
    /// A ping goes out this often; a connection that sent nothing (not
    /// even a pong) for two intervals is closed.
    pub interval: Duration,
}

struct Entry {
    component: String,
    conn: Arc<Conn>,
}

pub struct Sockets {
    open: Mutex<HashMap<String, Entry>>,
    pub keepalive: KeepAlive,
}

impl Sockets {
    pub fn new(keepalive: KeepAlive) -> Self {
        Sockets {
            open: Mutex::new(HashMap::new()),
            keepalive,
        }
    }

    fn register(&self, id: &str, component: &str, conn: Arc<Conn>) {
        self.open.lock().expect("sockets lock").insert(
            id.to_owned(),
            Entry {
                component: component.to_owned(),
                conn,
            },
        );
    }

    fn forget(&self, id: &str) {
        self.open.lock().expect("sockets lock").remove(id);
    }

    fn conn(&self, id: &str) -> CapResult<Arc<Conn>> {
        self.open
            .lock()
            .expect("sockets lock")
            .get(id)
            .map(|e| e.conn.clone())
            .ok_or(CapError::NotFound)
    }

    /// Open connections per component, accepted by it and heard from
    /// within `within_ms`.
    fn alive(&self, within_ms: u64) -> HashMap<String, Vec<String>> {
        let now = crate::engine::now_ms();
        let mut by_component: HashMap<String, Vec<String>> = HashMap::new();
        for (id, e) in self.open.lock().expect("sockets lock").iter() {
            let last = e
                .conn
                .last_inbound_ms
                .load(std::sync::atomic::Ordering::Relaxed);
            let accepted = e.conn.accepted.load(std::sync::atomic::Ordering::Acquire);
            if accepted && now.saturating_sub(last) <= within_ms {
                by_component
                    .entry(e.component.clone())
                    .or_default()
                    .push(id.clone());
            }
        }
        by_component
    }
}

#[async_trait]
impl RealtimeBackend for Sockets {
    async fn send(&self, connection: &str, message: String) -> CapResult<()> {
        self.conn(connection)?.send(message)
    }

    async fn send_ordered(
        &self,
        connection: &str,
        seq: u64,
        message: Option<String>,
    ) -> CapResult<()> {
        self.conn(connection)?.send_ordered(seq, message)
    }

    async fn start(&self, connection: &str, after: u64, hold_ms: u32) -> CapResult<()> {
        self.conn(connection)?
            .start(after, Duration::from_millis(u64::from(hold_ms)))
    }

    async fn close(&self, connection: &str, code: u16, reason: String) -> CapResult<()> {
        self.conn(connection)?.close(code, reason);
        Ok(())
    }
}

/// Tells each component, every keep-alive interval, which of its
/// connections are alive. Runs for the life of the host.
pub async fn report_alive(runtime: Arc<crate::engine::Runtime>, sockets: Arc<Sockets>) {
    let interval = sockets.keepalive.interval;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let window = u64::try_from(interval.as_millis() * 2).unwrap_or(u64::MAX);
        for (component, connections) in sockets.alive(window) {
            if let Err(e) = runtime.ws_alive(&component, connections).await {
                tracing::warn!(component = %component, "websocket on-alive failed: {e}");
            }
        }
    }
}
