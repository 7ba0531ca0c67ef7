//! A client of the real-time protocol (`/ws`) for scenarios: connect with
//! a token or a ticket, read frames with a deadline, send JSON.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::account::Session;
use crate::stack::Stack;

/// Longest wait for one frame in scenarios (the real stack's first
/// deliveries after a rebalance take seconds).
pub const FRAME_WAIT: Duration = Duration::from_secs(60);

/// How a client authenticates its upgrade.
pub enum Auth<'a> {
    Bearer(&'a str),
    Ticket(&'a str),
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connected client. It reads continuously in the background (which
/// also answers the server's pings, as every real client does), queueing
/// frames until the scenario takes them.
pub struct Client {
    sink: futures::stream::SplitSink<Socket, Message>,
    frames: tokio::sync::mpsc::UnboundedReceiver<Result<Value, End>>,
    reader: tokio::task::JoinHandle<()>,
    /// The `hello` frame.
    pub hello: Value,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read(
    mut stream: futures::stream::SplitStream<Socket>,
    out: tokio::sync::mpsc::UnboundedSender<Result<Value, End>>,
) {
    loop {
        let item = match stream.next().await {
            Some(Ok(Message::Text(t))) => Ok(serde_json::from_str(&t).expect("frames are JSON")),
            Some(Ok(Message::Close(frame))) => Err(End::Closed(frame.map(|f| f.code.into()))),
            Some(Ok(_)) => continue,
            Some(Err(e)) => Err(End::Broken(e.to_string())),
            None => Err(End::Closed(None)),
        };
        let last = item.is_err();
        if out.send(item).is_err() || last {
            return;
        }
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Closed(Option<u16>),
    Broken(String),
}

impl Client {
    /// Connects to `url` (`ws://.../ws?...`) and reads `hello`; the HTTP
    /// status if the upgrade is refused.
    pub async fn connect(url: &str, auth: Auth<'_>) -> Result<Client, u16> {
        let url = match auth {
            Auth::Ticket(t) => format!(
                "{url}{}ticket={t}",
                if url.contains('?') { '&' } else { '?' }
            ),
            Auth::Bearer(_) => url.to_owned(),
        };
        let mut request = url.as_str().into_client_request().expect("a ws URL");
        if let Auth::Bearer(token) = auth {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("a header value"),
            );
        }
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(resp) => resp.status().as_u16(),
                other => panic!("connecting {url}: {other}"),
            })?;
        let (sink, stream) = socket.split();
        let (tx, frames) = tokio::sync::mpsc::unbounded_channel();
        let mut client = Client {
            sink,
            frames,
            reader: tokio::spawn(read(stream, tx)),
            hello: Value::Null,
        };
        let hello = client.next().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        client.hello = hello;
        Ok(client)
    }

    /// Connects as `session`'s user to replica `replica`, with a ticket
    /// (as browsers do) or the bearer token, and sends `resume` (with
    /// `cursor`, or none: live from now) so the stream starts at once.
    pub async fn open(
        stack: &dyn Stack,
        session: &Session,
        replica: usize,
        device: &str,
        cursor: Option<&str>,
    ) -> Client {
        let url = stack.ws_url(replica, &format!("/ws?device={device}"));
        let mut client = if replica.is_multiple_of(2) {
            Client::connect(&url, Auth::Bearer(&session.access_token)).await
        } else {
            let ticket = ticket(stack, session).await;
            Client::connect(&url, Auth::Ticket(&ticket)).await
        }
        .unwrap_or_else(|status| panic!("upgrade refused with {status}"));
        client
            .send(&json!({"type": "resume", "cursor": cursor}))
            .await;
        client
    }

    pub fn cursor(&self) -> String {
        self.hello["cursor"].as_str().expect("a cursor").to_owned()
    }

    pub async fn send(&mut self, frame: &Value) {
        self.sink
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("sending a frame");
    }

    /// The next JSON frame within `wait`, or how the connection ended.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Value, End> {
        match tokio::time::timeout(wait, self.frames.recv()).await {
            Err(_) => Err(End::Broken(format!("no frame within {wait:?}"))),
            Ok(None) => Err(End::Closed(None)),
            Ok(Some(item)) => item,
        }
    }

    /// The next frame; panics if none comes within [`FRAME_WAIT`].
    pub async fn next(&mut self) -> Value {
        self.next_within(FRAME_WAIT)
            .await
            .unwrap_or_else(|e| panic!("expected a frame: {e:?}"))
    }

    /// The next `event` frame, skipping others (returned separately).
    pub async fn next_event(&mut self) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == "event" {
                return frame;
            }
        }
    }

    /// Reads until the connection ends (within `wait`), returning how.
    pub async fn end(&mut self, wait: Duration) -> End {
        loop {
            match self.next_within(wait).await {
                Ok(_) => continue,
                Err(end) => return end,
            }
        }
    }
}

/// A ticket for `session`'s user.
pub async fn ticket(stack: &dyn Stack, session: &Session) -> String {
    let resp = session
        .http
        .post(stack.url("/api/realtime/ticket"))
        .send()
        .await
        .expect("POST /api/realtime/ticket");
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.expect("ticket JSON");
    body["ticket"].as_str().expect("a ticket").to_owned()
}

// ------------------------------------------------------------ scenarios

/// Signing key of the scenarios' stacks (they mint expiring tokens).
pub const KEY: &str = "realtime-scenarios-signing-key-0123456789abcdef";
/// The scenarios' host settings: a signing key they hold too, and short
/// timeouts so they see them pass.
pub const ENV: [(&str, &str); 4] = [
    ("TODO_SECRET_AUTH_SIGNING_KEY", KEY),
    ("TODO_VARIABLE_REMINDER_ACK_TIMEOUT_SECONDS", "4"),
    ("TODO_VARIABLE_CONNECTION_TTL_SECONDS", "3"),
    ("TODO_WS_PING_INTERVAL_MS", "500"),
];

pub fn event_of(frame: &Value) -> (&str, &str) {
    (
        frame["event"]["type"].as_str().unwrap_or_default(),
        frame["event"]["subject"].as_str().unwrap_or_default(),
    )
}

pub fn cursor_of(frame: &Value) -> u64 {
    frame["cursor"].as_str().unwrap().parse().unwrap()
}

/// Reads `n` event frames: their (type, subject), checking the cursors
/// follow each other from `after`.
pub async fn events(client: &mut Client, after: u64, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let frame = client.next_event().await;
        assert_eq!(cursor_of(&frame), after + 1 + i as u64, "{frame}");
        let (ty, subject) = event_of(&frame);
        out.push((ty.to_owned(), subject.to_owned()));
    }
    out
}
