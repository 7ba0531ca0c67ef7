//! Checks of pod mode on the real stack from outside, shared by the
//! real-stack test binaries: what Dapr itself reports, what Kafka's own
//! console consumer reads (validated with Python's CloudEvents SDK), what
//! `psql` and `redis-cli` show, and load generators for fault tests.

use std::collections::{BTreeSet, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::manifest::AppManifest;
pub use crate::python::{python_sdk, python_websockets};
use crate::real_stack::{DAPR_TOKEN, Infra, RealStack};
use crate::stack::Stack;
use crate::{Scratch, eventually, wasm, workspace_root};
use serde_json::{Value, json};

/// After a restart Kafka rebalances the consumer group (the dead member's
/// session lapses after 6 s) before deliveries resume.
pub const WAIT: Duration = Duration::from_secs(90);
/// How long a killed host or sidecar stays down before its restart.
pub const DOWNTIME: Duration = Duration::from_secs(3);
/// A retried delivery comes back within this (Dapr's first backoff is
/// 100 ms, the manifest's 50 ms).
pub const REDELIVERY: Duration = Duration::from_secs(30);
/// Each creator starts at most one request per `PACE`.
pub const PACE: Duration = Duration::from_millis(200);
pub const CREATED: &str = "com.todo.task.created.v1";
/// The Dapr pub/sub component of dapr/components/pubsub.yaml.
pub const PUBSUB: &str = "pubsub";
/// The pub/sub component of `broadcast` subscriptions (a consumer group
/// per pod).
pub const PUBSUB_BROADCAST: &str = "pubsub-broadcast";
/// (pub/sub component, topic, route, dead-letter topic).
pub type Subscription = (String, String, String, String);
/// `dead_letter_topic` when a topic trigger names none (host/src/app/mod.rs).
pub const DEFAULT_DEAD_LETTERS: &str = "dead-letters";

pub fn infra(test: &str) -> Option<Infra> {
    let infra = Infra::from_env();
    if infra.is_none() {
        eprintln!(
            "note: {test}: TODO_STACK_* not set, real-stack test skipped (run `cargo xtask test`)"
        );
    }
    infra
}

pub fn app_manifest() -> PathBuf {
    workspace_root().join("spin.toml")
}

pub fn start(infra: Infra, manifest: &Path) -> RealStack {
    tokio::task::block_in_place(|| RealStack::start(infra, manifest)).expect("real stack starts")
}

/// Runs blocking work (child processes) off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Runs `cmd` to completion: its stdout, or a panic with everything it said.
pub fn run(cmd: &mut Command) -> String {
    run_with_stdin(cmd, "")
}

pub fn run_with_stdin(cmd: &mut Command, stdin: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    let text = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Installs the Debian package that brings `tool` if it is missing.
pub fn ensure_tool(tool: &str, package: &str) {
    let found = |t: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !found(tool) {
        run(Command::new("bash")
            .arg(workspace_root().join("xtask/stack/packages.sh"))
            .arg(package));
        assert!(
            found(tool),
            "{tool} is still missing after installing {package}"
        );
    }
}

// ---------------------------------------------------------------- Kafka

pub fn kafka_sh(infra: &Infra, sub: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("xtask/stack/kafka.sh"))
        .arg(sub)
        .arg(infra.work.join("kafka"));
    cmd
}

/// Every record of `topic` from the beginning, read by Kafka's own console
/// consumer (it exits once no record came for 3 s): one line per record,
/// `headers <TAB> key <TAB> value`.
pub fn kafka_records(infra: &Infra, topic: &str) -> String {
    run(kafka_sh(infra, "consume").args([
        "--topic",
        topic,
        "--from-beginning",
        "--timeout-ms",
        "3000",
        "--formatter-property",
        "print.headers=true",
        "--formatter-property",
        "print.key=true",
    ]))
}

pub fn record_values(records: &str) -> Vec<Value> {
    records
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let value = line.splitn(3, '\t').nth(2).unwrap_or(line);
            serde_json::from_str(value)
                .unwrap_or_else(|e| panic!("record is not JSON ({e}): {line}"))
        })
        .collect()
}

/// Stops the broker; dropping the guard starts it again (same ports and
/// data) if the test did not, so a failing test leaves Kafka up.
pub struct KafkaOutage {
    infra: Infra,
    down: bool,
}

impl KafkaOutage {
    pub fn begin(infra: &Infra) -> Self {
        run(&mut kafka_sh(infra, "stop"));
        let status = kafka_sh(infra, "status")
            .stdout(Stdio::null())
            .status()
            .expect("kafka.sh status");
        assert!(!status.success(), "kafka still running after stop");
        KafkaOutage {
            infra: infra.clone(),
            down: true,
        }
    }

