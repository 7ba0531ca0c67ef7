//! What operators rely on in pod mode, on the real stack: JSON log lines,
//! and one correlation id following a change from the request through
//! Kafka into another service's log.
//!
//! Runs only when `cargo xtask test` started the shared servers
//! (`TODO_STACK_*`); without them every test prints a note and passes.

use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::eventually;
use todo_tests::outside::*;
use todo_tests::real_stack::RealStack;
use todo_tests::stack::Stack;

/// The JSON lines of a host's log (a last line still being written is
/// left out); panics on a line that is not JSON.
fn json_lines(component: &str, log: &str) -> Vec<Value> {
    log.split_inclusive('\n')
        .filter(|l| l.ends_with('\n') && !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{component}: a log line is not JSON ({e}): {l}"))
        })
        .collect()
}

/// The correlation id of the request or event span a line was logged in
/// (`span` is the innermost, `spans` the whole stack of an implicit one).
fn correlation_of(line: &Value) -> Option<&str> {
    let handling = |s: &&Value| matches!(s["name"].as_str(), Some("http" | "event" | "deliver"));
    std::iter::once(&line["span"])
        .chain(line["spans"].as_array().into_iter().flatten())
        .find(handling)
        .map(|s| s["correlation_id"].as_str().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn pod_logs_are_json_lines_carrying_the_correlation_id_across_services() {
    let test = "pod_logs_are_json_lines_carrying_the_correlation_id_across_services";
    let Some(infra) = infra(test) else {
        return;
    };
    let stack = tokio::task::block_in_place(|| {
        RealStack::start_configured(infra, &app_manifest(), &[], &[("TODO_LOG_FORMAT", "json")])
    })
    .expect("real stack starts");
    let user = sign_up(&stack).await;
    let correlation = format!("ops-{}", uuid::Uuid::new_v4().simple());
    let resp = user
        .http
        .post(stack.url("/api/tasks"))
        .header("x-correlation-id", &correlation)
        .json(&json!({"title": "traced through the logs"}))
        .send()
        .await
        .expect("POST /api/tasks");
    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.headers()["x-correlation-id"].to_str().unwrap(),
        correlation,
        "the correlation id is answered"
    );
    let task: Value = resp.json().await.expect("task JSON");
    let task = task["id"].as_str().expect("task id").to_owned();

    // The event reached audit through Kafka (its history holds it) ...
    let audit_url = stack.url(&format!("/api/audit?task={task}"));
    eventually("the task's created event in audit", WAIT, || {
        let (http, url) = (user.http.clone(), audit_url.clone());
        async move {
            let body: Value = http.get(&url).send().await.ok()?.json().await.ok()?;
            body["entries"]
                .as_array()?
                .iter()
                .any(|e| e["event"]["type"] == CREATED)
                .then_some(())
        }
    })
    .await;
    // ... and its delivery line is in audit's log with the same id (the
    // line is written when the handler returns, before Dapr commits).
    let since = std::time::Instant::now();
    let audit = loop {
        let log = stack.host_log("audit");
        let lines = json_lines("audit", &log);
        if lines.iter().any(|l| {
            l["fields"]["message"] == "event"
                && l["fields"]["outcome"] == "SUCCESS"
                && correlation_of(l) == Some(correlation.as_str())
        }) {
            break lines;
        }
        assert!(
            since.elapsed() < WAIT,
            "no delivery line with {correlation} in audit's log:\n{}",
            log.lines().rev().take(40).collect::<Vec<_>>().join("\n")
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };

    let chat_api = json_lines("chat-api", &stack.host_log("chat-api"));
    let request = chat_api
        .iter()
        .find(|l| l["target"] == "todo_host::access" && correlation_of(l) == Some(&correlation))
        .unwrap_or_else(|| panic!("no access line with {correlation} in chat-api's log"));
    assert_eq!(request["fields"]["method"], "POST", "{request}");
    assert_eq!(request["fields"]["path"], "/api/tasks", "{request}");
    assert_eq!(request["fields"]["status"], 201, "{request}");
    assert!(request["fields"]["duration_ms"].is_number(), "{request}");
    assert!(request["timestamp"].is_string() && request["level"] == "INFO");

    // Every line logged while handling a request or an event says which
    // change it belongs to.
    for (component, lines) in [("chat-api", &chat_api), ("audit", &audit)] {
        for line in lines {
            if let Some(id) = correlation_of(line) {
                assert!(
                    !id.is_empty(),
                    "{component}: a line without its correlation id: {line}"
                );
            }
        }
    }
    // No secret reaches the logs: not the bearer token, not the password.
    for component in ["chat-api", "audit"] {
        let log = stack.host_log(component);
        assert!(
            !log.contains(&user.access_token),
            "{component} logged an access token"
        );
        assert!(
            !log.contains(&user.refresh_token),
            "{component} logged a refresh token"
        );
    }
}
