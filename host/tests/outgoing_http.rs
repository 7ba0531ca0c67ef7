//! Outgoing HTTP (`wasi:http/outgoing-handler`): a component reaches only
//! the hosts its `allowed_outbound_hosts` lists, and private or loopback
//! addresses only when the operator allows them
//! (`TODO_OUTBOUND_ALLOW_PRIVATE`). The far end is a plain HTTP server.

mod common;

use common::ProbeHost;
use serde_json::{Value, json};
use todo_tests::receiver::Receiver;

/// A probe whose `allowed_outbound_hosts` is `entries`, on a host with `env`.
fn probe_allowing(entries: &[String], env: &[(&str, &str)]) -> ProbeHost {
    let list: Vec<String> = entries.iter().map(|e| format!("\"{e}\"")).collect();
    let field = format!("allowed_outbound_hosts = [{}]", list.join(", "));
    ProbeHost::start_custom(3, 50, &field, env)
}

fn fetch(method: &str, url: &str, body: &str) -> Value {
    json!({"op": "fetch", "method": method, "url": url, "body": body})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listed_host_is_reached_and_others_are_denied() {
    let receiver = Receiver::start().await;
    let port = receiver.addr.port();
    let p = probe_allowing(
        &[format!("http://127.0.0.1:{port}")],
        &[("TODO_OUTBOUND_ALLOW_PRIVATE", "1")],
    );

    let url = format!("http://127.0.0.1:{port}/hooks/task?id=7");
    let reply = p.cmd(fetch("POST", &url, "{\"done\":true}")).await.unwrap();
    assert_eq!(reply["status"], 201, "{reply}");
    assert_eq!(reply["body"], "received");
    assert_eq!(
        receiver.seen(),
        [format!(
            "POST /hooks/task?id=7 host=127.0.0.1:{port} body={{\"done\":true}}"
        )]
    );

    // Another name for the same server, another port, another scheme: none
    // is on the list.
    // (https is refused before the list is read: the host has no TLS
    // client, and an unsupported scheme is a protocol error.)
    for (url, code) in [
        (format!("http://localhost:{port}/"), "HttpRequestDenied"),
        (
            format!("http://127.0.0.1:{}/", port.wrapping_add(1)),
            "HttpRequestDenied",
        ),
        (format!("https://127.0.0.1:{port}/"), "HttpProtocolError"),
    ] {
        let err = p.cmd(fetch("GET", &url, "")).await.unwrap_err();
        assert_eq!(err.0, "unavailable", "{url}: {err:?}");
        assert!(err.1.contains(code), "{url}: {err:?}");
    }

    // probe2 runs the same code with no allow-list: it may send nothing.
    let through_probe2 = p
        .cmd(json!({
            "op": "invoke", "app": "probe2", "method": "POST", "path": "/cmd",
            "body": fetch("GET", &url, "").to_string(),
        }))
        .await
        .unwrap();
    assert!(
        through_probe2["body"]
            .as_str()
            .unwrap()
            .contains("HttpRequestDenied"),
        "{through_probe2}"
    );
    assert_eq!(receiver.seen().len(), 1, "{:?}", receiver.seen());
}

#[tokio::test(flavor = "multi_thread")]
async fn private_addresses_are_refused_unless_the_operator_allows_them() {
    let receiver = Receiver::start().await;
    let port = receiver.addr.port();
    // Listed by address and by name, and by a wildcard: the address rule
    // holds whatever the list says.
    let p = probe_allowing(
        &[
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
            "http://*:*".to_owned(),
        ],
        &[],
    );
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]:9/".to_owned(),
    ] {
        let err = p.cmd(fetch("GET", &url, "")).await.unwrap_err();
        assert_eq!(err.0, "unavailable", "{url}: {err:?}");
        assert!(err.1.contains("DestinationIpProhibited"), "{url}: {err:?}");
    }
    assert!(receiver.seen().is_empty(), "{:?}", receiver.seen());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_an_error_the_guest_sees() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = probe_allowing(
        &[format!("http://127.0.0.1:{port}")],
        &[("TODO_OUTBOUND_ALLOW_PRIVATE", "true")],
    );
    let err = p
        .cmd(fetch("GET", &format!("http://127.0.0.1:{port}/"), ""))
        .await
        .unwrap_err();
    assert_eq!(err.0, "unavailable", "{err:?}");
    assert!(err.1.contains("ConnectionRefused"), "{err:?}");
    // The host is unharmed.
    assert_eq!(p.get("/version").await, (200, "v1".to_owned()));
}