    /// Restarts the broker; returns its bootstrap address.
    pub fn end(&mut self) -> String {
        let out = run(&mut kafka_sh(&self.infra, "restart"));
        self.down = false;
        out.lines().last().unwrap_or_default().trim().to_owned()
    }
}

impl Drop for KafkaOutage {
    fn drop(&mut self) {
        if self.down {
            let _ = kafka_sh(&self.infra, "restart").status();
        }
    }
}

// ---------------------------------------------------- Python CloudEvents

/// Reads console-consumer lines on stdin, parses every record with the
/// CloudEvents SDK's Kafka binding and JSON format as a CloudEvent 1.0, and
/// prints a JSON array of what the SDK read. Exits 1 at the first record
/// the SDK refuses.
pub const VALIDATOR: &str = r#"
import json, sys
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

out = []
for n, line in enumerate(sys.stdin, 1):
    line = line.rstrip("\n")
    if not line.strip():
        continue
    headers_text, key, value = line.split("\t", 2)
    headers = {}
    if headers_text != "NO_HEADERS":
        for h in headers_text.split(","):
            k, _, v = h.partition(":")
            headers[k] = v.encode()
    message = KafkaMessage(
        headers=headers,
        key=None if key == "null" else key.encode(),
        value=value.encode(),
    )
    try:
        raw = json.loads(value)
        # The SDK fills in a missing specversion; the record must carry it.
        if raw.get("specversion") != "1.0":
            raise ValueError(f"specversion is {raw.get('specversion')!r}, not '1.0'")
        event = from_kafka(message, JSONFormat(), CloudEvent)
    except Exception as e:
        detail = getattr(e, "errors", "")
        print(f"record {n} is not a valid CloudEvent 1.0: {e!r} {detail}\n{line}", file=sys.stderr)
        sys.exit(1)
    time = event.get_time()
    out.append({
        "specversion": event.get_specversion(),
        "id": event.get_id(),
        "source": event.get_source(),
        "type": event.get_type(),
        "subject": event.get_subject(),
        "time": time.isoformat() if time else None,
        "datacontenttype": event.get_datacontenttype(),
        "data": event.get_data(),
        "extensions": {
            k: v for k, v in event.get_attributes().items()
            if k not in ("specversion", "id", "source", "type", "subject", "time",
                         "datacontenttype", "dataschema")
        },
    })
json.dump(out, sys.stdout, default=str)
"#;

/// The records as Python's CloudEvents SDK reads them.
pub fn validate_with_python_sdk(sdk: &Path, records: &str) -> Vec<Value> {
    let scratch = Scratch::new();
    let script = scratch.write("validate_cloudevents.py", VALIDATOR);
    let out = run_with_stdin(
        Command::new("python3").env("PYTHONPATH", sdk).arg(script),
        records,
    );
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("validator output is not JSON ({e}): {out}"))
}

// ------------------------------------------------------------------ HTTP

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

pub async fn get_json(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let resp = http
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn create_task(http: &reqwest::Client, stack: &RealStack, title: &str) -> Value {
    let resp = http
        .post(stack.url("/api/tasks"))
        .json(&json!({"title": title}))
        .send()
        .await
        .expect("POST /api/tasks");
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).expect("task JSON")
}

/// The audit chain's length now: entries appended later have a greater seq.
pub async fn audit_head(http: &reqwest::Client, stack: &RealStack) -> u64 {
    let (status, body) = get_json(http, &stack.url("/api/audit?limit=1")).await;
    assert_eq!(status, 200, "{body}");
    body["head"].as_u64().expect("audit head")
}

/// Every `task.created` audit entry appended after seq `after`.
pub async fn created_audited_after(
    http: &reqwest::Client,
    stack: &RealStack,
    after: u64,
) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut from = after;
    loop {
        let url = stack.url(&format!("/api/audit?type={CREATED}&after={from}&limit=500"));
        let (status, body) = get_json(http, &url).await;
        assert_eq!(status, 200, "{body}");
        entries.extend(body["entries"].as_array().into_iter().flatten().cloned());
        let next = body["next_after"].as_u64().expect("next_after");
        if next >= body["head"].as_u64().expect("head") || next == from {
            return entries;
        }
        from = next;
    }
}

