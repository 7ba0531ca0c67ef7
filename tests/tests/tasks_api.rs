//! The task REST API over HTTP on every stack: the full model, validation,
//! ETags, idempotent retries, list / filter / sort / paging, occurrences
//! and concurrent writes of one user.

use serde_json::{Value, json};
use todo_tests::account::{sign_up, sign_up_in};
use todo_tests::api::Api;
use todo_tests::stack::stacks;

fn titles(reply: &Value) -> Vec<String> {
    reply["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_full_task_model_round_trips() {
    for stack in stacks() {
        let api = Api::new(
            stack.as_ref(),
            sign_up_in(stack.as_ref(), "America/New_York").await,
        );
        let name = stack.name();
        let created = api
            .post(
                "/api/tasks",
                &json!({
                    "title": "  Pay rent ",
                    "description": "flat 3",
                    "priority": "urgent",
                    "tags": ["Home", "money", "home"],
                    // No zone: the user's own.
                    "due": {"date": "2026-12-01", "time": "09:00"},
                    "reminders": [{"before_minutes": 60}, {"at": "2026-11-30T12:00:00Z"}],
                    "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "basis": "schedule"},
                }),
            )
            .await;
        assert_eq!(created.status, 201, "[{name}] {}", created.body);
        let task = &created.body;
        let id = task["id"].as_str().unwrap();
        assert_eq!(
            created.location.as_deref(),
            Some(format!("/api/tasks/{id}").as_str())
        );
        assert_eq!(created.etag.as_deref(), Some("\"1\""));
        assert_eq!(task["title"], "Pay rent");
        assert_eq!(task["status"], "open");
        assert_eq!(task["tags"], json!(["home", "money"]));
        assert_eq!(
            task["due"],
            json!({"date": "2026-12-01", "time": "09:00", "time_zone": "America/New_York"})
        );
        assert_eq!(task["due_at"], "2026-12-01T14:00:00Z");
        assert_eq!(task["reminders"].as_array().unwrap().len(), 2);
        assert!(task["reminders"][0]["id"].is_string());
        assert_eq!(task["recurrence"]["basis"], "schedule");
        assert!(
            task["recurrence"]["text"]
                .as_str()
                .unwrap()
                .contains("month")
        );
        assert_eq!(task["series_id"], id);
        assert_eq!(task["occurrence"], 1);
        assert_eq!(task["version"], 1);
        assert!(task["completed_at"].is_null());

        // PUT of what GET returned changes nothing.
        let same = api
            .call("PUT", &format!("/api/tasks/{id}"), Some(task), &[])
            .await;
        assert_eq!(
            (same.status, same.body["version"].clone()),
            (200, json!(1)),
            "[{name}] {}",
            same.body
        );

        let occ = api
            .get(&format!("/api/tasks/{id}/occurrences?count=3"))
            .await;
        assert_eq!(occ.status, 200, "[{name}] {}", occ.body);
        assert_eq!(
            occ.body["occurrences"],
            json!([
                {"local": "2026-12-01T09:00:00", "at": "2026-12-01T14:00:00Z"},
                {"local": "2027-01-01T09:00:00", "at": "2027-01-01T14:00:00Z"},
                {"local": "2027-02-01T09:00:00", "at": "2027-02-01T14:00:00Z"},
            ])
        );
        let bad = api
            .get(&format!("/api/tasks/{id}/occurrences?count=101"))
            .await;
        assert_eq!(
            (bad.status, bad.body["error"]["field"].clone()),
            (400, json!("count"))
        );

        let done = api
            .post(&format!("/api/tasks/{id}/complete"), &json!({}))
            .await;
        assert_eq!(done.body["status"], "completed");
        assert!(done.body["completed_at"].is_string());
        assert_eq!(done.etag.as_deref(), Some("\"2\""));
        // Completing a completed task is a no-op, not an error.
        let again = api
            .post(&format!("/api/tasks/{id}/complete"), &json!({}))
            .await;
        assert_eq!(
            (again.status, again.body["version"].clone()),
            (200, json!(2))
        );

        // What the web app's recurrence builder shows for a rule not saved yet.
        let preview = api
            .post(
                "/api/recurrence/preview",
                &json!({"due": {"date": "2026-12-01", "time": "09:00"},
                        "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=1"}, "count": 2}),
            )
            .await;
        assert_eq!(preview.status, 200, "[{name}] {}", preview.body);
        assert_eq!(
            preview.body["occurrences"][1]["at"], "2027-01-01T14:00:00Z",
            "[{name}] 09:00 New York"
        );
        assert!(preview.body["recurrence"]["text"].is_string());
        web_app_is_served(&api, name).await;
    }
}

