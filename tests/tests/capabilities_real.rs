//! Every capability of the host in pod mode, through the probe fixture
//! component on the real stack (todo-host serve + daprd, Redis, Kafka, the
//! Dapr Scheduler): what the in-process host tests show for the embedded
//! backends, shown here for the Dapr ones.

use std::time::Duration;

use serde_json::{Value, json};
use todo_tests::manifest::AppManifest;
use todo_tests::real_stack::{Infra, RealStack};
use todo_tests::receiver::Receiver;
use todo_tests::stack::Stack;
use todo_tests::{Scratch, eventually, now_ms, wasm};

const WAIT: Duration = Duration::from_secs(60);

struct Probe {
    _scratch: Scratch,
    stack: RealStack,
    http: reqwest::Client,
}

fn start() -> Option<Probe> {
    start_allowing(None)
}

/// The probe pods; with `outbound`, the probe (not probe2) may send HTTP
/// to that loopback port, the hosts allowing private addresses.
fn start_allowing(outbound: Option<u16>) -> Option<Probe> {
    let Some(infra) = Infra::from_env() else {
        eprintln!("note: TODO_STACK_* not set, pod-mode capability tests skipped");
        return None;
    };
    let scratch = Scratch::new();
    let source = scratch.install(&wasm("fixtures/probe.wasm"), "probe.wasm");
    let app = AppManifest::new("probe-pods")
        .http("/cmd", "probe")
        .http("/log/...", "probe")
        .job("probe")
        .component(
            "probe",
            &source,
            &outbound.map_or(String::new(), |port| {
                format!("allowed_outbound_hosts = [\"http://127.0.0.1:{port}\"]")
            }),
        )
        .component("probe2", &source, "");
    let manifest = scratch.write("spin.toml", &app.build());
    let env: &[(&str, &str)] = match outbound {
        Some(_) => &[("TODO_OUTBOUND_ALLOW_PRIVATE", "1")],
        None => &[],
    };
    // PostgreSQL: Dapr's Redis store cannot roll back a multi-key
    // transaction whose precondition fails (the host refuses those).
    let stack =
        RealStack::start_configured(infra, &manifest, &["probe"], env).expect("probe pods start");
    Some(Probe {
        _scratch: scratch,
        stack,
        http: reqwest::Client::new(),
    })
}

impl Probe {
    async fn cmd(&self, command: Value) -> Result<Value, String> {
        let resp = self
            .http
            .post(self.stack.url("/cmd"))
            .json(&command)
            .send()
            .await
            .expect("POST /cmd");
        assert_eq!(resp.status(), 200, "{command}");
        let body: Value = resp.json().await.expect("JSON");
        match body.get("err") {
            Some(err) => Err(err["kind"].as_str().unwrap_or_default().to_owned()),
            None => Ok(body["ok"].clone()),
        }
    }

