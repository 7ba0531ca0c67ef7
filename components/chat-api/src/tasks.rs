//! Task mutations: validation, the change, its events and the optional
//! idempotency record, committed together. REST routes call these; the
//! chat agent and MCP tools will call the same ones.

use chrono::Utc;
use serde_json::{Map, Value};
use todo_domain::event::now_rfc3339;
use todo_domain::topics::event_type;
use todo_domain::{ApiError, EventError, EventOrigin, KeyValue, Response};
use todo_model::input::{Draft, Mode, apply, parse_object};
use todo_model::{Status, Task};
use uuid::Uuid;

use crate::events::{self, CancelReason};
use crate::idempotency::Idempotency;
use crate::series;
use crate::store::{self, Change, StoreError};

/// Who is acting: the event origin (user, correlation id) and the user's
/// time zone (the default zone of a due).
#[derive(Debug, Clone)]
pub struct Caller {
    pub origin: EventOrigin,
    pub time_zone: String,
}

impl Caller {
    pub fn user_id(&self) -> &str {
        &self.origin.user_id
    }
}

/// `If-Match` of a request: `None` when absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub Option<String>);

impl IfMatch {
    /// RFC 9110: `*`, or a list of (possibly weak) entity tags.
    fn check(&self, task: &Task) -> Result<(), ApiError> {
        // An empty header names no version: as if absent.
        let Some(header) = self.0.as_deref().filter(|h| !h.trim().is_empty()) else {
            return Ok(());
        };
        let version = task.version.to_string();
        let matches = header
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == version);
        if matches {
            Ok(())
        } else {
            Err(precondition_failed(task))
        }
    }
}

fn precondition_failed(task: &Task) -> ApiError {
    ApiError {
        status: 412,
        code: "precondition_failed",
        message: format!(
            "the task changed since you read it: it is at version {}; re-read and retry",
            task.version
        ),
        field: Some("if-match".to_owned()),
        allow: None,
    }
}

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("no task with id {id}"))
}

/// The response carrying `task`: its JSON and its ETag.
pub fn task_response(status: u16, task: &Task) -> Response {
    Response::json(status, task).with_header("etag", &task.etag())
}

pub fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Kv(e) => e.into(),
        corrupt @ StoreError::Corrupt { .. } => ApiError::internal(corrupt.to_string()),
        full @ StoreError::Full => ApiError::quota_exceeded(full.to_string()),
    }
}

fn event_error(err: EventError) -> ApiError {
    ApiError::internal(format!("could not build an event: {err}"))
}

fn new_reminder_id() -> String {
    Uuid::now_v7().to_string()
}

/// Runs one write with retries, replaying an idempotent request's first
/// response instead when there is one.
fn commit(
    kv: &impl KeyValue,
    caller: &Caller,
    id: &str,
    idem: Option<&Idempotency>,
    mut decide: impl FnMut(Option<&Task>) -> Result<Change<Response>, ApiError>,
) -> Result<Response, ApiError> {
    store::retrying(|| {
        if let Some(idem) = idem
            && let Some(first) = idem.replay(kv)?
        {
            return Ok(first);
        }
        store::attempt(kv, caller.user_id(), id, |current| {
            let mut change = decide(current)?;
            if let (Some(idem), Change::Commit { extra, reply, .. }) = (idem, &mut change) {
                extra.push(idem.remember(reply));
            }
            Ok(change)
        })
    })
    .map_err(store_error)?
}

/// Applies a validated draft to a task: derived fields, series, version.
fn with_draft(mut task: Task, draft: Draft, now: &str) -> Task {
    task.due_at = draft.due.as_ref().map(|d| d.instant());
    task.title = draft.title;
    task.description = draft.description;
    task.priority = draft.priority;
    task.tags = draft.tags;
    task.due = draft.due;
    task.reminders = draft.reminders;
    task.recurrence = draft.recurrence;
    // A task becomes a series' first instance when it first gets a rule;
    // the series outlives edits of the rule.
    if task.recurrence.is_some() && task.series_id.is_none() {
        task.series_id = Some(task.id.clone());
        task.occurrence = Some(1);
    }
    task.updated_at = now.to_owned();
    task
}

/// `POST /api/tasks`.
pub fn create(
    kv: &impl KeyValue,
    caller: &Caller,
    body: &[u8],
    idem: Option<&Idempotency>,
) -> Result<Response, ApiError> {
    let fields = parse_object(body)?;
    let draft = apply(
        &Draft::default(),
        fields,
        Mode::Create,
        None,
        &caller.time_zone,
        &mut new_reminder_id,
    )?;
    let id = Uuid::now_v7().to_string();
    let now = now_rfc3339();
    let blank = Task::new(&id, caller.user_id(), "", &now);
    let task = with_draft(blank, draft, &now);
    let events = events::transition(
        &caller.origin,
        event_type::TASK_CREATED,
        &task,
        (None, Some(&task)),
        CancelReason::Changed,
    )
    .map_err(event_error)?;
    let response = task_response(201, &task).with_header("location", &format!("/api/tasks/{id}"));
    commit(kv, caller, &id, idem, |_| {
        Ok(Change::Commit {
            task: Some(Box::new(task.clone())),
            events: events.clone(),
            extra: Vec::new(),
            reply: response.clone(),
        })
    })
}

