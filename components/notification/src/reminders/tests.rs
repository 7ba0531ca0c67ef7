use serde_json::json;
use todo_domain::topics::event_type;
use todo_domain::{EventOrigin, MemoryKv};

use super::*;
use todo_domain::MemoryJobs;

const TASK: &str = "0190aaaa-0000-7000-8000-000000000001";
const REMINDER: &str = "0190aaaa-0000-7000-8000-0000000000r1";

fn origin() -> EventOrigin {
    EventOrigin::new("chat-api", "user-1", "corr-1")
}

fn scheduled(at: &str) -> CloudEvent {
    origin()
        .event(event_type::REMINDER_SCHEDULED)
        .subject(TASK)
        .data(
            &json!({"task_id": TASK, "title": "Dentist", "due": null, "due_at": null,
                      "reminder": {"id": REMINDER, "at": at}, "at": at}),
        )
        .unwrap()
        .build()
}

fn cancelled(at: &str) -> CloudEvent {
    origin()
        .event(event_type::REMINDER_CANCELLED)
        .subject(TASK)
        .data(
            &json!({"task_id": TASK, "reminder": {"id": REMINDER, "at": at}, "at": at,
                      "reason": "deleted"}),
        )
        .unwrap()
        .build()
}

const AT: &str = "2030-01-10T08:30:00Z";
const AT_MS: u64 = 1_894_264_200_000;

fn job_name() -> String {
    format!("rem.{TASK}.{REMINDER}.{AT_MS}")
}

fn fire(kv: &MemoryKv, late: bool) {
    let job = Fired {
        name: job_name(),
        due: AT_MS,
        fired_at: AT_MS + 7,
        late,
    };
    on_job(kv, &job).unwrap();
}

#[test]
fn a_scheduled_reminder_becomes_one_job_at_its_instant() {
    let (kv, jobs) = (MemoryKv::new(), MemoryJobs::default());
    on_event(&kv, &jobs, &scheduled(AT)).unwrap();
    // A redelivery replaces the same job.
    on_event(&kv, &jobs, &scheduled(AT)).unwrap();
    let scheduled = jobs.scheduled();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[&job_name()].0, AT_MS);
}

#[test]
fn firing_publishes_triggered_once_with_how_late() {
    let (kv, jobs) = (MemoryKv::new(), MemoryJobs::default());
    on_event(&kv, &jobs, &scheduled(AT)).unwrap();
    fire(&kv, true);
    fire(&kv, true);
    let published = kv.published();
    assert_eq!(published.len(), 1);
    let event = &published[0].event;
    assert_eq!(published[0].topic, "reminder-events");
    assert_eq!(event.ty, event_type::REMINDER_TRIGGERED);
    // Derived from the job: a racing second firing would carry the same id.
    assert_eq!(event.id, format!("triggered.{}", job_name()));
    assert_eq!(event.subject.as_deref(), Some(TASK));
    assert_eq!(event.user_id(), Some("user-1"));
    assert_eq!(event.correlation_id(), Some("corr-1"));
    let data: Value = event.data_as().unwrap();
    assert_eq!(data["at"], AT);
    assert_eq!(data["title"], "Dentist");
    assert_eq!(data["late"], true);
    assert_eq!(data["late_ms"], 7);
    assert_eq!(data["fired_at"], "2030-01-10T08:30:00.007Z");
    event.validate().unwrap();
}

#[test]
fn a_cancelled_reminder_never_fires_even_if_scheduled_again_later() {
    let (kv, jobs) = (MemoryKv::new(), MemoryJobs::default());
    on_event(&kv, &jobs, &scheduled(AT)).unwrap();
    on_event(&kv, &jobs, &cancelled(AT)).unwrap();
    assert!(jobs.scheduled().is_empty());
    // The job fired anyway (cancel raced the firing): nothing published.
    fire(&kv, false);
    // A redelivered `scheduled` after its cancel is not revived.
    on_event(&kv, &jobs, &scheduled(AT)).unwrap();
    assert!(jobs.scheduled().is_empty());
    assert!(kv.published().is_empty());
    // Cancelling what was never scheduled is fine.
    on_event(&kv, &jobs, &cancelled("2031-01-01T00:00:00Z")).unwrap();
}

#[test]
fn other_events_are_ignored_and_bad_ones_dropped() {
    let (kv, jobs) = (MemoryKv::new(), MemoryJobs::default());
    let triggered = origin().event(event_type::REMINDER_TRIGGERED).build();
    on_event(&kv, &jobs, &triggered).unwrap();
    let bad = origin()
        .event(event_type::REMINDER_SCHEDULED)
        .data(&json!({"task_id": "a b", "reminder": {"id": "r"}, "at": AT}))
        .unwrap()
        .build();
    assert!(matches!(
        on_event(&kv, &jobs, &bad),
        Err(HandlerError::Drop(_))
    ));
    let bad_at = scheduled("tomorrow");
    assert!(matches!(
        on_event(&kv, &jobs, &bad_at),
        Err(HandlerError::Drop(_))
    ));
    assert!(jobs.scheduled().is_empty());
}
