//! Reminders end to end on every stack: chat-api's `reminder.scheduled`
//! becomes a job in notification (embedded scheduler in-process, Dapr Jobs
//! through the Scheduler on the real stack) that publishes
//! `reminder.triggered` at its instant, never before; cancelled ones never
//! fire; one due while the stack is down fires once, late.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use todo_tests::account::{Session, sign_up};
use todo_tests::api::{Api, WAIT};
use todo_tests::real_stack::{Infra, RealStack};
use todo_tests::stack::{InProcess, stacks};
use todo_tests::{eventually, workspace_root};

const TRIGGERED: &str = "com.todo.reminder.triggered.v1";

fn in_seconds(s: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(s)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// The `triggered` events in `task`'s history once there are `n`.
async fn triggered(api: &Api<'_>, task: &str, n: usize) -> Vec<Value> {
    eventually(
        &format!("[{}] {n} triggered reminders of {task}", api.stack.name()),
        WAIT,
        || async {
            let fired: Vec<Value> = api
                .history(task)
                .await
                .into_iter()
                .filter(|e| e["event"]["type"] == TRIGGERED)
                .map(|e| e["event"].clone())
                .collect();
            (fired.len() >= n).then_some(fired)
        },
    )
    .await
}

fn triggered_now(entries: &[Value]) -> usize {
    entries
        .iter()
        .filter(|e| e["event"]["type"] == TRIGGERED)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_fire_at_their_instant_and_cancelled_ones_never() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();
        let at = in_seconds(4);
        let fires = api
            .create(&json!({"title": "fires", "reminders": [{"at": at}]}))
            .await;
        let deleted = api
            .create(&json!({"title": "deleted", "reminders": [{"at": at}]}))
            .await;
        let completed = api
            .create(&json!({"title": "completed", "reminders": [{"at": at}]}))
            .await;
        // A reminder at its due; the due then moves two seconds later.
        let due = Utc::now() + chrono::Duration::seconds(4);
        let moved_to = due + chrono::Duration::seconds(2);
        let due_json = |t: DateTime<Utc>| {
            json!({"date": t.format("%Y-%m-%d").to_string(),
                   "time": t.format("%H:%M:%S").to_string(), "time_zone": "UTC"})
        };
        let moved = api
            .create(&json!({"title": "moved", "due": due_json(due),
                            "reminders": [{"before_minutes": 0}]}))
            .await;
        let id = |t: &Value| t["id"].as_str().unwrap().to_owned();
        let r = api
            .call("DELETE", &format!("/api/tasks/{}", id(&deleted)), None, &[])
            .await;
        assert_eq!(r.status, 204, "[{name}] {}", r.body);
        let r = api
            .post(
                &format!("/api/tasks/{}/complete", id(&completed)),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "[{name}] {}", r.body);
        let r = api
            .call(
                "PATCH",
                &format!("/api/tasks/{}", id(&moved)),
                Some(&json!({"due": due_json(moved_to)})),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "[{name}] {}", r.body);

        let fired = triggered(&api, &id(&fires), 1).await;
        let event = &fired[0];
        assert_eq!(event["data"]["at"], at.as_str(), "[{name}] {event}");
        assert_eq!(event["data"]["title"], "fires");
        assert_eq!(event["data"]["late"], false, "[{name}] {event}");
        assert_eq!(event["userid"], api.session.user_id());
        // Never early: it fired at or after its instant.
        assert!(
            instant(&event["data"]["fired_at"]) >= instant(&event["data"]["at"]),
            "[{name}] early: {event}"
        );

        let moved_fired = triggered(&api, &id(&moved), 1).await;
        let fired_at = instant(&moved_fired[0]["data"]["fired_at"]);
        assert_eq!(
            instant(&moved_fired[0]["data"]["at"]).timestamp(),
            moved_to.timestamp(),
            "[{name}]"
        );
        // Never early (`at` is the moved due, whole seconds).
        let moved_at = instant(&moved_fired[0]["data"]["at"]);
        assert!(fired_at >= moved_at, "[{name}] early: {}", moved_fired[0]);

        // By now the cancelled ones' instant is long past: they never fired.
        for task in [&deleted, &completed] {
            assert_eq!(
                triggered_now(&api.history(&id(task)).await),
                0,
                "[{name}] {}",
                task["title"]
            );
        }
        // Nor did the moved task fire at its old instant, nor anything twice.
        assert_eq!(
            triggered_now(&api.history(&id(&moved)).await),
            1,
            "[{name}]"
        );
        assert_eq!(
            triggered_now(&api.history(&id(&fires)).await),
            1,
            "[{name}]"
        );
    }
}

