//! `todo:platform/realtime`: send to / close WebSocket connections the host
//! holds. The same registry serves both modes; in pod mode it holds the
//! connections of this pod only.

use async_trait::async_trait;
use tracing::instrument;

use crate::capabilities::bindings::todo::platform::realtime as wit;
use crate::capabilities::{CapResult, View};

#[async_trait]
pub trait RealtimeBackend: Send + Sync {
    /// `NotFound` if the connection is gone.
    async fn send(&self, connection: &str, message: String) -> CapResult<()>;
    /// A position of the connection's ordered stream (see the WIT).
    async fn send_ordered(
        &self,
        connection: &str,
        seq: u64,
        message: Option<String>,
    ) -> CapResult<()>;
    async fn start(&self, connection: &str, after: u64, hold_ms: u32) -> CapResult<()>;
    async fn close(&self, connection: &str, code: u16, reason: String) -> CapResult<()>;
}

impl wit::Host for View<'_, dyn RealtimeBackend> {
    #[instrument(skip_all, fields(component = %self.component, connection = %connection))]
    async fn send(&mut self, connection: String, message: String) -> CapResult<()> {
        self.backend.send(&connection, message).await
    }

    #[instrument(skip_all, fields(component = %self.component, connection = %connection, seq))]
    async fn send_ordered(
        &mut self,
        connection: String,
        seq: u64,
        message: Option<String>,
    ) -> CapResult<()> {
        self.backend.send_ordered(&connection, seq, message).await
    }

    #[instrument(skip_all, fields(component = %self.component, connection = %connection, after))]
    async fn start(&mut self, connection: String, after: u64, hold_ms: u32) -> CapResult<()> {
        self.backend.start(&connection, after, hold_ms).await
    }

    #[instrument(skip_all, fields(component = %self.component, connection = %connection))]
    async fn close(&mut self, connection: String, code: u16, reason: String) -> CapResult<()> {
        self.backend.close(&connection, code, reason).await
    }
}
