//! `/mcp` driven by the official MCP Python SDK (`mcp` from PyPI) on every
//! stack: initialize, list the tools, call each, errors for bad arguments,
//! unknown tools and another user's task; the changes it made are the
//! REST API's own (same task, same events in the audit trail).

use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::api::Api;
use todo_tests::stack::stacks;

/// Prints one JSON object with what the server answered.
const CLIENT: &str = r#"
import asyncio, json, sys
import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError

url, mine, theirs = sys.argv[1], sys.argv[2], sys.argv[3]

def client(token):
    return httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)

async def session_call(token, body):
    async with client(token) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                return await body(session, init)

async def as_owner(session, init):
    out = {"protocol": init.protocolVersion, "server": init.serverInfo.name}
    tools = (await session.list_tools()).tools
    out["tools"] = sorted(t.name for t in tools)
    out["schemas"] = {t.name: t.inputSchema for t in tools}
    async def call(name, args):
        r = await session.call_tool(name, args)
        return {"error": r.isError, "structured": r.structuredContent,
                "text": r.content[0].text if r.content else None}
    added = await call("add_task", {"title": "Water the plants", "priority": "high",
        "tags": ["home"], "due": {"date": "2031-05-06", "time": "08:00"},
        "reminders": [{"before_minutes": 15}],
        "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=TU"}})
    out["added"] = added
    tid = added["structured"]["task"]["id"]
    out["listed"] = await call("list_tasks", {"filter": "tag:home priority>=high", "sort": "due"})
    out["updated"] = await call("update_task", {"id": tid, "title": "Water the ferns", "reminders": None})
    out["completed"] = await call("complete_task", {"id": tid})
    out["uncompleted"] = await call("uncomplete_task", {"id": tid})
    out["got"] = await call("get_task", {"id": tid})
    out["bad"] = await call("add_task", {"title": "x", "due": {"date": "tomorrow"}})
    try:
        await session.call_tool("rm_rf", {})
        out["unknown"] = None
    except McpError as e:
        out["unknown"] = e.error.code
    out["id"] = tid
    return out

async def as_other(tid):
    async def body(session, init):
        got = await session.call_tool("get_task", {"id": tid})
        gone = await session.call_tool("delete_task", {"id": tid})
        listed = await session.call_tool("list_tasks", {})
        return {"get": [got.isError, got.content[0].text], "delete": [gone.isError, gone.content[0].text],
                "list": listed.structuredContent}
    return await session_call(theirs, body)

async def main():
    out = await session_call(mine, as_owner)
    out["other"] = await as_other(out["id"])
    async def delete(session, init):
        r = await session.call_tool("delete_task", {"id": out["id"]})
        return r.structuredContent
    out["deleted"] = await session_call(mine, delete)
    print(json.dumps(out))

asyncio.run(main())
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_official_python_sdk_manages_tasks_through_mcp() {
    let packages = todo_tests::outside::blocking(todo_tests::python::python_mcp).await;
    let scratch = todo_tests::Scratch::new();
    let script = scratch.write("mcp_client.py", CLIENT);
    for stack in stacks() {
        let stack = &*stack;
        let (ann, bob) = (sign_up(stack).await, sign_up(stack).await);
        let out = tokio::process::Command::new("python3")
            .env("PYTHONPATH", &packages)
            .arg(&script)
            .args([
                stack.url("/mcp"),
                ann.access_token.clone(),
                bob.access_token.clone(),
            ])
            .output()
            .await
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "[{}] the MCP client failed:\n{}",
            stack.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).expect("the client prints JSON");
        let name = stack.name();

        assert_eq!(r["protocol"], "2025-11-25", "[{name}]");
        assert_eq!(
            r["tools"],
            json!([
                "add_task",
                "complete_task",
                "delete_task",
                "get_task",
                "list_tasks",
                "uncomplete_task",
                "update_task"
            ]),
            "[{name}]"
        );
        assert_eq!(r["schemas"]["add_task"]["required"], json!(["title"]));
        let added = &r["added"]["structured"]["task"];
        assert_eq!(r["added"]["error"], false, "[{name}] {}", r["added"]);
        assert_eq!(added["due"]["time"], "08:00");
        assert_eq!(added["reminders"].as_array().map(Vec::len), Some(1));
        assert_eq!(added["recurrence"]["rrule"], "FREQ=WEEKLY;BYDAY=TU");
        let id = r["id"].as_str().unwrap();
        assert_eq!(r["listed"]["structured"]["tasks"][0]["id"], id, "[{name}]");
        assert_eq!(
            r["updated"]["structured"]["task"]["title"],
            "Water the ferns"
        );
        assert_eq!(r["updated"]["structured"]["task"]["reminders"], json!([]));
        assert_eq!(r["completed"]["structured"]["task"]["status"], "completed");
        assert_eq!(r["uncompleted"]["structured"]["task"]["status"], "open");
        assert_eq!(r["got"]["structured"]["task"]["version"], 4);
        // Bad arguments: a tool error naming the argument, nothing created.
        assert_eq!(r["bad"]["error"], true, "[{name}] {}", r["bad"]);
        assert!(
            r["bad"]["text"].as_str().unwrap().starts_with("due"),
            "{}",
            r["bad"]
        );
        assert_eq!(r["unknown"], -32602, "[{name}]");
        // Another user: not found, not deleted, an empty list.
        assert_eq!(r["other"]["get"][0], true);
        assert!(r["other"]["get"][1].as_str().unwrap().contains("no task"));
        assert_eq!(r["other"]["delete"][0], true);
        assert_eq!(r["other"]["list"]["tasks"], json!([]));
        assert_eq!(
            r["deleted"],
            json!({"id": id, "deleted": true, "scope": "occurrence"})
        );

        // The REST API sees what MCP did, with the same events.
        let api = Api::new(stack, ann);
        assert_eq!(
            api.get(&format!("/api/tasks/{id}")).await.status,
            404,
            "[{name}] deleted"
        );
        // Completing it (it repeats) brought its next occurrence, as
        // through REST.
        let list = api.get("/api/tasks").await;
        assert!(
            list.body["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["id"] != id),
            "[{name}] {}",
            list.body
        );
        let wanted: Vec<String> = ["created", "updated", "completed", "uncompleted", "deleted"]
            .iter()
            .map(|ty| format!("com.todo.task.{ty}.v1"))
            .collect();
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        api.history_holding(id, &wanted).await;
    }
}
