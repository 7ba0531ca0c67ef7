//! Real-time sync on every stack: each change and reminder reaches every
//! connected device of its user and no one else's; a reconnect resumes
//! exactly after its cursor (on the real stack, at the other websocket
//! replica); reminders that fire offline arrive once per device; bad
//! credentials, expiring tokens, a client that never reads and a killed
//! websocket host.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::api::{Api, WAIT};
use todo_tests::eventually;
use todo_tests::realtime::{Auth, Client, End, ticket};
use todo_tests::stack::stacks_with_env;

const KEY: &str = "realtime-scenarios-signing-key-0123456789abcdef";
/// Short timeouts so the scenarios see them pass.
const ENV: [(&str, &str); 4] = [
    ("TODO_SECRET_AUTH_SIGNING_KEY", KEY),
    ("TODO_VARIABLE_REMINDER_ACK_TIMEOUT_SECONDS", "4"),
    ("TODO_VARIABLE_CONNECTION_TTL_SECONDS", "3"),
    ("TODO_WS_PING_INTERVAL_MS", "500"),
];

fn event_of(frame: &Value) -> (&str, &str) {
    (
        frame["event"]["type"].as_str().unwrap_or_default(),
        frame["event"]["subject"].as_str().unwrap_or_default(),
    )
}

fn cursor_of(frame: &Value) -> u64 {
    frame["cursor"].as_str().unwrap().parse().unwrap()
}

/// Reads `n` event frames: their (type, subject), checking the cursors
/// follow each other from `after`.
async fn events(client: &mut Client, after: u64, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let frame = client.next_event().await;
        assert_eq!(cursor_of(&frame), after + 1 + i as u64, "{frame}");
        let (ty, subject) = event_of(&frame);
        out.push((ty.to_owned(), subject.to_owned()));
    }
    out
}

