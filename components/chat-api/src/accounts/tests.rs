//! The account routes end to end against `MemoryKv`.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use todo_auth::{Keys, SIGNING_KEY_SECRET};
use todo_domain::{MemoryKv, StaticSecrets};

use super::repo;
use super::throttle::WINDOW_SECONDS as FAILURE_WINDOW_SECONDS;
use super::*;

const KEY: &str = "test-signing-key-with-at-least-32-bytes";
const PASSWORD: &str = "correct horse";

mod refresh;

fn secrets() -> StaticSecrets {
    StaticSecrets::default().with(SIGNING_KEY_SECRET, KEY)
}

/// Sends `req` the way the router would: `Err` rendered by the shared
/// error shape.
fn send(kv: &MemoryKv, req: Request) -> Response {
    send_with(kv, &secrets(), req)
}

fn send_with(kv: &MemoryKv, secrets: &StaticSecrets, req: Request) -> Response {
    route(kv, secrets, &req)
        .expect("an account route")
        .unwrap_or_else(Response::from)
}

fn post(kv: &MemoryKv, path: &str, body: Value) -> Response {
    send(kv, Request::new("POST", path).with_body(body.to_string()))
}

fn with_bearer(req: Request, token: &str) -> Request {
    req.with_header("authorization", &format!("Bearer {token}"))
}

fn signup(kv: &MemoryKv, email: &str) -> Value {
    let resp = post(
        kv,
        "/api/auth/signup",
        json!({"email": email, "password": PASSWORD}),
    );
    assert_eq!(resp.status, 201, "{:?}", resp.json_body());
    resp.json_body().unwrap()
}

fn signin(kv: &MemoryKv, email: &str, password: &str) -> Response {
    post(
        kv,
        "/api/auth/signin",
        json!({"email": email, "password": password}),
    )
}

fn error_of(resp: &Response) -> Value {
    resp.json_body().unwrap()["error"].clone()
}

/// Every live key with its value and ETag: equal snapshots mean nothing
/// was written.
fn snapshot(kv: &MemoryKv) -> Vec<(String, Vec<u8>, String)> {
    kv.keys_with_prefix("")
        .into_iter()
        .map(|k| {
            let (v, etag) = kv.get(&k).unwrap().unwrap();
            (k, v, etag)
        })
        .collect()
}

fn assert_401_with_challenge(resp: &Response) {
    assert_eq!(resp.status, 401, "{:?}", resp.json_body());
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
    assert_eq!(error_of(resp)["code"], "unauthorized");
}

#[test]
fn signup_signin_me_patch_refresh_signout() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "  Alice@Example.COM ");
    let user = created["user"].clone();
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!(
        user,
        json!({"id": id, "email": "alice@example.com", "name": "alice", "time_zone": "UTC"})
    );
    let mut fields: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "token_type",
            "user"
        ]
    );
    assert_eq!(created["expires_in"], 900);
    assert_eq!(created["token_type"], "Bearer");

    // Sign-in is case-insensitive on the email.
    let resp = signin(&kv, "ALICE@example.com", PASSWORD);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let session = resp.json_body().unwrap();
    assert_eq!(session["user"], user);
    let access = session["access_token"].as_str().unwrap();

    let me = send(&kv, with_bearer(Request::new("GET", "/api/me"), access));
    assert_eq!(me.status, 200);
    assert_eq!(me.json_body().unwrap(), user);

    let patch = Request::new("PATCH", "/api/me/")
        .with_body(json!({"name": "Alice B.", "time_zone": "Europe/Paris"}).to_string());
    let patched = send(&kv, with_bearer(patch, access));
    assert_eq!(patched.status, 200);
    let expected = json!({"id": id, "email": "alice@example.com", "name": "Alice B.",
        "time_zone": "Europe/Paris"});
    assert_eq!(patched.json_body().unwrap(), expected);
    let me = send(&kv, with_bearer(Request::new("GET", "/api/me"), access));
    assert_eq!(me.json_body().unwrap(), expected);
    let loaded = load_user(&kv, &id).unwrap().unwrap();
    assert_eq!(loaded.tz(), chrono_tz::Europe::Paris);

    // Rotation: the old refresh token stops working, the new one works.
    let old = created["refresh_token"].as_str().unwrap();
    let resp = post(&kv, "/api/auth/refresh", json!({"refresh_token": old}));
    assert_eq!(resp.status, 200);
    let refreshed = resp.json_body().unwrap();
    assert_eq!(refreshed["user"], expected);
    let new = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(new, old);
    // At once, the old one is taken for a retry whose answer was lost: it
    // is exchanged again, and the session goes on with the newest token.
    let again = post(&kv, "/api/auth/refresh", json!({"refresh_token": old}));
    assert_eq!(again.status, 200, "{:?}", again.json_body());
    let new = again.json_body().unwrap()["refresh_token"].clone();
    let new = new.as_str().unwrap();
    let fresh_access = refreshed["access_token"].as_str().unwrap();
    let req = with_bearer(Request::new("GET", "/api/me"), fresh_access);
    assert_eq!(authenticate(&secrets(), &req).unwrap(), id);

    // Sign-out revokes, idempotently.
    let out = post(&kv, "/api/auth/signout", json!({"refresh_token": new}));
    assert_eq!((out.status, out.body.len()), (204, 0));
    let out = post(&kv, "/api/auth/signout", json!({"refresh_token": new}));
    assert_eq!(out.status, 204);
    assert_401_with_challenge(&post(
        &kv,
        "/api/auth/refresh",
        json!({"refresh_token": new}),
    ));

    // The store holds the hash, and no email or token in any key.
    let (stored, _) = repo::read_user(&kv, &id).unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
    let session_refresh = session["refresh_token"].as_str().unwrap();
    for (key, value, _) in snapshot(&kv) {
        assert!(
            !key.contains("alice") && !key.contains(session_refresh),
            "{key}"
        );
        let value = String::from_utf8_lossy(&value);
        assert!(!value.contains(PASSWORD) && !value.contains(session_refresh));
    }
    // The sign-in session is left; the signed-out one (its rotated first
    // token included) left nothing.
    assert_eq!(kv.keys_with_prefix("refresh:").len(), 1);
    assert_eq!(kv.keys_with_prefix("refresh-family:").len(), 1);
}

