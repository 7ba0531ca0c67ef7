//! What the route tests share: the signing key and signing up a user.

use serde_json::json;
use todo_auth::SIGNING_KEY_SECRET;
use todo_domain::{MemoryKv, Request, Response, StaticSecrets};

use crate::api::handle;

const KEY: &str = "test-signing-key-with-at-least-32-bytes";

pub fn secrets() -> StaticSecrets {
    StaticSecrets::default().with(SIGNING_KEY_SECRET, KEY)
}

/// Signs up `email` in `zone` and returns its access token.
pub fn token(kv: &MemoryKv, email: &str, zone: &str) -> String {
    let body = json!({"email": email, "password": "long enough", "time_zone": zone});
    let resp = handle(
        kv,
        &secrets(),
        &Request::new("POST", "/api/auth/signup").with_body(body.to_string()),
    );
    assert_eq!(resp.status, 201, "{:?}", resp.json_body());
    resp.json_body().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A request as `token`'s user, with extra `headers` and a raw `body`.
pub fn send(
    kv: &MemoryKv,
    token: &str,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> Response {
    let mut req =
        Request::new(method, path).with_header("authorization", &format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.with_header(k, v);
    }
    if let Some(body) = body {
        req = req.with_body(body);
    }
    handle(kv, &secrets(), &req)
}
