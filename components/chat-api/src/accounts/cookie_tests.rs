//! The web app's way of holding a session: the refresh token only in an
//! HttpOnly cookie, against `MemoryKv`.

use serde_json::{Value, json};
use todo_auth::SIGNING_KEY_SECRET;
use todo_domain::{MemoryKv, StaticSecrets};

use super::*;

fn send(kv: &MemoryKv, req: Request) -> Response {
    let secrets = StaticSecrets::default().with(
        SIGNING_KEY_SECRET,
        "test-signing-key-with-at-least-32-bytes",
    );
    route(kv, &secrets, &req)
        .expect("an account route")
        .unwrap_or_else(Response::from)
}

fn post(path: &str, body: Value) -> Request {
    Request::new("POST", path).with_body(body.to_string())
}

/// The value `Set-Cookie` gives `todo_refresh` ("" when it removes it).
fn cookie_value(resp: &Response) -> String {
    let header = resp.header("set-cookie").expect("a Set-Cookie header");
    let pair = header.split(';').next().unwrap();
    pair.strip_prefix("todo_refresh=")
        .unwrap_or_else(|| panic!("not the refresh cookie: {header}"))
        .to_owned()
}

fn with_cookie(req: Request, token: &str) -> Request {
    req.with_header("cookie", &format!("theme=dark; todo_refresh={token}"))
}

#[test]
fn a_session_held_in_the_cookie_never_shows_its_refresh_token_to_the_page() {
    let kv = MemoryKv::new();
    let signup = send(
        &kv,
        post(
            "/api/auth/signup",
            json!({"email": "c@example.com", "password": "correct horse",
                   "refresh_token_delivery": "cookie"}),
        ),
    );
    assert_eq!(signup.status, 201);
    let body = signup.json_body().unwrap();
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let set = signup.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(set.contains("Path=/api/auth/"), "{set}");
    let first = cookie_value(&signup);
    assert!(first.len() > 20, "{first}");

    // Refreshing with the cookie alone (an empty body object) rotates it.
    let renewed = send(
        &kv,
        with_cookie(post("/api/auth/refresh", json!({})), &first),
    );
    assert_eq!(renewed.status, 200, "{:?}", renewed.json_body());
    assert!(renewed.json_body().unwrap().get("refresh_token").is_none());
    let second = cookie_value(&renewed);
    assert_ne!(second, first);

    // No token anywhere: the field is named.
    let none = send(&kv, post("/api/auth/refresh", json!({})));
    assert_eq!(none.status, 422);
    assert_eq!(none.json_body().unwrap()["error"]["field"], "refresh_token");

    // Signing out with the cookie ends the session and removes the cookie;
    // a refresh with it afterwards is refused and removes it again.
    let out = send(
        &kv,
        with_cookie(post("/api/auth/signout", json!({})), &second),
    );
    assert_eq!(out.status, 204);
    assert_eq!(cookie_value(&out), "");
    let after = send(
        &kv,
        with_cookie(post("/api/auth/refresh", json!({})), &second),
    );
    assert_eq!(after.status, 401);
    assert_eq!(cookie_value(&after), "");
}

#[test]
fn a_body_token_may_move_into_the_cookie_and_body_clients_are_unchanged() {
    let kv = MemoryKv::new();
    let signup = send(
        &kv,
        post(
            "/api/auth/signup",
            json!({"email": "d@example.com", "password": "correct horse"}),
        ),
    );
    let body = signup.json_body().unwrap();
    assert!(signup.header("set-cookie").is_none());
    let token = body["refresh_token"].as_str().unwrap().to_owned();
    // A web app that stored the token before it used cookies hands it
    // over once.
    let moved = send(
        &kv,
        post(
            "/api/auth/refresh",
            json!({"refresh_token": token, "refresh_token_delivery": "cookie"}),
        ),
    );
    assert_eq!(moved.status, 200);
    assert!(moved.json_body().unwrap().get("refresh_token").is_none());
    let in_cookie = cookie_value(&moved);
    let again = send(
        &kv,
        with_cookie(post("/api/auth/refresh", json!({})), &in_cookie),
    );
    assert_eq!(again.status, 200);
}
