//! From a finished occurrence to the next task of its series.
//!
//! - `task.completed` of a recurring task: the next due after this one
//!   (schedule basis) or after the completion (completion basis).
//! - `task.deleted` of an *open* recurring task: that occurrence is
//!   skipped and the series goes on from the next (after its due, or after
//!   the deletion on the completion basis). A `?scope=series` delete has
//!   ended the series in chat-api, which then answers `series_ended`.
//!
//! chat-api creates the task (it is the only writer) under an id fixed by
//! (series, index), so however often this runs for one occurrence there is
//! one next task. The announcement has a deterministic CloudEvent id too,
//! so a repeat is recognised as a duplicate by every consumer.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use todo_domain::topics::{RECURRING_EVENTS, event_type};
use todo_domain::{
    CloudEvent, EventOrigin, HandlerError, Invoke, KeyValue, OutboxEvent, Request, Response,
};
use todo_model::recurrence::{Basis, next_after};
use todo_model::{Due, Status, Task};

use crate::{CHAT_API, INSTANCES_ROUTE, SOURCE};

/// What handling one event did (for tests and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not an event about a recurring occurrence that finished.
    Ignored,
    /// The next task exists: `created` now, or already before.
    Generated { task_id: String, created: bool },
    /// That index was generated before and the task since deleted.
    AlreadyGenerated,
    /// The series generates nothing more.
    Ended(EndReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// COUNT or UNTIL reached.
    RuleEnd,
    /// Deleted with `?scope=series`.
    Deleted,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            EndReason::RuleEnd => "rule_end",
            EndReason::Deleted => "deleted",
        }
    }
}

/// chat-api's answer on the instances route.
#[derive(Debug, Deserialize)]
struct Answer {
    outcome: String,
    task: Option<Task>,
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Handles one delivered event.
pub fn on_event(
    kv: &impl KeyValue,
    invoke: &impl Invoke,
    event: &CloudEvent,
) -> Result<Outcome, HandlerError> {
    let finished = match event.ty.as_str() {
        event_type::TASK_COMPLETED => Status::Completed,
        event_type::TASK_DELETED => Status::Open,
        _ => return Ok(Outcome::Ignored),
    };
    let task: Task = event
        .data_as()
        .map_err(|e| HandlerError::Drop(format!("event data is not a task: {e}")))?;
    let (Some(recurrence), Some(due), Some(series_id)) =
        (&task.recurrence, &task.due, task.series_id.as_deref())
    else {
        return Ok(Outcome::Ignored);
    };
    // A deleted task that was done already had its successor generated.
    if task.status != finished {
        return Ok(Outcome::Ignored);
    }
    let after = match recurrence.basis {
        Basis::Schedule => due.instant(),
        Basis::Completion => {
            let when = match finished {
                Status::Completed => task.completed_at.as_deref(),
                Status::Open => event.time.as_deref(),
            };
            when.and_then(instant).unwrap_or_else(Utc::now)
        }
    };
    let origin = EventOrigin::new(
        SOURCE,
        task.user_id.clone(),
        event.correlation_id().unwrap_or(&event.id),
    );
    let occurrence = task.occurrence.unwrap_or(1);
    let Some((next_due, index)) = next_after(recurrence, due, occurrence, after) else {
        announce_end(kv, &origin, &task, series_id, EndReason::RuleEnd)?;
        return Ok(Outcome::Ended(EndReason::RuleEnd));
    };
    let answer = ask_for_instance(invoke, &origin, &task, &next_due, index)?;
    match (answer.outcome.as_str(), answer.task) {
        (created @ ("created" | "exists"), Some(next)) => {
            announce_generated(kv, &origin, &task, &next)?;
            Ok(Outcome::Generated {
                task_id: next.id,
                created: created == "created",
            })
        }
        ("already_generated", _) => Ok(Outcome::AlreadyGenerated),
        ("series_ended", _) => {
            announce_end(kv, &origin, &task, series_id, EndReason::Deleted)?;
            Ok(Outcome::Ended(EndReason::Deleted))
        }
        (other, _) => Err(HandlerError::Drop(format!(
            "chat-api answered an unknown outcome `{other}`"
        ))),
    }
}

/// `POST /internal/series/instances` on chat-api, through `invoke`.
fn ask_for_instance(
    invoke: &impl Invoke,
    origin: &EventOrigin,
    from: &Task,
    due: &Due,
    occurrence: u32,
) -> Result<Answer, HandlerError> {
    let body = json!({"from": from, "due": due, "occurrence": occurrence});
    let request = Request::new("POST", INSTANCES_ROUTE)
        .with_header("content-type", "application/json")
        .with_header("x-correlation-id", &origin.correlation_id)
        .with_body(body.to_string());
    let response: Response = invoke
        .call(CHAT_API, &request)
        .map_err(|e| HandlerError::Retry(format!("chat-api unreachable: {e}")))?;
    let text = String::from_utf8_lossy(&response.body);
    match response.status {
        200 | 201 => serde_json::from_slice(&response.body)
            .map_err(|e| HandlerError::Drop(format!("chat-api answer unreadable: {e}: {text}"))),
        // Contention, overload or an outage: worth another delivery.
        409 | 429 | 500..=599 => Err(HandlerError::Retry(format!(
            "chat-api {}: {text}",
            response.status
        ))),
        status => Err(HandlerError::Drop(format!(
            "chat-api refused the instance ({status}): {text}"
        ))),
    }
}

/// Publishes an event of type `ty` about task `subject` under the fixed
/// id `id` (a repeat is the same event to every consumer), through the
/// state outbox: it leaves once the (empty) transaction commits, and the
/// host retries it until it does.
fn publish(
    kv: &impl KeyValue,
    origin: &EventOrigin,
    (ty, id): (&str, String),
    subject: &str,
    data: &serde_json::Value,
) -> Result<(), HandlerError> {
    let mut event = origin
        .event(ty)
        .subject(subject)
        .data(data)
        .map_err(|e| HandlerError::Drop(format!("could not build an event: {e}")))?
        .build();
    event.id = id;
    kv.transact(
        Vec::new(),
        vec![OutboxEvent {
            topic: RECURRING_EVENTS.to_owned(),
            event,
        }],
    )
    .map_err(|e| HandlerError::Retry(format!("publishing: {e}")))
}

/// `recurring.task-generated`: id `generated.<next task>`.
fn announce_generated(
    kv: &impl KeyValue,
    origin: &EventOrigin,
    from: &Task,
    next: &Task,
) -> Result<(), HandlerError> {
    let data = json!({
        "series_id": next.series_id,
        "occurrence": next.occurrence,
        "previous_task_id": from.id,
        "task": next,
    });
    let id = format!("generated.{}", next.id);
    publish(
        kv,
        origin,
        (event_type::RECURRING_TASK_GENERATED, id),
        &next.id,
        &data,
    )
}

/// `recurring.series-ended`: id `ended.<series>`, subject the last task.
fn announce_end(
    kv: &impl KeyValue,
    origin: &EventOrigin,
    last: &Task,
    series_id: &str,
    reason: EndReason,
) -> Result<(), HandlerError> {
    let data = json!({
        "series_id": series_id,
        "task_id": last.id,
        "occurrence": last.occurrence,
        "reason": reason.as_str(),
    });
    let id = format!("ended.{series_id}");
    publish(
        kv,
        origin,
        (event_type::RECURRING_SERIES_ENDED, id),
        &last.id,
        &data,
    )
}
