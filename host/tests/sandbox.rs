//! Guests are confined: a runaway loop is stopped by its deadline, an
//! unbounded allocation by its memory limit, a panic becomes a 500 with a
//! request id, and the host keeps serving through all of them.

mod common;

use common::ProbeHost;
use serde_json::Value;

async fn assert_still_serving(p: &ProbeHost) {
    let (status, body) = p.get("/version").await;
    assert_eq!((status, body.as_str()), (200, "v1"));
}

fn error_of(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).expect("JSON error body");
    v["error"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_is_stopped_by_its_deadline() {
    let p = ProbeHost::start();
    let (status, body) = p.get("/spin").await;
    assert_eq!(status, 500, "{body}");
    let err = error_of(&body);
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("`probe`"), "{message}");
    assert!(message.contains("deadline"), "{message}");
    assert!(p.host.log().contains("deadline"));
    assert_still_serving(&p).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unbounded_allocation_hits_the_memory_limit() {
    let p = ProbeHost::start();
    let (status, body) = p.get("/hog").await;
    assert_eq!(status, 500, "{body}");
    let message = error_of(&body)["message"].as_str().unwrap().to_owned();
    assert!(message.contains("`probe`"), "{message}");
    assert!(message.contains("memory limit of 64 MiB"), "{message}");
    assert_still_serving(&p).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_is_a_500_with_a_request_id_in_body_and_log() {
    let p = ProbeHost::start();
    let resp = p.http.get(p.host.url("/trap")).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    let body: Value = resp.json().await.unwrap();
    let id = body["error"]["request_id"]
        .as_str()
        .expect("request id")
        .to_owned();
    assert_eq!(body["error"]["code"], "component_failed");
    todo_tests::eventually("the request id in the log", common::WAIT, || async {
        p.host.log().contains(&id).then_some(())
    })
    .await;
    assert_still_serving(&p).await;
}
