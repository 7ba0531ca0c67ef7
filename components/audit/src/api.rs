//! HTTP routes: `GET /api/audit` (query) and `GET /api/audit/verify`.

use todo_domain::{ApiError, KeyValue, KvError, Request, Response};

use crate::query::{Query, page, verify};

pub fn handle(kv: &impl KeyValue, req: &Request) -> Response {
    route(kv, req).unwrap_or_else(Response::from)
}

fn route(kv: &impl KeyValue, req: &Request) -> Result<Response, ApiError> {
    let path = req.path.strip_suffix('/').unwrap_or(&req.path);
    match (path, req.method.as_str()) {
        ("/api/audit", "GET") => {
            let query = Query::parse(&req.query_pairs())?;
            let page = page(kv, &query).map_err(kv_error)?;
            Ok(Response::json(200, &page))
        }
        ("/api/audit/verify", "GET") => {
            let verification = verify(kv).map_err(kv_error)?;
            Ok(Response::json(200, &verification))
        }
        ("/api/audit" | "/api/audit/verify", method) => {
            Err(ApiError::method_not_allowed(method, &["GET"]))
        }
        _ => Err(ApiError::not_found(format!("no route for {}", req.path))),
    }
}

fn kv_error(err: KvError) -> ApiError {
    match err {
        KvError::Unavailable(m) => ApiError::unavailable(m),
        other => ApiError::internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::record;
    use crate::store::{HEAD_KEY, entry_key};
    use serde_json::json;
    use todo_domain::topics::{TASK_EVENTS, event_type};
    use todo_domain::{EventOrigin, MemoryKv, SetOptions};

    fn get(kv: &MemoryKv, path: &str) -> Response {
        handle(kv, &Request::new("GET", path))
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
            record(&kv, TASK_EVENTS, &event).unwrap();
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
    fn verify_reports_ok_then_the_tampered_seq() {
        let (kv, _) = seeded();
        assert_eq!(
            get(&kv, "/api/audit/verify").json_body().unwrap(),
            json!({"ok": true, "length": 3})
        );

        let (bytes, _) = kv.get(&entry_key(2)).unwrap().unwrap();
        let forged = String::from_utf8(bytes).unwrap().replace("t2", "t9");
        kv.set(&entry_key(2), forged.as_bytes(), SetOptions::default())
            .unwrap();
        let body = get(&kv, "/api/audit/verify").json_body().unwrap();
        assert_eq!(body["ok"], false);
        assert_eq!(body["length"], 3);
        assert_eq!(body["broken_at"], 2);
    }

    #[test]
    fn verify_catches_a_rewritten_head() {
        let (kv, _) = seeded();
        let head = json!({"seq": 3, "hash": "00".repeat(32)});
        kv.set(HEAD_KEY, head.to_string().as_bytes(), SetOptions::default())
            .unwrap();
        let body = get(&kv, "/api/audit/verify").json_body().unwrap();
        assert_eq!(
            (body["ok"].clone(), body["broken_at"].clone()),
            (json!(false), json!(3))
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
        let resp = handle(&kv, &Request::new("POST", "/api/audit"));
        assert_eq!((resp.status, resp.header("allow")), (405, Some("GET")));
        kv.fail_next(KvError::Unavailable("down".into()));
        assert_eq!(get(&kv, "/api/audit/verify").status, 503);
    }
}
