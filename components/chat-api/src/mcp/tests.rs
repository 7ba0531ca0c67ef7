//! The MCP endpoint through `api::handle`: the JSON-RPC envelope, the
//! errors MCP defines, authentication, and tools acting as the caller.

use serde_json::{Value, json};
use todo_domain::{MemoryKv, Request, Response};

use super::{INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, PROTOCOL_VERSIONS};
use crate::api::handle;
use crate::test_support::secrets;

fn token(kv: &MemoryKv, email: &str) -> String {
    crate::test_support::token(kv, email, "UTC")
}

fn post(kv: &MemoryKv, token: &str, body: &str) -> Response {
    let req = Request::new("POST", "/mcp")
        .with_header("authorization", &format!("Bearer {token}"))
        .with_header("accept", "application/json, text/event-stream")
        .with_header("content-type", "application/json")
        .with_body(body.to_owned());
    handle(kv, &secrets(), &req)
}

fn rpc(kv: &MemoryKv, token: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let resp = post(kv, token, &body.to_string());
    assert_eq!(resp.status, 200, "{method}: {:?}", resp.json_body());
    let v = resp.json_body().unwrap();
    assert_eq!(v["id"], 1);
    v
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("an error: {v}"))
}

#[test]
fn initialize_negotiates_the_version_and_lists_the_tools() {
    let kv = MemoryKv::new();
    let t = token(&kv, "ann@example.com");
    let init = rpc(
        &kv,
        &t,
        "initialize",
        json!({"protocolVersion": "2025-06-18",
        "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(
        init["result"]["capabilities"]["tools"]["listChanged"],
        false
    );
    let old = rpc(
        &kv,
        &t,
        "initialize",
        json!({"protocolVersion": "1999-01-01"}),
    );
    assert_eq!(old["result"]["protocolVersion"], PROTOCOL_VERSIONS[0]);
    let notification = post(
        &kv,
        &t,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(notification.status, 202);
    assert!(notification.body.is_empty());
    let names: Vec<String> = rpc(&kv, &t, "tools/list", json!({}))["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    for tool in [
        "add_task",
        "list_tasks",
        "update_task",
        "complete_task",
        "uncomplete_task",
        "delete_task",
        "get_task",
    ] {
        assert!(names.iter().any(|n| n == tool), "{tool} in {names:?}");
    }
    assert_eq!(rpc(&kv, &t, "ping", json!({}))["result"], json!({}));
}

#[test]
fn tools_act_as_the_caller_and_failures_are_results() {
    let kv = MemoryKv::new();
    let (ann, bob) = (token(&kv, "ann@example.com"), token(&kv, "bob@example.com"));
    let added = rpc(
        &kv,
        &ann,
        "tools/call",
        json!({"name": "add_task", "arguments": {"title": "Call mom"}}),
    );
    assert_eq!(added["result"]["isError"], false);
    let task = &added["result"]["structuredContent"]["task"];
    let id = task["id"].as_str().unwrap();
    let text: Value =
        serde_json::from_str(added["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&text["task"], task);

    // Bob cannot see it or touch it; he gets a tool error, not a server error.
    let theirs = rpc(
        &kv,
        &bob,
        "tools/call",
        json!({"name": "complete_task", "arguments": {"id": id}}),
    );
    assert_eq!(theirs["result"]["isError"], true);
    assert!(
        theirs["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("no task")
    );
    let listed = rpc(
        &kv,
        &bob,
        "tools/call",
        json!({"name": "list_tasks", "arguments": {}}),
    );
    assert_eq!(listed["result"]["structuredContent"]["tasks"], json!([]));

    let bad = rpc(
        &kv,
        &ann,
        "tools/call",
        json!({"name": "add_task", "arguments": {"title": ""}}),
    );
    assert_eq!(bad["result"]["isError"], true);
    assert_eq!(
        bad["result"]["structuredContent"]["error"]["field"],
        "title"
    );
    let unknown = rpc(
        &kv,
        &ann,
        "tools/call",
        json!({"name": "format_disk", "arguments": {}}),
    );
    assert_eq!(error_code(&unknown), INVALID_PARAMS);
    let nameless = rpc(&kv, &ann, "tools/call", json!({"arguments": {}}));
    assert_eq!(error_code(&nameless), INVALID_PARAMS);
    let got = rpc(
        &kv,
        &ann,
        "tools/call",
        json!({"name": "get_task", "arguments": {"id": id}}),
    );
    assert_eq!(got["result"]["structuredContent"]["task"]["status"], "open");
}

#[test]
fn the_envelope_is_checked() {
    let kv = MemoryKv::new();
    let t = token(&kv, "ann@example.com");
    let parse = post(&kv, &t, "{not json");
    assert_eq!(parse.status, 400);
    assert_eq!(error_code(&parse.json_body().unwrap()), PARSE_ERROR);
    let batch = post(&kv, &t, r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
    assert_eq!(error_code(&batch.json_body().unwrap()), INVALID_REQUEST);
    let version = post(&kv, &t, r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#);
    assert_eq!(error_code(&version.json_body().unwrap()), INVALID_REQUEST);
    assert_eq!(
        error_code(&rpc(&kv, &t, "resources/list", json!({}))),
        METHOD_NOT_FOUND
    );

    let unauthenticated = handle(
        &kv,
        &secrets(),
        &Request::new("POST", "/mcp").with_body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
    );
    assert_eq!(unauthenticated.status, 401);
    assert!(unauthenticated.header("www-authenticate").is_some());
    let get = handle(
        &kv,
        &secrets(),
        &Request::new("GET", "/mcp").with_header("authorization", &format!("Bearer {t}")),
    );
    assert_eq!(get.status, 405);
    let req = Request::new("POST", "/mcp")
        .with_header("authorization", &format!("Bearer {t}"))
        .with_header("mcp-protocol-version", "2000-01-01")
        .with_body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    assert_eq!(handle(&kv, &secrets(), &req).status, 400);
}
