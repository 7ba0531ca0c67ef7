//! The outbox in pod mode: records that a pod left behind and never came
//! back for (rescheduled under another name) are published by a live pod of
//! the same component. The record is planted through chat-api's own
//! sidecar, exactly where a crashed host would have left it.

use std::time::Duration;

use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::real_stack::{DAPR_TOKEN, Infra, RealStack};
use todo_tests::stack::Stack;
use todo_tests::{eventually, workspace_root};

const WAIT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread")]
async fn a_gone_pods_outbox_records_are_published_by_a_live_pod() {
    let Some(infra) = Infra::from_env() else {
        eprintln!("note: TODO_STACK_* not set, pod outbox test skipped");
        return;
    };
    let stack = RealStack::start(infra, &workspace_root().join("spin.toml")).expect("stack starts");
    let chat = &stack.pods[stack.pod("chat-api")];
    let state = format!(
        "http://127.0.0.1:{}/v1.0/state/statestore-durable",
        chat.dapr_http_port
    );
    let http = reqwest::Client::new();
    // The event belongs to a real user, whose audit history shows it.
    let session = sign_up(&stack).await;
    let ghost = format!("chat-api-gone-{}", uuid::Uuid::new_v4().simple());
    let subject = format!("ghost-{}", uuid::Uuid::new_v4());
    let event = json!({
        "specversion": "1.0",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": "chat-api",
        "type": "com.todo.task.created.v1",
        "subject": subject,
        "time": "2026-01-01T00:00:00.000Z",
        "datacontenttype": "application/json",
        "userid": session.user_id(),
        "correlationid": uuid::Uuid::new_v4().to_string(),
        "data": {"id": subject, "title": "left behind"},
    });
    let record =
        json!({"publisher": "chat-api", "events": [{"topic": "task-events", "event": event}]});

    // The gone pod's record (stored as a JSON string, as the host does) and
    // its lane in the registry, with no liveness key.
    let save = |items: Value| {
        http.post(&state)
            .header("dapr-api-token", DAPR_TOKEN)
            .json(&items)
            .send()
    };
    let resp =
        save(json!([{"key": format!("outbox:{ghost}:{:020}", 1), "value": record.to_string()}]))
            .await
            .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    eventually("the ghost lane to be registered", WAIT, || async {
        let resp = http
            .get(format!("{state}/outbox:lanes"))
            .header("dapr-api-token", DAPR_TOKEN)
            .send()
            .await
            .ok()?;
        let etag = resp.headers().get("etag")?.to_str().ok()?.to_owned();
        let mut lanes: Vec<String> = resp.json().await.ok()?;
        lanes.push(ghost.clone());
        let item = json!([{"key": "outbox:lanes", "value": lanes, "etag": etag,
            "options": {"concurrency": "first-write"}}]);
        save(item).await.ok()?.status().is_success().then_some(())
    })
    .await;

    // A live chat-api pod adopts the lane: the event reaches audit.
    let audit = stack.url(&format!("/api/audit?subject={subject}"));
    let entries = eventually("the adopted record's event in audit", WAIT, || async {
        let body: Value = session
            .http
            .get(&audit)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let entries = body["entries"].as_array()?.clone();
        (!entries.is_empty()).then_some(entries)
    })
    .await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["event"]["data"]["title"], "left behind");

    // The record is gone and the lane retired.
    eventually("the ghost lane to be retired", WAIT, || async {
        let lanes: Vec<String> = http
            .get(format!("{state}/outbox:lanes"))
            .header("dapr-api-token", DAPR_TOKEN)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (!lanes.contains(&ghost)).then_some(())
    })
    .await;
    let left = http
        .get(format!("{state}/outbox:{ghost}:{:020}", 1))
        .header("dapr-api-token", DAPR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), 204, "the adopted record must be deleted");
}
