//! Real-time sync driven by a client no one here wrote: Python's
//! `websockets` (from PyPI), on every stack.

use std::time::Duration;

use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::api::Api;
use todo_tests::realtime::{ENV, event_of, ticket};
use todo_tests::stack::stacks_with_env;

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
