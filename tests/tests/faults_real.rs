//! Pod mode on the real stack under faults: a killed host or sidecar,
//! redelivery, dead letters, a Kafka restart. Nothing acknowledged is lost
//! and nothing is processed twice in effect.
//!
//! Runs only when `cargo xtask test` started the shared servers
//! (`TODO_STACK_*`); without them every test prints a note and passes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use todo_tests::account::sign_up;
use todo_tests::outside::*;
use todo_tests::real_stack::RealStack;
use todo_tests::stack::Stack;
use todo_tests::{Scratch, eventually};

async fn audit_survives(test: &str, fault: fn(&mut RealStack, usize)) {
    let Some(infra) = infra(test) else {
        return;
    };
    let mut stack = start(infra, &app_manifest());
    let http = sign_up(&stack).await.http;
    let before = audit_head(&http, &stack).await;
    let audit = stack.pod("audit");
    let load = Arc::new(Load::default());
    let creators = spawn_creators(&http, stack.url("/api/tasks"), test, 2, &load);
    load.wait_created(0, 5, "tasks acknowledged before the fault")
        .await;
    fault(&mut stack, audit);
    let down = Instant::now();
    // Events keep flowing while audit is down ...
    let at_fault = load.created().len();
    load.wait_created(at_fault, 10, "tasks acknowledged while audit is down")
        .await;
    // ... and a crashed container comes back after seconds, not at once
    // (long enough for the sidecar to commit Kafka offsets meanwhile).
    tokio::time::sleep(DOWNTIME.saturating_sub(down.elapsed())).await;
    tokio::task::block_in_place(|| stack.restart_pod(audit)).expect("audit pod restarts");
    let at_restart = load.created().len();
    load.wait_created(at_restart, 5, "tasks acknowledged after the restart")
        .await;
    stop_creators(&load, creators).await;

    let outcomes = load.outcomes.lock().unwrap().clone();
    let not_created: Vec<&Outcome> = outcomes
        .iter()
        .map(|(_, o)| o)
        .filter(|o| !matches!(o, Outcome::Created(_)))
        .collect();
    // chat-api does not depend on audit: every create succeeds.
    assert!(not_created.is_empty(), "{not_created:?}");
    let acked = load.created();
    assert_audited_once(&http, &stack, before, &acked, WAIT).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_host_killed_while_tasks_flow_audits_each_acknowledged_task_once() {
    audit_survives(
        "audit_host_killed_while_tasks_flow_audits_each_acknowledged_task_once",
        RealStack::kill_host,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_sidecar_killed_while_tasks_flow_audits_each_acknowledged_task_once() {
    audit_survives(
        "audit_sidecar_killed_while_tasks_flow_audits_each_acknowledged_task_once",
        RealStack::kill_daprd,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_is_redelivered_and_drop_lands_on_the_dead_letter_topic() {
    let Some(infra) = infra("retry_is_redelivered_and_drop_lands_on_the_dead_letter_topic") else {
        return;
    };
    // A topic of its own: a retried event holds up its partition.
    let topic = format!("probe-faults-{}", uuid::Uuid::new_v4().simple());
    let scratch = Scratch::new();
    let manifest = probe_manifest(&scratch, &[&topic]);
    let stack = start(infra.clone(), &manifest);
    assert_subscriptions_match(&stack, &manifest).await;
    let http = client();
    let drop_id = format!("drop-{}", uuid::Uuid::new_v4().simple());
    let retry_id = format!("retry-{}", uuid::Uuid::new_v4().simple());
    for (id, ty) in [(&drop_id, "x.drop"), (&retry_id, "x.retry")] {
        probe_cmd(
            &http,
            &stack,
            json!({"op": "publish", "topic": topic, "id": id, "type": ty}),
        )
        .await;
    }

    let dead_letter = |id: String| {
        let infra = infra.clone();
        async move {
            blocking(move || {
                record_values(&kafka_records(&infra, "dead-letters"))
                    .into_iter()
                    .find(|e| e["id"] == id.as_str())
            })
            .await
        }
    };
    let dead = eventually("the dropped event on dead-letters", WAIT, || {
        dead_letter(drop_id.clone())
    })
    .await;
    assert_eq!(dead["type"], "x.drop", "{dead}");
    assert_eq!(dead["source"], "probe", "{dead}");
    assert_eq!(dead["specversion"], "1.0", "{dead}");
    // Dropped means not retried.
    let log = probe_events(&http, &stack).await;
    assert_eq!(deliveries(&log, &drop_id), 1, "{log:?}");

    let deadline = Instant::now() + REDELIVERY;
    loop {
        let delivered = deliveries(&probe_events(&http, &stack).await, &retry_id);
        if delivered > 1 {
            break;
        }
        if Instant::now() > deadline {
            let dead = dead_letter(retry_id.clone()).await;
            panic!(
                "an event answered with RETRY was delivered {delivered} time(s) in {REDELIVERY:?}; \
                 on the dead-letter topic: {}",
                dead.is_some()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_stopped_and_restarted_loses_no_acknowledged_task() {
    let Some(infra) = infra("kafka_stopped_and_restarted_loses_no_acknowledged_task") else {
        return;
    };
    let stack = start(infra.clone(), &app_manifest());
    let http = sign_up(&stack).await.http;
    let before = audit_head(&http, &stack).await;
    let load = Arc::new(Load::default());
    let creators = spawn_creators(&http, stack.url("/api/tasks"), "kafka outage", 2, &load);
    load.wait_created(0, 5, "tasks acknowledged before the outage")
        .await;

    let outage_infra = infra.clone();
    let (mut outage, down_at) = blocking(move || {
        let outage = KafkaOutage::begin(&outage_infra);
        (outage, Instant::now())
    })
    .await;
    // The fault itself: the broker stays away for a few seconds.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (bootstrap, up_at) = blocking(move || {
        let bootstrap = outage.end();
        (bootstrap, Instant::now())
    })
    .await;
    assert_eq!(
        bootstrap, infra.kafka,
        "the broker came back on its old address"
    );
    let at_restart = load.created().len();
    load.wait_created(at_restart, 5, "tasks acknowledged after Kafka is back")
        .await;
    stop_creators(&load, creators).await;

    let outcomes = load.outcomes.lock().unwrap().clone();
    let during: Vec<&Outcome> = outcomes
        .iter()
        .filter(|(t, _)| *t >= down_at && *t < up_at)
        .map(|(_, o)| o)
        .collect();
    assert!(!during.is_empty(), "no task was created during the outage");
    let unclear: Vec<&str> = outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Unclear(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        unclear.is_empty(),
        "answers that are neither 201 nor a 5xx JSON error: {unclear:?}"
    );
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Failed(status, body) => Some(format!("{status} {}", body["error"]["message"])),
            _ => None,
        })
        .collect();
    eprintln!(
        "kafka outage: {} requests, {} during the outage, {} failed clearly: {failed:?}",
        outcomes.len(),
        during.len(),
        failed.len()
    );
    let acked = load.created();
    assert_audited_once(&http, &stack, before, &acked, Duration::from_secs(120)).await;
}
