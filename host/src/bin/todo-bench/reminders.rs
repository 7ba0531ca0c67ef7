//! Reminder firing in-process: N `reminder.scheduled` events due within a
//! window go through the real notification component (event -> job in the
//! embedded scheduler -> fired -> `reminder.triggered`), and lateness is
//! read back from the triggered events (`fired_at - at`). The baseline is
//! plain tokio timers for the same instants, in the same process and run.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use todo_domain::EventOrigin;
use todo_domain::topics::{REMINDER_EVENTS, event_type};
use todo_host::embedded::log;
use todo_host::up::InProcess;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn rfc3339(ms: u64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Users the reminders belong to.
const USERS: usize = 100;

struct Figures {
    early: usize,
    missed: usize,
    lateness_ms: Vec<f64>,
}

impl Figures {
    fn print(&mut self, label: &str) {
        self.lateness_ms.sort_by(f64::total_cmp);
        let at = |p: f64| {
            let n = self.lateness_ms.len();
            if n == 0 {
                return f64::NAN;
            }
            self.lateness_ms[((n as f64 - 1.0) * p).round() as usize]
        };
        println!(
            "  {label:22} early {:5}  missed {:5}  lateness p50 {:7.1} ms  p99 {:7.1} ms  max {:7.1} ms",
            self.early,
            self.missed,
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// `count` instants spread evenly over `window`, starting `lead` from now.
fn instants(count: usize, lead: Duration, window: Duration) -> Vec<u64> {
    let start = now_ms() + lead.as_millis() as u64;
    let step = window.as_millis() as f64 / count as f64;
    (0..count)
        .map(|i| start + (i as f64 * step) as u64)
        .collect()
}

async fn tokio_baseline(count: usize, window: Duration) -> Figures {
    let dues = instants(count, Duration::from_secs(2), window);
    let tasks: Vec<_> = dues
        .into_iter()
        .map(|due| {
            tokio::spawn(async move {
                let wait = Duration::from_millis(due.saturating_sub(now_ms()));
                tokio::time::sleep_until(tokio::time::Instant::now() + wait).await;
                now_ms() as i64 - due as i64
            })
        })
        .collect();
    let mut figures = Figures {
        early: 0,
        missed: 0,
        lateness_ms: Vec::new(),
    };
    for t in tasks {
        match t.await {
            Ok(late) if late < 0 => figures.early += 1,
            Ok(late) => figures.lateness_ms.push(late as f64),
            Err(_) => figures.missed += 1,
        }
    }
    figures
}

pub async fn fire_reminders(count: usize, window_secs: u64) -> Result<()> {
    let window = Duration::from_secs(window_secs);
    println!("reminders: {count} due within {window_secs} s");
    tokio_baseline(count, window)
        .await
        .print("tokio timers (baseline)");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir()?;
    let app = tokio::task::block_in_place(|| {
        InProcess::assemble(&root.join("spin.toml"), &dir.path().join("data"), None)
    })
    .context("assembling the app (run `cargo xtask bench`, which builds the components)")?;
    app.start_background();
    // Long enough for every event to be scheduled before the first is due.
    let dues = instants(count, Duration::from_secs(5), window);
    let events: Vec<_> = dues
        .iter()
        .enumerate()
        .map(|(i, due)| {
            let (task, reminder) = (format!("task-{i}"), format!("rem-{i}"));
            let at = rfc3339(*due);
            // Many users, as in life: one user's events are handled in
            // order, different users' side by side.
            EventOrigin::new("chat-api", format!("bench-user-{}", i % USERS), "bench")
                .event(event_type::REMINDER_SCHEDULED)
                .subject(&task)
                .data(
                    &json!({"task_id": task, "title": "bench", "due": null, "due_at": null,
                              "reminder": {"id": reminder, "at": at}, "at": at}),
                )
                .map(|b| b.build())
        })
        .collect::<Result<_, _>>()?;
    let pubsub = app.runtime.backends.pubsub.clone();
    let scheduled = Instant::now();
    for batch in events.chunks(500) {
        pubsub
            .publish("chat-api", REMINDER_EVENTS, batch.to_vec())
            .await?;
    }
    println!(
        "  published {count} reminder.scheduled in {:.2} s",
        scheduled.elapsed().as_secs_f64()
    );
    // notification has made every job once its cursor reaches the head.
    let db = app.db.clone();
    let head = db.read(|txn| log::head(txn, REMINDER_EVENTS)).await?;
    loop {
        let cursor = db
            .read(|txn| log::cursor(txn, "notification", REMINDER_EVENTS))
            .await?;
        if cursor >= head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ahead = dues[0] as i64 - now_ms() as i64;
    println!(
        "  notification scheduled them in {:.2} s ({:.0}/s); the first is due {} ms {}",
        scheduled.elapsed().as_secs_f64(),
        count as f64 / scheduled.elapsed().as_secs_f64(),
        ahead.abs(),
        if ahead >= 0 {
            "from now"
        } else {
            "ago: scheduling was the bottleneck"
        }
    );

    let deadline = Instant::now() + window + Duration::from_secs(60);
    let mut fired: Vec<Value> = Vec::new();
    let mut after = 0;
    while fired.len() < count && Instant::now() < deadline {
        let db = app.db.clone();
        let entries = db
            .read(move |txn| log::read_after(txn, REMINDER_EVENTS, after, 10_000))
            .await?;
        for (seq, bytes) in entries {
            after = seq;
            let event: Value = serde_json::from_slice(&bytes)?;
            if event["type"] == event_type::REMINDER_TRIGGERED {
                fired.push(event["data"].clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut figures = Figures {
        early: 0,
        missed: count.saturating_sub(fired.len()),
        lateness_ms: Vec::new(),
    };
    for data in &fired {
        let ms = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(data[k].as_str().unwrap_or_default())
                .map(|t| t.timestamp_millis())
                .unwrap_or(0)
        };
        let late = ms("fired_at") - ms("at");
        if late < 0 {
            figures.early += 1;
        } else {
            figures.lateness_ms.push(late as f64);
        }
    }
    figures.print("notification, embedded");
    Ok(())
}