#[test]
fn duplicate_email_in_any_case_is_a_409_on_email() {
    let kv = MemoryKv::new();
    signup(&kv, "bob@example.com");
    let before = snapshot(&kv);
    for email in ["bob@example.com", " BOB@Example.Com"] {
        let resp = post(
            &kv,
            "/api/auth/signup",
            json!({"email": email, "password": "another pass"}),
        );
        assert_eq!(resp.status, 409);
        let err = error_of(&resp);
        assert_eq!(
            (err["code"].as_str(), err["field"].as_str()),
            (Some("conflict"), Some("email"))
        );
    }
    assert_eq!(snapshot(&kv), before);
}

#[test]
fn concurrent_signups_with_one_email_have_one_winner() {
    let kv = MemoryKv::new();
    // Another instance signs up with the same email between our check and
    // our commit.
    kv.before_next_transact(|kv| {
        signup(kv, "carol@example.com");
    });
    let resp = post(
        &kv,
        "/api/auth/signup",
        json!({"email": "Carol@example.com", "password": PASSWORD}),
    );
    assert_eq!(resp.status, 409);
    assert_eq!(error_of(&resp)["field"], "email");
    assert_eq!(kv.keys_with_prefix("user:").len(), 1);
    assert_eq!(kv.keys_with_prefix("refresh:").len(), 1);
}

