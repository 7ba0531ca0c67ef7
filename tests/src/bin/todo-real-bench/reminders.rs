//! Reminders through Dapr Jobs: `count` `reminder.scheduled` events due
//! within a window are published through the notification pod's sidecar
//! (Kafka -> notification -> one Dapr job each, held by the Scheduler);
//! each job fires back through daprd into notification, which publishes
//! `reminder.triggered`. Lateness is `fired_at - at` of the triggered
//! events as Kafka holds them (read back with Kafka's console consumer);
//! the baseline is plain tokio timers for the same instants, in this
//! process, in the same run.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use todo_tests::manifest::AppManifest;
use todo_tests::outside::{kafka_records, kafka_sh, record_values, run as run_cmd};
use todo_tests::real_stack::{DAPR_TOKEN, Infra, RealStack};
use todo_tests::{Scratch, wasm};

const TOPIC: &str = "reminder-events";
/// Users the reminders belong to (their events share a partition each).
const USERS: usize = 100;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn ms_of(v: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

pub struct Figures {
    pub early: usize,
    pub missed: usize,
    pub lateness_ms: Vec<i64>,
}

impl Figures {
    pub fn print(&mut self, label: &str) {
        self.lateness_ms.sort_unstable();
        let n = self.lateness_ms.len();
        let at = |p: f64| {
            if n == 0 {
                return "n/a".to_owned();
            }
            format!(
                "{} ms",
                self.lateness_ms[((n as f64 - 1.0) * p).round() as usize]
            )
        };
        println!(
            "  {label:24} early {:5}  missed {:5}  lateness p50 {:>9}  p99 {:>9}  max {:>9}",
            self.early,
            self.missed,
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// `count` instants spread evenly over `window`, the first `lead` from now.
fn instants(count: usize, lead: Duration, window: Duration) -> Vec<i64> {
    let start = now_ms() + lead.as_millis() as i64;
    let step = window.as_millis() as f64 / count as f64;
    (0..count)
        .map(|i| start + (i as f64 * step) as i64)
        .collect()
}

async fn tokio_baseline(count: usize, window: Duration) -> Figures {
    let tasks: Vec<_> = instants(count, Duration::from_secs(2), window)
        .into_iter()
        .map(|due| {
            tokio::spawn(async move {
                let wait = Duration::from_millis(due.saturating_sub(now_ms()).max(0) as u64);
                tokio::time::sleep(wait).await;
                now_ms() - due
            })
        })
        .collect();
    let mut f = Figures {
        early: 0,
        missed: 0,
        lateness_ms: Vec::new(),
    };
    for t in tasks {
        match t.await {
            Ok(late) if late < 0 => f.early += 1,
            Ok(late) => f.lateness_ms.push(late),
            Err(_) => f.missed += 1,
        }
    }
    f
}

fn scheduled_event(i: usize, at: i64) -> Value {
    let (task, reminder, at) = (format!("task-{i}"), format!("rem-{i}"), rfc3339(at));
    json!({
        "specversion": "1.0", "id": format!("bench-scheduled-{i}"), "source": "chat-api",
        "type": "com.todo.reminder.scheduled.v1", "subject": task,
        "time": rfc3339(now_ms()), "datacontenttype": "application/json",
        "userid": format!("bench-user-{}", i % USERS), "correlationid": "bench",
        "data": {"task_id": task, "title": "bench", "due": null, "due_at": null,
                 "reminder": {"id": reminder, "at": at}, "at": at},
    })
}

/// Publishes through daprd's bulk API, each entry keyed by its user.
async fn publish(http: &reqwest::Client, dapr_port: u16, events: &[Value]) -> Result<()> {
    let entries: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({"entryId": e["id"], "event": e, "contentType": "application/cloudevents+json",
                   "metadata": {"partitionKey": e["userid"]}})
        })
        .collect();
    let resp = http
        .post(format!(
            "http://127.0.0.1:{dapr_port}/v1.0-alpha1/publish/bulk/pubsub/{TOPIC}"
        ))
        .header("dapr-api-token", DAPR_TOKEN)
        .json(&entries)
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("bulk publish: {} {}", resp.status(), resp.text().await?);
    }
    Ok(())
}

/// Events notification has handled, from its host's metrics.
async fn handled(http: &reqwest::Client, app_port: u16) -> Result<f64> {
    let text = http
        .get(format!("http://127.0.0.1:{app_port}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("todo_events_in_total") && l.contains("outcome=\"success\""))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum())
}