/// In-process: the host is killed before the reminder's instant and comes
/// back after it. (The real stack's counterpart is below.)
#[tokio::test(flavor = "multi_thread")]
async fn a_reminder_due_while_the_host_is_down_fires_once_late() {
    let mut stack = tokio::task::block_in_place(InProcess::start).expect("in-process stack");
    let session = sign_up(&stack).await;
    let at = in_seconds(2);
    let task = Api::new(&stack, session.clone())
        .create(&json!({"title": "while down", "reminders": [{"at": at}]}))
        .await;
    let task = task["id"].as_str().unwrap().to_owned();
    stack.host.kill9();
    // Down until well after the instant.
    tokio::time::sleep(Duration::from_secs(4)).await;
    tokio::task::block_in_place(|| stack.host.restart()).expect("restart");
    let api = Api::new(&stack, session);
    let fired = triggered(&api, &task, 1).await;
    assert_eq!(fired[0]["data"]["late"], true, "{}", fired[0]);
    assert!(instant(&fired[0]["data"]["fired_at"]) >= instant(&fired[0]["data"]["at"]));
    // Once: a second firing would have to come with the first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(triggered_now(&api.history(&task).await), 1);
}

/// The job notification keeps for `task`'s only reminder (its name is a
/// function of task, reminder and instant).
fn job_name(task: &Value) -> String {
    let at = instant(&task["reminders"][0]["at"]);
    format!(
        "rem.{}.{}.{}",
        task["id"].as_str().unwrap(),
        task["reminders"][0]["id"].as_str().unwrap(),
        at.timestamp_millis()
    )
}

/// Real stack: a reminder scheduled before a restart of notification's
/// pod fires after it on time; one that comes due while notification's
/// host (sidecar up), its whole pod, or the Dapr Scheduler is down fires
/// once when they are back, flagged late. Dapr is asked to keep retrying a
/// job until the app takes it (its default gives up after 3 tries).
#[tokio::test(flavor = "multi_thread")]
async fn on_the_real_stack_reminders_survive_restarts_and_downtime() {
    let Some(infra) = Infra::from_env() else {
        eprintln!("note: TODO_STACK_* not set, real-stack tier skipped (run `cargo xtask test`)");
        return;
    };
    let manifest = workspace_root().join("spin.toml");
    let mut stack = tokio::task::block_in_place(|| RealStack::start(infra, &manifest))
        .expect("real stack starts");
    let session = sign_up(&stack).await;
    let notification = stack.pod("notification");

    // Creates a task whose reminder is `lead` seconds away and waits until
    // Dapr holds its job, which must be before its instant (else the case
    // would not test what it says).
    async fn scheduled(stack: &RealStack, session: &Session, title: &str, lead: i64) -> Value {
        let api = Api::new(stack, session.clone());
        let task = api
            .create(&json!({"title": title, "reminders": [{"at": in_seconds(lead)}]}))
            .await;
        let job = job_name(&task);
        let i = stack.pod("notification");
        eventually(&format!("job {job} scheduled"), WAIT, || async {
            stack.has_job(i, &job).unwrap().then_some(())
        })
        .await;
        let at = instant(&task["reminders"][0]["at"]);
        assert!(
            Utc::now() + chrono::Duration::seconds(1) < at,
            "{title}: scheduled too close to its instant ({at}) to test downtime"
        );
        task
    }
    async fn past(task: &Value, by: i64) {
        let until = instant(&task["reminders"][0]["at"]) + chrono::Duration::seconds(by);
        let wait = (until - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
    }

    // Due while the host is down and its sidecar up: Dapr retries the
    // callback until the host is back (start_pod finds the sidecar running
    // and only starts the host).
    let host_down = scheduled(&stack, &session, "host down", 8).await;
    stack.kill_host(notification);
    past(&host_down, 2).await;
    tokio::task::block_in_place(|| stack.start_pod(notification)).unwrap();
    // Due while the whole pod is down.
    let pod_down = scheduled(&stack, &session, "pod down", 8).await;
    stack.kill_host(notification);
    stack.kill_daprd(notification);
    past(&pod_down, 2).await;
    tokio::task::block_in_place(|| stack.start_pod(notification)).unwrap();
    // Due while the Scheduler is down (notification stays up): late by
    // more than the lateness threshold. (The lead covers the consumer
    // group's rebalance after the restart above.)
    let scheduler_down = scheduled(&stack, &session, "scheduler down", 12).await;
    stack.stop_scheduler().unwrap();
    past(&scheduler_down, 6).await;
    stack.start_scheduler().unwrap();
    // Restarted (host and sidecar) well before its instant: on time.
    let before = scheduled(&stack, &session, "before restart", 12).await;
    tokio::task::block_in_place(|| stack.restart_pod(notification)).unwrap();

    let api = Api::new(&stack, session.clone());
    for task in [&host_down, &pod_down, &scheduler_down, &before] {
        let fired = triggered(&api, &id_of(task), 1).await;
        let late = task["title"] != "before restart";
        assert_eq!(fired[0]["data"]["late"], late, "{}", fired[0]);
        assert!(instant(&fired[0]["data"]["fired_at"]) >= instant(&fired[0]["data"]["at"]));
    }
    // Each exactly once: by now a second firing would have come with the
    // first (retries are 1 s apart).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for task in [&host_down, &pod_down, &scheduler_down, &before] {
        assert_eq!(
            triggered_now(&api.history(&id_of(task)).await),
            1,
            "{}",
            task["title"]
        );
    }
}

fn id_of(task: &Value) -> String {
    task["id"].as_str().unwrap().to_owned()
}
