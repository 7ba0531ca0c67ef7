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
