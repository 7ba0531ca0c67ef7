//! The chat's optional model mode on every stack. In-process the host
//! calls an OpenAI-compatible chat-completions endpoint (here a scripted
//! one the test serves on loopback: no test depends on a network model);
//! in pod mode Dapr's Conversation API with its echo component. The
//! model's tool calls run through the same tools; a model that cannot be
//! reached falls back to the built-in assistant, and the reply says so.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use todo_tests::account::sign_up;
use todo_tests::api::Api;
use todo_tests::stack::stacks_with_env;

/// A request the model received: its `authorization` header and body.
type Request = (Option<String>, Value);

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Request>>>);

/// A scripted model: a user message "please note: X" → a call of
/// add_task {title: X}; a tool result → "Noted: <title>".
async fn completions(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.0.lock().unwrap().push((auth, body.clone()));
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    let message = if last["role"] == "tool" {
        let result: Value =
            serde_json::from_str(last["content"].as_str().unwrap_or("{}")).unwrap_or_default();
        json!({"role": "assistant", "content": format!("Noted: {}", result["task"]["title"].as_str().unwrap_or("?"))})
    } else {
        let text = last["content"].as_str().unwrap_or_default();
        let title = text.strip_prefix("please note: ").unwrap_or(text);
        json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "add_task", "arguments": json!({"title": title}).to_string()}
        }]})
    };
    let finish = if message["tool_calls"].is_null() {
        "stop"
    } else {
        "tool_calls"
    };
    Json(
        json!({"id": "x", "object": "chat.completion", "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish}]}),
    )
}

async fn serve_model() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

const TOOLS: [&str; 7] = [
    "add_task",
    "complete_task",
    "delete_task",
    "get_task",
    "list_tasks",
    "uncomplete_task",
    "update_task",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_model_drives_the_same_tools() {
    let (url, seen) = serve_model().await;
    let env = [
        ("TODO_LLM_URL", url.as_str()),
        ("TODO_LLM_MODEL", "scripted-model"),
        ("TODO_SECRET_LLM_API_KEY", "sk-test-key"),
        ("TODO_DAPR_CONVERSATION", "llm"),
    ];
    for stack in stacks_with_env(&env) {
        let stack = &*stack;
        let api = Api::new(stack, sign_up(stack).await);
        let r = api
            .post(
                "/api/chat",
                &json!({"message": "please note: buy oat milk"}),
            )
            .await;
        assert_eq!(r.status, 201, "[{}] {}", stack.name(), r.body);
        if stack.name() == "in-process" {
            assert_eq!(r.body["reply"], "Noted: buy oat milk", "{}", r.body);
            assert_eq!(r.body["actions"][0]["tool"], "add_task");
            assert_eq!(
                r.body["actions"][0]["arguments"],
                json!({"title": "buy oat milk"})
            );
            let tasks = api.get("/api/tasks").await.body["tasks"].clone();
            assert_eq!(tasks[0]["title"], "buy oat milk");
            let seen = seen.0.lock().unwrap().clone();
            assert_eq!(seen.len(), 2, "one call, one answer");
            let (auth, first) = &seen[0];
            assert_eq!(
                auth.as_deref(),
                Some("Bearer sk-test-key"),
                "the key comes from the secrets"
            );
            assert_eq!(first["model"], "scripted-model");
            let mut offered: Vec<&str> = first["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["function"]["name"].as_str().unwrap())
                .collect();
            offered.sort_unstable();
            assert_eq!(offered, TOOLS);
            assert_eq!(first["messages"][0]["role"], "system");
            assert_eq!(
                seen[1].1["messages"].as_array().unwrap().last().unwrap()["role"],
                "tool"
            );
        } else {
            // Dapr's echo component asks for every tool it is offered with
            // its argument names (not JSON): each call is refused as bad
            // arguments, nothing changes, and the loop stops.
            let actions = r.body["actions"].as_array().unwrap();
            assert!(!actions.is_empty(), "{}", r.body);
            let mut names: Vec<&str> = actions
                .iter()
                .map(|a| a["tool"].as_str().unwrap())
                .collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names, TOOLS, "every tool went through Dapr and back");
            assert!(
                actions
                    .iter()
                    .all(|a| a["result"]["error"]["code"] == "invalid_arguments")
            );
            assert!(
                r.body["reply"].as_str().unwrap().contains("stopped"),
                "{}",
                r.body
            );
            assert_eq!(api.get("/api/tasks").await.body["tasks"], json!([]));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_model_falls_back_to_the_built_in_assistant() {
    // Nothing listens on port 9; no Dapr component is named `nowhere`.
    let env = [
        ("TODO_LLM_URL", "http://127.0.0.1:9/v1"),
        ("TODO_DAPR_CONVERSATION", "nowhere"),
    ];
    for stack in stacks_with_env(&env) {
        let stack = &*stack;
        let api = Api::new(stack, sign_up(stack).await);
        let r = api
            .post("/api/chat", &json!({"message": "add buy bread tomorrow"}))
            .await;
        assert_eq!(r.status, 201, "[{}] {}", stack.name(), r.body);
        let reply = r.body["reply"].as_str().unwrap();
        assert!(
            reply.contains("could not be reached"),
            "[{}] {reply}",
            stack.name()
        );
        assert!(reply.contains("built-in assistant"), "{reply}");
        assert_eq!(r.body["actions"][0]["tool"], "add_task");
        assert_eq!(
            api.get("/api/tasks").await.body["tasks"][0]["title"],
            "buy bread"
        );
    }
}
