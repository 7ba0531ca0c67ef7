//! Embedded pub/sub through real components: fan-out to every subscriber,
//! retry with backoff then dead-letter, drop, and redelivery after a crash.

mod common;

use common::{ProbeHost, WAIT, count};
use todo_tests::eventually;

#[tokio::test(flavor = "multi_thread")]
async fn every_subscribing_component_receives_the_event() {
    let p = ProbeHost::start();
    p.publish("probe-fanout", "fan-1", "com.test.ok").await;
    p.wait_event("probe to see fan-1", |e| e["id"] == "fan-1")
        .await;
    let seen = eventually("probe2 to see fan-1", WAIT, || async {
        let log = p.probe2_events().await;
        (count(&log, "probe-fanout", "fan-1") > 0).then_some(log)
    })
    .await;
    assert_eq!(count(&seen, "probe-fanout", "fan-1"), 1);

    // Both deliveries are counted in the host's Prometheus metrics.
    let (status, metrics) = p.get("/metrics").await;
    assert_eq!(status, 200);
    for component in ["probe", "probe2"] {
        let line = format!(
            "todo_events_in_total{{component=\"{component}\",outcome=\"success\",topic=\"probe-fanout\"}} 1"
        );
        assert!(metrics.contains(&line), "{line} missing from:\n{metrics}");
    }
    assert!(
        metrics.contains("todo_events_out_total{component=\"probe\",topic=\"probe-fanout\"} 1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_is_redelivered_until_it_succeeds() {
    let p = ProbeHost::start();
    // Fails twice, succeeds on the third delivery (max_attempts = 3).
    p.publish("probe-events", "flaky-1", "com.test.flaky").await;
    let log = eventually("three deliveries", WAIT, || async {
        let log = p.log("events").await;
        (count(&log, "probe-events", "flaky-1") >= 3).then_some(log)
    })
    .await;
    assert_eq!(count(&log, "probe-events", "flaky-1"), 3);
    // Publish a marker after it: once the marker is delivered, the flaky
    // event is settled, and it must not have been dead-lettered.
    p.publish("probe-events", "marker-1", "com.test.ok").await;
    let log = p.wait_event("marker", |e| e["id"] == "marker-1").await;
    assert_eq!(count(&log, "dead-letters", "flaky-1"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_exhausted_goes_to_dead_letter() {
    let p = ProbeHost::start();
    p.publish("probe-events", "poison-1", "com.test.retry")
        .await;
    let log = p
        .wait_event("dead-lettered poison-1", |e| {
            e["topic"] == "dead-letters" && e["id"] == "poison-1"
        })
        .await;
    assert_eq!(count(&log, "probe-events", "poison-1"), 3, "{log:?}");
    assert_eq!(count(&log, "dead-letters", "poison-1"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_goes_to_dead_letter_at_once() {
    let p = ProbeHost::start();
    p.publish("probe-events", "drop-1", "com.test.drop").await;
    let log = p
        .wait_event("dead-lettered drop-1", |e| {
            e["topic"] == "dead-letters" && e["id"] == "drop-1"
        })
        .await;
    assert_eq!(count(&log, "probe-events", "drop-1"), 1, "{log:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unacknowledged_events_are_redelivered_after_a_crash() {
    // Many attempts, far apart: the event is still unacknowledged when the
    // host dies.
    let mut p = ProbeHost::start_with(1000, 2_000);
    p.publish("probe-events", "stuck-1", "com.test.retry").await;
    p.wait_event("first delivery", |e| e["id"] == "stuck-1")
        .await;
    let before = count(&p.log("events").await, "probe-events", "stuck-1");
    p.host.kill9();
    p.host.restart().expect("restart");
    let log = eventually("redelivery after restart", WAIT, || async {
        let log = p.log("events").await;
        (count(&log, "probe-events", "stuck-1") > before).then_some(log)
    })
    .await;
    assert!(count(&log, "probe-events", "stuck-1") > before);
}