/// Creates, updates, completes and deletes a task; its id and the event
/// types that makes.
async fn lifecycle(api: &Api<'_>, title: &str) -> (String, Vec<(String, String)>) {
    let task = api.create(&json!({"title": title})).await;
    let id = task["id"].as_str().unwrap().to_owned();
    let path = format!("/api/tasks/{id}");
    assert_eq!(
        api.call("PATCH", &path, Some(&json!({"priority": "high"})), &[])
            .await
            .status,
        200
    );
    assert_eq!(
        api.post(&format!("{path}/complete"), &json!({}))
            .await
            .status,
        200
    );
    assert_eq!(api.call("DELETE", &path, None, &[]).await.status, 204);
    let types = ["created", "updated", "completed", "deleted"]
        .map(|t| (format!("com.todo.task.{t}.v1"), id.clone()));
    (id, types.to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_reach_every_device_of_their_user_and_no_one_else() {
    for stack in stacks_with_env(&ENV) {
        let stack = &*stack;
        let alice = sign_up(stack).await;
        let bob = sign_up(stack).await;
        let mut phone = Client::open(stack, &alice, 0, "phone", None).await;
        let mut laptop = Client::open(stack, &alice, 1, "laptop", None).await;
        let mut other = Client::open(stack, &bob, 1, "bobs", None).await;

        let api = Api::new(stack, alice);
        let (_, expected) = lifecycle(&api, "shared").await;
        assert_eq!(
            events(&mut phone, 0, 4).await,
            expected,
            "[{}] phone",
            stack.name()
        );
        assert_eq!(
            events(&mut laptop, 0, 4).await,
            expected,
            "[{}] laptop",
            stack.name()
        );

        // Bob's first frame is his own change: nothing of Alice's came
        // before it.
        let bob_api = Api::new(stack, bob);
        let own = bob_api.create(&json!({"title": "bob's"})).await;
        let frame = other.next_event().await;
        assert_eq!(frame["cursor"], "1", "[{}] {frame}", stack.name());
        assert_eq!(event_of(&frame).1, own["id"].as_str().unwrap());
        assert_eq!(frame["event"]["userid"], bob_api.session.user_id());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_resumes_exactly_after_its_cursor_then_goes_live() {
    for stack in stacks_with_env(&ENV) {
        let stack = &*stack;
        let session = sign_up(stack).await;
        let mut device = Client::open(stack, &session, 0, "tab", None).await;
        let api = Api::new(stack, session.clone());
        for n in 0..2 {
            api.create(&json!({"title": format!("seen {n}")})).await;
        }
        let seen = events(&mut device, 0, 2).await;
        assert_eq!(seen.len(), 2);
        drop(device);

        // Offline: three changes.
        let mut missed = Vec::new();
        for n in 0..3 {
            let t = api.create(&json!({"title": format!("missed {n}")})).await;
            missed.push((
                "com.todo.task.created.v1".to_owned(),
                t["id"].as_str().unwrap().to_owned(),
            ));
        }
        // Back, on the other replica, from cursor 2.
        let mut device = Client::open(stack, &session, 1, "tab", Some("2")).await;
        assert_eq!(
            events(&mut device, 2, 3).await,
            missed,
            "[{}]",
            stack.name()
        );
        let live = api.create(&json!({"title": "live"})).await;
        let frame = device.next_event().await;
        assert_eq!(cursor_of(&frame), 6);
        assert_eq!(event_of(&frame).1, live["id"].as_str().unwrap());

        // A cursor that was never given: resync, then live after it.
        let mut stranger = Client::open(stack, &session, 0, "tab2", Some("999")).await;
        let frame = stranger.next().await;
        assert_eq!(
            frame,
            json!({"type": "resync", "cursor": "6"}),
            "[{}]",
            stack.name()
        );
    }
}

fn in_seconds(s: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(s)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `type` events of `task` in the audit trail, once there are `n`.
async fn audited(api: &Api<'_>, task: &str, ty: &str, n: usize) -> Vec<Value> {
    eventually(
        &format!("[{}] {n} {ty} of {task}", api.stack.name()),
        WAIT,
        || async {
            let found: Vec<Value> = api
                .history(task)
                .await
                .into_iter()
                .filter(|e| e["event"]["type"] == ty)
                .map(|e| e["event"].clone())
                .collect();
            (found.len() >= n).then_some(found)
        },
    )
    .await
}

/// Frames of `client` up to and including the event about `marker`.
async fn until_event_about(client: &mut Client, marker: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = client.next().await;
        let done = frame["type"] == "event" && event_of(&frame).1 == marker;
        frames.push(frame);
        if done {
            return frames;
        }
    }
}

fn carrying(frames: &[Value], reminder: &str) -> usize {
    frames
        .iter()
        .filter(|f| f["event"]["id"] == reminder)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_fired_offline_arrive_once_per_device_and_each_ack_is_delivered_once() {
    for stack in stacks_with_env(&ENV) {
        let stack = &*stack;
        let session = sign_up(stack).await;
        let api = Api::new(stack, session.clone());
        let task = api
            .create(&json!({"title": "call mom", "reminders": [{"at": in_seconds(2)}]}))
            .await;
        let task_id = task["id"].as_str().unwrap().to_owned();
        // It fires while no device is connected.
        let fired = audited(&api, &task_id, "com.todo.reminder.triggered.v1", 1).await;
        let reminder = fired[0]["id"].as_str().unwrap().to_owned();

        // The phone comes back fresh (no cursor): a `reminder` frame. The
        // laptop resumes from before it: the event in its replay.
        let mut phone = Client::open(stack, &session, 0, "phone", None).await;
        let mut laptop = Client::open(stack, &session, 1, "laptop", Some("1")).await;
        let marker = api.create(&json!({"title": "marker"})).await;
        let marker = marker["id"].as_str().unwrap();
        let phone_frames = until_event_about(&mut phone, marker).await;
        let laptop_frames = until_event_about(&mut laptop, marker).await;
        assert_eq!(
            carrying(&phone_frames, &reminder),
            1,
            "[{}] {phone_frames:?}",
            stack.name()
        );
        assert_eq!(
            carrying(&laptop_frames, &reminder),
            1,
            "[{}] {laptop_frames:?}",
            stack.name()
        );
        assert!(phone_frames.iter().any(|f| f["type"] == "reminder"));

        // Each device acknowledges; the phone twice.
        let ack = json!({"type": "ack", "reminder": reminder});
        for (device, first) in [(&mut phone, true), (&mut laptop, true)] {
            device.send(&ack).await;
            let answer = device.next().await;
            assert_eq!(
                answer,
                json!({"type": "acked", "reminder": reminder, "first": first})
            );
        }
        phone.send(&ack).await;
        assert_eq!(phone.next().await["first"], false);
        let delivered = audited(&api, &task_id, "com.todo.reminder.delivered.v1", 2).await;
        let mut devices: Vec<&str> = delivered
            .iter()
            .map(|e| e["data"]["device"].as_str().unwrap())
            .collect();
        devices.sort();
        assert_eq!(devices, ["laptop", "phone"], "[{}]", stack.name());

        // A reminder no device acknowledges fails after the timeout.
        let lonely = api
            .create(&json!({"title": "ignored", "reminders": [{"at": in_seconds(1)}]}))
            .await;
        let lonely = lonely["id"].as_str().unwrap();
        let failed = audited(&api, lonely, "com.todo.reminder.failed.v1", 1).await;
        assert_eq!(failed[0]["data"]["ack_timeout_seconds"], 4);
    }
}

fn token_expiring_in(user: &str, seconds: i64) -> String {
    let keys = todo_auth::Keys::from_secret(KEY).unwrap();
    let issued = Utc::now() - chrono::Duration::seconds(todo_auth::ACCESS_TTL_SECONDS as i64)
        + chrono::Duration::seconds(seconds);
    keys.issue_access(user, issued).0
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_are_refused_and_an_expiring_token_closes_with_4001() {
    for stack in stacks_with_env(&ENV) {
        let stack = &*stack;
        let session = sign_up(stack).await;
        let url = stack.ws_url(0, "/ws");
        let refused = |r: Result<Client, u16>| r.err();
        assert_eq!(
            refused(Client::connect(&url, Auth::Bearer("not.a.token")).await),
            Some(401)
        );
        let old = token_expiring_in(session.user_id(), -3600);
        assert_eq!(
            refused(Client::connect(&url, Auth::Bearer(&old)).await),
            Some(401)
        );
        assert_eq!(
            refused(Client::connect(&url, Auth::Ticket("made-up")).await),
            Some(401)
        );
        let bare = tokio_tungstenite::connect_async(url.as_str()).await;
        assert!(
            bare.is_err(),
            "[{}] no credentials must be refused",
            stack.name()
        );

        let t = ticket(stack, &session).await;
        let first = Client::connect(&url, Auth::Ticket(&t)).await;
        assert!(first.is_ok(), "[{}] a fresh ticket works", stack.name());
        assert_eq!(
            refused(Client::connect(&url, Auth::Ticket(&t)).await),
            Some(401)
        );

        let soon = token_expiring_in(session.user_id(), 2);
        let mut short = Client::connect(&url, Auth::Bearer(&soon)).await.unwrap();
        assert_eq!(
            short.end(Duration::from_secs(30)).await,
            End::Closed(Some(4001))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_reads_is_dropped_without_stalling_the_others() {
    for stack in stacks_with_env(&ENV) {
        let stack = &*stack;
        let session = sign_up(stack).await;
        let mut reader = Client::open(stack, &session, 0, "reader", None).await;
        // A client with a tiny receive window that never reads a byte.
        let url = stack.ws_url(
            0,
            &format!("/ws?device=stuck&ticket={}", ticket(stack, &session).await),
        );
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let tcp = socket.connect(addr.parse().unwrap()).await.unwrap();
        let (_stuck, _) = tokio_tungstenite::client_async(url.as_str(), tcp)
            .await
            .unwrap();

        let api = Api::new(stack, session.clone());
        let connections = || async {
            let body: Value = session
                .http
                .get(stack.url("/api/realtime/connections"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["connections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["device"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert!(connections().await.contains(&"stuck".to_owned()));
        let big = "x".repeat(10_000);
        let n = 160;
        for i in 0..n {
            api.create(&json!({"title": format!("big {i}"), "description": big}))
                .await;
        }
        // The reader got everything, in order.
        assert_eq!(events(&mut reader, 0, n).await.len(), n);
        // The stuck one was dropped: not tracked any more.
        eventually(
            &format!("[{}] stuck client dropped", stack.name()),
            WAIT,
            || async { (!connections().await.contains(&"stuck".to_owned())).then_some(()) },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_websocket_host_loses_nothing_and_leaves_no_ghosts() {
    for mut stack in stacks_with_env(&ENV) {
        let session = sign_up(&*stack).await;
        let mut device = Client::open(&*stack, &session, 0, "tab", None).await;
        {
            let api = Api::new(&*stack, session.clone());
            api.create(&json!({"title": "before"})).await;
        }
        let cursor = cursor_of(&device.next_event().await);

        stack.kill_websocket(0).unwrap();
        assert!(matches!(
            device.end(Duration::from_secs(30)).await,
            End::Closed(_) | End::Broken(_)
        ));
        let mut made = Vec::new();
        {
            let api = Api::new(&*stack, session.clone());
            for n in 0..3 {
                let t = api.create(&json!({"title": format!("during {n}")})).await;
                made.push((
                    "com.todo.task.created.v1".to_owned(),
                    t["id"].as_str().unwrap().to_owned(),
                ));
            }
        }
        let c = cursor.to_string();
        let mut device = Client::open(&*stack, &session, 1, "tab", Some(&c)).await;
        assert_eq!(
            events(&mut device, cursor, 3).await,
            made,
            "[{}]",
            stack.name()
        );

        // The killed host's connection is not listed once its TTL passes.
        let old = device.hello["connection"].clone();
        eventually(
            &format!("[{}] no ghost connections", stack.name()),
            WAIT,
            || async {
                let body: Value = session
                    .http
                    .get(stack.url("/api/realtime/connections"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let ids: Vec<Value> = body["connections"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].clone())
                    .collect();
                (ids == [old.clone()]).then_some(())
            },
        )
        .await;
        stack.revive_websocket(0).unwrap();
    }
}

/// The client's next line of output.
async fn next_line(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("the client prints in time")
        .expect("the client is running")
}

/// A client no one here wrote: Python's `websockets`, with a ticket.
const PYTHON_CLIENT: &str = r#"
import asyncio, json, sys
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

url, ticket, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

async def main():
    async with connect(f"{url}&ticket={ticket}") as ws:
        hello = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "resume", "cursor": hello["cursor"]}))
        print("connected", flush=True)
        got = 0
        while got < n:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if frame["type"] == "event":
                print(json.dumps(frame), flush=True)
                got += 1
    try:
        async with connect(f"{url}&ticket={ticket}"):
            print("reused ticket accepted", flush=True)
    except InvalidStatus as e:
        print(f"refused {e.response.status_code}", flush=True)

asyncio.run(main())
"#;

#[tokio::test(flavor = "multi_thread")]
async fn python_websockets_receives_the_changes_and_cannot_reuse_its_ticket() {
    use std::io::BufRead as _;
    let packages = todo_tests::outside::blocking(todo_tests::outside::python_websockets).await;
    let scratch = todo_tests::Scratch::new();
    let script = scratch.write("client.py", PYTHON_CLIENT);
    for stack in stacks_with_env(&ENV) {
        let stack = &*stack;
        let session = sign_up(stack).await;
        let t = ticket(stack, &session).await;
        let url = stack.ws_url(1, "/ws?device=python");
        let mut child = std::process::Command::new("python3")
            .env("PYTHONPATH", &packages)
            .arg(&script)
            .args([&url, &t, "3"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        assert_eq!(next_line(&mut rx).await, "connected");
        let api = Api::new(stack, session);
        let task = api.create(&json!({"title": "from rust"})).await;
        let id = task["id"].as_str().unwrap();
        assert_eq!(
            api.post(&format!("/api/tasks/{id}/complete"), &json!({}))
                .await
                .status,
            200
        );
        assert_eq!(
            api.call("DELETE", &format!("/api/tasks/{id}"), None, &[])
                .await
                .status,
            204
        );
        let mut types = Vec::new();
        for _ in 0..3 {
            let frame: Value = serde_json::from_str(&next_line(&mut rx).await).unwrap();
            assert_eq!(event_of(&frame).1, id);
            types.push(event_of(&frame).0.to_owned());
        }
        assert_eq!(
            types,
            [
                "com.todo.task.created.v1",
                "com.todo.task.completed.v1",
                "com.todo.task.deleted.v1"
            ],
            "[{}]",
            stack.name()
        );
        assert_eq!(next_line(&mut rx).await, "refused 401");
        assert!(child.wait().unwrap().success());
    }
}
