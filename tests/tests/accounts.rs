//! Accounts and isolation over HTTP on every stack: sign-up, sign-in,
//! refresh rotation (and a reused token ending its session), the web app's
//! refresh cookie, at most 100 sessions, sign-out, the profile, 401s, slowed sign-ins, and two
//! users who never see or change each other's data on any route.

use std::net::IpAddr;

use serde_json::{Value, json};
use todo_tests::account::{bearer_client, sign_up};
use todo_tests::api::Api;
use todo_tests::stack::stacks;

async fn post(url: &str, body: &Value) -> (u16, Option<String>, Value) {
    post_from(&reqwest::Client::new(), url, body, &[]).await
}

/// A client whose connections come from `ip`: every 127.x address is this
/// machine, so a test can be several clients.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn post_from(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let mut req = client.post(url).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        retry_after,
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_in_refresh_and_out() {
    for stack in stacks() {
        let name = stack.name();
        let url = |p: &str| stack.url(p);
        let session = sign_up(stack.as_ref()).await;
        assert_eq!(session.user["time_zone"], "UTC");
        assert_eq!(session.user["email"], session.email.as_str());

        // The same email in another case is taken.
        let (status, _, body) = post(
            &url("/api/auth/signup"),
            &json!({"email": session.email.to_uppercase(), "password": "another password"}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["field"].clone()),
            (409, json!("email")),
            "[{name}] {body}"
        );
        for (body, field) in [
            (
                json!({"email": "new@example.test", "password": "short"}),
                "password",
            ),
            (
                json!({"email": "not-an-email", "password": "long enough"}),
                "email",
            ),
            (
                json!({"email": "z@example.test", "password": "long enough", "time_zone": "Mars/Base"}),
                "time_zone",
            ),
            (
                json!({"email": "z@example.test", "password": "long enough", "admin": true}),
                "admin",
            ),
        ] {
            let (status, _, reply) = post(&url("/api/auth/signup"), &body).await;
            assert_eq!(
                (status, reply["error"]["field"].clone()),
                (422, json!(field)),
                "[{name}] {body}: {reply}"
            );
        }

        let (status, _, signed_in) = post(
            &url("/api/auth/signin"),
            &json!({"email": session.email, "password": session.password}),
        )
        .await;
        assert_eq!(status, 200, "[{name}] {signed_in}");
        assert_eq!(signed_in["user"]["id"], session.user["id"]);
        assert!(signed_in["expires_in"].as_u64().unwrap() > 0);

        let me = Api::new(stack.as_ref(), session.clone());
        let got = me.get("/api/me").await;
        assert_eq!(
            (got.status, got.body["id"].clone()),
            (200, session.user["id"].clone())
        );
        let patched = me
            .call(
                "PATCH",
                "/api/me",
                Some(&json!({"time_zone": "Pacific/Auckland", "name": "Kim"})),
                &[],
            )
            .await;
        assert_eq!(patched.status, 200, "[{name}] {}", patched.body);
        assert_eq!(
            me.get("/api/me").await.body["time_zone"],
            "Pacific/Auckland"
        );
        let bad = me
            .call(
                "PATCH",
                "/api/me",
                Some(&json!({"time_zone": "Nowhere"})),
                &[],
            )
            .await;
        assert_eq!(bad.status, 422);

        // Refresh rotates: the old refresh token stops working.
        let (status, _, refreshed) = post(
            &url("/api/auth/refresh"),
            &json!({"refresh_token": session.refresh_token}),
        )
        .await;
        assert_eq!(status, 200, "[{name}] {refreshed}");
        let (status, _, retried) = post(
            &url("/api/auth/refresh"),
            &json!({"refresh_token": session.refresh_token}),
        )
        .await;
        // At once, that is the holder retrying an exchange whose answer it
        // never got: exchanged again, for a token of its own.
        assert_eq!(status, 200, "[{name}] a retried refresh: {retried}");
        assert_ne!(retried["refresh_token"], refreshed["refresh_token"]);
        let (status, _, renewed) = post(
            &url("/api/auth/refresh"),
            &json!({"refresh_token": retried["refresh_token"]}),
        )
        .await;
        assert_eq!(status, 200, "[{name}] a retry ended the session: {renewed}");
        let fresh = bearer_client(refreshed["access_token"].as_str().unwrap());
        let resp = fresh.get(url("/api/tasks")).send().await.unwrap();
        assert_eq!(resp.status(), 200);

        // Sign-out revokes the refresh token (here the sign-in's own).
        let new_refresh = signed_in["refresh_token"].clone();
        let (status, _, _) = post(
            &url("/api/auth/signout"),
            &json!({"refresh_token": new_refresh}),
        )
        .await;
        assert_eq!(status, 204);
        let (status, _, _) = post(
            &url("/api/auth/refresh"),
            &json!({"refresh_token": new_refresh}),
        )
        .await;
        assert_eq!(status, 401);
    }
}

