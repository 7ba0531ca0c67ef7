//! Reminders through Dapr Jobs: `count` `reminder.scheduled` events due
//! within a window are published through the notification pod's sidecar
//! (Kafka -> notification -> one Dapr job each, held by the Scheduler);
//! each job fires back through daprd into notification, which publishes
//! `reminder.triggered`. Lateness is `fired_at - at` of the triggered
//! events as Kafka holds them (read back with Kafka's console consumer);
//! the baseline is plain tokio timers for the same instants, in this
//! process, in the same run.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use todo_tests::manifest::AppManifest;
use todo_tests::outside::{kafka_records, kafka_sh, record_values, run as run_cmd};
use todo_tests::real_stack::{DAPR_TOKEN, Infra, RealStack};
use todo_tests::{Scratch, wasm};

use crate::lateness::{Figures, instants, now_ms, print_scheduling, rfc3339, tokio_baseline};

const TOPIC: &str = "reminder-events";
/// Users the reminders belong to (their events share a partition each).
const USERS: usize = 100;

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
async fn handled(http: &reqwest::Client, metrics_port: u16) -> Result<f64> {
    let text = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
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
    let base = handled(&http, pod.metrics_port).await?;

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
    while handled(&http, pod.metrics_port).await? - base < count as f64 {
        if Instant::now() > deadline {
            bail!("notification did not take every reminder.scheduled in time");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    print_scheduling(count, t0.elapsed(), dues[0]);

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
    let data: Vec<Value> = fired.iter().map(|e| e["data"].clone()).collect();
    let mut figures = Figures::of_triggered(count, &data);
    figures.missed = count.saturating_sub(ids.len());
    if fired.len() > ids.len() {
        println!(
            "  duplicates  {} triggered events carried an id seen before (redeliveries)",
            fired.len() - ids.len()
        );
    }
    figures.print("notification, Dapr Jobs");
    let fired_over = fired
        .iter()
        .filter_map(|e| {
            chrono::DateTime::parse_from_rfc3339(e["data"]["fired_at"].as_str()?)
                .ok()
                .map(|t| t.timestamp_millis())
        })
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
