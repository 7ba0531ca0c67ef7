//! Cross-service scenarios through the public API, run against every stack
//! in [`todo_tests::stack::stacks`]: what each mutation publishes reaches
//! the user's audit history exactly once, across crashes.

use std::collections::HashSet;

use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::api::{Api, WAIT};
use todo_tests::eventually;
use todo_tests::stack::stacks;

const CREATED: &str = "com.todo.task.created.v1";

#[tokio::test(flavor = "multi_thread")]
async fn a_created_task_is_audited_exactly_once() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let task = api.create(&json!({"title": "Pay rent"})).await;
        let id = task["id"].as_str().unwrap();
        let types = api.history_types(id, 1).await;
        assert_eq!(types, [CREATED], "[{}]", stack.name());
        let entry = &api.history(id).await[0];
        let event = &entry["event"];
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["subject"], id);
        assert_eq!(event["userid"], api.session.user_id());
        assert_eq!(event["data"]["title"], "Pay rent");
        let got = api.get(&format!("/api/tasks/{id}")).await;
        assert_eq!((got.status, &got.body), (200, &task));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mutation_publishes_its_events_into_the_task_history() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();
        let task = api
            .create(&json!({
                "title": "Dentist",
                "due": {"date": "2030-01-10", "time": "09:00", "time_zone": "Europe/London"},
                "reminders": [{"before_minutes": 30}],
            }))
            .await;
        let id = task["id"].as_str().unwrap().to_owned();
        let path = format!("/api/tasks/{id}");
        // Moving the due moves the reminder: a cancel and a schedule.
        let moved = api
            .call(
                "PATCH",
                &path,
                Some(&json!({"due": {"date": "2030-01-11", "time": "10:00", "time_zone": "Europe/London"}})),
                &[],
            )
            .await;
        assert_eq!(moved.status, 200, "[{name}] {}", moved.body);
        let done = api.post(&format!("{path}/complete"), &json!({})).await;
        assert_eq!(done.status, 200, "[{name}] {}", done.body);
        let undone = api.post(&format!("{path}/uncomplete"), &json!({})).await;
        assert_eq!(undone.status, 200, "[{name}] {}", undone.body);
        let deleted = api.call("DELETE", &path, None, &[]).await;
        assert_eq!(deleted.status, 204, "[{name}] {}", deleted.body);

        let types = api.history_types(&id, 11).await;
        // The audit orders events by arrival; each topic keeps its order.
        let of = |prefix: &str| -> Vec<String> {
            types
                .iter()
                .filter(|t| t.starts_with(prefix))
                .cloned()
                .collect()
        };
        assert_eq!(
            of("com.todo.task."),
            [
                "com.todo.task.created.v1",
                "com.todo.task.updated.v1",
                "com.todo.task.completed.v1",
                "com.todo.task.uncompleted.v1",
                "com.todo.task.deleted.v1",
            ],
            "[{name}]"
        );
        assert_eq!(
            of("com.todo.reminder."),
            [
                "com.todo.reminder.scheduled.v1",
                "com.todo.reminder.cancelled.v1",
                "com.todo.reminder.scheduled.v1",
                "com.todo.reminder.cancelled.v1",
                "com.todo.reminder.scheduled.v1",
                "com.todo.reminder.cancelled.v1",
            ],
            "[{name}]"
        );
        let entries = api.history(&id).await;
        let event = |ty: &str, n: usize| -> Value {
            entries
                .iter()
                .filter(|e| e["event"]["type"] == ty)
                .nth(n)
                .map(|e| e["event"].clone())
                .unwrap()
        };
        let updated = event("com.todo.task.updated.v1", 0);
        assert_eq!(updated["data"]["changed_fields"], json!(["due"]));
        assert_eq!(updated["data"]["task"]["due_at"], "2030-01-11T10:00:00Z");
        // 30 minutes before 09:00 London (GMT in January), then 10:00.
        assert_eq!(
            event("com.todo.reminder.scheduled.v1", 0)["data"]["at"],
            "2030-01-10T08:30:00Z"
        );
        assert_eq!(
            event("com.todo.reminder.scheduled.v1", 1)["data"]["at"],
            "2030-01-11T09:30:00Z"
        );
        assert_eq!(
            event("com.todo.reminder.cancelled.v1", 1)["data"]["reason"],
            "completed"
        );
        assert_eq!(
            event("com.todo.reminder.cancelled.v1", 2)["data"]["reason"],
            "deleted"
        );
        for e in &entries {
            assert_eq!(e["event"]["subject"], id.as_str());
            assert_eq!(e["event"]["userid"], api.session.user_id());
            assert!(e["event"]["correlationid"].is_string());
        }
        let verify = api.get("/api/audit/verify").await;
        assert_eq!(verify.body["ok"], true, "[{name}] {}", verify.body);
        assert_eq!(verify.body["length"], 11, "[{name}] {}", verify.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_between_requests_loses_and_duplicates_nothing() {
    for mut stack in stacks() {
        let session = sign_up(stack.as_ref()).await;
        let mut ids = Vec::new();
        for round in 0..3 {
            let api = Api::new(stack.as_ref(), session.clone());
            for i in 0..4 {
                let task = api
                    .create(&json!({"title": format!("task {round}-{i}")}))
                    .await;
                ids.push(task["id"].as_str().unwrap().to_owned());
            }
            stack.crash_and_restart().expect("restart");
        }
        let api = Api::new(stack.as_ref(), session);
        for id in &ids {
            let got = api.get(&format!("/api/tasks/{id}")).await;
            assert_eq!(got.status, 200, "[{}] task {id} lost", stack.name());
        }
        // Every acknowledged task's event is audited, exactly once.
        for id in &ids {
            let entries = eventually(
                &format!("[{}] audit of {id}", stack.name()),
                WAIT,
                || async {
                    let e = api.history(id).await;
                    (!e.is_empty()).then_some(e)
                },
            )
            .await;
            assert_eq!(entries.len(), 1, "duplicate audit entries: {entries:?}");
            assert_eq!(entries[0]["event"]["type"], CREATED);
        }
        let list = api.get("/api/tasks?limit=200").await;
        let listed: HashSet<&str> = list.body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert_eq!(listed.len(), ids.len());
        assert!(ids.iter().all(|id| listed.contains(id.as_str())));
        let verify = api.get("/api/audit/verify").await;
        assert_eq!(verify.body["ok"], true, "{}", verify.body);
        assert_eq!(verify.body["length"], ids.len(), "{}", verify.body);
    }
}

/// Someone who can write the store but does not hold the audit chain key
/// rewrites a task's title in entry 2, then re-hashes entries 2 and 3 and
/// the head the way an unkeyed chain would be hashed (SHA-256 over the same
/// canonical bytes): `/verify` finds the forgery at entry 2.
#[tokio::test(flavor = "multi_thread")]
async fn a_chain_rehashed_in_the_store_without_the_key_fails_where_forged() {
    use audit::chain::{Entry, Head};
    use audit::store::Chain;
    use sha2::{Digest, Sha256};

    fn unkeyed_hash(entry: &Entry) -> String {
        let mut hasher = Sha256::new();
        hasher.update(entry.prev_hash.as_bytes());
        hasher.update(entry.canonical_bytes());
        hex::encode(hasher.finalize())
    }

    fn forge(values: Vec<Option<Vec<u8>>>) -> Vec<Vec<u8>> {
        let parse = |v: &Option<Vec<u8>>| v.as_deref().expect("the key is stored").to_vec();
        let mut second: Entry = serde_json::from_slice(&parse(&values[0])).unwrap();
        let mut third: Entry = serde_json::from_slice(&parse(&values[1])).unwrap();
        let mut head: Head = serde_json::from_slice(&parse(&values[2])).unwrap();
        second.event["data"]["title"] = json!("forged");
        second.hash = unkeyed_hash(&second);
        third.prev_hash = second.hash.clone();
        third.hash = unkeyed_hash(&third);
        head.hash = third.hash.clone();
        [
            serde_json::to_vec(&second),
            serde_json::to_vec(&third),
            serde_json::to_vec(&head),
        ]
        .into_iter()
        .map(Result::unwrap)
        .collect()
    }

    for mut stack in stacks() {
        let name = stack.name();
        let session = sign_up(stack.as_ref()).await;
        {
            let api = Api::new(stack.as_ref(), session.clone());
            for i in 0..3 {
                api.create(&json!({"title": format!("audited {i}")})).await;
            }
            let verified = eventually(&format!("[{name}] three audit entries"), WAIT, || async {
                let v = api.get("/api/audit/verify").await.body;
                (v["length"] == 3).then_some(v)
            })
            .await;
            assert_eq!(verified["ok"], true, "[{name}] {verified}");
        }
        let chain = Chain(session.user_id());
        let keys = [chain.entry_key(2), chain.entry_key(3), chain.head_key()];
        stack
            .rewrite_state("audit", &keys, &mut forge)
            .expect("the store is rewritten");

        let api = Api::new(stack.as_ref(), session.clone());
        // The forgery is in place: the trail now shows the forged title.
        let page = api.get("/api/audit").await.body;
        assert_eq!(
            page["entries"][1]["event"]["data"]["title"], "forged",
            "[{name}] {page}"
        );
        let v = api.get("/api/audit/verify").await;
        assert_eq!(v.status, 200, "[{name}] {}", v.body);
        assert_eq!(
            (v.body["ok"].clone(), v.body["broken_at"].clone()),
            (json!(false), json!(2)),
            "[{name}] {}",
            v.body
        );
    }
}
