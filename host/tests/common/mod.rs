//! Shared by the host's integration tests: a host running the probe fixture
//! component, and a client for the probe's command API.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use todo_tests::manifest::AppManifest;
use todo_tests::{HostProcess, Scratch, eventually, wasm};

pub const WAIT: Duration = Duration::from_secs(20);

/// The probe is mounted on explicit routes so other paths reach the host's
/// own 404. `probe2` runs the same code as a second subscriber with its own
/// state namespace.
pub fn manifest(source: &Path, max_attempts: u32, backoff_ms: u64) -> String {
    manifest_with(source, max_attempts, backoff_ms, "")
}

/// [`manifest`] with more of the probe's component fields (`probe2` gets
/// none of them).
pub fn manifest_with(source: &Path, max_attempts: u32, backoff_ms: u64, probe: &str) -> String {
    let mut app = AppManifest::new("probe-test");
    for route in ["/version", "/spin", "/hog", "/trap", "/cmd", "/log/..."] {
        app = app.http(route, "probe");
    }
    app.topics(
        "probe",
        &["probe-events", "probe-fanout", "dead-letters"],
        &format!("max_attempts = {max_attempts}\nbackoff_ms = {backoff_ms}"),
    )
    .topics("probe2", &["probe-fanout"], "")
    .job("probe")
    .websocket("/ws", "probe")
    .component(
        "probe",
        source,
        &format!("timeout_ms = 1000\nmemory_limit_mb = 64\n{probe}"),
    )
    .component("probe2", source, "")
    .build()
}

pub struct ProbeHost {
    pub scratch: Scratch,
    pub host: HostProcess,
    pub http: reqwest::Client,
}

impl ProbeHost {
    /// The probe with 3 delivery attempts, 50 ms apart at first.
    pub fn start() -> Self {
        Self::start_with(3, 50)
    }

    pub fn start_with(max_attempts: u32, backoff_ms: u64) -> Self {
        Self::start_custom(max_attempts, backoff_ms, "", &[])
    }

    /// A probe with `probe_fields` added to its component table, and a
    /// host with `env`.
    pub fn start_custom(
        max_attempts: u32,
        backoff_ms: u64,
        probe_fields: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let scratch = Scratch::new();
        let source = scratch.install(&wasm("fixtures/probe.wasm"), "probe.wasm");
        let text = manifest_with(&source, max_attempts, backoff_ms, probe_fields);
        let manifest = scratch.write("spin.toml", &text);
        let host =
            HostProcess::start_with_env(&host_bin(), &manifest, &scratch.path("data"), &[], env)
                .expect("host starts");
        ProbeHost {
            scratch,
            host,
            http: reqwest::Client::new(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let resp = self
            .http
            .get(self.host.url(path))
            .send()
            .await
            .expect("GET");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// Runs a probe command; `Ok(value)` or `Err((kind, message))`.
    pub async fn cmd(&self, command: Value) -> Result<Value, (String, String)> {
        let resp = self
            .http
            .post(self.host.url("/cmd"))
            .json(&command)
            .send()
            .await
            .expect("POST /cmd");
        assert_eq!(resp.status(), 200, "probe command {command}");
        let body: Value = resp.json().await.expect("JSON");
        if let Some(err) = body.get("err") {
            return Err((
                err["kind"].as_str().unwrap_or_default().to_owned(),
                err["message"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        Ok(body["ok"].clone())
    }

    pub async fn log(&self, which: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/log/{which}")).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("log is a JSON array")
    }

    /// The event log of `probe2`, read through service invocation.
    pub async fn probe2_events(&self) -> Vec<Value> {
        let resp = self
            .cmd(json!({"op": "invoke", "app": "probe2", "method": "GET", "path": "/log/events"}))
            .await
            .expect("invoke probe2");
        assert_eq!(resp["status"], 200);
        serde_json::from_str(resp["body"].as_str().unwrap()).expect("JSON array")
    }

    /// Waits until the event log holds an entry matching `pred`.
    pub async fn wait_event(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        eventually(what, WAIT, || async {
            let log = self.log("events").await;
            log.iter().any(&pred).then_some(log)
        })
        .await
    }

    pub async fn publish(&self, topic: &str, id: &str, ty: &str) {
        self.cmd(json!({"op": "publish", "topic": topic, "id": id, "type": ty}))
            .await
            .expect("publish");
    }
}

pub fn host_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_todo-host"))
}

pub fn count(log: &[Value], topic: &str, id: &str) -> usize {
    log.iter()
        .filter(|e| e["topic"] == topic && e["id"] == id)
        .count()
}
