//! The HTTP front door's own answers: unknown route, oversized body,
//! health and readiness; and WebSockets held by the host.

mod common;

use common::{ProbeHost, WAIT};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use todo_tests::eventually;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_route_is_a_json_404() {
    let p = ProbeHost::start();
    let (status, body) = p.get("/no/such/route").await;
    assert_eq!(status, 404);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/no/such/route")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_is_a_413_and_reaches_no_component() {
    let p = ProbeHost::start();
    let big = "x".repeat(2 << 20);
    let resp = p
        .http
        .post(p.host.url("/cmd"))
        .body(format!(r#"{{"op":"set","key":"big","value":"{big}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "body_too_large");
    assert_eq!(
        p.cmd(json!({"op": "get", "key": "big"})).await.unwrap(),
        json!(null)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness() {
    let p = ProbeHost::start();
    assert_eq!(p.get("/healthz").await.0, 200);
    assert_eq!(p.get("/readyz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn websockets_are_held_by_the_host() {
    let p = ProbeHost::start();
    let ws_url = p.host.url("/ws").replace("http://", "ws://");

    let denied = tokio_tungstenite::connect_async(format!("{ws_url}?deny=1")).await;
    match denied {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 403)
        }
        other => panic!("expected a 403 rejection, got {other:?}"),
    }

    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("connect");
    socket.send(Message::text("hello")).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo:hello");

    // The component pushes to the connection by id, outside any message.
    let connection = eventually("the connect to be logged", WAIT, || async {
        let log = p.log("ws").await;
        log.iter()
            .find(|e| e["event"] == "connect")
            .map(|e| e["connection"].as_str().unwrap().to_owned())
    })
    .await;
    p.cmd(json!({"op": "ws_send", "connection": connection, "message": "pushed"}))
        .await
        .unwrap();
    let pushed = socket.next().await.unwrap().unwrap();
    assert_eq!(pushed.into_text().unwrap().as_str(), "pushed");

    socket.close(None).await.unwrap();
    eventually("the disconnect to be logged", WAIT, || async {
        let log = p.log("ws").await;
        log.iter().any(|e| e["event"] == "disconnect").then_some(())
    })
    .await;
    let err = p
        .cmd(json!({"op": "ws_send", "connection": connection, "message": "late"}))
        .await
        .unwrap_err();
    assert_eq!(err.0, "not-found");
}

/// The close code a connection ended with, reading past anything else.
async fn close_code<S>(socket: &mut S) -> Option<u16>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    while let Some(Ok(msg)) = socket.next().await {
        if let Message::Close(frame) = msg {
            return frame.map(|f| u16::from(f.code));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_message_over_64_kib_is_refused_with_1009() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

    let p = ProbeHost::start();
    let ws_url = p.host.url("/ws").replace("http://", "ws://");

    // 64 KiB exactly is a message like any other.
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let largest = "a".repeat(64 * 1024);
    socket.send(Message::text(largest.clone())).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(
        reply.into_text().unwrap().as_str(),
        format!("echo:{largest}")
    );

    // One byte more closes the connection with "message too big".
    socket
        .send(Message::text("a".repeat(64 * 1024 + 1)))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await, Some(1009));

    // So does a message split into frames that are each under the limit.
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let part = vec![b'b'; 40 * 1024];
    let first = Frame::message(part.clone(), OpCode::Data(Data::Text), false);
    let last = Frame::message(part, OpCode::Data(Data::Continue), true);
    socket.send(Message::Frame(first)).await.unwrap();
    socket.send(Message::Frame(last)).await.unwrap();
    assert_eq!(close_code(&mut socket).await, Some(1009));

    // The host keeps serving.
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    socket.send(Message::text("still here")).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo:still here");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_upgrade_leaves_no_connection_behind() {
    use tokio::io::AsyncWriteExt;

    let p = ProbeHost::start();
    let authority = p
        .host
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let upgrade = |query: &str| {
        format!(
            "GET /ws?{query} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        )
    };
    // Clients that go away right after asking, before the 101 arrives:
    // some while the component is still accepting (it takes 300 ms), some
    // at any moment.
    let mut clients = Vec::new();
    for i in 0..40 {
        let mut tcp = tokio::net::TcpStream::connect(&authority).await.unwrap();
        let query = if i % 2 == 0 { "linger_ms=300" } else { "" };
        tcp.write_all(upgrade(query).as_bytes()).await.unwrap();
        clients.push(tcp);
    }
    // Leave once the lingering connects are under way (they log first).
    eventually("the component to be accepting", WAIT, || async {
        let log = p.log("ws").await;
        (log.iter().filter(|e| e["event"] == "connect").count() >= 20).then_some(())
    })
    .await;
    drop(clients);
    // Every connection the component accepted is given back to it, and the
    // host holds none of them.
    let accepted = eventually("the aborted connections to be released", WAIT, || async {
        let log = p.log("ws").await;
        let ids = |event: &str| -> std::collections::BTreeSet<String> {
            log.iter()
                .filter(|e| e["event"] == event)
                .map(|e| e["connection"].as_str().unwrap().to_owned())
                .collect()
        };
        let (connected, disconnected) = (ids("connect"), ids("disconnect"));
        // A client may leave before the component logged its connect (and
        // still be told of the disconnect): a subset, not equality.
        (!connected.is_empty() && connected.is_subset(&disconnected)).then_some(connected)
    })
    .await;
    for connection in accepted {
        let err = p
            .cmd(json!({"op": "ws_send", "connection": connection, "message": "anyone?"}))
            .await
            .unwrap_err();
        assert_eq!(err.0, "not-found", "{connection} is still held");
    }
}
