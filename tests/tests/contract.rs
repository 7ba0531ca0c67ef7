//! The event schemas themselves: every event type our services publish has
//! one, and a schema rejects what breaks it (so a passing check means
//! something). Events the scenarios produce are checked against these on
//! every stack (`todo_tests::api::Api::history`).

use serde_json::json;
use todo_tests::contract::{check_event, event_types};

#[test]
fn every_published_event_type_has_a_schema() {
    let types = event_types();
    for ty in [
        "com.todo.task.created.v1",
        "com.todo.task.updated.v1",
        "com.todo.task.completed.v1",
        "com.todo.task.uncompleted.v1",
        "com.todo.task.deleted.v1",
        "com.todo.reminder.scheduled.v1",
        "com.todo.reminder.cancelled.v1",
        "com.todo.reminder.triggered.v1",
        "com.todo.reminder.delivered.v1",
        "com.todo.reminder.failed.v1",
        "com.todo.recurring.task-generated.v1",
        "com.todo.recurring.series-ended.v1",
    ] {
        assert!(types.iter().any(|t| t == ty), "no schema for {ty}");
    }
}

fn cancelled() -> serde_json::Value {
    json!({
        "specversion": "1.0", "id": "e1", "source": "chat-api",
        "type": "com.todo.reminder.cancelled.v1", "subject": "t1",
        "time": "2026-11-27T10:00:00.000Z", "datacontenttype": "application/json",
        "userid": "u1", "correlationid": "c1",
        "data": {"task_id": "t1", "reminder": {"id": "r1", "before_minutes": 30},
                 "at": "2026-12-01T08:30:00Z", "reason": "deleted"},
    })
}

#[test]
fn schemas_accept_good_events_and_name_what_breaks_them() {
    check_event(&cancelled()).unwrap();
    let mut bad = cancelled();
    bad["data"]["reason"] = json!("bored");
    assert!(check_event(&bad).unwrap_err().contains("reason"));
    let mut bad = cancelled();
    bad.as_object_mut().unwrap().remove("userid");
    assert!(check_event(&bad).is_err());
    let mut bad = cancelled();
    bad["data"]["at"] = json!("next tuesday");
    assert!(check_event(&bad).is_err());
    let mut unknown = cancelled();
    unknown["type"] = json!("com.todo.reminder.cancelled.v9");
    assert!(check_event(&unknown).unwrap_err().contains("no schema"));
}
