//! Accounts for tests: every API call but sign-up and sign-in needs a
//! bearer token, so scenarios act as freshly signed-up users.

use serde_json::{Value, json};

use crate::stack::Stack;

/// A signed-up user and an HTTP client that sends their access token.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Value,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Sends `Authorization: Bearer <access token>` on every request.
    pub http: reqwest::Client,
}

impl Session {
    pub fn user_id(&self) -> &str {
        self.user["id"].as_str().expect("user id")
    }
}

/// An HTTP client that sends `token` as a bearer token.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}")
            .parse()
            .expect("token is a header value"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// Signs up a new user with a unique email (time zone `time_zone`).
pub async fn sign_up_in(stack: &dyn Stack, time_zone: &str) -> Session {
    let email = format!("user-{}@example.test", uuid::Uuid::new_v4().simple());
    let password = "correct horse battery".to_owned();
    let resp = reqwest::Client::new()
        .post(stack.url("/api/auth/signup"))
        .json(
            &json!({"email": email, "password": password, "name": "Test", "time_zone": time_zone}),
        )
        .send()
        .await
        .expect("POST /api/auth/signup");
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "sign-up failed: {body}");
    let access_token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    Session {
        user: body["user"].clone(),
        email,
        password,
        refresh_token: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
        http: bearer_client(&access_token),
        access_token,
    }
}

/// Signs up a new user in UTC.
pub async fn sign_up(stack: &dyn Stack) -> Session {
    sign_up_in(stack, "UTC").await
}