/// Waits until every id of `acked` is audited as created, and checks
/// that nothing after `after` is audited twice (by subject or event id).
pub async fn assert_audited_once(
    http: &reqwest::Client,
    stack: &RealStack,
    after: u64,
    acked: &[String],
    timeout: Duration,
) {
    let start = Instant::now();
    loop {
        let entries = created_audited_after(http, stack, after).await;
        let mut subjects = HashSet::new();
        let mut event_ids = HashSet::new();
        for e in &entries {
            let subject = e["event"]["subject"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let id = e["event"]["id"].as_str().unwrap_or_default().to_owned();
            assert!(event_ids.insert(id.clone()), "event {id} audited twice");
            assert!(
                subjects.insert(subject.clone()),
                "task {subject} audited as created twice"
            );
        }
        let missing: Vec<&String> = acked.iter().filter(|id| !subjects.contains(*id)).collect();
        if missing.is_empty() {
            return;
        }
        if start.elapsed() > timeout {
            // Where did they go? The dead-letter topic is the usual suspect.
            let infra = stack.infra.clone();
            let dead =
                blocking(move || record_values(&kafka_records(&infra, "dead-letters"))).await;
            let dead: HashSet<&str> = dead
                .iter()
                .filter(|e| e["type"] == CREATED)
                .filter_map(|e| e["subject"].as_str())
                .collect();
            let dead_letters = missing
                .iter()
                .filter(|id| dead.contains(id.as_str()))
                .count();
            let log = stack.log_of("audit");
            let log: Vec<&str> = log
                .lines()
                .filter(|l| {
                    l.contains("level=error") || l.contains(" ERROR") || l.contains("dead letter")
                })
                .take(20)
                .collect();
            panic!(
                "after {timeout:?}, {} of {} acknowledged tasks are not audited \
                 ({dead_letters} of them are on the dead-letter topic), e.g. {:?}\n\
                 errors in the audit pod's logs:\n{}",
                missing.len(),
                acked.len(),
                &missing[..missing.len().min(5)],
                log.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What became of one `POST /api/tasks` made while a fault was in effect.
#[derive(Debug, Clone)]
pub enum Outcome {
    Created(String),
    /// A 5xx with a JSON error body: failed, and said so.
    Failed(u16, Value),
    /// Anything else: a 2xx/4xx that is not a created task, a 5xx without
    /// a JSON error, or no answer at all.
    Unclear(String),
}

#[derive(Default)]
pub struct Load {
    pub stop: AtomicBool,
    pub outcomes: Mutex<Vec<(Instant, Outcome)>>,
}

impl Load {
    pub fn created(&self) -> Vec<String> {
        self.outcomes
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, o)| match o {
                Outcome::Created(id) => Some(id.clone()),
                _ => None,
            })
            .collect()
    }

    /// Waits until `n` more tasks are acknowledged than `base`.
    pub async fn wait_created(&self, base: usize, n: usize, what: &str) {
        eventually(what, WAIT, || async {
            (self.created().len() >= base + n).then_some(())
        })
        .await;
    }
}

/// `workers` loops creating tasks as the user of `http` until `load.stop`,
/// recording every outcome with the instant its request started.
pub fn spawn_creators(
    http: &reqwest::Client,
    url: String,
    label: &str,
    workers: usize,
    load: &Arc<Load>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers)
        .map(|w| {
            let (url, load, label) = (url.clone(), load.clone(), label.to_owned());
            let http = http.clone();
            tokio::spawn(async move {
                let mut i = 0;
                while !load.stop.load(Ordering::Acquire) {
                    i += 1;
                    let started = Instant::now();
                    let outcome = match http
                        .post(&url)
                        .json(&json!({"title": format!("{label} {w}-{i}")}))
                        .send()
                        .await
                    {
                        Err(e) => Outcome::Unclear(format!("no answer: {e}")),
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            let body: Value = resp.json().await.unwrap_or(Value::Null);
                            match (status, body["id"].as_str()) {
                                (201, Some(id)) => Outcome::Created(id.to_owned()),
                                (500..=599, _) if body["error"]["message"].is_string() => {
                                    Outcome::Failed(status, body)
                                }
                                _ => Outcome::Unclear(format!("{status}: {body}")),
                            }
                        }
                    };
                    load.outcomes.lock().unwrap().push((started, outcome));
                    // A steady stream, not a flood: what the audit must catch
                    // up on after the fault stays small.
                    tokio::time::sleep(PACE.saturating_sub(started.elapsed())).await;
                }
            })
        })
        .collect()
}

pub async fn stop_creators(load: &Load, workers: Vec<tokio::task::JoinHandle<()>>) {
    load.stop.store(true, Ordering::Release);
    for w in workers {
        w.await.expect("creator task");
    }
}

// ----------------------------------------------------------------- probe

/// The probe fixture alone, subscribed to `topics` (dead letters to
/// `dead-letters`), with its command API and logs on HTTP routes.
pub fn probe_manifest(scratch: &Scratch, topics: &[&str]) -> PathBuf {
    let source = scratch.install(&wasm("fixtures/probe.wasm"), "probe.wasm");
    let mut app = AppManifest::new("probe-real-stack")
        .http("/cmd", "probe")
        .http("/log/...", "probe")
        .component("probe", &source, "");
    if !topics.is_empty() {
        app = app.topics(
            "probe",
            topics,
            "max_attempts = 3\nbackoff_ms = 50\ndead_letter_topic = \"dead-letters\"",
        );
    }
    scratch.write("spin.toml", &app.build())
}

pub async fn probe_cmd(http: &reqwest::Client, stack: &RealStack, command: Value) -> Value {
    let resp = http
        .post(stack.url("/cmd"))
        .json(&command)
        .send()
        .await
        .expect("POST /cmd");
    assert_eq!(resp.status(), 200, "probe command {command}");
    let body: Value = resp.json().await.expect("JSON reply");
    assert!(
        body.get("err").is_none(),
        "probe command {command} failed: {body}"
    );
    body["ok"].clone()
}

pub async fn probe_events(http: &reqwest::Client, stack: &RealStack) -> Vec<Value> {
    let (status, body) = get_json(http, &stack.url("/log/events")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .cloned()
        .expect("the event log is a JSON array")
}

pub fn deliveries(log: &[Value], id: &str) -> usize {
    log.iter().filter(|e| e["id"] == id).count()
}

// ---------------------------------------------------- subscriptions (a)

/// (topic, route, dead-letter topic) per component, from the manifest.
pub fn manifest_subscriptions(manifest: &Path, component: &str) -> BTreeSet<Subscription> {
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let parsed: toml::Table = text.parse().expect("manifest is TOML");
    let triggers = parsed
        .get("trigger")
        .and_then(|t| t.get("topic"))
        .and_then(|t| t.as_array())
        .cloned()
        .unwrap_or_default();
    triggers
        .iter()
        .filter(|t| t["component"].as_str() == Some(component))
        .flat_map(|t| {
            let dlq = t
                .get("dead_letter_topic")
                .and_then(|d| d.as_str())
                .unwrap_or(DEFAULT_DEAD_LETTERS)
                .to_owned();
            let broadcast = t.get("broadcast").and_then(|b| b.as_bool()) == Some(true);
            let pubsub = if broadcast { PUBSUB_BROADCAST } else { PUBSUB };
            t["topics"]
                .as_array()
                .expect("topics is an array")
                .iter()
                .map(move |topic| {
                    let topic = topic.as_str().expect("a topic name").to_owned();
                    (
                        pubsub.to_owned(),
                        topic.clone(),
                        format!("/events/{topic}"),
                        dlq.clone(),
                    )
                })
        })
        .collect()
}

/// Every subscription the sidecar on `port` reports in its own metadata.
pub async fn dapr_subscriptions(http: &reqwest::Client, port: u16) -> BTreeSet<Subscription> {
    let resp = http
        .get(format!("http://127.0.0.1:{port}/v1.0/metadata"))
        .header("dapr-api-token", DAPR_TOKEN)
        .send()
        .await
        .expect("GET /v1.0/metadata");
    assert_eq!(resp.status(), 200);
    let meta: Value = resp.json().await.expect("metadata JSON");
    meta["subscriptions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| {
            let pubsub = s["pubsubname"].as_str().unwrap_or_default().to_owned();
            let topic = s["topic"].as_str().unwrap_or_default().to_owned();
            let dlq = s["deadLetterTopic"].as_str().unwrap_or_default().to_owned();
            let rules = s["rules"].as_array().cloned().unwrap_or_default();
            assert!(!rules.is_empty(), "subscription without a route: {s}");
            rules.into_iter().map(move |r| {
                (
                    pubsub.clone(),
                    topic.clone(),
                    r["path"].as_str().unwrap_or_default().to_owned(),
                    dlq.clone(),
                )
            })
        })
        .collect()
}

/// Every pod's sidecar lists exactly its component's topic triggers.
pub async fn assert_subscriptions_match(stack: &RealStack, manifest: &Path) {
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let parsed: toml::Table = text.parse().expect("manifest is TOML");
    let components: BTreeSet<&String> = parsed["component"]
        .as_table()
        .expect("components")
        .keys()
        .collect();
    let pods: BTreeSet<&String> = stack.pods.iter().map(|p| &p.component).collect();
    assert_eq!(pods, components, "a pod (or replicas) per component");
    let http = client();
    for pod in &stack.pods {
        let expected = manifest_subscriptions(manifest, &pod.component);
        // daprd reads /dapr/subscribe once the app is up; give it a moment.
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut actual = dapr_subscriptions(&http, pod.dapr_http_port).await;
        while actual != expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            actual = dapr_subscriptions(&http, pod.dapr_http_port).await;
        }
        assert_eq!(
            actual,
            expected,
            "subscriptions Dapr reports for `{}` (left) differ from {} (right)",
            pod.component,
            manifest.display()
        );
    }
}

// ----------------------------------------------------------------- tests
