//! The life of one connection: the upgrade (the component accepts or
//! refuses it), then one task reading and one writing until either side
//! closes, the client stops answering pings, or its expiry passes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::conn::{CloseSignal, Conn, Outgoing, Phase};
use crate::capabilities::bindings::websocket_handler::{ConnectInfo, Expiry};
use crate::engine::{Runtime, now_ms};
use crate::triggers::http::{Front, error};

/// A stream blocked this long by a missing position is given up: the
/// client is closed with 4008 and resumes from its cursor, which replays
/// from the durable log.
const GAP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing handshake may take before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Close code when the ordered stream cannot be kept (see `GAP_TIMEOUT`).
const CLOSE_RESYNC: u16 = 4008;
/// Close code for a client that stopped answering pings.
const CLOSE_UNRESPONSIVE: u16 = 1001;
/// Close code for a message over [`MAX_MESSAGE`] (RFC 6455 7.4.1).
const CLOSE_TOO_BIG: u16 = 1009;
/// The largest message (and frame) a client may send. The protocol's
/// client messages are small (a cursor, an acknowledgement): 64 KiB is
/// plenty, and nothing bigger is read into memory or handed to a
/// component.
pub const MAX_MESSAGE: usize = 64 * 1024;

pub async fn upgrade(
    State(front): State<Arc<Front>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let runtime = front.runtime.clone();
    let sockets = front.sockets.clone();
    let path = uri.path().to_owned();
    let Some(component) = runtime
        .manifest
        .websockets
        .iter()
        .find(|t| t.route == path)
        .map(|t| t.component.clone())
    else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no websocket route",
            None,
        );
    };
    let id = uuid::Uuid::now_v7().to_string();
    // Registered before on-connect so the component may already send
    // while accepting.
    let (conn, outgoing, close) = Conn::new(&component);
    let conn = Arc::new(conn);
    sockets.register(&id, &component, conn.clone());
    let registration = Registration {
        runtime: runtime.clone(),
        sockets: sockets.clone(),
        component: component.clone(),
        id: id.clone(),
        armed: true,
    };
    let info = ConnectInfo {
        connection: id.clone(),
        path,
        query: uri.query().unwrap_or_default().to_owned(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
            .collect(),
    };
    let expiry = match runtime.ws_connect(&component, info).await {
        Ok(Ok(expiry)) => {
            conn.accepted.store(true, Ordering::Release);
            expiry
        }
        Ok(Err(rejection)) => {
            registration.release();
            let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::FORBIDDEN);
            return error(status, "rejected", &rejection.reason, None);
        }
        Err(e) => {
            registration.release();
            tracing::error!(component = %component, "websocket connect failed: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "component_failed",
                &e.to_string(),
                None,
            );
        }
    };
    let session = Session {
        runtime,
        sockets,
        component,
        id,
        conn,
    };
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_failed_upgrade(|e| tracing::info!("websocket upgrade failed: {e}"))
        // When the upgrade fails this closure is dropped uncalled, and
        // with it the registration, which cleans up.
        .on_upgrade(move |socket| {
            registration.hand_over();
            session.run(socket, outgoing, close, expiry)
        })
        .into_response()
}

/// A connection from its registration until its session takes it over.
/// Dropped before that (the client went away during `on-connect`, or the
/// upgrade failed), it is forgotten and the component hears
/// `on-disconnect`, so an aborted upgrade leaves nothing behind.
struct Registration {
    runtime: Arc<Runtime>,
    sockets: Arc<super::Sockets>,
    component: String,
    id: String,
    armed: bool,
}

impl Registration {
    /// The session owns the connection from here on.
    fn hand_over(mut self) {
        self.armed = false;
    }

    /// The component refused or failed the connect: only the host's entry
    /// is left to remove.
    fn release(mut self) {
        self.armed = false;
        self.sockets.forget(&self.id);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.sockets.forget(&self.id);
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let runtime = self.runtime.clone();
        let component = std::mem::take(&mut self.component);
        let id = std::mem::take(&mut self.id);
        tracing::info!(component = %component, connection = %id, "websocket upgrade abandoned");
        handle.spawn(async move {
            if let Err(e) = runtime.ws_disconnect(&component, &id).await {
                tracing::warn!(component = %component, connection = %id, "websocket disconnect failed: {e}");
            }
        });
    }
}

/// Whether a read failed because the client's message or frame was over
/// [`MAX_MESSAGE`].
fn too_big(e: &axum::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|inner| inner.downcast_ref::<tungstenite::Error>())
        .is_some_and(|inner| matches!(inner, tungstenite::Error::Capacity(_)))
}

struct Session {
    runtime: Arc<Runtime>,
    sockets: Arc<super::Sockets>,
    component: String,
    id: String,
    conn: Arc<Conn>,
}

fn deadline_of(expiry: &Option<Expiry>) -> Option<Instant> {
    let e = expiry.as_ref()?;
    let wait = e.at.saturating_sub(now_ms());
    Some(Instant::now() + Duration::from_millis(wait))
}

