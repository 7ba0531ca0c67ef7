//! The task routes end to end against `MemoryKv`: authentication, the
//! events each mutation commits, ETags, idempotency and isolation.

use serde_json::{Value, json};
use todo_domain::{MemoryKv, Request, Response};

use crate::api::handle;
use crate::test_support::{secrets, token};

fn call(kv: &MemoryKv, token: &str, method: &str, path: &str, body: Option<Value>) -> Response {
    call_with(kv, token, method, path, body, &[])
}

fn call_with(
    kv: &MemoryKv,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Response {
    crate::test_support::send(
        kv,
        token,
        method,
        path,
        body.map(|b| b.to_string()),
        headers,
    )
}

fn types(kv: &MemoryKv) -> Vec<String> {
    kv.published().iter().map(|p| p.event.ty.clone()).collect()
}

#[test]
fn every_route_needs_a_token() {
    let kv = MemoryKv::new();
    for (method, path) in [
        ("GET", "/api/tasks"),
        ("POST", "/api/tasks"),
        ("GET", "/api/tasks/x"),
        ("POST", "/api/tasks/x/complete"),
        ("GET", "/api/tasks/x/occurrences"),
    ] {
        let resp = handle(&kv, &secrets(), &Request::new(method, path));
        assert_eq!(resp.status, 401, "{method} {path}");
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
    }
    assert!(kv.published().is_empty());
}

#[test]
fn a_task_lives_through_every_mutation_with_its_events() {
    let kv = MemoryKv::new();
    let t = token(&kv, "a@example.test", "Europe/London");
    let resp = call(
        &kv,
        &t,
        "POST",
        "/api/tasks",
        Some(
            json!({"title": "t", "due": {"date": "2030-06-01", "time": "09:00"},
                    "reminders": [{"before_minutes": 10}]}),
        ),
    );
    assert_eq!(resp.status, 201, "{:?}", resp.json_body());
    let task = resp.json_body().unwrap();
    // 09:00 London in June is BST: 08:00Z.
    assert_eq!(task["due_at"], "2030-06-01T08:00:00Z");
    assert_eq!(task["due"]["time_zone"], "Europe/London");
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/tasks/{id}");
    assert_eq!(
        types(&kv),
        ["com.todo.task.created.v1", "com.todo.reminder.scheduled.v1"]
    );

    let resp = call(&kv, &t, "PATCH", &path, Some(json!({"priority": "high"})));
    assert_eq!(resp.json_body().unwrap()["version"], 2);
    let updated = kv.published().last().unwrap().event.clone();
    let data: Value = updated.data_as().unwrap();
    assert_eq!(data["changed_fields"], json!(["priority"]));
    // Nothing about the reminder changed: no reminder event.
    assert_eq!(types(&kv).len(), 3);

    call(&kv, &t, "POST", &format!("{path}/complete"), None);
    call(&kv, &t, "POST", &format!("{path}/uncomplete"), None);
    let resp = call(&kv, &t, "DELETE", &path, None);
    assert_eq!(resp.status, 204);
    assert_eq!(
        types(&kv)[3..],
        [
            "com.todo.task.completed.v1",
            "com.todo.reminder.cancelled.v1",
            "com.todo.task.uncompleted.v1",
            "com.todo.reminder.scheduled.v1",
            "com.todo.task.deleted.v1",
            "com.todo.reminder.cancelled.v1",
        ]
    );
    assert_eq!(call(&kv, &t, "GET", &path, None).status, 404);
    for p in kv.published() {
        p.event.validate().unwrap();
        assert_eq!(p.event.subject.as_deref(), Some(id));
        assert!(p.event.user_id().is_some());
    }
}

#[test]
fn if_match_and_idempotency_keys() {
    let kv = MemoryKv::new();
    let t = token(&kv, "a@example.test", "UTC");
    let body = json!({"title": "once"});
    let key = [("idempotency-key", "k1")];
    let first = call_with(&kv, &t, "POST", "/api/tasks", Some(body.clone()), &key);
    let again = call_with(&kv, &t, "POST", "/api/tasks", Some(body), &key);
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body, again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let other = call_with(
        &kv,
        &t,
        "POST",
        "/api/tasks",
        Some(json!({"title": "x"})),
        &key,
    );
    assert_eq!(other.status, 422);
    assert_eq!(types(&kv), ["com.todo.task.created.v1"]);

    let id = first.json_body().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/tasks/{id}");
    let stale = call_with(
        &kv,
        &t,
        "PATCH",
        &path,
        Some(json!({"title": "y"})),
        &[("if-match", "\"7\"")],
    );
    assert_eq!(stale.status, 412);
    assert_eq!(
        stale.json_body().unwrap()["error"]["code"],
        "precondition_failed"
    );
    let fresh = call_with(
        &kv,
        &t,
        "PATCH",
        &path,
        Some(json!({"title": "y"})),
        &[("if-match", "W/\"1\", \"9\"")],
    );
    assert_eq!((fresh.status, fresh.header("etag")), (200, Some("\"2\"")));
}

#[test]
fn another_users_task_is_exactly_a_missing_one() {
    let kv = MemoryKv::new();
    let alice = token(&kv, "a@example.test", "UTC");
    let bob = token(&kv, "b@example.test", "UTC");
    let resp = call(
        &kv,
        &alice,
        "POST",
        "/api/tasks",
        Some(json!({"title": "mine"})),
    );
    let id = resp.json_body().unwrap()["id"].as_str().unwrap().to_owned();
    let before = kv.published().len();
    for (method, path) in [
        ("GET", format!("/api/tasks/{id}")),
        ("PATCH", format!("/api/tasks/{id}")),
        ("DELETE", format!("/api/tasks/{id}")),
        ("POST", format!("/api/tasks/{id}/complete")),
        ("GET", format!("/api/tasks/{id}/occurrences")),
    ] {
        let body = (method == "PATCH").then(|| json!({"title": "x"}));
        let theirs = call(&kv, &bob, method, &path, body.clone());
        let missing = call(&kv, &bob, method, &path.replace(&id, "nope"), body);
        assert_eq!(theirs.status, 404, "{method} {path}");
        assert_eq!(
            theirs.json_body().unwrap()["error"]["code"],
            missing.json_body().unwrap()["error"]["code"]
        );
    }
    let list = call(&kv, &bob, "GET", "/api/tasks", None);
    assert_eq!(list.json_body().unwrap()["tasks"], json!([]));
    assert_eq!(kv.published().len(), before);
}

#[test]
fn the_openapi_document_is_served_and_names_every_route() {
    let kv = MemoryKv::new();
    let resp = handle(&kv, &secrets(), &Request::new("GET", "/openapi.json"));
    assert_eq!(resp.status, 200);
    let doc = resp.json_body().unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/auth/signup",
        "/api/auth/signin",
        "/api/auth/refresh",
        "/api/auth/signout",
        "/api/me",
        "/api/tasks",
        "/api/tasks/{id}",
        "/api/tasks/{id}/complete",
        "/api/tasks/{id}/uncomplete",
        "/api/tasks/{id}/occurrences",
        "/api/audit",
        "/api/audit/verify",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}

#[test]
fn a_user_at_the_task_limit_gets_a_422_and_nothing_changes() {
    use crate::store::{SHARD_TASK_LIMIT, SHARDS, shard_key, shard_of};
    use todo_domain::{KeyValue, SetOptions};
    let kv = MemoryKv::new();
    let t = token(&kv, "full@example.test", "UTC");
    let me = call(&kv, &t, "GET", "/api/me", None).json_body().unwrap();
    let user = me["id"].as_str().unwrap();
    // Every shard of the user at its limit, written directly.
    for shard in 0..SHARDS {
        let tasks: serde_json::Map<String, Value> = (0..)
            .map(|i| format!("seed-{i}"))
            .filter(|id| shard_of(id) == shard)
            .take(SHARD_TASK_LIMIT)
            .map(|id| {
                let task = todo_model::Task::new(&id, user, "seed", "2026-12-01T00:00:00Z");
                (id, serde_json::to_value(task).unwrap())
            })
            .collect();
        let doc = json!({"tasks": tasks}).to_string();
        kv.set(
            &shard_key(user, shard),
            doc.as_bytes(),
            SetOptions::default(),
        )
        .unwrap();
    }
    let before = kv.published().len();
    let resp = call(
        &kv,
        &t,
        "POST",
        "/api/tasks",
        Some(json!({"title": "one too many"})),
    );
    assert_eq!(resp.status, 422, "{:?}", resp.json_body());
    let body = resp.json_body().unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    assert!(body["error"]["message"].as_str().unwrap().contains("limit"));
    assert_eq!(kv.published().len(), before, "no event for a refused task");
    // An existing task can still be edited.
    let resp = call(
        &kv,
        &t,
        "PATCH",
        "/api/tasks/seed-0",
        Some(json!({"title": "kept"})),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.json_body());
}