/// `PUT` (replace) or `PATCH` (merge patch) of `/api/tasks/{id}`.
pub fn edit(
    kv: &impl KeyValue,
    caller: &Caller,
    id: &str,
    body: &[u8],
    mode: Mode,
    if_match: &IfMatch,
) -> Result<Response, ApiError> {
    let fields: Map<String, Value> = parse_object(body)?;
    commit(kv, caller, id, None, |current| {
        let current = current.ok_or_else(|| not_found(id))?;
        let before = Draft::of(current);
        // A bad body is reported as such, whatever the version it names.
        let draft = apply(
            &before,
            fields.clone(),
            mode,
            Some(current),
            &caller.time_zone,
            &mut new_reminder_id,
        )?;
        if_match.check(current)?;
        let changed = before.changed_fields(&draft);
        if changed.is_empty() {
            return Ok(Change::Done(task_response(200, current)));
        }
        let mut next = with_draft(current.clone(), draft, &now_rfc3339());
        next.version += 1;
        let mut events =
            vec![events::updated(&caller.origin, &next, &changed).map_err(event_error)?];
        events.extend(
            events::reminder_changes(
                &caller.origin,
                Some(current),
                Some(&next),
                CancelReason::Changed,
            )
            .map_err(event_error)?,
        );
        Ok(Change::Commit {
            reply: task_response(200, &next),
            task: Some(Box::new(next)),
            events,
            extra: Vec::new(),
        })
    })
}

/// `POST /api/tasks/{id}/complete` (`to` completed) or `/uncomplete`.
/// Already in that state: 200 with the task, nothing published.
pub fn set_status(
    kv: &impl KeyValue,
    caller: &Caller,
    id: &str,
    to: Status,
    if_match: &IfMatch,
    idem: Option<&Idempotency>,
) -> Result<Response, ApiError> {
    commit(kv, caller, id, idem, |current| {
        let current = current.ok_or_else(|| not_found(id))?;
        if_match.check(current)?;
        if current.status == to {
            return Ok(Change::Done(task_response(200, current)));
        }
        let now = now_rfc3339();
        let mut next = current.clone();
        next.status = to;
        next.completed_at = (to == Status::Completed).then(|| now.clone());
        next.updated_at = now;
        next.version += 1;
        let (ty, reason) = match to {
            Status::Completed => (event_type::TASK_COMPLETED, CancelReason::Completed),
            Status::Open => (event_type::TASK_UNCOMPLETED, CancelReason::Changed),
        };
        let events = events::transition(
            &caller.origin,
            ty,
            &next,
            (Some(current), Some(&next)),
            reason,
        )
        .map_err(event_error)?;
        Ok(Change::Commit {
            reply: task_response(200, &next),
            task: Some(Box::new(next)),
            events,
            extra: Vec::new(),
        })
    })
}

/// What a delete removes: the one task, or (`?scope=series`) the task and
/// the rest of its series, which generates nothing more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    Occurrence,
    Series,
}

impl Scope {
    /// The `scope` query parameter of a delete (the only one it takes).
    pub fn from_query(pairs: &[(String, String)]) -> Result<Scope, ApiError> {
        let mut scope = Scope::default();
        for (name, value) in pairs {
            scope = match (name.as_str(), value.as_str()) {
                ("scope", "occurrence") => Scope::Occurrence,
                ("scope", "series") => Scope::Series,
                ("scope", other) => {
                    return Err(ApiError::bad_request(
                        "scope",
                        format!("must be `occurrence` or `series`, not `{other}`"),
                    ));
                }
                (other, _) => {
                    return Err(ApiError::bad_request(
                        other,
                        format!("unknown query parameter `{other}`"),
                    ));
                }
            };
        }
        Ok(scope)
    }
}

/// `DELETE /api/tasks/{id}`: 204, the task's last state in `deleted.v1`.
/// With [`Scope::Series`] the series is ended in the same transaction, so
/// recurring-task generates nothing after it.
pub fn delete(
    kv: &impl KeyValue,
    caller: &Caller,
    id: &str,
    if_match: &IfMatch,
    scope: Scope,
) -> Result<Response, ApiError> {
    commit(kv, caller, id, None, |current| {
        let current = current.ok_or_else(|| not_found(id))?;
        let mut extra = Vec::new();
        if scope == Scope::Series {
            let series_id = current.series_id.as_deref().ok_or_else(|| {
                ApiError::validation(
                    "scope",
                    format!("task {id} is not part of a recurring series"),
                )
            })?;
            let (mut record, etag) =
                series::read_record(kv, caller.user_id(), series_id).map_err(store_error)?;
            record.ended = true;
            extra.push(series::write_record(
                caller.user_id(),
                series_id,
                &record,
                etag,
            ));
        }
        if_match.check(current)?;
        let events = events::transition(
            &caller.origin,
            event_type::TASK_DELETED,
            current,
            (Some(current), None),
            CancelReason::Deleted,
        )
        .map_err(event_error)?;
        Ok(Change::Commit {
            task: None,
            events,
            extra,
            reply: Response::no_content(),
        })
    })
}

/// `GET /api/tasks/{id}`.
pub fn get(kv: &impl KeyValue, caller: &Caller, id: &str) -> Result<Response, ApiError> {
    match store::get(kv, caller.user_id(), id).map_err(store_error)? {
        Some(task) => Ok(task_response(200, &task)),
        None => Err(not_found(id)),
    }
}

/// The instant used as "now" for relative filters.
pub fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}
