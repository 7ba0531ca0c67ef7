//! The load: concurrent clients sending `publish_batch` commands to the
//! publisher pod's probe, either paced to a target rate (batch `k` is due
//! at `k * batch / rate` seconds) or as fast as the path takes them.
//!
//! At full speed the broker absorbs far more than the consumer handles,
//! so an unbounded publisher would only measure how fast a backlog grows.
//! Publishing therefore pauses while more than `max_backlog` events are
//! published but not yet handled (read from the hosts' metrics): the
//! phase then measures the rate the whole path sustains.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::prom::Target;

pub struct Load {
    /// `http://127.0.0.1:<port>/cmd` of the publisher pod.
    pub cmd_url: String,
    pub topic: String,
    /// Distinguishes this phase's event ids from every other phase's.
    pub tag: String,
    pub clients: usize,
    pub batch: usize,
    pub duration: Duration,
    /// Events per second; `None` publishes as fast as possible.
    pub rate: Option<f64>,
    pub max_backlog: u64,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub batches_ok: u64,
    pub batches_failed: u64,
    pub first_error: Option<String>,
    /// Batches that left more than 100 ms after they were due (paced runs).
    pub late_batches: u64,
    pub elapsed: Duration,
}

/// Type of every bench event: the probe handles `.noop` without touching
/// state, so the consumer side costs only the path itself.
const EVENT_TYPE: &str = "com.todo.bench.noop";

fn command(load: &Load, k: u64) -> Value {
    let events: Vec<Value> = (0..load.batch)
        .map(|i| json!({"id": format!("{}-{k}-{i}", load.tag), "type": EVENT_TYPE}))
        .collect();
    json!({"op": "publish_batch", "topic": load.topic, "events": events})
}

/// Keeps `backlog` (published − handled) current until `done`.
pub fn watch_backlog(
    http: reqwest::Client,
    target: Target,
    backlog: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !done.load(Ordering::Relaxed) {
            if let Ok(s) = target.snapshot(&http).await {
                let pending = (s.published - s.delivered - s.not_ok).max(0.0);
                backlog.store(pending as u64, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

pub async fn run(http: &reqwest::Client, load: Arc<Load>, backlog: Arc<AtomicU64>) -> Outcome {
    let start = tokio::time::Instant::now();
    let end = start + load.duration;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..load.clients {
        let (http, load, next, backlog) =
            (http.clone(), load.clone(), next.clone(), backlog.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if let Some(rate) = load.rate {
                    let due = start + Duration::from_secs_f64(k as f64 * load.batch as f64 / rate);
                    if due >= end {
                        break;
                    }
                    tokio::time::sleep_until(due).await;
                    if due.elapsed() > Duration::from_millis(100) {
                        out.late_batches += 1;
                    }
                } else if tokio::time::Instant::now() >= end {
                    break;
                }
                while backlog.load(Ordering::Relaxed) > load.max_backlog
                    && tokio::time::Instant::now() < end
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                match send(&http, &load, k).await {
                    Ok(()) => out.batches_ok += 1,
                    Err(e) => {
                        out.batches_failed += 1;
                        out.first_error.get_or_insert(e);
                    }
                }
            }
            out
        }));
    }
    let mut total = Outcome::default();
    for t in tasks {
        let Ok(o) = t.await else { continue };
        total.batches_ok += o.batches_ok;
        total.batches_failed += o.batches_failed;
        total.late_batches += o.late_batches;
        if total.first_error.is_none() {
            total.first_error = o.first_error;
        }
    }
    total.elapsed = start.elapsed();
    total
}

async fn send(http: &reqwest::Client, load: &Load, k: u64) -> Result<(), String> {
    let t = Instant::now();
    let resp = http
        .post(&load.cmd_url)
        .json(&command(load, k))
        .send()
        .await
        .map_err(|e| format!("POST /cmd: {e}"))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("POST /cmd: {status}: {e}"))?;
    if body.get("ok").is_some() {
        Ok(())
    } else {
        Err(format!(
            "POST /cmd: {status} after {:?}: {body}",
            t.elapsed()
        ))
    }
}