pub async fn run(
    infra: Infra,
    count: usize,
    window: Duration,
    lead: Duration,
    partitions: u32,
) -> Result<()> {
    println!(
        "reminders through Dapr Jobs: {count} due within {} s, scheduled {} s ahead, \
         {TOPIC} in {partitions} partitions",
        window.as_secs(),
        lead.as_secs()
    );
    // As a cluster would have it: Dapr consumes each partition in order,
    // one event at a time, so one partition is one lane of scheduling.
    let p = partitions.to_string();
    let topic_infra = infra.clone();
    tokio::task::spawn_blocking(move || {
        run_cmd(kafka_sh(&topic_infra, "topics").args([
            "--alter",
            "--topic",
            TOPIC,
            "--partitions",
            &p,
        ]))
    })
    .await?;
    tokio_baseline(count, window)
        .await
        .print("tokio timers (baseline)");

    let scratch = Scratch::new();
    let component = scratch.install(&wasm("components/notification.wasm"), "notification.wasm");
    let manifest = AppManifest::new("reminder-bench")
        .topics("notification", &[TOPIC], "max_attempts = 8")
        .job("notification")
        .component("notification", &component, "")
        .build();
    let manifest = scratch.write("spin.toml", &manifest);
    let kafka_infra = infra.clone();
    let stack = tokio::task::block_in_place(|| RealStack::start(infra, &manifest))
        .context("starting the notification pod")?;
    let pod = &stack.pods[stack.pod("notification")];
    let http = reqwest::Client::new();
    let base = handled(&http, pod.app_port).await?;

    let dues = instants(count, lead, window);
    let events: Vec<Value> = dues
        .iter()
        .enumerate()
        .map(|(i, at)| scheduled_event(i, *at))
        .collect();
    let t0 = Instant::now();
    for batch in events.chunks(500) {
        publish(&http, pod.dapr_http_port, batch).await?;
    }
    println!(
        "  published {count} reminder.scheduled in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let deadline = Instant::now() + lead + window + Duration::from_secs(120);
    while handled(&http, pod.app_port).await? - base < count as f64 {
        if Instant::now() > deadline {
            bail!("notification did not take every reminder.scheduled in time");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ahead = dues[0] - now_ms();
    println!(
        "  notification scheduled them in {:.2} s ({:.0}/s); the first is due {} ms {}",
        t0.elapsed().as_secs_f64(),
        count as f64 / t0.elapsed().as_secs_f64(),
        ahead.abs(),
        if ahead >= 0 {
            "from now"
        } else {
            "ago: scheduling was the bottleneck"
        }
    );

    // Where the CPU goes while they fire.
    let work = kafka_infra.work.clone();
    let mut watched = crate::cpu::pod("notification", pod.app_port);
    for (label, file) in [
        ("kafka (java)", "kafka/kafka.pid"),
        ("scheduler", "scheduler/scheduler.pid"),
        ("redis", "redis/redis.pid"),
    ] {
        watched.extend(crate::cpu::from_pid_file(label, &work.join(file)));
    }
    watched.push(crate::cpu::this_process());
    tokio::time::sleep(Duration::from_millis(
        dues[0].saturating_sub(now_ms()).max(0) as u64,
    ))
    .await;
    let cpu0 = crate::cpu::sample(&watched);
    let last_due = *dues.last().expect("at least one reminder");

    // Every triggered event, once the last could have fired.
    let last = last_due;
    let mut fired: Vec<Value> = Vec::new();
    while fired.len() < count && Instant::now() < deadline {
        let wait = (last - now_ms()).max(0) as u64 + 2_000;
        tokio::time::sleep(Duration::from_millis(wait.min(5_000))).await;
        if now_ms() < last {
            continue;
        }
        let infra = kafka_infra.clone();
        let records = tokio::task::spawn_blocking(move || kafka_records(&infra, TOPIC)).await?;
        fired = record_values(&records)
            .into_iter()
            .filter(|e| e["type"] == "com.todo.reminder.triggered.v1")
            .collect();
    }
    let cpu1 = crate::cpu::sample(&watched);
    let mut ids: Vec<&str> = fired.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut figures = Figures {
        early: 0,
        missed: count.saturating_sub(ids.len()),
        lateness_ms: Vec::new(),
    };
    for e in &fired {
        let (Some(fired_at), Some(at)) = (ms_of(&e["data"]["fired_at"]), ms_of(&e["data"]["at"]))
        else {
            continue;
        };
        if fired_at < at {
            figures.early += 1;
        } else {
            figures.lateness_ms.push(fired_at - at);
        }
    }
    if fired.len() > ids.len() {
        println!(
            "  duplicates  {} triggered events carried an id seen before (redeliveries)",
            fired.len() - ids.len()
        );
    }
    figures.print("notification, Dapr Jobs");
    let fired_over = fired
        .iter()
        .filter_map(|e| ms_of(&e["data"]["fired_at"]))
        .max()
        .map_or(0, |m| m - dues[0]);
    println!(
        "  fired       {} in {:.1} s from the first instant ({:.0}/s; offered {:.0}/s)",
        ids.len(),
        fired_over as f64 / 1e3,
        ids.len() as f64 * 1e3 / fired_over.max(1) as f64,
        count as f64 / window.as_secs_f64()
    );
    println!(
        "  cpu         {} (from the first instant until they were read back)",
        crate::cpu::report(&watched, &cpu0, &cpu1)
    );
    drop(stack);
    Ok(())
}
