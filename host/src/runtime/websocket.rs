//! Host-held WebSockets: the host owns the sockets, components see
//! connection ids (`websocket-handler` export, `realtime` import).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;

use super::http::{Front, error};
use crate::bindings::websocket_handler::ConnectInfo;
use crate::capabilities::realtime::RealtimeBackend;
use crate::capabilities::{CapError, CapResult};

/// Frames queued per connection before `send` reports it unavailable.
const QUEUE: usize = 1024;

enum Outgoing {
    Text(String),
    Close(u16, String),
}

#[derive(Default)]
pub struct Sockets {
    open: Mutex<HashMap<String, mpsc::Sender<Outgoing>>>,
}

impl Sockets {
    fn register(&self, id: &str) -> mpsc::Receiver<Outgoing> {
        let (tx, rx) = mpsc::channel(QUEUE);
        self.open
            .lock()
            .expect("sockets lock")
            .insert(id.to_owned(), tx);
        rx
    }

    fn forget(&self, id: &str) {
        self.open.lock().expect("sockets lock").remove(id);
    }

    fn sender(&self, id: &str) -> CapResult<mpsc::Sender<Outgoing>> {
        self.open
            .lock()
            .expect("sockets lock")
            .get(id)
            .cloned()
            .ok_or(CapError::NotFound)
    }
}

#[async_trait]
impl RealtimeBackend for Sockets {
    async fn send(&self, connection: &str, message: String) -> CapResult<()> {
        self.sender(connection)?
            .try_send(Outgoing::Text(message))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    CapError::Unavailable("connection is not keeping up".into())
                }
                mpsc::error::TrySendError::Closed(_) => CapError::NotFound,
            })
    }

    async fn close(&self, connection: &str, code: u16, reason: String) -> CapResult<()> {
        let sender = self.sender(connection)?;
        sender
            .send(Outgoing::Close(code, reason))
            .await
            .map_err(|_| CapError::NotFound)
    }
}

pub async fn upgrade(
    State(front): State<Arc<Front>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let runtime = front.runtime.clone();
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
    // (e.g. replay missed changes) while accepting.
    let outgoing = runtime.sockets.register(&id);
    let info = ConnectInfo {
        connection: id.clone(),
        path,
        query: uri.query().unwrap_or_default().to_owned(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
            .collect(),
    };
    match runtime.ws_connect(&component, info).await {
        Ok(Ok(())) => {}
        Ok(Err(rejection)) => {
            runtime.sockets.forget(&id);
            let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::FORBIDDEN);
            return error(status, "rejected", &rejection.reason, None);
        }
        Err(e) => {
            runtime.sockets.forget(&id);
            tracing::error!(component = %component, "websocket connect failed: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "component_failed",
                &e.to_string(),
                None,
            );
        }
    }
    ws.on_upgrade(move |socket| run(front, component, id, socket, outgoing))
        .into_response()
}

async fn run(
    front: Arc<Front>,
    component: String,
    id: String,
    socket: WebSocket,
    mut outgoing: mpsc::Receiver<Outgoing>,
) {
    let runtime = front.runtime.clone();
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        while let Some(out) = outgoing.recv().await {
            let frame = match out {
                Outgoing::Text(t) => Message::Text(t.into()),
                Outgoing::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    break;
                }
            };
            if sink.send(frame).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        if let Err(e) = runtime.ws_message(&component, &id, &text).await {
            tracing::warn!(component = %component, connection = %id, "websocket message failed: {e}");
        }
    }
    runtime.sockets.forget(&id);
    writer.abort();
    if let Err(e) = runtime.ws_disconnect(&component, &id).await {
        tracing::warn!(component = %component, connection = %id, "websocket disconnect failed: {e}");
    }
}