#[test]
fn rejected_bodies_are_4xx_and_write_nothing() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "dan@example.com");
    let access = created["access_token"].as_str().unwrap().to_owned();
    let before = snapshot(&kv);
    let cases: Vec<(Request, u16, Option<&str>)> = vec![
        (
            Request::new("POST", "/api/auth/signup")
                .with_body(json!({"email": "e@x.io", "password": "1234567"}).to_string()),
            422,
            Some("password"),
        ),
        (
            Request::new("POST", "/api/auth/signup").with_body(
                json!({"email": "e@x.io", "password": PASSWORD, "time_zone": "Europe/Atlantis"})
                    .to_string(),
            ),
            422,
            Some("time_zone"),
        ),
        (
            Request::new("POST", "/api/auth/signup").with_body(
                json!({"email": "e@x.io", "password": PASSWORD, "role": "admin"}).to_string(),
            ),
            422,
            Some("role"),
        ),
        (
            Request::new("POST", "/api/auth/signup")
                .with_body(json!({"email": "not-an-email", "password": PASSWORD}).to_string()),
            422,
            Some("email"),
        ),
        (
            Request::new("POST", "/api/auth/signup").with_body("{\"email\": "),
            400,
            None,
        ),
        (
            Request::new("POST", "/api/auth/signin").with_body(
                json!({"email": "dan@example.com", "password": PASSWORD, "otp": "1"}).to_string(),
            ),
            422,
            Some("otp"),
        ),
        (
            Request::new("POST", "/api/auth/refresh").with_body("[]"),
            400,
            Some("body"),
        ),
        (
            Request::new("POST", "/api/auth/signout").with_body("{}"),
            422,
            Some("refresh_token"),
        ),
        (
            with_bearer(Request::new("PATCH", "/api/me"), &access)
                .with_body(json!({"time_zone": "Moon/Base"}).to_string()),
            422,
            Some("time_zone"),
        ),
        (
            with_bearer(Request::new("PATCH", "/api/me"), &access)
                .with_body(json!({"email": "new@example.com"}).to_string()),
            422,
            Some("email"),
        ),
        (
            with_bearer(Request::new("PATCH", "/api/me"), &access)
                .with_body(json!({"name": "x".repeat(201)}).to_string()),
            422,
            Some("name"),
        ),
    ];
    for (req, status, field) in cases {
        let label = format!(
            "{} {} {}",
            req.method,
            req.path,
            String::from_utf8_lossy(&req.body)
        );
        let resp = send(&kv, req);
        assert_eq!(resp.status, status, "{label}: {:?}", resp.json_body());
        assert_eq!(error_of(&resp)["field"].as_str(), field, "{label}");
        let message = error_of(&resp)["message"].as_str().unwrap().to_owned();
        assert!(
            !message.contains(PASSWORD) && !message.contains(&access),
            "{label}"
        );
    }
    assert_eq!(snapshot(&kv), before);
}

#[test]
fn wrong_password_and_unknown_email_look_the_same() {
    let kv = MemoryKv::new();
    signup(&kv, "erin@example.com");
    let wrong = signin(&kv, "erin@example.com", "not the password");
    let unknown = signin(&kv, "nobody@example.com", PASSWORD);
    assert_401_with_challenge(&wrong);
    assert_401_with_challenge(&unknown);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.headers, unknown.headers);
    assert!(!String::from_utf8_lossy(&wrong.body).contains("erin"));
}

#[test]
fn five_failures_lock_the_email_with_retry_after() {
    let kv = MemoryKv::new();
    signup(&kv, "fay@example.com");
    for _ in 0..5 {
        assert_401_with_challenge(&signin(&kv, "fay@example.com", "guess guess"));
    }
    // Even the right password is refused, without being checked.
    let locked = signin(&kv, "FAY@example.com", PASSWORD);
    assert_eq!(locked.status, 429);
    assert_eq!(error_of(&locked)["code"], "too_many_requests");
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=u64::from(FAILURE_WINDOW_SECONDS)).contains(&retry),
        "{retry}"
    );
    // The lock is per email: others sign in (and fail) normally.
    assert_401_with_challenge(&signin(&kv, "gus@example.com", "guess guess"));
    // A refused attempt does not extend the lock.
    let before = snapshot(&kv);
    assert_eq!(signin(&kv, "fay@example.com", "guess").status, 429);
    assert_eq!(snapshot(&kv), before);
}

#[test]
fn a_success_resets_the_failure_count() {
    let kv = MemoryKv::new();
    signup(&kv, "hal@example.com");
    for _ in 0..4 {
        assert_eq!(signin(&kv, "hal@example.com", "guess guess").status, 401);
    }
    assert_eq!(signin(&kv, "hal@example.com", PASSWORD).status, 200);
    assert!(kv.keys_with_prefix("signin-failures:").is_empty());
    for _ in 0..4 {
        assert_eq!(signin(&kv, "hal@example.com", "guess guess").status, 401);
    }
    assert_eq!(signin(&kv, "hal@example.com", PASSWORD).status, 200);
}

