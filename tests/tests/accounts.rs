//! Accounts and isolation over HTTP on every stack: sign-up, sign-in,
//! refresh rotation, sign-out, the profile, 401s, slowed sign-ins, and two
//! users who never see or change each other's data on any route.

use serde_json::{Value, json};
use todo_tests::account::{bearer_client, sign_up};
use todo_tests::api::Api;
use todo_tests::stack::stacks;

async fn post(url: &str, body: &Value) -> (u16, Option<String>, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
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
        let (status, _, _) = post(
            &url("/api/auth/refresh"),
            &json!({"refresh_token": session.refresh_token}),
        )
        .await;
        assert_eq!(status, 401, "[{name}] a used refresh token still works");
        let fresh = bearer_client(refreshed["access_token"].as_str().unwrap());
        let resp = fresh.get(url("/api/tasks")).send().await.unwrap();
        assert_eq!(resp.status(), 200);

        // Sign-out revokes the refresh token.
        let new_refresh = refreshed["refresh_token"].clone();
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
