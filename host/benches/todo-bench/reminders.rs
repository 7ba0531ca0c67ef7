//! Reminder firing in-process: N `reminder.scheduled` events due within a
//! window go through the real notification component (event -> job in the
//! embedded scheduler -> fired -> `reminder.triggered`), and lateness is
//! read back from the triggered events (`fired_at - at`). The baseline is
//! plain tokio timers for the same instants, in the same process and run.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use todo_domain::EventOrigin;
use todo_domain::topics::{REMINDER_EVENTS, event_type};
use todo_host::capabilities::embedded_store::log;
use todo_host::modes::up::InProcess;

use crate::lateness::{Figures, instants, print_scheduling, rfc3339, tokio_baseline};

/// Users the reminders belong to.
const USERS: usize = 100;

pub async fn fire_reminders(count: usize, window_secs: u64) -> Result<()> {
    let window = Duration::from_secs(window_secs);
    println!("reminders: {count} due within {window_secs} s");
    tokio_baseline(count, window)
        .await
        .print("tokio timers (baseline)");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir()?;
    let app = tokio::task::block_in_place(|| {
        InProcess::assemble(
            &root.join("spin.toml"),
            &dir.path().join("data"),
            None,
            None,
        )
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
    print_scheduling(count, scheduled.elapsed(), dues[0]);

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
    let mut figures = Figures::of_triggered(count, &fired);
    figures.print("notification, embedded");
    Ok(())
}
