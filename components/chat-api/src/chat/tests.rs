//! The chat API through `api::handle` against `MemoryKv`: turns that act,
//! questions that wait for their answer, stored conversations,
//! Idempotency-Key, bad input and isolation.

use serde_json::{Value, json};
use todo_domain::{MemoryKv, Request};

use crate::api::handle;
use crate::test_support::{secrets, send};

fn token(kv: &MemoryKv, email: &str) -> String {
    crate::test_support::token(kv, email, "Europe/Paris")
}

fn chat(kv: &MemoryKv, token: &str, conversation: Option<&str>, message: &str) -> Value {
    let mut body = json!({"message": message});
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    let resp = send(kv, token, "POST", "/api/chat", Some(body.to_string()), &[]);
    assert!(
        matches!(resp.status, 200 | 201),
        "{message}: {} {:?}",
        resp.status,
        resp.json_body()
    );
    resp.json_body().unwrap()
}

fn titles(kv: &MemoryKv, token: &str) -> Vec<(String, String)> {
    let resp = send(kv, token, "GET", "/api/tasks", None, &[]);
    resp.json_body().unwrap()["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_conversation_adds_asks_and_acts() {
    let kv = MemoryKv::new();
    let ann = token(&kv, "ann@example.com");
    let first = chat(
        &kv,
        &ann,
        None,
        "add dentist appointment tomorrow at 3pm #health",
    );
    let conv = first["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(first["actions"][0]["tool"], "add_task");
    assert_eq!(
        first["actions"][0]["result"]["task"]["due"]["time"],
        "15:00"
    );
    assert_eq!(first["awaiting"], Value::Null);
    assert!(first["reply"].as_str().unwrap().contains("Added"));
    chat(&kv, &ann, Some(&conv), "add pay the dentist bill");

    let ask = chat(&kv, &ann, Some(&conv), "complete dentist");
    assert_eq!(ask["awaiting"], "choice");
    assert_eq!(ask["actions"], json!([]));
    assert_eq!(ask["options"].as_array().unwrap().len(), 2);
    let done = chat(&kv, &ann, Some(&conv), "the second one");
    assert_eq!(done["actions"][0]["tool"], "complete_task");
    assert_eq!(
        done["actions"][0]["result"]["task"]["title"],
        "pay the dentist bill"
    );

    let confirm = chat(&kv, &ann, Some(&conv), "delete the dentist appointment");
    assert_eq!(confirm["awaiting"], "confirmation");
    assert_eq!(
        titles(&kv, &ann).len(),
        2,
        "nothing deleted before the answer"
    );
    let deleted = chat(&kv, &ann, Some(&conv), "yes");
    assert_eq!(deleted["actions"][0]["tool"], "delete_task");
    assert_eq!(
        titles(&kv, &ann),
        [("pay the dentist bill".to_owned(), "completed".to_owned())]
    );

    // Stored: listed, and readable with every message.
    let list = send(&kv, &ann, "GET", "/api/chat/conversations", None, &[])
        .json_body()
        .unwrap();
    assert_eq!(list["conversations"][0]["id"], conv.as_str());
    let stored = send(
        &kv,
        &ann,
        "GET",
        &format!("/api/chat/conversations/{conv}"),
        None,
        &[],
    )
    .json_body()
    .unwrap();
    assert_eq!(stored["messages"].as_array().unwrap().len(), 12);
    assert_eq!(stored["messages"][5]["awaiting"], "choice");
}

#[test]
fn a_recurring_task_is_described_before_it_is_created() {
    let kv = MemoryKv::new();
    let ann = token(&kv, "ann@example.com");
    let ask = chat(
        &kv,
        &ann,
        None,
        "add water the plants every 2 weeks on Tuesday",
    );
    assert_eq!(ask["awaiting"], "confirmation");
    assert!(
        ask["reply"]
            .as_str()
            .unwrap()
            .contains("every 2 weeks on Tuesday"),
        "{}",
        ask["reply"]
    );
    assert!(titles(&kv, &ann).is_empty());
    let conv = ask["conversation_id"].as_str().unwrap();
    let added = chat(&kv, &ann, Some(conv), "yes");
    let task = &added["actions"][0]["result"]["task"];
    assert_eq!(
        task["recurrence"]["rrule"],
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
    );
}

#[test]
fn a_retried_message_returns_the_first_answer_and_acts_once() {
    let kv = MemoryKv::new();
    let ann = token(&kv, "ann@example.com");
    let body = json!({"message": "add buy milk"}).to_string();
    let key = [("idempotency-key", "msg-1")];
    let first = send(&kv, &ann, "POST", "/api/chat", Some(body.clone()), &key);
    let again = send(&kv, &ann, "POST", "/api/chat", Some(body), &key);
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(first.json_body().unwrap(), again.json_body().unwrap());
    assert_eq!(titles(&kv, &ann).len(), 1);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let kv = MemoryKv::new();
    let ann = token(&kv, "ann@example.com");
    let cases = [
        (json!({"message": ""}).to_string(), 422, "message"),
        (json!({"message": "   "}).to_string(), 422, "message"),
        (
            json!({"message": "x".repeat(20_000)}).to_string(),
            422,
            "message",
        ),
        (json!({"message": 5}).to_string(), 422, "message"),
        (json!({}).to_string(), 422, "message"),
        (
            json!({"message": "hi", "mood": "happy"}).to_string(),
            422,
            "mood",
        ),
        (
            json!({"message": "hi", "conversation_id": 7}).to_string(),
            422,
            "conversation_id",
        ),
        ("{nope".to_owned(), 400, ""),
    ];
    for (body, status, field) in cases {
        let resp = send(&kv, &ann, "POST", "/api/chat", Some(body.clone()), &[]);
        assert_eq!(resp.status, status, "{body:.80}");
        if !field.is_empty() {
            assert_eq!(
                resp.json_body().unwrap()["error"]["field"],
                field,
                "{body:.80}"
            );
        }
    }
    let unknown = send(
        &kv,
        &ann,
        "POST",
        "/api/chat",
        Some(json!({"message": "hi", "conversation_id": "nope"}).to_string()),
        &[],
    );
    assert_eq!(unknown.status, 404);
    for gibberish in [
        "asdf qwer zxcv",
        "complete the unicorn",
        "delete everything",
        "2",
    ] {
        let r = chat(&kv, &ann, None, gibberish);
        assert_eq!(r["actions"], json!([]), "{gibberish}");
        assert!(!r["reply"].as_str().unwrap().is_empty());
    }
    assert!(titles(&kv, &ann).is_empty());
    assert_eq!(send(&kv, &ann, "GET", "/api/chat", None, &[]).status, 405);
    let anonymous = handle(
        &kv,
        &secrets(),
        &Request::new("POST", "/api/chat").with_body(json!({"message": "hi"}).to_string()),
    );
    assert_eq!(anonymous.status, 401);
}

#[test]
fn another_users_conversations_and_tasks_are_out_of_reach() {
    let kv = MemoryKv::new();
    let (ann, bob) = (token(&kv, "ann@example.com"), token(&kv, "bob@example.com"));
    let mine = chat(&kv, &ann, None, "add secret plan");
    let conv = mine["conversation_id"].as_str().unwrap();
    assert_eq!(
        send(
            &kv,
            &bob,
            "GET",
            &format!("/api/chat/conversations/{conv}"),
            None,
            &[]
        )
        .status,
        404
    );
    let post = send(
        &kv,
        &bob,
        "POST",
        "/api/chat",
        Some(json!({"message": "yes", "conversation_id": conv}).to_string()),
        &[],
    );
    assert_eq!(post.status, 404);
    let list = send(&kv, &bob, "GET", "/api/chat/conversations", None, &[])
        .json_body()
        .unwrap();
    assert_eq!(list["conversations"], json!([]));
    let r = chat(&kv, &bob, None, "complete secret plan");
    assert_eq!(r["actions"], json!([]));
    let r = chat(&kv, &bob, None, "show my tasks");
    assert_eq!(r["actions"][0]["result"]["tasks"], json!([]));
    assert_eq!(
        titles(&kv, &ann),
        [("secret plan".to_owned(), "open".to_owned())]
    );
}
