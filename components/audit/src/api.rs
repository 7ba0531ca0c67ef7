//! HTTP routes: `GET /api/audit` (query) and `GET /api/audit/verify`, each
//! over the authenticated caller's own chain. Nothing here writes.

use todo_domain::{ApiError, KeyValue, Request, Response, Secrets};

use crate::keys::Keyring;
use crate::query::{Query, page};
use crate::store::Chain;
use crate::verify::verify;

pub fn handle(kv: &impl KeyValue, secrets: &impl Secrets, req: &Request) -> Response {
    route(kv, secrets, req).unwrap_or_else(todo_auth::error_response)
}

fn route(kv: &impl KeyValue, secrets: &impl Secrets, req: &Request) -> Result<Response, ApiError> {
    let path = req.path.strip_suffix('/').unwrap_or(&req.path);
    if !matches!(path, "/api/audit" | "/api/audit/verify") {
        return Err(ApiError::not_found(format!("no route for {}", req.path)));
    }
    let user = todo_auth::bearer_user(secrets, req)?;
    let chain = Chain(&user);
    match (path, req.method.as_str()) {
        ("/api/audit", "GET") => {
            let query = Query::parse(&req.query_pairs())?;
            let page = page(kv, chain, &query).map_err(ApiError::from)?;
            Ok(Response::json(200, &page))
        }
        ("/api/audit/verify", "GET") => {
            // A missing key is the server's misconfiguration: 503.
            let keys = Keyring::load(secrets).map_err(|e| ApiError::unavailable(e.to_string()))?;
            let full = full_param(&req.query_pairs())?;
            let verification = verify(kv, chain, keys, full).map_err(ApiError::from)?;
            Ok(Response::json(200, &verification))
        }
        ("/api/audit" | "/api/audit/verify", method) => {
            Err(ApiError::method_not_allowed(method, &["GET"]))
        }
        _ => Err(ApiError::not_found(format!("no route for {}", req.path))),
    }
}