/// The web app (the frontend component's static files) on the API's
/// origin, with its assets; unknown API paths stay JSON 404s.
async fn web_app_is_served(api: &Api<'_>, name: &str) {
    let http = &api.session.http;
    let index = http.get(api.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200, "[{name}]");
    assert!(
        index.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "[{name}]"
    );
    let policy = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = index.text().await.unwrap();
    // Inline scripts run only by hash: each of the page's own (a `<script>`
    // element without `src`) has one, nothing else does.
    let scripts = policy
        .split("; ")
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("[{name}] no script-src: {policy}"));
    assert!(!scripts.contains("unsafe-inline"), "[{name}] {scripts}");
    let inline = html
        .split("<script")
        .skip(1)
        .filter(|tag| !tag[..tag.find('>').unwrap()].contains("src="))
        .count();
    assert!(inline > 0, "[{name}] the export has inline scripts");
    assert_eq!(
        scripts.matches("'sha256-").count(),
        inline,
        "[{name}] {scripts}"
    );
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/_next/static/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("[{name}] no script in the page: {html}"));
    let js = http.get(api.url(asset)).send().await.unwrap();
    assert_eq!(js.status(), 200, "[{name}] {asset}");
    assert!(
        js.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"),
        "[{name}]"
    );
    let signin = http.get(api.url("/signin")).send().await.unwrap();
    assert_eq!(
        signin.status(),
        200,
        "[{name}] /signin redirects to /signin/"
    );
    assert!(signin.url().path().ends_with("/signin/"), "[{name}]");
    let unknown = api.get("/api/no-such-route").await;
    assert_eq!(
        (unknown.status, unknown.body["error"]["code"].clone()),
        (404, json!("not_found")),
        "[{name}]"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_writes_get_412_and_retries_with_a_key_act_once() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();
        let task = api.create(&json!({"title": "draft"})).await;
        let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
        let patch = json!({"title": "final"});
        let ok = api
            .call("PATCH", &path, Some(&patch), &[("if-match", "\"1\"")])
            .await;
        assert_eq!(
            (ok.status, ok.etag.as_deref()),
            (200, Some("\"2\"")),
            "[{name}] {}",
            ok.body
        );
        for (method, body) in [
            ("PATCH", Some(&patch)),
            ("PUT", Some(&patch)),
            ("DELETE", None),
        ] {
            let stale = api
                .call(method, &path, body, &[("if-match", "\"1\"")])
                .await;
            assert_eq!(stale.status, 412, "[{name}] {method}: {}", stale.body);
        }
        let stale = api
            .call(
                "POST",
                &format!("{path}/complete"),
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(stale.status, 412, "[{name}] {}", stale.body);
        assert_eq!(api.get(&path).await.body["title"], "final");

        // The same key and body: one task, the first answer twice.
        let key = [("idempotency-key", "create-42")];
        let body = json!({"title": "only once"});
        let first = api.call("POST", "/api/tasks", Some(&body), &key).await;
        let second = api.call("POST", "/api/tasks", Some(&body), &key).await;
        assert_eq!(first.status, 201, "[{name}] {}", first.body);
        assert_eq!((second.status, &second.body), (201, &first.body));
        let other = api
            .call("POST", "/api/tasks", Some(&json!({"title": "else"})), &key)
            .await;
        assert_eq!(other.status, 422, "[{name}] {}", other.body);
        let list = api.get("/api/tasks?q=only%20once").await;
        assert_eq!(list.body["tasks"].as_array().unwrap().len(), 1);

        let id = first.body["id"].as_str().unwrap();
        let ckey = [("idempotency-key", "complete-1")];
        let c1 = api
            .call("POST", &format!("/api/tasks/{id}/complete"), None, &ckey)
            .await;
        let c2 = api
            .call("POST", &format!("/api/tasks/{id}/complete"), None, &ckey)
            .await;
        assert_eq!((c1.status, c2.status), (200, 200));
        assert_eq!(c1.body, c2.body);
        let history = api.history_types(id, 2).await;
        assert_eq!(
            history.iter().filter(|t| t.contains("completed")).count(),
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_searches_filters_sorts_and_pages() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();
        for (title, priority, tags, due) in [
            (
                "alpha",
                "high",
                json!(["work"]),
                json!({"date": "2020-01-01"}),
            ),
            (
                "bravo",
                "low",
                json!(["home"]),
                json!({"date": "2099-01-01", "time": "08:00"}),
            ),
            ("charlie", "urgent", json!(["work"]), Value::Null),
            ("delta", "none", json!([]), json!({"date": "2099-06-01"})),
        ] {
            api.create(&json!({"title": title, "priority": priority, "tags": tags, "due": due}))
                .await;
        }
        let api = &api;
        let list = |q: &str| {
            let path = format!("/api/tasks?{q}");
            async move { api.get(&path).await }
        };
        assert_eq!(
            titles(&list("sort=due").await.body),
            ["alpha", "bravo", "delta", "charlie"]
        );
        assert_eq!(
            titles(&list("sort=-due").await.body),
            ["delta", "bravo", "alpha", "charlie"]
        );
        assert_eq!(
            titles(&list("sort=-priority").await.body),
            ["charlie", "alpha", "bravo", "delta"]
        );
        assert_eq!(
            titles(&list("filter=tag%3Awork&sort=title").await.body),
            ["alpha", "charlie"]
        );
        assert_eq!(
            titles(
                &list("filter=priority%3E%3Dhigh%20%7C%20due%3Anone&sort=title")
                    .await
                    .body
            ),
            ["alpha", "charlie"]
        );
        assert_eq!(titles(&list("filter=due%3Aoverdue").await.body), ["alpha"]);
        assert_eq!(titles(&list("q=RAV").await.body), ["bravo"]);
        // Paging: two pages of two, then nothing more.
        let first = list("sort=title&limit=2").await.body;
        assert_eq!(titles(&first), ["alpha", "bravo"]);
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = list(&format!("sort=title&limit=2&cursor={cursor}"))
            .await
            .body;
        assert_eq!(titles(&second), ["charlie", "delta"]);
        assert!(second["next_cursor"].is_null());

        let bad = list("filter=priority%3Ahgh").await;
        assert_eq!(bad.status, 422, "[{name}] {}", bad.body);
        assert_eq!(bad.body["error"]["field"], "filter");
        assert!(
            bad.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("position"),
            "{}",
            bad.body
        );
        for q in ["limit=0", "sort=colour", "cursor=nonsense", "colour=red"] {
            assert_eq!(list(q).await.status, 400, "[{name}] {q}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_concurrent_creates_of_one_user_all_succeed() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let creates = (0..8).map(|i| {
            let body = json!({"title": format!("parallel {i}")});
            let api = &api;
            async move { api.post("/api/tasks", &body).await }
        });
        // Polled together so the creates are in flight at once.
        let replies = futures::future::join_all(creates).await;
        for r in &replies {
            assert_eq!(r.status, 201, "[{}] {}", stack.name(), r.body);
        }
        let list = api.get("/api/tasks?limit=200").await;
        assert_eq!(list.body["tasks"].as_array().unwrap().len(), 8);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_4xx_and_changes_nothing() {
    for stack in stacks() {
        let api = Api::new(stack.as_ref(), sign_up(stack.as_ref()).await);
        let name = stack.name();
        let raw = |body: &'static str| {
            api.session
                .http
                .post(api.url("/api/tasks"))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let resp = raw("{not json").await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["message"].as_str().is_some(), "{body}");
        for (body, field) in [
            (json!({"title": "   "}), "title"),
            (json!({"title": "ok", "priority": "urgent!"}), "priority"),
            (json!({"title": "ok", "colour": "red"}), "colour"),
            (
                json!({"title": "ok", "due": {"date": "2026-02-30"}}),
                "due.date",
            ),
            (
                json!({"title": "ok", "due": {"date": "2026-02-03", "time_zone": "Mars/Base"}}),
                "due.time_zone",
            ),
            (
                json!({"title": "ok", "due": {"date": "2026-02-03"}, "recurrence": {"rrule": "FREQ=SOMETIMES"}}),
                "recurrence.rrule",
            ),
            (
                json!({"title": "ok", "recurrence": {"rrule": "FREQ=DAILY"}}),
                "recurrence",
            ),
            (
                json!({"title": "ok", "reminders": [{"before_minutes": 5}]}),
                "reminders[0].before_minutes",
            ),
        ] {
            let reply = api.post("/api/tasks", &body).await;
            assert_eq!(reply.status, 422, "[{name}] {body}: {}", reply.body);
            assert_eq!(
                reply.body["error"]["field"], field,
                "[{name}] {body}: {}",
                reply.body
            );
        }
        let huge = json!({"title": "x", "description": "d".repeat(3 << 20)});
        let reply = api.post("/api/tasks", &huge).await;
        assert_eq!(reply.status, 413, "[{name}] {}", reply.body);
        assert_eq!(api.get("/api/tasks/does-not-exist").await.status, 404);
        let list = api.get("/api/tasks").await;
        assert_eq!(
            list.body["tasks"],
            json!([]),
            "[{name}] bad input created a task"
        );
        assert_eq!(api.get("/api/audit").await.body["entries"], json!([]));
    }
}