/// OAuth's refresh-token reuse detection (RFC 9700 4.14.2): a rotated token
/// presented again means two parties hold it, so the session it belongs to
/// ends for both — and no other session of the same user does.
#[tokio::test(flavor = "multi_thread")]
async fn reusing_a_rotated_refresh_token_ends_its_session_and_no_other() {
    for stack in stacks() {
        let name = stack.name();
        let refresh = |token: &Value| {
            let url = stack.url("/api/auth/refresh");
            let body = json!({ "refresh_token": token });
            async move { post(&url, &body).await }
        };
        let laptop = sign_up(stack.as_ref()).await;
        let (status, _, phone) = post(
            &stack.url("/api/auth/signin"),
            &json!({"email": laptop.email, "password": laptop.password}),
        )
        .await;
        assert_eq!(status, 200, "[{name}] {phone}");

        // The laptop refreshes twice; a copy of its first token, taken
        // before, is then tried.
        let stolen = json!(laptop.refresh_token);
        let (status, _, second) = refresh(&stolen).await;
        assert_eq!(status, 200, "[{name}] {second}");
        // Back at once it is taken for the holder retrying an exchange
        // whose answer it never got: exchanged again, the session goes on.
        let (status, _, retried) = refresh(&stolen).await;
        assert_eq!(status, 200, "[{name}] {retried}");
        let (status, _, third) = refresh(&retried["refresh_token"]).await;
        assert_eq!(status, 200, "[{name}] {third}");
        // An older token within the window grants nothing, ends nothing.
        let (status, _, body) = refresh(&stolen).await;
        assert_eq!(status, 409, "[{name}] {body}");
        // Later than any such race (10 s), it is a reuse.
        tokio::time::sleep(std::time::Duration::from_secs(11)).await;
        let (status, _, body) = refresh(&stolen).await;
        assert_eq!(status, 401, "[{name}] a rotated token works again: {body}");

        // The laptop's live token is revoked with it; its access token
        // lives out its few minutes (it is not looked up).
        let (status, _, body) = refresh(&third["refresh_token"]).await;
        assert_eq!(status, 401, "[{name}] the session survived reuse: {body}");
        let (status, _, body) = refresh(&second["refresh_token"]).await;
        assert_eq!(status, 401, "[{name}] {body}");

        // The phone's session is another family: untouched, and rotating.
        let (status, _, next) = refresh(&phone["refresh_token"]).await;
        assert_eq!(status, 200, "[{name}] another session ended: {next}");
        let (status, _, _) = refresh(&next["refresh_token"]).await;
        assert_eq!(status, 200, "[{name}]");
        let me = bearer_client(next["access_token"].as_str().unwrap())
            .get(stack.url("/api/me"))
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200, "[{name}]");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_valid_token_are_401_and_failed_sign_ins_are_slowed() {
    for stack in stacks() {
        let name = stack.name();
        let session = sign_up(stack.as_ref()).await;
        for path in [
            "/api/tasks",
            "/api/me",
            "/api/audit",
            "/api/audit/verify",
            "/api/tasks/x/occurrences",
        ] {
            let resp = reqwest::Client::new()
                .get(stack.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 401, "[{name}] {path}");
            assert_eq!(
                resp.headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "[{name}] {path}"
            );
            for token in [
                "garbage",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
            ] {
                let resp = bearer_client(token)
                    .get(stack.url(path))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 401, "[{name}] {path} with {token}");
            }
        }
        let wrong = json!({"email": session.email, "password": "not the password"});
        let unknown = json!({"email": "nobody@example.test", "password": "not the password"});
        let (s1, _, b1) = post(&stack.url("/api/auth/signin"), &wrong).await;
        let (s2, _, b2) = post(&stack.url("/api/auth/signin"), &unknown).await;
        assert_eq!((s1, s2), (401, 401));
        assert_eq!(
            b1["error"]["message"], b2["error"]["message"],
            "no account enumeration"
        );
        let mut limited = None;
        for _ in 0..10 {
            let (status, retry_after, _) = post(&stack.url("/api/auth/signin"), &wrong).await;
            if status == 429 {
                limited = retry_after;
                break;
            }
            assert_eq!(status, 401);
        }
        let retry_after: u64 = limited
            .unwrap_or_else(|| panic!("[{name}] repeated failures were never slowed"))
            .parse()
            .unwrap();
        assert!(retry_after > 0);
        // Even the right password waits out the window.
        let right = json!({"email": session.email, "password": session.password});
        assert_eq!(post(&stack.url("/api/auth/signin"), &right).await.0, 429);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_users_never_see_or_change_each_others_data() {
    for stack in stacks() {
        let name = stack.name();
        let alice = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let bob = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let task = alice
            .create(
                &json!({"title": "alice's secret", "due": {"date": "2030-01-01"},
                "recurrence": {"rrule": "FREQ=WEEKLY"}}),
            )
            .await;
        let id = task["id"].as_str().unwrap();
        let path = format!("/api/tasks/{id}");
        let missing = bob
            .get("/api/tasks/0190aaaa-0000-7000-8000-000000000000")
            .await;
        for (method, p, body) in [
            ("GET", path.clone(), None),
            ("PUT", path.clone(), Some(json!({"title": "mine now"}))),
            ("PATCH", path.clone(), Some(json!({"title": "mine now"}))),
            ("DELETE", path.clone(), None),
            ("POST", format!("{path}/complete"), None),
            ("POST", format!("{path}/uncomplete"), None),
            ("GET", format!("{path}/occurrences"), None),
        ] {
            let reply = bob.call(method, &p, body.as_ref(), &[]).await;
            assert_eq!(
                reply.status, 404,
                "[{name}] bob {method} {p}: {}",
                reply.body
            );
            // Exactly as a task that does not exist.
            assert_eq!(reply.body["error"]["code"], missing.body["error"]["code"]);
        }
        assert_eq!(bob.get("/api/tasks").await.body["tasks"], json!([]));
        assert_eq!(
            bob.get("/api/tasks?q=secret").await.body["tasks"],
            json!([])
        );
        // Alice's audit has her event; Bob's has nothing, even by task id.
        alice.history_types(id, 1).await;
        assert_eq!(bob.history(id).await, Vec::<Value>::new());
        assert_eq!(bob.get("/api/audit").await.body["entries"], json!([]));
        assert_eq!(bob.get("/api/audit/verify").await.body["length"], 0);
        let still = alice.get(&path).await;
        assert_eq!(
            (still.status, still.body["version"].clone()),
            (200, json!(1)),
            "[{name}]"
        );
    }
}

/// Forty wrong passwords at once: each attempt is counted before its
/// password is checked, so no more than the limit (5) are checked at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit() {
    for stack in stacks() {
        let name = stack.name();
        let session = sign_up(stack.as_ref()).await;
        let guesser = client_from("127.0.0.3");
        let url = stack.url("/api/auth/signin");
        let guesses = (0..40).map(|i| {
            let body = json!({"email": session.email, "password": format!("guess number {i}")});
            let (guesser, url) = (guesser.clone(), url.clone());
            tokio::spawn(async move { post_from(&guesser, &url, &body, &[]).await })
        });
        let mut checked = 0;
        for guess in guesses {
            let (status, retry_after, body) = guess.await.unwrap();
            match status {
                401 => checked += 1,
                429 => assert!(
                    retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0)),
                    "[{name}] a 429 without a retry-after: {body}"
                ),
                other => panic!("[{name}] {other}: {body}"),
            }
        }
        assert!(
            (1..=5).contains(&checked),
            "[{name}] {checked} of 40 concurrent guesses had their password checked"
        );
    }
}

