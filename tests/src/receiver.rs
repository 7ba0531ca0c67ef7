//! A plain HTTP server on loopback that records every request it gets and
//! answers `201 Created`: the far end of a component's outgoing request
//! (a webhook's receiver), with nothing of ours in between.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;

type Seen = Arc<Mutex<Vec<String>>>;

pub struct Receiver {
    pub addr: SocketAddr,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Self {
        let seen: Seen = Arc::default();
        let app = Router::new().fallback(record).with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Receiver { addr, seen, task }
    }

    /// One line per request: `<METHOD> <path?query> host=<Host> body=<body>`.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(seen): State<Seen>, request: Request) -> (StatusCode, &'static str) {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    seen.lock().unwrap().push(format!(
        "{} {} host={host} body={}",
        parts.method,
        parts.uri,
        String::from_utf8_lossy(&body)
    ));
    (StatusCode::CREATED, "received")
}