impl Session {
    async fn run(
        self,
        socket: WebSocket,
        outgoing: mpsc::UnboundedReceiver<Outgoing>,
        close: CloseSignal,
        expiry: Option<Expiry>,
    ) {
        let (sink, mut stream) = socket.split();
        let mut writer = tokio::spawn(write(sink, outgoing, close, self.conn.clone()));
        let interval = self.sockets.keepalive.interval;
        let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
        let mut housekeeping = tokio::time::interval(Duration::from_secs(1));
        let expires = deadline_of(&expiry);
        let mut heard_from = false;
        self.start_if_due().await;
        loop {
            let hold = match self.conn.phase() {
                Phase::Held { until } => Some(Instant::from_std(until)),
                _ => None,
            };
            tokio::select! {
                _ = &mut writer => {
                    drain(&mut stream).await;
                    break;
                }
                msg = stream.next() => {
                    let msg = match msg {
                        Some(Ok(msg)) => msg,
                        Some(Err(e)) if too_big(&e) => {
                            tracing::info!(component = %self.component, connection = %self.id, "websocket message over {MAX_MESSAGE} bytes; closing");
                            self.conn.close(CLOSE_TOO_BIG, format!("messages are limited to {MAX_MESSAGE} bytes"));
                            // The close frame goes out; nothing more is read.
                            let _ = tokio::time::timeout(CLOSE_GRACE * 2, &mut writer).await;
                            break;
                        }
                        _ => break,
                    };
                    self.conn.last_inbound_ms.store(now_ms(), Ordering::Relaxed);
                    let text = match msg {
                        Message::Text(t) => t.to_string(),
                        Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                        Message::Close(_) => break,
                        _ => continue,
                    };
                    if let Err(e) = self.runtime.ws_message(&self.component, &self.id, &text).await {
                        tracing::warn!(component = %self.component, connection = %self.id, "websocket message failed: {e}");
                    }
                    if !heard_from {
                        heard_from = true;
                        self.start().await;
                    }
                }
                _ = sleep_until(hold) => self.start().await,
                _ = sleep_until(expires) => {
                    let e = expiry.as_ref().expect("a deadline has an expiry");
                    self.conn.close(e.code, e.reason.clone());
                }
                _ = ping.tick() => {
                    let silent = now_ms().saturating_sub(self.conn.last_inbound_ms.load(Ordering::Relaxed));
                    if u128::from(silent) > interval.as_millis() * 2 {
                        self.conn.close(CLOSE_UNRESPONSIVE, "no answer to pings".into());
                    } else {
                        self.conn.ping();
                    }
                }
                _ = housekeeping.tick() => {
                    if self.conn.gap_age().is_some_and(|age| age > GAP_TIMEOUT) {
                        self.conn.close(CLOSE_RESYNC, "stream interrupted; resume".into());
                    }
                }
            }
        }
        self.sockets.forget(&self.id);
        writer.abort();
        if let Err(e) = self.runtime.ws_disconnect(&self.component, &self.id).await {
            tracing::warn!(component = %self.component, connection = %self.id, "websocket disconnect failed: {e}");
        }
    }

    /// A start whose hold is already over (e.g. `hold-ms` 0 at connect).
    async fn start_if_due(&self) {
        if let Phase::Held { until } = self.conn.phase()
            && until <= std::time::Instant::now()
        {
            self.start().await;
        }
    }

    /// Makes the start final: `on-start`, then the waiting positions flow.
    async fn start(&self) {
        let Some(after) = self.conn.begin_start() else {
            return;
        };
        if let Err(e) = self
            .runtime
            .ws_start(&self.component, &self.id, after)
            .await
        {
            tracing::warn!(component = %self.component, connection = %self.id, "websocket on-start failed: {e}");
        }
        if self.conn.finish_start().is_err() {
            self.conn
                .close(CLOSE_RESYNC, "too far behind; resume".into());
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Drains the queue onto the socket; a close request goes out ahead of
/// whatever is queued, and a client that does not take it within
/// [`CLOSE_GRACE`] is dropped.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    mut close: CloseSignal,
    conn: Arc<Conn>,
) {
    loop {
        let frame = tokio::select! {
            biased;
            _ = close.changed() => break,
            out = outgoing.recv() => match out {
                Some(Outgoing::Text { text, replay }) => {
                    conn.dequeued(text.len(), replay);
                    Message::Text(text.into())
                }
                Some(Outgoing::Ping) => Message::Ping(Default::default()),
                None => return,
            },
        };
        tokio::select! {
            biased;
            _ = close.changed() => break,
            sent = sink.send(frame) => if sent.is_err() { return },
        }
    }
    let Some((code, reason)) = close.borrow().clone() else {
        return;
    };
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(frame)).await;
}

/// After our close frame: reads until the client's answer (or the end, or
/// [`CLOSE_GRACE`]), so the socket is not torn down under frames the
/// client has yet to read.
async fn drain(stream: &mut SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(msg)) = stream.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
