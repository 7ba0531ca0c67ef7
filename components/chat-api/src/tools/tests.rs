//! The tools against `MemoryKv`: each does what its REST route does,
//! refuses bad arguments naming the argument, and never reaches another
//! user's tasks.

use serde_json::{Value, json};
use todo_domain::topics::event_type;
use todo_domain::{EventOrigin, MemoryKv};

use super::{ToolError, call, specs};
use crate::tasks::Caller;

fn caller(user: &str) -> Caller {
    Caller {
        origin: EventOrigin::new(crate::SOURCE, user, "corr-1"),
        time_zone: "Europe/Paris".into(),
    }
}

fn ok(kv: &MemoryKv, who: &Caller, name: &str, args: Value) -> Value {
    call(kv, who, name, &args).unwrap_or_else(|e| panic!("{name} {args}: {e:?}"))
}

fn failed(kv: &MemoryKv, who: &Caller, name: &str, args: Value) -> (u16, Option<String>) {
    match call(kv, who, name, &args) {
        Err(ToolError::Failed(e)) => (e.status, e.field),
        other => panic!("{name} {args}: expected a failure, got {other:?}"),
    }
}

fn types(kv: &MemoryKv) -> Vec<String> {
    kv.published().into_iter().map(|e| e.event.ty).collect()
}

#[test]
fn the_whole_lifecycle_goes_through_the_task_model() {
    let kv = MemoryKv::new();
    let ann = caller("ann");
    let added = ok(
        &kv,
        &ann,
        "add_task",
        json!({"title": "Dentist", "priority": "high", "tags": ["health"],
               "due": {"date": "2030-03-04", "time": "09:30"},
               "reminders": [{"before_minutes": 30}],
               "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=4"}}),
    );
    let task = &added["task"];
    let id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(task["due"]["time_zone"], "Europe/Paris");
    assert_eq!(task["reminders"].as_array().unwrap().len(), 1);
    assert!(
        task["recurrence"]["text"]
            .as_str()
            .unwrap()
            .contains("month")
    );

    let listed = ok(&kv, &ann, "list_tasks", json!({"filter": "priority:high"}));
    assert_eq!(listed["tasks"][0]["id"], id.as_str());
    assert!(
        ok(&kv, &ann, "list_tasks", json!({"query": "nothing like it"}))["tasks"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let updated = ok(
        &kv,
        &ann,
        "update_task",
        json!({"id": id, "priority": "urgent", "tags": null}),
    );
    assert_eq!(updated["task"]["priority"], "urgent");
    assert_eq!(updated["task"]["tags"], json!([]));
    assert_eq!(
        ok(&kv, &ann, "complete_task", json!({"id": id}))["task"]["status"],
        "completed"
    );
    assert_eq!(
        ok(&kv, &ann, "uncomplete_task", json!({"id": id}))["task"]["status"],
        "open"
    );
    assert_eq!(
        ok(&kv, &ann, "get_task", json!({"id": id}))["task"]["version"],
        4
    );
    assert_eq!(
        ok(&kv, &ann, "delete_task", json!({"id": id})),
        json!({"id": id, "deleted": true, "scope": "occurrence"})
    );
    assert_eq!(failed(&kv, &ann, "get_task", json!({"id": id})).0, 404);

    let published = types(&kv);
    for ty in [
        event_type::TASK_CREATED,
        event_type::TASK_UPDATED,
        event_type::TASK_COMPLETED,
        event_type::TASK_UNCOMPLETED,
        event_type::TASK_DELETED,
    ] {
        assert!(published.iter().any(|t| t == ty), "{ty} in {published:?}");
    }
}

#[test]
fn bad_arguments_name_the_argument_and_change_nothing() {
    let kv = MemoryKv::new();
    let ann = caller("ann");
    let cases = [
        ("add_task", json!({}), "title"),
        (
            "add_task",
            json!({"title": "x", "priority": "whenever"}),
            "priority",
        ),
        ("add_task", json!({"title": "x", "colour": "red"}), "colour"),
        (
            "add_task",
            json!({"title": "x", "due": {"date": "2030-02-30"}}),
            "due.date",
        ),
        (
            "add_task",
            json!({"title": "x", "recurrence": {"rrule": "FREQ=SOMETIMES"}}),
            "recurrence",
        ),
        ("get_task", json!({}), "id"),
        ("get_task", json!({"id": 7}), "id"),
        ("get_task", json!({"id": "a", "verbose": true}), "verbose"),
        ("list_tasks", json!({"limit": "ten"}), "limit"),
        ("list_tasks", json!({"filter": "due<<"}), "filter"),
        (
            "delete_task",
            json!({"id": "a", "scope": "everything"}),
            "scope",
        ),
    ];
    for (tool, args, field) in cases {
        let (status, named) = failed(&kv, &ann, tool, args.clone());
        assert!(matches!(status, 400 | 422), "{tool} {args}: {status}");
        let named = named.unwrap_or_default();
        assert!(
            named.starts_with(field),
            "{tool} {args}: named {named:?}, not {field}"
        );
    }
    assert!(kv.published().is_empty());
    assert_eq!(
        call(&kv, &ann, "drop_tables", &json!({})),
        Err(ToolError::Unknown("drop_tables".into()))
    );
    assert!(call(&kv, &ann, "add_task", &json!(["title"])).is_err());
}

#[test]
fn another_users_task_is_not_found_and_untouched() {
    let kv = MemoryKv::new();
    let (ann, bob) = (caller("ann"), caller("bob"));
    let id = ok(&kv, &ann, "add_task", json!({"title": "mine"}))["task"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = kv.published().len();
    for (tool, args) in [
        ("get_task", json!({"id": id})),
        ("update_task", json!({"id": id, "title": "yours"})),
        ("complete_task", json!({"id": id})),
        ("uncomplete_task", json!({"id": id})),
        ("delete_task", json!({"id": id})),
    ] {
        assert_eq!(failed(&kv, &bob, tool, args).0, 404, "{tool}");
    }
    assert!(
        ok(&kv, &bob, "list_tasks", json!({}))["tasks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(kv.published().len(), before);
    assert_eq!(
        ok(&kv, &ann, "get_task", json!({"id": id}))["task"]["title"],
        "mine"
    );
}

#[test]
fn every_listed_tool_runs() {
    let kv = MemoryKv::new();
    for spec in specs() {
        // Not "unknown": each listed tool is dispatched (its arguments may
        // be refused).
        assert_ne!(
            call(&kv, &caller("ann"), spec.name, &json!({})),
            Err(ToolError::Unknown(spec.name.into()))
        );
    }
}
