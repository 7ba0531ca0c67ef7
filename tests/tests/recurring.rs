//! Recurring series end to end on every stack: chat-api publishes
//! `task.completed`, recurring-task computes the next due and asks chat-api
//! (service invocation: a direct call in-process, Dapr on the real stack)
//! to create the next task, which then appears in the user's list.
//!
//! The rule table is the one the model's native tests use
//! (`components/model/tests/recurrence_cases.json`): RFC 5545's examples
//! and the product's own cases, through the API here.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::api::{Api, WAIT};
use todo_tests::stack::stacks;
use todo_tests::{eventually, workspace_root};

const ENDED: &str = "com.todo.recurring.series-ended.v1";
const GENERATED: &str = "com.todo.recurring.task-generated.v1";
/// Generated tasks walked per case (the first is created by the test).
const WALK: usize = 4;

fn cases() -> Vec<Value> {
    let path = workspace_root().join("components/model/tests/recurrence_cases.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    table["cases"].as_array().unwrap().clone()
}

fn id(task: &Value) -> String {
    task["id"].as_str().expect("a task id").to_owned()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Every open task of the user, by title.
async fn open_by_title(api: &Api<'_>) -> BTreeMap<String, Vec<Value>> {
    let reply = api.get("/api/tasks?filter=status:open&limit=200").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for task in reply.body["tasks"].as_array().unwrap() {
        out.entry(task["title"].as_str().unwrap().to_owned())
            .or_default()
            .push(task.clone());
    }
    out
}

/// Waits until the open task titled `title` is occurrence `n`.
async fn occurrence(api: &Api<'_>, title: &str, n: u64) -> Value {
    eventually(
        &format!("[{}] `{title}` occurrence {n}", api.stack.name()),
        WAIT,
        || async {
            open_by_title(api)
                .await
                .remove(title)
                .and_then(|tasks| tasks.into_iter().find(|t| t["occurrence"] == n))
        },
    )
    .await
}

async fn complete(api: &Api<'_>, task: &Value) {
    let reply = api
        .post(&format!("/api/tasks/{}/complete", id(task)), &json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Waits for the series-ended event in `task`'s history; returns its data.
async fn ended(api: &Api<'_>, task: &Value) -> Value {
    eventually(
        &format!("[{}] series of {} ended", api.stack.name(), task["title"]),
        WAIT,
        || async {
            api.history(&id(task))
                .await
                .into_iter()
                .find(|e| e["event"]["type"] == ENDED)
                .map(|e| e["event"]["data"].clone())
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rule_of_the_table_expands_and_generates_its_dates() {
    let cases = cases();
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();
        let title = |i: usize| format!("case {i:02}");
        let mut current = Vec::new();
        let mut series = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let task = api
                .create(&json!({"title": title(i), "due": case["due"],
                                "recurrence": {"rrule": case["rrule"]}}))
                .await;
            // The series as /occurrences shows it.
            let expect = strings(&case["expect"]);
            let reply = api
                .get(&format!(
                    "/api/tasks/{}/occurrences?count={}",
                    id(&task),
                    expect.len()
                ))
                .await;
            assert_eq!(reply.status, 200, "[{name}] {}", reply.body);
            let got = reply.body["occurrences"].as_array().unwrap();
            let locals: Vec<&str> = got.iter().map(|o| o["local"].as_str().unwrap()).collect();
            assert_eq!(locals, expect, "[{name}] {}", case["name"]);
            let expect_at = strings(&case["expect_at"]);
            if !expect_at.is_empty() {
                let ats: Vec<&str> = got.iter().map(|o| o["at"].as_str().unwrap()).collect();
                assert_eq!(ats, expect_at, "[{name}] {}", case["name"]);
            }
            series.push(id(&task));
            current.push(task);
        }

        // Generation: complete every case's current task, then find each
        // next one, round after round.
        let walk = |case: &Value| strings(&case["expect"]).len().min(WALK);
        for step in 1..WALK {
            for (i, case) in cases.iter().enumerate() {
                if step < walk(case) {
                    complete(&api, &current[i]).await;
                }
            }
            for (i, case) in cases.iter().enumerate() {
                if step >= walk(case) {
                    continue;
                }
                let next = occurrence(&api, &title(i), step as u64 + 1).await;
                let what = format!("[{name}] {} step {step}: {next}", case["name"]);
                let expect = &strings(&case["expect"])[step];
                assert_eq!(next["due"]["date"], expect[..10], "{what}");
                if let Some(at) = case["expect_at"].get(step) {
                    assert_eq!(&next["due_at"], at, "{what}");
                }
                // The zone and the nominal time are the series'.
                assert_eq!(next["due"]["time_zone"], case["due"]["time_zone"], "{what}");
                assert_eq!(next["due"]["time"], current[i]["due"]["time"], "{what}");
                assert_eq!(next["series_id"], series[i].as_str(), "{what}");
                current[i] = next;
            }
        }

        // Series that end within the walk: completing the last task ends
        // them, and nothing follows.
        let mut checked = 0;
        for (i, case) in cases.iter().enumerate() {
            if case["total"].as_u64() != Some(walk(case) as u64) {
                continue;
            }
            complete(&api, &current[i]).await;
            let data = ended(&api, &current[i]).await;
            assert_eq!(data["reason"], "rule_end", "[{name}] {}", case["name"]);
            assert!(
                !open_by_title(&api).await.contains_key(&title(i)),
                "[{name}]"
            );
            checked += 1;
        }
        assert!(checked >= 3, "the table lost its short series");
    }
}

fn daily_due(days_from_today: i64, zone: &str) -> Value {
    let date = (Utc::now() + Duration::days(days_from_today)).date_naive();
    json!({"date": date.to_string(), "time": "09:00", "time_zone": zone})
}

#[tokio::test(flavor = "multi_thread")]
async fn basis_count_until_deletes_and_reminders() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();

        // Completed three days late: the schedule goes on from the missed
        // due, the completion basis from now.
        let late = daily_due(-3, "UTC");
        let schedule = api
            .create(&json!({"title": "schedule", "due": late,
                            "recurrence": {"rrule": "FREQ=DAILY"}}))
            .await;
        let completion = api
            .create(&json!({"title": "completion", "due": late,
                            "recurrence": {"rrule": "FREQ=DAILY", "basis": "completion"}}))
            .await;
        // COUNT=3 stops after the third; UNTIL already past ends at once.
        let counted = api
            .create(
                &json!({"title": "counted", "due": daily_due(1, "Europe/London"),
                            "recurrence": {"rrule": "FREQ=DAILY;COUNT=3"}}),
            )
            .await;
        let yesterday = (Utc::now() - Duration::days(1)).format("%Y%m%d");
        let until = api
            .create(&json!({"title": "until", "due": daily_due(-5, "UTC"),
                            "recurrence": {"rrule": format!("FREQ=WEEKLY;UNTIL={yesterday}")}}))
            .await;
        // Reminders move with the due: 30 minutes before, and an absolute
        // one the evening before.
        let due = daily_due(2, "America/New_York");
        let evening = format!(
            "{}T23:00:00Z",
            (Utc::now() + Duration::days(1)).date_naive()
        );
        let reminded = api
            .create(&json!({"title": "reminded", "due": due,
                            "recurrence": {"rrule": "FREQ=WEEKLY"},
                            "reminders": [{"before_minutes": 30}, {"at": evening}]}))
            .await;
        for task in [&schedule, &completion, &counted, &until, &reminded] {
            complete(&api, task).await;
        }

        let next = occurrence(&api, "schedule", 2).await;
        assert_eq!(
            next["due"]["date"],
            daily_due(-2, "UTC")["date"],
            "[{name}]"
        );
        let next = occurrence(&api, "completion", 2).await;
        let at = chrono::DateTime::parse_from_rfc3339(next["due_at"].as_str().unwrap()).unwrap();
        assert!(
            at > Utc::now() && at <= Utc::now() + Duration::days(1),
            "[{name}] {next}"
        );

        let data = ended(&api, &until).await;
        assert_eq!(data["reason"], "rule_end", "[{name}]");
        assert!(!open_by_title(&api).await.contains_key("until"), "[{name}]");

        let second = occurrence(&api, "counted", 2).await;
        complete(&api, &second).await;
        let third = occurrence(&api, "counted", 3).await;
        complete(&api, &third).await;
        ended(&api, &third).await;
        assert!(
            !open_by_title(&api).await.contains_key("counted"),
            "[{name}]"
        );

        let next = occurrence(&api, "reminded", 2).await;
        assert_eq!(
            next["reminders"][0]["before_minutes"], 30,
            "[{name}] {next}"
        );
        let moved = (chrono::DateTime::parse_from_rfc3339(&evening).unwrap() + Duration::days(7))
            .with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        assert_eq!(
            next["reminders"][1]["at"],
            moved.as_str(),
            "[{name}] {next}"
        );
        // chat-api created it like any task (created, both reminders
        // scheduled) and recurring-task announced it (another topic, so in
        // no particular order with those).
        let types = api.history_types(&id(&next), 4).await;
        assert!(
            types.iter().any(|t| t == "com.todo.task.created.v1"),
            "[{name}] {types:?}"
        );
        let scheduled = types
            .iter()
            .filter(|t| *t == "com.todo.reminder.scheduled.v1")
            .count();
        assert_eq!(scheduled, 2, "[{name}] {types:?}");
        assert!(types.iter().any(|t| t == GENERATED), "[{name}] {types:?}");

        // A plain delete skips one occurrence; `?scope=series` ends it all.
        let reply = api
            .call("DELETE", &format!("/api/tasks/{}", id(&next)), None, &[])
            .await;
        assert_eq!(reply.status, 204, "[{name}] {}", reply.body);
        let third = occurrence(&api, "reminded", 3).await;
        for (query, status, field) in [("scope=all", 400, "scope"), ("colour=red", 400, "colour")] {
            let reply = api
                .call(
                    "DELETE",
                    &format!("/api/tasks/{}?{query}", id(&third)),
                    None,
                    &[],
                )
                .await;
            assert_eq!(reply.status, status, "[{name}] {}", reply.body);
            assert_eq!(reply.body["error"]["field"], field, "[{name}]");
        }
        let plain = api.create(&json!({"title": "plain"})).await;
        let reply = api
            .call(
                "DELETE",
                &format!("/api/tasks/{}?scope=series", id(&plain)),
                None,
                &[],
            )
            .await;
        assert_eq!(reply.status, 422, "[{name}] {}", reply.body);
        let reply = api
            .call(
                "DELETE",
                &format!("/api/tasks/{}?scope=series", id(&third)),
                None,
                &[],
            )
            .await;
        assert_eq!(reply.status, 204, "[{name}] {}", reply.body);
        let data = ended(&api, &third).await;
        assert_eq!(data["reason"], "deleted", "[{name}]");
        assert!(
            !open_by_title(&api).await.contains_key("reminded"),
            "[{name}]"
        );

        // The route recurring-task calls is not reachable from outside,
        // even by a signed-in user claiming to be recurring-task.
        let internal = api
            .url("/api/tasks")
            .replace("/api/tasks", "/internal/series/instances");
        let resp = api
            .session
            .http
            .post(&internal)
            .header("dapr-caller-app-id", "recurring-task")
            .json(&json!({"from": next, "due": next["due"], "occurrence": 9}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "[{name}]");
        assert!(
            !open_by_title(&api).await.contains_key("reminded"),
            "[{name}]"
        );
        if name == "real stack" {
            // Even a genuine invocation (the sidecar's token) cannot make
            // a task for another user by naming them in the body: chat-api
            // takes the user from its own record of the task followed.
            let bob = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
            let mut forged = next.clone();
            forged["user_id"] = bob.session.user["id"].clone();
            let resp = reqwest::Client::new()
                .post(&internal)
                .header("dapr-caller-app-id", "recurring-task")
                .header("dapr-api-token", todo_tests::real_stack::APP_TOKEN)
                .json(&json!({"from": forged, "due": next["due"], "occurrence": 9}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_eq!(
                (status, body["error"]["field"].clone()),
                (422, json!("from")),
                "[{name}] {body}"
            );
            let listed = bob.get("/api/tasks").await;
            assert_eq!(listed.body["tasks"], json!([]), "[{name}] {}", listed.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_next_task_whatever_completes_it_how_often() {
    for mut stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();
        let first = api
            .create(&json!({"title": "twice", "due": daily_due(1, "UTC"),
                            "recurrence": {"rrule": "FREQ=DAILY"}}))
            .await;
        // Two devices complete it at once: one completion, one next task.
        let path = format!("/api/tasks/{}/complete", id(&first));
        let empty = json!({});
        let (a, b) = tokio::join!(api.post(&path, &empty), api.post(&path, &empty));
        assert_eq!((a.status, b.status), (200, 200), "[{name}]");
        let next = occurrence(&api, "twice", 2).await;

        // Un-complete + complete: a second `completed` event.
        let reply = api
            .post(&format!("/api/tasks/{}/uncomplete", id(&first)), &json!({}))
            .await;
        assert_eq!(reply.status, 200, "[{name}] {}", reply.body);
        complete(&api, &first).await;
        // And the broker delivering the first `completed` once more.
        let history = api.history_types(&id(&first), 3).await;
        let completed_event = api
            .history(&id(&first))
            .await
            .into_iter()
            .find(|e| e["event"]["type"] == "com.todo.task.completed.v1")
            .map(|e| e["event"].clone())
            .unwrap_or_else(|| panic!("[{name}] no completed event: {history:?}"));
        let session = api.session.clone();
        drop(api);
        let redelivered =
            tokio::task::block_in_place(|| stack.redeliver("task-events", &completed_event))
                .unwrap();
        assert!(redelivered, "[{name}] could not redeliver");
        let api = Api::new(stack.as_ref(), session);

        // A later series of the same user: its events are published after
        // those above and reach recurring-task in order (one user's events
        // share a partition), so once its next task exists, every repeat
        // above has been handled.
        let sentinel = api
            .create(&json!({"title": "sentinel", "due": daily_due(1, "UTC"),
                            "recurrence": {"rrule": "FREQ=DAILY"}}))
            .await;
        complete(&api, &sentinel).await;
        let sentinel_next = occurrence(&api, "sentinel", 2).await;
        // The audit consumes those events in the same order: once it holds
        // the sentinel's, it has seen every repeat above too.
        eventually(
            &format!("[{name}] the audit has the sentinel's next task"),
            WAIT,
            || async {
                let history = api.history(&id(&sentinel_next)).await;
                history
                    .iter()
                    .any(|e| e["event"]["type"] == GENERATED)
                    .then_some(())
            },
        )
        .await;

        let reply = api.get("/api/tasks?q=twice&limit=50").await;
        let tasks = reply.body["tasks"].as_array().unwrap();
        assert_eq!(
            tasks.len(),
            2,
            "[{name}] redelivered: {redelivered}: {tasks:?}"
        );
        let open: Vec<&Value> = tasks.iter().filter(|t| t["status"] == "open").collect();
        assert_eq!(open.len(), 1, "[{name}]");
        assert_eq!(open[0]["id"], next["id"], "[{name}]");
        // Each repeat announced the same task under the same event id:
        // the audit log holds it once.
        let generated = api
            .history(&id(&next))
            .await
            .into_iter()
            .filter(|e| e["event"]["type"] == GENERATED)
            .count();
        assert_eq!(generated, 1, "[{name}]");
    }
}
