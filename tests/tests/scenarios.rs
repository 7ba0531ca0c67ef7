//! Cross-service scenarios through the public API, run against every stack
//! in [`todo_tests::stack::stacks`].

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use todo_tests::eventually;
use todo_tests::stack::{Stack, stacks};

/// Generous: after a crash, Kafka rebalances consumer groups before the
/// real stack delivers again.
const WAIT: Duration = Duration::from_secs(90);

struct Api<'a> {
    http: reqwest::Client,
    stack: &'a dyn Stack,
}

impl<'a> Api<'a> {
    fn of(stack: &'a dyn Stack) -> Self {
        Api {
            http: reqwest::Client::new(),
            stack,
        }
    }

    fn url(&self, path: &str) -> String {
        self.stack.url(path)
    }

    async fn create_task(&self, title: &str) -> String {
        let resp = self
            .http
            .post(self.url("/api/tasks"))
            .json(&json!({"title": title}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        let task: Value = resp.json().await.unwrap();
        assert_eq!(task["title"], title);
        task["id"].as_str().unwrap().to_owned()
    }

    async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.http.get(self.url(path)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Audit entries about `task` of type `ty`.
    async fn audited(&self, task: &str, ty: &str) -> Vec<Value> {
        let (status, body) = self
            .get_json(&format!("/api/audit?subject={task}&limit=500"))
            .await;
        assert_eq!(status, 200, "{body}");
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"]["type"] == ty)
            .cloned()
            .collect()
    }
}

const CREATED: &str = "com.todo.task.created.v1";

#[tokio::test(flavor = "multi_thread")]
async fn a_created_task_is_audited_exactly_once() {
    for stack in stacks() {
        let api = Api::of(stack.as_ref());
        let id = api.create_task("Pay rent").await;
        let entries = eventually(
            &format!("[{}] audit of {id}", stack.name()),
            WAIT,
            || async {
                let e = api.audited(&id, CREATED).await;
                (!e.is_empty()).then_some(e)
            },
        )
        .await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        let event = &entries[0]["event"];
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["subject"], id.as_str());
        assert_eq!(event["data"]["title"], "Pay rent");
        let (status, task) = api.get_json(&format!("/api/tasks/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(task["title"], "Pay rent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_between_requests_loses_and_duplicates_nothing() {
    for mut stack in stacks() {
        let mut ids = Vec::new();
        for round in 0..3 {
            let api = Api::of(stack.as_ref());
            for i in 0..4 {
                ids.push(api.create_task(&format!("task {round}-{i}")).await);
            }
            stack.crash_and_restart().expect("restart");
        }
        let api = Api::of(stack.as_ref());
        for id in &ids {
            let (status, _) = api.get_json(&format!("/api/tasks/{id}")).await;
            assert_eq!(status, 200, "[{}] task {id} lost", stack.name());
        }
        // Every acknowledged task's event is audited, exactly once (asked
        // per task: the stack's audit log may hold other scenarios' events).
        for id in &ids {
            let entries = eventually(
                &format!("[{}] audit of {id}", stack.name()),
                WAIT,
                || async {
                    let e = api.audited(id, CREATED).await;
                    (!e.is_empty()).then_some(e)
                },
            )
            .await;
            assert_eq!(entries.len(), 1, "duplicate audit entries: {entries:?}");
        }
        // Other scenarios may share the stack's data: check containment.
        let (_, list) = api.get_json("/api/tasks").await;
        let listed: HashSet<&str> = list["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert!(ids.iter().all(|id| listed.contains(id.as_str())));
        let (_, verify) = api.get_json("/api/audit/verify").await;
        assert_eq!(verify["ok"], true, "{verify}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_4xx_and_changes_nothing() {
    for stack in stacks() {
        let api = Api::of(stack.as_ref());
        let count = || async {
            let (_, list) = api.get_json("/api/tasks").await;
            list["tasks"].as_array().map_or(0, Vec::len)
        };
        let before = count().await;
        let post = |body: &'static str| {
            api.http
                .post(api.url("/api/tasks"))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let resp = post("{not json").await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["message"].as_str().is_some(), "{body}");

        let resp = post(r#"{"title": "   "}"#).await.unwrap();
        assert!(resp.status().is_client_error());
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["field"], "title", "{body}");

        let resp = post(r#"{"title": "ok", "priority": "urgent!"}"#)
            .await
            .unwrap();
        assert!(resp.status().is_client_error());
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["field"], "priority", "{body}");

        let (status, body) = api.get_json("/api/tasks/does-not-exist").await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(count().await, before, "bad input created a task");
    }
}
