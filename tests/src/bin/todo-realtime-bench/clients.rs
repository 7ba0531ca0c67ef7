//! Many WebSocket clients, each reading continuously and noting when each
//! frame arrived and which change it carried.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// (change key, arrival) per received frame of one client.
pub type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

/// A connected client: the user it belongs to and what it received.
pub struct Listener {
    pub user: usize,
    pub arrivals: Arrivals,
}

/// Connects to `url` (with `bearer` if given), sends `first` (if any),
/// then records every text frame for which `key` finds a change key.
pub async fn listen(
    url: &str,
    bearer: Option<&str>,
    first: Option<String>,
    user: usize,
    key: fn(&str) -> Option<String>,
) -> anyhow::Result<Listener> {
    let mut request = url.into_client_request()?;
    if let Some(token) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
    }
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    let (mut sink, mut stream) = socket.split();
    if let Some(first) = first {
        sink.send(Message::Text(first.into())).await?;
    }
    let arrivals: Arrivals = Arc::default();
    let into = arrivals.clone();
    tokio::spawn(async move {
        // Kept so the connection stays open and pongs can be written.
        let _sink = sink;
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(text) = msg {
                let at = Instant::now();
                if let Some(k) = key(&text) {
                    into.lock().unwrap().push((k, at));
                }
            }
        }
    });
    Ok(Listener { user, arrivals })
}