    async fn jobs(&self, name: &str) -> Vec<Value> {
        let resp = self
            .http
            .get(self.stack.url("/log/jobs"))
            .send()
            .await
            .unwrap();
        let log: Vec<Value> = resp.json().await.unwrap();
        log.into_iter().filter(|j| j["name"] == name).collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn state_over_dapr_checks_etags_creates_only_once_and_is_transactional() {
    let Some(p) = start() else { return };
    let key = format!("k-{}", now_ms());
    p.cmd(json!({"op": "set", "key": key, "value": "one", "absent": true}))
        .await
        .unwrap();
    assert_eq!(
        p.cmd(json!({"op": "set", "key": key, "value": "again", "absent": true}))
            .await,
        Err("conflict".into()),
        "a create-only write of an existing key must conflict"
    );
    let item = p.cmd(json!({"op": "get", "key": key})).await.unwrap();
    assert_eq!(item["value"], "one");
    let etag = item["etag"].as_str().unwrap().to_owned();
    p.cmd(json!({"op": "set", "key": key, "value": "two", "etag": etag}))
        .await
        .unwrap();
    assert_eq!(
        p.cmd(json!({"op": "set", "key": key, "value": "three", "etag": etag}))
            .await,
        Err("conflict".into())
    );

    // A failing precondition aborts the whole transaction.
    let other = format!("{key}-other");
    let failed = p
        .cmd(json!({"op": "transact", "ops": [
            {"set": {"key": other, "value": "x"}},
            {"set": {"key": key, "value": "y", "absent": true}}], "events": []}))
        .await;
    assert_eq!(failed, Err("conflict".into()));
    assert_eq!(
        p.cmd(json!({"op": "get", "key": other})).await.unwrap(),
        Value::Null
    );
    assert_eq!(
        p.cmd(json!({"op": "get", "key": key})).await.unwrap()["value"],
        "two"
    );

    let items = p
        .cmd(json!({"op": "get_bulk", "keys": [key, other]}))
        .await
        .unwrap();
    assert_eq!(items[0]["value"], "two");
    assert_eq!(items[1], Value::Null);

    // TTL: the value is there, then expires.
    let short = format!("{key}-ttl");
    p.cmd(json!({"op": "set", "key": short, "value": "v", "ttl": 1}))
        .await
        .unwrap();
    assert_eq!(
        p.cmd(json!({"op": "get", "key": short})).await.unwrap()["value"],
        "v"
    );
    eventually("the 1 s TTL to expire", WAIT, || async {
        let v = p.cmd(json!({"op": "get", "key": short})).await.unwrap();
        v.is_null().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_over_dapr_fire_not_before_their_instant_and_cancel_is_final() {
    let Some(p) = start() else { return };
    let suffix = now_ms();
    let (on_time, cancelled) = (format!("on-time-{suffix}"), format!("cancelled-{suffix}"));
    let due = now_ms() + 2_000;
    p.cmd(json!({"op": "schedule", "name": on_time, "due": due, "data": "hello"}))
        .await
        .unwrap();
    p.cmd(json!({"op": "schedule", "name": cancelled, "due": due}))
        .await
        .unwrap();
    let job = p
        .cmd(json!({"op": "get_job", "name": on_time}))
        .await
        .unwrap();
    assert_eq!(job["due"], due);
    p.cmd(json!({"op": "cancel", "name": cancelled}))
        .await
        .unwrap();
    assert_eq!(
        p.cmd(json!({"op": "cancel", "name": cancelled})).await,
        Err("not-found".into())
    );

    let fired = eventually("the job to fire through Dapr", WAIT, || async {
        let f = p.jobs(&on_time).await;
        (!f.is_empty()).then_some(f)
    })
    .await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert!(fired[0]["fired_at"].as_u64().unwrap() >= due, "{fired:?}");
    assert_eq!(fired[0]["data"], "hello");
    assert_eq!(fired[0]["late"], false);
    // Both were due at the same instant: the cancelled one had its chance.
    assert!(p.jobs(&cancelled).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn invocation_secrets_and_outgoing_http_in_a_pod() {
    let receiver = Receiver::start().await;
    let port = receiver.addr.port();
    let Some(p) = start_allowing(Some(port)) else {
        return;
    };
    let resp = p
        .cmd(json!({"op": "invoke", "app": "probe2", "method": "GET", "path": "/version"}))
        .await
        .unwrap();
    assert_eq!(resp["status"], 200, "{resp}");
    assert_eq!(resp["body"], "v1");
    let secret = p
        .cmd(json!({"op": "secret", "name": "greeting"}))
        .await
        .unwrap();
    assert_eq!(secret, "hello from the secret store");
    assert_eq!(
        p.cmd(json!({"op": "secret", "name": "no-such-secret"}))
            .await,
        Err("not-found".into())
    );

    // Outgoing HTTP goes straight from the pod's host, the allow-list
    // applied there as in-process.
    let url = format!("http://127.0.0.1:{port}/hook");
    let fetch = json!({"op": "fetch", "method": "POST", "url": url, "body": "from a pod"});
    let resp = p.cmd(fetch.clone()).await.unwrap();
    assert_eq!(resp["status"], 201, "{resp}");
    assert_eq!(
        receiver.seen(),
        [format!("POST /hook host=127.0.0.1:{port} body=from a pod")]
    );
    // probe2 has no allow-list: invoked through the sidecars, it is denied.
    let resp = p
        .cmd(json!({
            "op": "invoke", "app": "probe2", "method": "POST", "path": "/cmd",
            "body": fetch.to_string(),
        }))
        .await
        .unwrap();
    let body = resp["body"].as_str().unwrap();
    assert!(body.contains("HttpRequestDenied"), "{resp}");
    assert_eq!(receiver.seen().len(), 1);

    // Metrics describe everyone's traffic: a pod serves them on its own
    // listener, never on the app port the sidecar and the ingress reach.
    let app_port = p.stack.replica_url("probe", 0, "/metrics");
    let on_app_port = p.http.get(app_port).send().await.unwrap();
    assert_eq!(on_app_port.status(), 404);
    let own = p
        .http
        .get(p.stack.metrics_url("probe", 0))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let text = own.text().await.unwrap();
    assert!(text.contains("todo_handler_seconds"), "{text}");
}
