//! Pod mode on the real stack, seen by clients no one here wrote: Dapr's
//! own subscription list, Kafka's console consumer with Python's
//! CloudEvents SDK, `psql` and `redis-cli`.
//!
//! Runs only when `cargo xtask test` started the shared servers
//! (`TODO_STACK_*`); without them every test prints a note and passes.

use std::collections::HashSet;
use std::process::Command;

use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::outside::*;
use todo_tests::stack::Stack;
use todo_tests::{Scratch, eventually};

#[tokio::test(flavor = "multi_thread")]
async fn dapr_lists_exactly_the_subscriptions_of_spin_toml() {
    let Some(infra) = infra("dapr_lists_exactly_the_subscriptions_of_spin_toml") else {
        return;
    };
    let manifest = app_manifest();
    let stack = start(infra, &manifest);
    // The app's manifest has a subscriber and a component without topics.
    assert!(!manifest_subscriptions(&manifest, "audit").is_empty());
    assert_subscriptions_match(&stack, &manifest).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn task_events_read_by_kafkas_console_consumer_are_cloudevents_to_pythons_sdk() {
    let Some(infra) =
        infra("task_events_read_by_kafkas_console_consumer_are_cloudevents_to_pythons_sdk")
    else {
        return;
    };
    let sdk = blocking(python_sdk).await;
    let stack = start(infra.clone(), &app_manifest());
    let http = sign_up(&stack).await.http;
    let mut ids = Vec::new();
    for i in 0..5 {
        let task = create_task(&http, &stack, &format!("interop {i}")).await;
        ids.push(task["id"].as_str().expect("task id").to_owned());
    }
    // Committed tasks are relayed to Kafka by the outbox; read until all are there.
    let events = eventually("every created task on task-events", WAIT, || {
        let (infra, sdk, ids) = (infra.clone(), sdk.clone(), ids.clone());
        async move {
            blocking(move || {
                let records = kafka_records(&infra, "task-events");
                let events = validate_with_python_sdk(&sdk, &records);
                assert_eq!(
                    events.len(),
                    records.lines().filter(|l| !l.trim().is_empty()).count(),
                    "every record read"
                );
                let created: HashSet<&str> = events
                    .iter()
                    .filter(|e| e["type"] == CREATED)
                    .filter_map(|e| e["subject"].as_str())
                    .collect();
                ids.iter()
                    .all(|id| created.contains(id.as_str()))
                    .then_some(events)
            })
            .await
        }
    })
    .await;
    for e in &events {
        assert_eq!(e["specversion"], "1.0", "{e}");
        assert_eq!(e["source"], "chat-api", "{e}");
        assert!(
            e["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("com.todo.task.")),
            "{e}"
        );
        assert!(e["time"].is_string(), "no time: {e}");
        assert!(
            e["subject"].as_str().is_some_and(|s| !s.is_empty()),
            "no subject: {e}"
        );
        assert!(
            e["extensions"]["correlationid"].is_string(),
            "no correlation id: {e}"
        );
        assert_eq!(e["datacontenttype"], "application/json", "{e}");
        // Passed through, not wrapped in a second envelope.
        assert!(
            e["data"].get("specversion").is_none(),
            "double-wrapped: {e}"
        );
    }
    for id in &ids {
        let created: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == CREATED && e["subject"] == id.as_str())
            .collect();
        assert_eq!(created[0]["data"]["id"], id.as_str(), "{}", created[0]);
        assert!(
            created[0]["data"]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("interop "))
        );
    }
    let unique: HashSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert!(ids.len() <= unique.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn psql_shows_the_task_row_chat_api_wrote() {
    let Some(infra) = infra("psql_shows_the_task_row_chat_api_wrote") else {
        return;
    };
    blocking(|| ensure_tool("psql", "postgresql-client")).await;
    let stack = start(infra.clone(), &app_manifest());
    let session = sign_up(&stack).await;
    let http = session.http.clone();
    let task = create_task(&http, &stack, "Visible in psql").await;
    let id = task["id"].as_str().expect("task id").to_owned();
    // A user's tasks live in shards `tasks:<user>:<nn>`; find the one
    // holding this task.
    let prefix = format!("chat-api||tasks:{}:%", session.user_id());
    let url = infra.postgres.clone();
    let task_id = id.clone();
    let row = blocking(move || {
        run_with_stdin(
            Command::new("psql")
                .arg(url)
                .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-v"])
                .arg(format!("prefix={prefix}"))
                .arg("-v")
                .arg(format!("id={task_id}")),
            "SELECT (value->'tasks'->:'id')::text FROM todo_state \
             WHERE key LIKE :'prefix' AND value->'tasks' ? :'id';\n",
        )
    })
    .await;
    assert!(
        !row.trim().is_empty(),
        "no todo_state shard row holds task {id}"
    );
    let stored: Value =
        serde_json::from_str(row.trim()).unwrap_or_else(|e| panic!("row is not JSON ({e}): {row}"));
    assert_eq!(stored["id"], id.as_str(), "{stored}");
    assert_eq!(stored["title"], "Visible in psql", "{stored}");
    // The row is what the API serves.
    let (status, served) = get_json(&http, &stack.url(&format!("/api/tasks/{id}"))).await;
    assert_eq!(status, 200, "{served}");
    assert_eq!(stored, served);
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_cli_shows_the_key_the_probe_wrote() {
    let Some(infra) = infra("redis_cli_shows_the_key_the_probe_wrote") else {
        return;
    };
    blocking(|| ensure_tool("redis-cli", "redis-tools")).await;
    let scratch = Scratch::new();
    let stack = start(infra.clone(), &probe_manifest(&scratch, &[]));
    let http = client();
    let key = format!("interop:{}", uuid::Uuid::new_v4().simple());
    let value = json!({"written": "by the probe", "n": 42});
    probe_cmd(
        &http,
        &stack,
        json!({"op": "set", "key": key, "value": value.to_string()}),
    )
    .await;
    let got = probe_cmd(&http, &stack, json!({"op": "get", "key": key})).await;
    let etag = got["etag"].as_str().expect("an etag").to_owned();

    let (host, port) = infra.redis.rsplit_once(':').expect("host:port");
    let hget = |field: &str| {
        let mut cmd = Command::new("redis-cli");
        cmd.args([
            "-h",
            host,
            "-p",
            port,
            "--raw",
            "HGET",
            &format!("probe||{key}"),
            field,
        ]);
        cmd
    };
    let (mut data, mut version) = (hget("data"), hget("version"));
    let (data, version) = blocking(move || (run(&mut data), run(&mut version))).await;
    let stored: Value = serde_json::from_str(data.trim())
        .unwrap_or_else(|e| panic!("HGET data is not JSON ({e}): {data:?}"));
    assert_eq!(stored, value);
    assert_eq!(
        version.trim(),
        etag,
        "Redis' version is the ETag the component saw"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audit_entry_edited_in_postgres_breaks_the_users_chain() {
    let Some(infra) = infra("an_audit_entry_edited_in_postgres_breaks_the_users_chain") else {
        return;
    };
    blocking(|| ensure_tool("psql", "postgresql-client")).await;
    let stack = start(infra.clone(), &app_manifest());
    let session = sign_up(&stack).await;
    let http = session.http.clone();
    for i in 0..3 {
        create_task(&http, &stack, &format!("audited {i}")).await;
    }
    let verified = eventually("three audit entries", WAIT, || async {
        let (_, v) = get_json(&http, &stack.url("/api/audit/verify")).await;
        (v["length"] == 3).then_some(v)
    })
    .await;
    assert_eq!(verified["ok"], true, "{verified}");
    // Someone with database access rewrites history: entry 2's title.
    let key = format!("audit||audit:{}:entry:{:020}", session.user_id(), 2);
    let url = infra.postgres.clone();
    let updated = blocking(move || {
        run_with_stdin(
            Command::new("psql")
                .arg(url)
                .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-v"])
                .arg(format!("key={key}")),
            "UPDATE todo_state SET value = jsonb_set(value, '{event,data,title}', '\"forged\"') \
             WHERE key = :'key' RETURNING key;\n",
        )
    })
    .await;
    assert!(!updated.trim().is_empty(), "no row was edited");
    // Entry 2 was verified before the edit: a full check re-reads it.
    let (status, v) = get_json(&http, &stack.url("/api/audit/verify?full=true")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["ok"].clone(), v["broken_at"].clone()),
        (json!(false), json!(2)),
        "{v}"
    );
}
