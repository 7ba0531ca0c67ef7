//! A user's view of the public API, for scenarios: JSON in, status and
//! JSON out, as the signed-up user of a [`Session`].

use std::time::Duration;

use serde_json::Value;

use crate::account::Session;
use crate::eventually;
use crate::stack::Stack;

/// Generous: after a crash, Kafka rebalances consumer groups before the
/// real stack delivers again.
pub const WAIT: Duration = Duration::from_secs(90);

/// A status, the response headers that matter, and the JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub body: Value,
}

pub struct Api<'a> {
    pub stack: &'a dyn Stack,
    pub session: Session,
}

impl<'a> Api<'a> {
    pub fn new(stack: &'a dyn Stack, session: Session) -> Self {
        Api { stack, session }
    }

    pub fn url(&self, path: &str) -> String {
        self.stack.url(path)
    }

    /// Any request with optional JSON body and extra headers.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut req = self.session.http.request(method, self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, location) = (header("etag"), header("location"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        Reply {
            status,
            etag,
            location,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(body), &[]).await
    }

    /// Creates a task from `body`, asserting a 201; returns the task.
    pub async fn create(&self, body: &Value) -> Value {
        let reply = self.post("/api/tasks", body).await;
        assert_eq!(reply.status, 201, "create {body}: {}", reply.body);
        reply.body
    }

    /// Audit entries about `task` (every topic), oldest first. Every event
    /// read this way is checked against its JSON Schema: the scenarios are
    /// the contract tests of the events they cause.
    pub async fn history(&self, task: &str) -> Vec<Value> {
        let reply = self.get(&format!("/api/audit?task={task}&limit=500")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let entries = reply.body["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for entry in &entries {
            if let Err(e) = crate::contract::check_event(&entry["event"]) {
                panic!("[{}] event breaks its schema: {e}", self.stack.name());
            }
        }
        entries
    }

    /// Waits until `task`'s audit history holds every event type of
    /// `wanted` and returns the types in order.
    pub async fn history_holding(&self, task: &str, wanted: &[&str]) -> Vec<String> {
        eventually(
            &format!("[{}] {wanted:?} in the audit of {task}", self.stack.name()),
            WAIT,
            || async {
                let types: Vec<String> = self
                    .history(task)
                    .await
                    .iter()
                    .map(|e| e["event"]["type"].as_str().unwrap_or_default().to_owned())
                    .collect();
                wanted
                    .iter()
                    .all(|w| types.iter().any(|t| t == w))
                    .then_some(types)
            },
        )
        .await
    }

    /// Waits until `task`'s audit history holds at least `n` entries and
    /// returns their event types in order.
    pub async fn history_types(&self, task: &str, n: usize) -> Vec<String> {
        let entries = eventually(
            &format!("[{}] {n} audit entries of {task}", self.stack.name()),
            WAIT,
            || async {
                let e = self.history(task).await;
                (e.len() >= n).then_some(e)
            },
        )
        .await;
        entries
            .iter()
            .map(|e| e["event"]["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}
