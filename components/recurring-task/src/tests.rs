//! recurring-task against chat-api's real handler (each on its own
//! `MemoryKv`), wired as the host wires them: invocation adds the caller's
//! app id.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use todo_auth::SIGNING_KEY_SECRET;
use todo_domain::topics::event_type;
use todo_domain::{CloudEvent, KvError, MemoryKv, Request, Response, StaticSecrets};

use crate::series::{EndReason, Outcome, on_event};

const KEY: &str = "test-signing-key-with-at-least-32-bytes";

struct World {
    chat: MemoryKv,
    recurring: MemoryKv,
    token: String,
}

fn secrets() -> StaticSecrets {
    StaticSecrets::default().with(SIGNING_KEY_SECRET, KEY)
}

impl World {
    fn new() -> World {
        let chat = MemoryKv::new();
        let body = json!({"email": "r@example.com", "password": "long enough", "time_zone": "UTC"});
        let resp = chat_api::api::handle(
            &chat,
            &secrets(),
            &Request::new("POST", "/api/auth/signup").with_body(body.to_string()),
        );
        assert_eq!(resp.status, 201);
        let token = resp.json_body().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        World {
            chat,
            recurring: MemoryKv::new(),
            token,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = Request::new(method, path)
            .with_header("authorization", &format!("Bearer {}", self.token));
        if let Some(body) = body {
            req = req.with_body(body.to_string());
        }
        let resp = chat_api::api::handle(&self.chat, &secrets(), &req);
        (resp.status, resp.json_body().unwrap_or(Value::Null))
    }

    fn create(&self, body: Value) -> Value {
        let (status, task) = self.call("POST", "/api/tasks", Some(body));
        assert_eq!(status, 201, "{task}");
        task
    }

    /// The last event chat-api committed of type `ty`.
    fn last_event(&self, ty: &str) -> CloudEvent {
        self.chat
            .published()
            .into_iter()
            .rev()
            .find(|p| p.event.ty == ty)
            .map(|p| p.event)
            .unwrap_or_else(|| panic!("no {ty} event"))
    }

    /// Delivers `event` to recurring-task, which invokes chat-api.
    fn deliver(&self, event: &CloudEvent) -> Outcome {
        let invoke = |app: &str, req: &Request| -> Result<Response, KvError> {
            assert_eq!(app, "chat-api");
            let req = req.clone().with_header("dapr-caller-app-id", crate::SOURCE);
            Ok(chat_api::api::handle(&self.chat, &secrets(), &req))
        };
        on_event(&self.recurring, &invoke, event).expect("handled")
    }

    fn complete(&self, id: &str) -> CloudEvent {
        let (status, body) = self.call("POST", &format!("/api/tasks/{id}/complete"), None);
        assert_eq!(status, 200, "{body}");
        self.last_event(event_type::TASK_COMPLETED)
    }

    fn tasks(&self) -> Vec<Value> {
        let (status, body) = self.call("GET", "/api/tasks?sort=created", None);
        assert_eq!(status, 200, "{body}");
        body["tasks"].as_array().unwrap().clone()
    }

    fn announced(&self, ty: &str) -> Vec<CloudEvent> {
        self.recurring
            .published()
            .into_iter()
            .filter(|p| p.event.ty == ty)
            .map(|p| p.event)
            .collect()
    }
}

fn generated(outcome: &Outcome) -> (String, bool) {
    match outcome {
        Outcome::Generated { task_id, created } => (task_id.clone(), *created),
        other => panic!("expected a generated task, got {other:?}"),
    }
}

fn daily(date: &str) -> Value {
    json!({"title": "water plants", "priority": "high", "tags": ["home"],
           "due": {"date": date, "time": "09:00", "time_zone": "Europe/London"},
           "recurrence": {"rrule": "FREQ=DAILY"},
           "reminders": [{"before_minutes": 15}, {"at": format!("{date}T07:00:00Z")}]})
}

#[test]
fn completion_generates_exactly_one_next_task() {
    let w = World::new();
    let first = w.create(daily("2027-03-27"));
    let completed = w.complete(first["id"].as_str().unwrap());
    let (next_id, created) = generated(&w.deliver(&completed));
    assert!(created);

    // The next task: same content, next due across the clock change (09:00
    // BST is 08:00Z), occurrence 2, reminders moved with the due.
    let (_, next) = w.call("GET", &format!("/api/tasks/{next_id}"), None);
    assert_eq!(next["title"], "water plants");
    assert_eq!(next["priority"], "high");
    assert_eq!(next["tags"], json!(["home"]));
    assert_eq!(next["status"], "open");
    assert_eq!(next["series_id"], first["id"]);
    assert_eq!(next["occurrence"], 2);
    assert_eq!(next["due"]["date"], "2027-03-28");
    assert_eq!(next["due"]["time"], first["due"]["time"]);
    assert_eq!(next["due_at"], "2027-03-28T08:00:00Z");
    assert_eq!(next["recurrence"], first["recurrence"]);
    assert_eq!(next["reminders"][0]["before_minutes"], 15);
    assert_eq!(next["reminders"][1]["at"], "2027-03-28T06:00:00Z");
    // chat-api published its creation and scheduled its reminders.
    let created_event = w.last_event(event_type::TASK_CREATED);
    assert_eq!(created_event.subject.as_deref(), Some(next_id.as_str()));

    // A redelivery, and an un-complete + complete, find the same task.
    assert_eq!(generated(&w.deliver(&completed)), (next_id.clone(), false));
    let first_id = first["id"].as_str().unwrap();
    let (status, _) = w.call("POST", &format!("/api/tasks/{first_id}/uncomplete"), None);
    assert_eq!(status, 200);
    let again = w.complete(first_id);
    assert_ne!(again.id, completed.id);
    assert_eq!(generated(&w.deliver(&again)), (next_id.clone(), false));
    assert_eq!(w.tasks().len(), 2);

    // Every announcement of that task has the same id: one for consumers.
    let announced = w.announced(event_type::RECURRING_TASK_GENERATED);
    assert_eq!(announced.len(), 3);
    assert!(
        announced
            .iter()
            .all(|e| e.id == format!("generated.{next_id}"))
    );
    let data: Value = announced[0].data_as().unwrap();
    assert_eq!(data["previous_task_id"], first["id"]);
    assert_eq!(data["occurrence"], 2);
    assert_eq!(data["task"]["id"], next_id.as_str());
}

#[test]
fn deleting_an_occurrence_skips_it_and_deleting_the_series_ends_it() {
    let w = World::new();
    let first = w.create(daily("2027-01-10"));
    let completed = w.complete(first["id"].as_str().unwrap());
    let (second, _) = generated(&w.deliver(&completed));

    // Plain delete of the open 2nd: the series goes on with the 3rd.
    let (status, _) = w.call("DELETE", &format!("/api/tasks/{second}"), None);
    assert_eq!(status, 204);
    let (third, created) = generated(&w.deliver(&w.last_event(event_type::TASK_DELETED)));
    assert!(created);
    let (_, t) = w.call("GET", &format!("/api/tasks/{third}"), None);
    assert_eq!(
        (t["occurrence"].clone(), t["due"]["date"].clone()),
        (json!(3), json!("2027-01-12"))
    );
    // The deleted 2nd is never brought back by a late redelivery.
    assert_eq!(w.deliver(&completed), Outcome::AlreadyGenerated);

    // `?scope=series`: the 3rd goes and nothing follows it.
    let (status, _) = w.call("DELETE", &format!("/api/tasks/{third}?scope=series"), None);
    assert_eq!(status, 204);
    let deleted = w.last_event(event_type::TASK_DELETED);
    assert_eq!(w.deliver(&deleted), Outcome::Ended(EndReason::Deleted));
    assert_eq!(w.deliver(&deleted), Outcome::Ended(EndReason::Deleted));
    let ended = w.announced(event_type::RECURRING_SERIES_ENDED);
    assert_eq!(ended.len(), 2);
    assert!(
        ended
            .iter()
            .all(|e| e.id == format!("ended.{}", first["id"].as_str().unwrap()))
    );
    let ids: Vec<Value> = w.tasks().iter().map(|t| t["id"].clone()).collect();
    assert_eq!(ids, vec![first["id"].clone()]);
}

#[test]
fn count_ends_the_series_and_completion_basis_starts_from_the_completion() {
    let w = World::new();
    let mut body = daily("2027-01-10");
    body["recurrence"] = json!({"rrule": "FREQ=DAILY;COUNT=2"});
    let first = w.create(body);
    let (second, _) = generated(&w.deliver(&w.complete(first["id"].as_str().unwrap())));
    assert_eq!(
        w.deliver(&w.complete(&second)),
        Outcome::Ended(EndReason::RuleEnd)
    );
    assert_eq!(w.tasks().len(), 2);

    // Due three days ago, completed now.
    let late = (Utc::now() - Duration::days(3)).date_naive();
    let due = json!({"date": late.to_string(), "time": "09:00", "time_zone": "UTC"});
    let on_schedule =
        w.create(json!({"title": "s", "due": due, "recurrence": {"rrule": "FREQ=DAILY"}}));
    let on_completion = w.create(json!({"title": "c", "due": due,
        "recurrence": {"rrule": "FREQ=DAILY", "basis": "completion"}}));
    let (s, _) = generated(&w.deliver(&w.complete(on_schedule["id"].as_str().unwrap())));
    let (c, _) = generated(&w.deliver(&w.complete(on_completion["id"].as_str().unwrap())));
    let (_, s) = w.call("GET", &format!("/api/tasks/{s}"), None);
    let (_, c) = w.call("GET", &format!("/api/tasks/{c}"), None);
    // Schedule: the day after the due, though that is past too.
    assert_eq!(s["due"]["date"], (late + Duration::days(1)).to_string());
    // Completion: the first 09:00 after now; still the 2nd of its series.
    let c_at = chrono::DateTime::parse_from_rfc3339(c["due_at"].as_str().unwrap()).unwrap();
    assert!(
        c_at > Utc::now() && c_at <= Utc::now() + Duration::days(1),
        "{c}"
    );
    assert_eq!(c["occurrence"], 2);
}

#[test]
fn other_events_and_plain_tasks_are_ignored() {
    let w = World::new();
    let plain = w.create(json!({"title": "once"}));
    assert_eq!(
        w.deliver(&w.complete(plain["id"].as_str().unwrap())),
        Outcome::Ignored
    );
    assert_eq!(
        w.deliver(&w.last_event(event_type::TASK_CREATED)),
        Outcome::Ignored
    );
    // A done occurrence deleted later: its successor exists already.
    let first = w.create(daily("2027-01-10"));
    let id = first["id"].as_str().unwrap();
    w.deliver(&w.complete(id));
    let (status, _) = w.call("DELETE", &format!("/api/tasks/{id}"), None);
    assert_eq!(status, 204);
    assert_eq!(
        w.deliver(&w.last_event(event_type::TASK_DELETED)),
        Outcome::Ignored
    );
    assert!(
        w.recurring
            .published()
            .iter()
            .all(|p| p.event.ty != event_type::RECURRING_SERIES_ENDED)
    );
}

#[test]
fn the_instances_route_is_only_for_recurring_task() {
    let w = World::new();
    let first = w.create(daily("2027-01-10"));
    let body = json!({"from": first, "due": first["due"], "occurrence": 2});
    // Even a signed-in user cannot reach it, nor another app.
    for caller in [None, Some("audit")] {
        let mut req = Request::new("POST", crate::INSTANCES_ROUTE)
            .with_header("authorization", &format!("Bearer {}", w.token))
            .with_body(body.to_string());
        if let Some(app) = caller {
            req = req.with_header("dapr-caller-app-id", app);
        }
        let resp = chat_api::api::handle(&w.chat, &secrets(), &req);
        assert_eq!(resp.status, 404, "{caller:?}");
    }
    assert_eq!(w.tasks().len(), 1);
}