#[test]
fn bad_bearer_tokens_are_401s_that_write_nothing() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "ivy@example.com");
    let id = created["user"]["id"].as_str().unwrap();
    let before = snapshot(&kv);
    let expired = Keys::from_secret(KEY)
        .unwrap()
        .issue_access(id, Utc::now() - Duration::hours(1))
        .0;
    let other_key = Keys::from_secret("a-different-signing-key-of-32-bytes!")
        .unwrap()
        .issue_access(id, Utc::now())
        .0;
    let refresh = created["refresh_token"].as_str().unwrap();
    let patch = || Request::new("PATCH", "/api/me").with_body(r#"{"name": "x"}"#);
    let cases = [
        Request::new("GET", "/api/me"),
        patch(),
        Request::new("GET", "/api/me").with_header("authorization", "Basic dXNlcjpwdw=="),
        with_bearer(Request::new("GET", "/api/me"), "garbage"),
        with_bearer(Request::new("GET", "/api/me"), &expired),
        with_bearer(Request::new("GET", "/api/me"), &other_key),
        with_bearer(Request::new("GET", "/api/me"), refresh),
        with_bearer(patch(), &expired),
    ];
    for req in cases {
        let resp = send(&kv, req);
        assert_401_with_challenge(&resp);
        let body = String::from_utf8_lossy(&resp.body).into_owned();
        assert!(!body.contains(&expired) && !body.contains(&other_key) && !body.contains(refresh));
    }
    assert!(
        error_of(&send(
            &kv,
            with_bearer(Request::new("GET", "/api/me"), &expired)
        ))["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    // A valid token whose user is gone.
    let ghost = Keys::from_secret(KEY)
        .unwrap()
        .issue_access("ghost", Utc::now())
        .0;
    assert_401_with_challenge(&send(
        &kv,
        with_bearer(Request::new("GET", "/api/me"), &ghost),
    ));
    assert_eq!(snapshot(&kv), before);
}

#[test]
fn signout_needs_no_bearer_and_accepts_any() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "kim@example.com");
    let token = created["refresh_token"].as_str().unwrap();
    let body = json!({"refresh_token": token}).to_string();
    // Even with an unusable access token the refresh token is revoked.
    let req =
        with_bearer(Request::new("POST", "/api/auth/signout"), "expired-or-junk").with_body(body);
    assert_eq!(send(&kv, req).status, 204);
    assert!(kv.keys_with_prefix("refresh:").is_empty());
    let unknown = post(
        &kv,
        "/api/auth/signout",
        json!({"refresh_token": "unknown"}),
    );
    assert_eq!(unknown.status, 204);
}

#[test]
fn methods_and_paths() {
    let kv = MemoryKv::new();
    let resp = send(&kv, Request::new("GET", "/api/auth/signup"));
    assert_eq!((resp.status, resp.header("allow")), (405, Some("POST")));
    let resp = send(&kv, Request::new("DELETE", "/api/me"));
    assert_eq!(
        (resp.status, resp.header("allow")),
        (405, Some("GET, PATCH"))
    );
    for path in [
        "/api/tasks",
        "/api/auth",
        "/api/auth/whoami",
        "/api/me/tasks",
        "/",
    ] {
        assert!(
            route(&kv, &secrets(), &Request::new("GET", path)).is_none(),
            "{path}"
        );
    }
    assert!(kv.keys_with_prefix("").is_empty());
}

#[test]
fn backend_problems_are_503s_that_write_nothing() {
    let kv = MemoryKv::new();
    let body = json!({"email": "lee@example.com", "password": PASSWORD}).to_string();
    let req = || Request::new("POST", "/api/auth/signup").with_body(body.clone());

    let resp = send_with(&kv, &StaticSecrets::default(), req());
    assert_eq!(resp.status, 503);
    assert!(
        error_of(&resp)["message"]
            .as_str()
            .unwrap()
            .contains(SIGNING_KEY_SECRET)
    );
    let short = StaticSecrets::default().with(SIGNING_KEY_SECRET, "sekrit");
    let resp = send_with(&kv, &short, req());
    assert_eq!(resp.status, 503);
    assert!(!String::from_utf8_lossy(&resp.body).contains("sekrit"));

    kv.fail_next(KvError::Unavailable("state store down".into()));
    assert_eq!(send(&kv, req()).status, 503);
    assert!(kv.keys_with_prefix("").is_empty());
}

#[test]
fn authenticate_and_error_response_for_other_routes() {
    let kv = MemoryKv::new();
    let created = signup(&kv, "max@example.com");
    let access = created["access_token"].as_str().unwrap();
    let req = with_bearer(Request::new("GET", "/api/tasks"), access);
    let id = authenticate(&secrets(), &req).unwrap();
    assert_eq!(
        load_user(&kv, &id).unwrap().unwrap().email,
        "max@example.com"
    );
    assert_eq!(load_user(&kv, "nobody").unwrap(), None);

    let err = authenticate(&secrets(), &Request::new("GET", "/api/tasks")).unwrap_err();
    let resp = todo_auth::error_response(err);
    assert_401_with_challenge(&resp);
    let resp = todo_auth::error_response(ApiError::not_found("x"));
    assert_eq!(resp.header("www-authenticate"), None);
}