/// Someone else's wrong passwords cannot lock the owner out: the throttle
/// is per (email, client address); from anywhere else the email is only
/// paced, and a client cannot claim another address.
#[tokio::test(flavor = "multi_thread")]
async fn a_guesser_elsewhere_cannot_lock_the_owner_out() {
    for stack in stacks() {
        let name = stack.name();
        let owner = sign_up(stack.as_ref()).await;
        let url = stack.url("/api/auth/signin");
        let wrong = json!({"email": owner.email, "password": "not the password"});
        let right = json!({"email": owner.email, "password": owner.password});
        let guesser = client_from("127.0.0.4");
        for i in 0..5 {
            let (status, _, body) = post_from(&guesser, &url, &wrong, &[]).await;
            assert_eq!(status, 401, "[{name}] guess {i}: {body}");
        }
        // The guesser is stopped, even with the right password, and even
        // claiming to be elsewhere.
        for headers in [
            &[][..],
            &[("spin-client-addr", "127.0.0.9:1")][..],
            &[("x-forwarded-for", "127.0.0.9")][..],
        ] {
            let (status, _, body) = post_from(&guesser, &url, &right, headers).await;
            assert_eq!(status, 429, "[{name}] {headers:?}: {body}");
        }

        // The owner, at another address, is at most asked to wait a moment.
        let phone = client_from("127.0.0.5");
        let (mut status, retry_after, body) = post_from(&phone, &url, &right, &[]).await;
        if status == 429 {
            let wait: u64 = retry_after.unwrap().parse().unwrap();
            assert!(
                wait <= 2,
                "[{name}] the owner was locked out for {wait} s: {body}"
            );
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            status = post_from(&phone, &url, &right, &[]).await.0;
        }
        assert_eq!(status, 200, "[{name}] the owner could not sign in");
    }
}

