//! The embedded scheduler through a real component: never early, fires,
//! survives restarts, fires once (late) after downtime, cancel is final.

mod common;

use std::time::Duration;

use common::{ProbeHost, WAIT};
use serde_json::{Value, json};
use todo_tests::{eventually, now_ms};

async fn schedule(p: &ProbeHost, name: &str, due: u64) {
    p.cmd(json!({"op": "schedule", "name": name, "due": due, "data": name}))
        .await
        .expect("schedule");
}

async fn fired(p: &ProbeHost, name: &str) -> Vec<Value> {
    p.log("jobs")
        .await
        .into_iter()
        .filter(|j| j["name"] == name)
        .collect()
}

async fn wait_fired(p: &ProbeHost, name: &str) -> Vec<Value> {
    eventually(&format!("job {name} to fire"), WAIT, || async {
        let f = fired(p, name).await;
        (!f.is_empty()).then_some(f)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_fires_at_its_instant_never_before() {
    let p = ProbeHost::start();
    let due = now_ms() + 1_500;
    schedule(&p, "on-time", due).await;
    assert!(
        p.cmd(json!({"op": "get_job", "name": "on-time"}))
            .await
            .unwrap()["due"]
            == due
    );
    let jobs = eventually("on-time to fire", WAIT, || async {
        let f = fired(&p, "on-time").await;
        // Observed by the test's own clock: not visible before the instant.
        if f.is_empty() {
            return None;
        }
        assert!(now_ms() >= due, "job visible before it was due");
        Some(f)
    })
    .await;
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0]["fired_at"].as_u64().unwrap() >= due, "{jobs:?}");
    assert_eq!(jobs[0]["due"], due);
    assert_eq!(jobs[0]["late"], false);
    assert_eq!(jobs[0]["data"], "on-time");
    // A one-off job is gone once its firing is done (the handler's
    // record can be seen a moment before the job is deleted).
    eventually("the fired one-off job to be gone", WAIT, || async {
        p.cmd(json!({"op": "get_job", "name": "on-time"}))
            .await
            .unwrap()
            .is_null()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_job_never_fires() {
    let p = ProbeHost::start();
    let now = now_ms();
    schedule(&p, "cancelled", now + 800).await;
    schedule(&p, "sentinel", now + 1_600).await;
    p.cmd(json!({"op": "cancel", "name": "cancelled"}))
        .await
        .unwrap();
    let err = p
        .cmd(json!({"op": "cancel", "name": "cancelled"}))
        .await
        .unwrap_err();
    assert_eq!(err.0, "not-found");
    // Once the later sentinel has fired, the cancelled one had its chance.
    wait_fired(&p, "sentinel").await;
    assert!(fired(&p, "cancelled").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_scheduled_before_a_restart_fires_after_it() {
    let mut p = ProbeHost::start();
    let due = now_ms() + 2_500;
    schedule(&p, "survivor", due).await;
    p.host.kill9();
    p.host.restart().expect("restart");
    let jobs = wait_fired(&p, "survivor").await;
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0]["fired_at"].as_u64().unwrap() >= due);
    assert_eq!(jobs[0]["late"], false, "due after the restart: not late");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_due_during_downtime_fires_once_marked_late() {
    let mut p = ProbeHost::start();
    let due = now_ms() + 1_000;
    schedule(&p, "missed", due).await;
    p.host.kill9();
    // The host is down while the job comes due.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    p.host.restart().expect("restart");
    schedule(&p, "after-restart", now_ms() + 500).await;
    wait_fired(&p, "after-restart").await;
    let jobs = fired(&p, "missed").await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["late"], true);
    assert!(jobs[0]["fired_at"].as_u64().unwrap() >= due);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeating_job_fires_the_given_number_of_times() {
    let p = ProbeHost::start();
    let due = now_ms() + 200;
    p.cmd(json!({"op": "schedule", "name": "thrice", "due": due, "every_ms": 200, "times": 3}))
        .await
        .unwrap();
    eventually("three firings", WAIT, || async {
        (fired(&p, "thrice").await.len() >= 3).then_some(())
    })
    .await;
    eventually("the job to be removed", WAIT, || async {
        let j = p
            .cmd(json!({"op": "get_job", "name": "thrice"}))
            .await
            .unwrap();
        j.is_null().then_some(())
    })
    .await;
    let jobs = fired(&p, "thrice").await;
    assert_eq!(jobs.len(), 3);
    for (i, j) in jobs.iter().enumerate() {
        let due_i = j["due"].as_u64().unwrap();
        assert!(due_i >= due + 200 * i as u64);
        assert!(j["fired_at"].as_u64().unwrap() >= due_i);
    }
}
