//! Recurring series: the next instance, created on behalf of
//! recurring-task (chat-api stays the only writer of tasks), and the end of
//! a series (`DELETE /api/tasks/{id}?scope=series`).
//!
//! `series:<user>:<series id>` records how far the series has been
//! generated and whether it was ended. Together with the instance's
//! deterministic id (from series id and index) it makes generation exactly
//! once: a redelivered `task.completed`, a double completion or an
//! un-complete + complete all ask for the same index, which either exists,
//! was generated and since deleted, or belongs to an ended series.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use todo_domain::event::now_rfc3339;
use todo_domain::topics::event_type;
use todo_domain::{ApiError, EventOrigin, KeyValue, Op, Precondition, Request, Response};
use todo_model::{Due, ReminderWhen, Task};
use uuid::Uuid;

use crate::events::{self, CancelReason};
use crate::store::{self, Change, StoreError};
use crate::tasks::store_error;

/// The only app allowed to call the internal routes.
pub const GENERATOR_APP: &str = "recurring-task";
/// Set by the host on service invocation (and by Dapr in pod mode); the
/// host strips it from every request that did not come through invocation.
pub const CALLER_HEADER: &str = "dapr-caller-app-id";
/// `POST` here creates the next instance of a series.
pub const INSTANCES_ROUTE: &str = "/internal/series/instances";

/// Names instance ids: UUID v5 of `<series id>/<index>` in this namespace.
const INSTANCE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b8e_4d3a_4c55_9a7e_1b2c_3d4e_5f60);

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRecord {
    /// The highest index generated so far (0: none yet).
    pub last_generated: u32,
    /// Ended by a `?scope=series` delete: nothing more is generated.
    pub ended: bool,
}

pub fn series_key(user_id: &str, series_id: &str) -> String {
    format!("series:{user_id}:{series_id}")
}

/// The id of the `index`-th task of `series_id`, the same on every try.
pub fn instance_id(series_id: &str, index: u32) -> String {
    Uuid::new_v5(
        &INSTANCE_NAMESPACE,
        format!("{series_id}/{index}").as_bytes(),
    )
    .to_string()
}

pub fn read_record(
    kv: &impl KeyValue,
    user_id: &str,
    series_id: &str,
) -> Result<(SeriesRecord, Option<String>), StoreError> {
    let key = series_key(user_id, series_id);
    match kv.get(&key)? {
        None => Ok((SeriesRecord::default(), None)),
        Some((bytes, etag)) => {
            let record = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                key,
                reason: e.to_string(),
            })?;
            Ok((record, Some(etag)))
        }
    }
}

/// The write of `record`, guarded by the ETag it was read with.
pub fn write_record(
    user_id: &str,
    series_id: &str,
    record: &SeriesRecord,
    etag: Option<String>,
) -> Op {
    Op::set(
        series_key(user_id, series_id),
        serde_json::to_vec(record).expect("a series record serializes"),
        Some(Precondition::unchanged(etag)),
    )
}

/// What recurring-task asks for: the next instance of `from`'s series.
#[derive(Debug, Deserialize)]
pub struct InstanceRequest {
    /// The task the next one follows (as carried by its event).
    pub from: Task,
    /// The next due and its index, computed by recurring-task.
    pub due: Due,
    pub occurrence: u32,
}

/// The `occurrence`-th task of `from`'s series, due at `due`: the same
/// content, open (as every new task), with its reminders moved along
/// with the due.
pub fn instance_of(from: &Task, id: &str, due: Due, occurrence: u32, now: &str) -> Task {
    let due_at = due.instant();
    let shift = from.due_at.map(|old| due_at - old);
    let mut task = Task::new(id, &from.user_id, &from.title, now);
    task.description = from.description.clone();
    task.priority = from.priority;
    task.tags = from.tags.clone();
    task.reminders = from
        .reminders
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let (ReminderWhen::At { at }, Some(shift)) = (&mut r.when, shift) {
                *at = shifted(*at, shift);
            }
            r
        })
        .collect();
    task.recurrence = from.recurrence.clone();
    task.series_id = from.series_id.clone();
    task.occurrence = Some(occurrence);
    task.due = Some(due);
    task.due_at = Some(due_at);
    task
}

fn shifted(at: DateTime<Utc>, by: chrono::Duration) -> DateTime<Utc> {
    at.checked_add_signed(by).unwrap_or(at)
}

fn outcome(status: u16, outcome: &str, task: Option<&Task>) -> Response {
    Response::json(status, &json!({"outcome": outcome, "task": task}))
}