/// `todo_refresh`'s value in a response's `Set-Cookie` ("" when removed).
fn refresh_cookie(resp: &reqwest::Response) -> String {
    let header = resp.headers()["set-cookie"].to_str().unwrap();
    header
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("todo_refresh="))
        .unwrap_or_else(|| panic!("not the refresh cookie: {header}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_apps_refresh_token_lives_in_an_http_only_cookie() {
    for stack in stacks() {
        let name = stack.name();
        let http = reqwest::Client::new();
        let user = sign_up(stack.as_ref()).await;
        let signin = http
            .post(stack.url("/api/auth/signin"))
            .json(&json!({"email": user.email, "password": user.password,
                          "refresh_token_delivery": "cookie"}))
            .send()
            .await
            .unwrap();
        assert_eq!(signin.status(), 200, "[{name}]");
        let set = signin.headers()["set-cookie"].to_str().unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/auth/"] {
            assert!(set.split("; ").any(|a| a == attribute), "[{name}] {set}");
        }
        let first = refresh_cookie(&signin);
        let body: Value = signin.json().await.unwrap();
        assert!(body.get("refresh_token").is_none(), "[{name}] {body}");

        let refresh = |token: String| {
            let req = http
                .post(stack.url("/api/auth/refresh"))
                .header("cookie", format!("todo_refresh={token}"))
                .json(&json!({}));
            async move { req.send().await.unwrap() }
        };
        let renewed = refresh(first.clone()).await;
        assert_eq!(renewed.status(), 200, "[{name}]");
        let second = refresh_cookie(&renewed);
        assert_ne!(second, first, "[{name}] rotated");
        let signout = http
            .post(stack.url("/api/auth/signout"))
            .header("cookie", format!("todo_refresh={second}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(signout.status(), 204, "[{name}]");
        assert_eq!(
            refresh_cookie(&signout),
            "",
            "[{name}] the cookie is removed"
        );
        assert_eq!(refresh(second).await.status(), 401, "[{name}] signed out");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn past_a_hundred_sessions_the_oldest_ends() {
    for stack in stacks() {
        let name = stack.name();
        let user = sign_up(stack.as_ref()).await;
        let url = stack.url("/api/auth/signin");
        let signin = json!({"email": user.email, "password": user.password});
        // 100 sign-ins after the sign-up's session, one at a time (each is
        // an argon2 hash: this keeps a core free for the tests beside it).
        let mut tokens = Vec::new();
        for _ in 0..100 {
            let (status, _, body) = post(&url, &signin).await;
            assert_eq!(status, 200, "[{name}] {body}");
            tokens.push(body["refresh_token"].clone());
        }
        let refresh = stack.url("/api/auth/refresh");
        let (status, _, body) = post(&refresh, &json!({"refresh_token": user.refresh_token})).await;
        assert_eq!(
            status, 401,
            "[{name}] the oldest session still works: {body}"
        );
        for token in [&tokens[0], &tokens[99]] {
            let (status, _, body) = post(&refresh, &json!({ "refresh_token": token })).await;
            assert_eq!(status, 200, "[{name}] a newer session ended: {body}");
        }
    }
}