/// `/verify`'s one parameter: `full=true` re-checks from the first entry
/// rather than from the last verification's checkpoint.
fn full_param(pairs: &[(String, String)]) -> Result<bool, ApiError> {
    let mut full = false;
    for (name, value) in pairs {
        match (name.as_str(), value.as_str()) {
            ("full", "true") => full = true,
            ("full", "false") => full = false,
            ("full", _) => {
                return Err(ApiError::bad_request("full", "full must be true or false"));
            }
            (other, _) => {
                return Err(ApiError::bad_request(
                    other,
                    format!("unknown query parameter `{other}`"),
                ));
            }
        }
    }
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::record;
    use serde_json::json;
    use todo_auth::{Keys, SIGNING_KEY_SECRET};
    use todo_domain::topics::{TASK_EVENTS, event_type};
    use todo_domain::{EventOrigin, MemoryKv, SetOptions};
    use todo_domain::{KvError, StaticSecrets};

    const KEY: &str = "test-signing-key-of-at-least-32-bytes!";

    fn secrets() -> StaticSecrets {
        crate::keys::test_secrets().with(SIGNING_KEY_SECRET, KEY)
    }

    fn call(kv: &MemoryKv, user: &str, method: &str, path: &str) -> Response {
        let (token, _) = Keys::from_secret(KEY)
            .unwrap()
            .issue_access(user, chrono::Utc::now());
        let req =
            Request::new(method, path).with_header("authorization", &format!("Bearer {token}"));
        handle(kv, &secrets(), &req)
    }

    fn get(kv: &MemoryKv, path: &str) -> Response {
        call(kv, "u", "GET", path)
    }

    fn seeded() -> (MemoryKv, Vec<String>) {
        let kv = MemoryKv::new();
        let origin = EventOrigin::new("chat-api", "u", "c");
        let mut ids = Vec::new();
        for (subject, ty) in [
            ("t1", event_type::TASK_CREATED),
            ("t2", event_type::TASK_CREATED),
            ("t1", event_type::TASK_COMPLETED),
        ] {
            let event = origin.event(ty).subject(subject).build();
            ids.push(event.id.clone());
            record(&kv, &secrets(), TASK_EVENTS, &event).unwrap();
        }
        (kv, ids)
    }

    #[test]
    fn query_returns_entries_and_head() {
        let (kv, ids) = seeded();
        let resp = get(&kv, "/api/audit?subject=t1");
        assert_eq!(resp.status, 200);
        let body = resp.json_body().unwrap();
        assert_eq!(body["head"], 3);
        let entries = body["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["seq"], 1);
        assert_eq!(entries[0]["event"]["id"], json!(ids[0]));
        assert_eq!(entries[1]["event"]["type"], event_type::TASK_COMPLETED);
        assert_eq!(entries[1]["prev_hash"].as_str().unwrap().len(), 64);

        let body = get(&kv, "/api/audit?type=com.todo.task.created.v1&after=1")
            .json_body()
            .unwrap();
        assert_eq!(body["entries"].as_array().unwrap().len(), 1);
        assert_eq!(body["entries"][0]["event"]["subject"], "t2");
    }

    #[test]
    fn bad_parameters_are_400s_naming_the_parameter() {
        let (kv, _) = seeded();
        let resp = get(&kv, "/api/audit?limit=0");
        assert_eq!(resp.status, 400);
        assert_eq!(resp.json_body().unwrap()["error"]["field"], "limit");
    }

    #[test]
    fn an_overlong_or_empty_task_id_is_a_422_that_shows_no_storage_key() {
        let (kv, _) = seeded();
        for query in [
            format!("task={}", "t".repeat(2000)),
            "task=".to_owned(),
            format!("subject={}", "s".repeat(129)),
            "task=a%0Ab".to_owned(),
        ] {
            let resp = get(&kv, &format!("/api/audit?{query}"));
            assert_eq!(resp.status, 422, "{query}");
            let body = resp.json_body().unwrap();
            let field = query.split('=').next().unwrap();
            assert_eq!(body["error"]["field"], field, "{query}");
            assert!(!body.to_string().contains("audit:"), "{query}: {body}");
        }
        // The longest id allowed is a query like any other.
        let resp = get(&kv, &format!("/api/audit?task={}", "t".repeat(128)));
        assert_eq!(resp.status, 200);
    }

    #[test]
    fn verify_reports_ok_then_the_tampered_seq() {
        let (kv, _) = seeded();
        assert_eq!(
            get(&kv, "/api/audit/verify").json_body().unwrap(),
            json!({"ok": true, "length": 3, "checked": 3})
        );

        let key = Chain("u").entry_key(2);
        let (bytes, _) = kv.get(&key).unwrap().unwrap();
        let forged = String::from_utf8(bytes).unwrap().replace("t2", "t9");
        kv.set(&key, forged.as_bytes(), SetOptions::default())
            .unwrap();
        // Entry 2 was verified already: only a full check sees the edit.
        let body = get(&kv, "/api/audit/verify?full=true").json_body().unwrap();
        assert_eq!(body["ok"], false);
        assert_eq!(body["length"], 3);
        assert_eq!(body["broken_at"], 2);
        for bad in ["full=yes", "fulll=true"] {
            let resp = get(&kv, &format!("/api/audit/verify?{bad}"));
            assert_eq!(resp.status, 400, "{bad}");
            let field = bad.split('=').next().unwrap();
            assert_eq!(resp.json_body().unwrap()["error"]["field"], field);
        }
    }

    #[test]
    fn verify_catches_a_rewritten_head() {
        let (kv, _) = seeded();
        let head = json!({"seq": 3, "hash": "00".repeat(32)});
        kv.set(
            &Chain("u").head_key(),
            head.to_string().as_bytes(),
            SetOptions::default(),
        )
        .unwrap();
        let body = get(&kv, "/api/audit/verify").json_body().unwrap();
        assert_eq!(
            (body["ok"].clone(), body["broken_at"].clone()),
            (json!(false), json!(3))
        );
    }

    #[test]
    fn each_user_sees_only_their_own_chain_and_a_task_history() {
        let (kv, ids) = seeded();
        let other = EventOrigin::new("chat-api", "v", "c")
            .event(event_type::TASK_CREATED)
            .subject("t1")
            .build();
        record(&kv, &secrets(), TASK_EVENTS, &other).unwrap();
        let body = call(&kv, "v", "GET", "/api/audit").json_body().unwrap();
        assert_eq!(body["entries"].as_array().unwrap().len(), 1);
        assert_eq!(body["entries"][0]["event"]["id"], json!(other.id));
        let body = get(&kv, "/api/audit?task=t1").json_body().unwrap();
        let got: Vec<&str> = body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, [ids[0].as_str(), ids[2].as_str()]);
        assert_eq!(
            call(&kv, "v", "GET", "/api/audit/verify")
                .json_body()
                .unwrap(),
            json!({"ok": true, "length": 1, "checked": 1})
        );
    }

    #[test]
    fn routing_errors() {
        let kv = MemoryKv::new();
        assert_eq!(
            get(&kv, "/api/audit").json_body().unwrap(),
            json!({"entries": [], "head": 0, "next_after": 0})
        );
        assert_eq!(get(&kv, "/api/audit/nope").status, 404);
        let resp = call(&kv, "u", "POST", "/api/audit");
        assert_eq!((resp.status, resp.header("allow")), (405, Some("GET")));
        let resp = handle(&kv, &secrets(), &Request::new("GET", "/api/audit"));
        assert_eq!(
            (resp.status, resp.header("www-authenticate")),
            (401, Some("Bearer"))
        );
        kv.fail_next(KvError::Unavailable("down".into()));
        assert_eq!(get(&kv, "/api/audit/verify").status, 503);
        // Without the chain key nothing can be verified: the server says
        // what is missing, never a chain "ok".
        let no_key = StaticSecrets::default().with(SIGNING_KEY_SECRET, KEY);
        let (token, _) = Keys::from_secret(KEY)
            .unwrap()
            .issue_access("u", chrono::Utc::now());
        let req = Request::new("GET", "/api/audit/verify")
            .with_header("authorization", &format!("Bearer {token}"));
        let resp = handle(&kv, &no_key, &req);
        assert_eq!(resp.status, 503);
        assert!(
            resp.json_body().unwrap()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("audit-chain-key")
        );
    }
}