/// `POST /internal/series/instances`: 201 `{"outcome": "created", task}`;
/// 200 with `exists` (and the task), `already_generated` (it was, and has
/// since been deleted) or `series_ended`. Only recurring-task may call it.
pub fn create_instance(
    kv: &impl KeyValue,
    req: &Request,
    correlation: &str,
) -> Result<Response, ApiError> {
    if req.header(CALLER_HEADER) != Some(GENERATOR_APP) {
        return Err(ApiError::not_found(format!("no route for {}", req.path)));
    }
    if req.method != "POST" {
        return Err(ApiError::method_not_allowed(&req.method, &["POST"]));
    }
    let body: InstanceRequest = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request("body", format!("not an instance request: {e}")))?;
    let from = &body.from;
    let series_id = from
        .series_id
        .as_deref()
        .filter(|_| from.recurrence.is_some())
        .ok_or_else(|| {
            ApiError::validation("from", "the task is not part of a recurring series")
        })?;
    if body.occurrence < 2 {
        return Err(ApiError::validation(
            "occurrence",
            "a generated instance is at least the series' second",
        ));
    }
    let user_id = from.user_id.as_str();
    // Whose series this is comes from chat-api's own records, not from the
    // caller's copy of the task: the task followed is stored under that
    // user in that series, or (deleted since) that user's series has been
    // generated before.
    let owned = match store::get(kv, user_id, &from.id).map_err(store_error)? {
        Some(stored) => stored.series_id.as_deref() == Some(series_id),
        None => read_record(kv, user_id, series_id)
            .map_err(store_error)?
            .1
            .is_some(),
    };
    if !owned {
        return Err(ApiError::validation(
            "from",
            "no such task in that user's series",
        ));
    }
    let id = instance_id(series_id, body.occurrence);
    let origin = EventOrigin::new(crate::SOURCE, user_id.to_owned(), correlation.to_owned());
    let result = store::retrying(|| {
        let (record, etag) = read_record(kv, user_id, series_id)?;
        store::attempt(kv, user_id, &id, |current| {
            if let Some(existing) = current {
                return Ok(Change::Done(outcome(200, "exists", Some(existing))));
            }
            if record.ended {
                return Ok(Change::Done(outcome(200, "series_ended", None)));
            }
            if body.occurrence <= record.last_generated {
                return Ok(Change::Done(outcome(200, "already_generated", None)));
            }
            let task = instance_of(from, &id, body.due.clone(), body.occurrence, &now_rfc3339());
            let events = events::transition(
                &origin,
                event_type::TASK_CREATED,
                &task,
                (None, Some(&task)),
                CancelReason::Changed,
            )
            .map_err(|e| ApiError::internal(format!("could not build an event: {e}")))?;
            let next = SeriesRecord {
                last_generated: body.occurrence,
                ended: false,
            };
            Ok(Change::Commit {
                reply: outcome(201, "created", Some(&task)),
                task: Some(Box::new(task)),
                events,
                extra: vec![write_record(user_id, series_id, &next, etag.clone())],
            })
        })
    });
    result.map_err(store_error)?
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use todo_domain::MemoryKv;

    use super::*;

    fn instance_request(from: &Value) -> Request {
        Request::new("POST", INSTANCES_ROUTE)
            .with_header(CALLER_HEADER, GENERATOR_APP)
            .with_body(json!({"from": from, "due": from["due"], "occurrence": 2}).to_string())
    }

    fn stored_task(kv: &MemoryKv, user: &str) -> Value {
        let mut task = Task::new("t1", user, "water the ferns", &now_rfc3339());
        task.series_id = Some("s1".into());
        task.recurrence = serde_json::from_value(
            json!({"rrule": "FREQ=DAILY", "basis": "schedule", "text": "daily"}),
        )
        .unwrap();
        task.due = serde_json::from_value(
            json!({"date": "2026-12-08", "time": "09:00", "time_zone": "UTC"}),
        )
        .unwrap();
        task.due_at = task.due.as_ref().map(Due::instant);
        let value = serde_json::to_value(&task).unwrap();
        store::retrying(|| {
            store::attempt(kv, user, "t1", |_| {
                Ok::<_, StoreError>(Change::Commit {
                    reply: (),
                    task: Some(Box::new(task.clone())),
                    events: vec![],
                    extra: vec![],
                })
            })
        })
        .unwrap()
        .unwrap();
        value
    }

    #[test]
    fn an_instance_is_only_made_for_the_user_whose_task_it_follows() {
        let kv = MemoryKv::new();
        let alices = stored_task(&kv, "alice");
        // The same task, claimed to be bob's: refused, and bob gets nothing.
        let mut forged = alices.clone();
        forged["user_id"] = json!("bob");
        let refused = create_instance(&kv, &instance_request(&forged), "c").unwrap_err();
        assert_eq!(
            (refused.status, refused.field.as_deref()),
            (422, Some("from"))
        );
        assert!(store::all(&kv, "bob").unwrap().is_empty());
        // Alice's own is made.
        let made = create_instance(&kv, &instance_request(&alices), "c").unwrap();
        assert_eq!(made.status, 201);
        assert_eq!(store::all(&kv, "alice").unwrap().len(), 2);
    }
}
