//! The events each task mutation publishes, built in one place so every
//! surface (REST, the chat assistant, MCP) emits the same ones.
//!
//! `task-events`: created / completed / uncompleted / deleted carry the
//! task; updated carries `{task, changed_fields}`. `reminder-events`:
//! one `scheduled` or `cancelled` per reminder whose effective instant
//! appears or disappears (a moved due is a cancel plus a schedule).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use todo_domain::topics::{REMINDER_EVENTS, TASK_EVENTS, event_type};
use todo_domain::{EventError, EventOrigin, OutboxEvent};
use todo_model::task::format_instant;
use todo_model::{Reminder, Status, Task};

/// A task event of type `ty` whose payload is `data`.
pub fn task_event(
    origin: &EventOrigin,
    ty: &str,
    task: &Task,
    data: &impl Serialize,
) -> Result<OutboxEvent, EventError> {
    Ok(OutboxEvent {
        topic: TASK_EVENTS.to_owned(),
        event: origin.event(ty).subject(&task.id).data(data)?.build(),
    })
}

/// A task event of type `ty` carrying `task`, followed by the reminder
/// events of the change from `before` to `after`.
pub fn transition(
    origin: &EventOrigin,
    ty: &str,
    task: &Task,
    (before, after): (Option<&Task>, Option<&Task>),
    reason: CancelReason,
) -> Result<Vec<OutboxEvent>, EventError> {
    let mut events = vec![task_event(origin, ty, task, task)?];
    events.extend(reminder_changes(origin, before, after, reason)?);
    Ok(events)
}

/// `updated.v1`: the task after the change and the names of what changed.
pub fn updated(
    origin: &EventOrigin,
    task: &Task,
    changed: &[&str],
) -> Result<OutboxEvent, EventError> {
    task_event(
        origin,
        event_type::TASK_UPDATED,
        task,
        &json!({"task": task, "changed_fields": changed}),
    )
}

/// Why reminders stopped applying, carried by `cancelled` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// Edited away, or its instant moved (with the due).
    Changed,
    Completed,
    Deleted,
}

/// The reminders that should fire for `task` and when: none once the task
/// is completed or gone.
fn effective(task: Option<&Task>) -> Vec<(&Reminder, DateTime<Utc>)> {
    match task {
        Some(t) if t.status == Status::Open => t.reminder_instants(),
        _ => Vec::new(),
    }
}

/// `scheduled` / `cancelled` events for the change from `before` to
/// `after` (either may be absent: created, deleted).
pub fn reminder_changes(
    origin: &EventOrigin,
    before: Option<&Task>,
    after: Option<&Task>,
    reason: CancelReason,
) -> Result<Vec<OutboxEvent>, EventError> {
    let old = effective(before);
    let new = effective(after);
    let same = |a: &(&Reminder, DateTime<Utc>), b: &(&Reminder, DateTime<Utc>)| {
        a.0.id == b.0.id && a.1 == b.1
    };
    let mut events = Vec::new();
    for gone in old.iter().filter(|o| !new.iter().any(|n| same(o, n))) {
        let task = before.expect("old reminders come from a task");
        let data = json!({
            "task_id": task.id,
            "reminder": gone.0,
            "at": format_instant(gone.1),
            "reason": reason,
        });
        events.push(reminder_event(
            origin,
            event_type::REMINDER_CANCELLED,
            task,
            &data,
        )?);
    }
    for added in new.iter().filter(|n| !old.iter().any(|o| same(o, n))) {
        let task = after.expect("new reminders come from a task");
        let data = json!({
            "task_id": task.id,
            "title": task.title,
            "due": task.due,
            "due_at": task.due_at.map(format_instant),
            "reminder": added.0,
            "at": format_instant(added.1),
        });
        events.push(reminder_event(
            origin,
            event_type::REMINDER_SCHEDULED,
            task,
            &data,
        )?);
    }
    Ok(events)
}

fn reminder_event(
    origin: &EventOrigin,
    ty: &str,
    task: &Task,
    data: &serde_json::Value,
) -> Result<OutboxEvent, EventError> {
    Ok(OutboxEvent {
        topic: REMINDER_EVENTS.to_owned(),
        event: origin.event(ty).subject(&task.id).data(data)?.build(),
    })
}
