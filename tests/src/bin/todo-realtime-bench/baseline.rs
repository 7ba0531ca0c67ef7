//! The baseline: a bare axum WebSocket broadcast in this process, with the
//! same clients, users and rate: what pushing a frame to ten sockets costs
//! on this machine without the product in between.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::clients::{Listener, listen};
use crate::{Figures, Load, pace};

type Registry = Arc<Mutex<HashMap<usize, Vec<mpsc::UnboundedSender<String>>>>>;

async fn upgrade(
    State(reg): State<Registry>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let user: usize = q.get("user").and_then(|u| u.parse().ok()).unwrap_or(0);
    ws.on_upgrade(move |socket| serve(reg, user, socket))
}

async fn serve(reg: Registry, user: usize, socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    reg.lock().unwrap().entry(user).or_default().push(tx);
    let (mut sink, mut stream) = socket.split();
    tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    while let Some(text) = rx.recv().await {
        if sink.send(Message::Text(text.into())).await.is_err() {
            break;
        }
    }
}

fn key(text: &str) -> Option<String> {
    Some(text.to_owned())
}

pub async fn run(load: &Load) -> anyhow::Result<Figures> {
    let reg: Registry = Arc::default();
    let app = Router::new()
        .route("/ws", get(upgrade))
        .with_state(reg.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut clients: Vec<Listener> = Vec::new();
    for c in 0..load.clients {
        let user = c % load.users;
        let url = format!("ws://{addr}/ws?user={user}");
        clients.push(listen(&url, None, None, user, key).await?);
    }
    while reg.lock().unwrap().values().map(Vec::len).sum::<usize>() < load.clients {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = load.rate * load.seconds;
    let started = Instant::now();
    pace(load.rate, total, |i| {
        let reg = reg.clone();
        let sent = sent.clone();
        let users = load.users;
        async move {
            let text = format!("m{i}");
            let targets = reg
                .lock()
                .unwrap()
                .get(&(i % users))
                .cloned()
                .unwrap_or_default();
            sent.lock().unwrap().insert(text.clone(), Instant::now());
            for tx in targets {
                let _ = tx.send(text.clone());
            }
        }
    })
    .await;
    let offered = total as f64 / started.elapsed().as_secs_f64();
    let per_user = load.clients / load.users;
    let sent = Arc::try_unwrap(sent)
        .map(|m| m.into_inner().unwrap())
        .unwrap_or_default();
    Ok(crate::collect(&clients, &sent, per_user, offered).await)
}
