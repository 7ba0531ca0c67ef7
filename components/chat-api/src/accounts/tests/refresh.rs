//! Refresh tokens: rotation, a lost answer retried, races and reuse.

use chrono::{Duration, Utc};
use serde_json::json;
use todo_domain::SetOptions;

use super::*;

#[test]
fn refresh_refuses_unknown_expired_and_raced_tokens() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "jo@example.com");
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    let token = created["refresh_token"].as_str().unwrap().to_owned();

    assert_401_with_challenge(&post(
        &kv,
        "/api/auth/refresh",
        json!({"refresh_token": "never-issued"}),
    ));

    // A record past its date (TTL not yet purged) is refused.
    let stale =
        serde_json::to_vec(&json!({"user_id": id, "expires_at": "2020-01-01T00:00:00Z"})).unwrap();
    kv.set(&repo::refresh_key("stale"), &stale, SetOptions::default())
        .unwrap();
    let before = snapshot(&kv);
    assert_401_with_challenge(&post(
        &kv,
        "/api/auth/refresh",
        json!({"refresh_token": "stale"}),
    ));
    assert_eq!(snapshot(&kv), before);

    // Another instance rotates the same token between our read and our
    // commit: exactly one of the two refreshes wins.
    let racer = token.clone();
    kv.before_next_transact(move |kv| {
        let resp = post(kv, "/api/auth/refresh", json!({"refresh_token": racer}));
        assert_eq!(resp.status, 200);
    });
    let raced = post(&kv, "/api/auth/refresh", json!({"refresh_token": token}));
    assert_eq!(raced.status, 409, "{:?}", raced.json_body());
    // The original (kept, marked rotated), the stale one and the racer's
    // new token.
    assert_eq!(kv.keys_with_prefix("refresh:").len(), 3);
}

#[test]
fn reusing_a_rotated_refresh_token_ends_its_session_and_no_other() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "sam@example.com");
    let stolen = created["refresh_token"].as_str().unwrap().to_owned();
    let other = signin(&kv, "sam@example.com", PASSWORD)
        .json_body()
        .unwrap();
    let refresh = |token: &str| post(&kv, "/api/auth/refresh", json!({"refresh_token": token}));

    // The owner refreshes twice; then the stolen first token comes back,
    // later than any race of the owner's own requests.
    let second = refresh(&stolen).json_body().unwrap()["refresh_token"].clone();
    let third = refresh(second.as_str().unwrap());
    assert_eq!(third.status, 200);
    let third = third.json_body().unwrap()["refresh_token"].clone();
    let later = Utc::now() + Duration::seconds(repo::RACE_SECONDS + 1);
    let reuse = Request::new("POST", "/api/auth/refresh")
        .with_body(json!({"refresh_token": stolen}).to_string());
    let reused = handlers::refresh(&kv, &secrets(), &reuse, later).unwrap_err();
    assert_eq!(reused.status, 401);
    // The whole session is over: its live token no longer works...
    assert_401_with_challenge(&refresh(third.as_str().unwrap()));
    // ... while another sign-in of the same user is untouched.
    let other = refresh(other["refresh_token"].as_str().unwrap());
    assert_eq!(other.status, 200, "{:?}", other.json_body());
}

#[test]
fn a_rotated_token_back_at_once_is_a_lost_answer_retried_and_ends_nothing() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "tabs@example.com");
    let first = created["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: &str| post(&kv, "/api/auth/refresh", json!({"refresh_token": token}));
    let token_of = |resp: &Response| {
        assert_eq!(resp.status, 200, "{:?}", resp.json_body());
        resp.json_body().unwrap()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let second = token_of(&refresh(&first));
    // The answer never arrived (the tab reloaded): the first comes back.
    let third = token_of(&refresh(&first));
    assert!(third != second && third != first);
    // The token the lost answer held is rotated away in turn; presenting
    // it at once is the same retry (another tab had stored it).
    let fourth = token_of(&refresh(&second));
    // An older token within the window grants nothing and ends nothing.
    let raced = refresh(&first);
    assert_eq!(raced.status, 409, "{:?}", raced.json_body());
    assert!(
        raced.json_body().unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("newer")
    );
    assert_eq!(refresh(&second).status, 409);
    // The session goes on with the newest token.
    let fifth = token_of(&refresh(&fourth));
    // Past the window, a rotated token is a reuse: the session ends.
    let later = Utc::now() + Duration::seconds(repo::RACE_SECONDS + 1);
    let reuse = Request::new("POST", "/api/auth/refresh")
        .with_body(json!({"refresh_token": fourth}).to_string());
    let reused = handlers::refresh(&kv, &secrets(), &reuse, later).unwrap_err();
    assert_eq!(reused.status, 401);
    assert_401_with_challenge(&refresh(&fifth));
}

#[test]
fn a_refresh_token_stored_before_sessions_had_families_still_rotates() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "old@example.com");
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    let old =
        serde_json::to_vec(&json!({"user_id": id, "expires_at": "2999-01-01T00:00:00Z"})).unwrap();
    kv.set(&repo::refresh_key("legacy"), &old, SetOptions::default())
        .unwrap();
    let refresh = |token: &str| post(&kv, "/api/auth/refresh", json!({"refresh_token": token}));
    let next = refresh("legacy");
    assert_eq!(next.status, 200, "{:?}", next.json_body());
    let next = next.json_body().unwrap()["refresh_token"].clone();
    // Reused (later than a race), it ends the chain it started.
    let later = Utc::now() + Duration::seconds(repo::RACE_SECONDS + 1);
    let reuse = Request::new("POST", "/api/auth/refresh")
        .with_body(json!({"refresh_token": "legacy"}).to_string());
    let reused = handlers::refresh(&kv, &secrets(), &reuse, later).unwrap_err();
    assert_eq!(reused.status, 401);
    assert_401_with_challenge(&refresh(next.as_str().unwrap()));
}
