//! HTTP routing for `/api/tasks` and the mapping of failures to the shared
//! error body.

use serde_json::json;
use todo_domain::http::CORRELATION_HEADER;
use todo_domain::{ApiError, KeyValue, KvError, Request, Response};

use crate::context::origin_for;
use crate::store::{self, StoreError};
use crate::tasks::NewTask;

/// Handles one request. Every response, errors included, echoes the
/// correlation id so a client can quote it.
pub fn handle(kv: &impl KeyValue, req: &Request) -> Response {
    let origin = match origin_for(req) {
        Ok(origin) => origin,
        Err(err) => return err.into(),
    };
    let response = route(kv, req, &origin).unwrap_or_else(Response::from);
    response.with_header(CORRELATION_HEADER, &origin.correlation_id)
}

fn route(
    kv: &impl KeyValue,
    req: &Request,
    origin: &todo_domain::EventOrigin,
) -> Result<Response, ApiError> {
    let path = req.path.strip_suffix('/').unwrap_or(&req.path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (segments.as_slice(), req.method.as_str()) {
        (["api", "tasks"], "POST") => {
            let new = NewTask::from_json(&req.body)?;
            let task = store::create(kv, origin, new).map_err(store_error)?;
            let location = format!("/api/tasks/{}", task.id);
            Ok(Response::json(201, &task).with_header("location", &location))
        }
        (["api", "tasks"], "GET") => {
            let tasks = store::list(kv, &origin.user_id).map_err(store_error)?;
            Ok(Response::json(200, &json!({ "tasks": tasks })))
        }
        (["api", "tasks"], method) => Err(ApiError::method_not_allowed(method, &["GET", "POST"])),
        (["api", "tasks", id], "GET") => {
            match store::get(kv, &origin.user_id, id).map_err(store_error)? {
                Some(task) => Ok(Response::json(200, &task)),
                None => Err(ApiError::not_found(format!("no task with id {id}"))),
            }
        }
        (["api", "tasks", _], method) => Err(ApiError::method_not_allowed(method, &["GET"])),
        _ => Err(ApiError::not_found(format!("no route for {}", req.path))),
    }
}

/// Contention that outlasted our retries is a 409 the client may retry;
/// an unreachable backend is a 503; everything else is our fault (500).
fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Kv(KvError::Conflict(m)) => {
            ApiError::conflict(format!("too many concurrent writes, retry: {m}"))
        }
        StoreError::Kv(KvError::Unavailable(m)) => ApiError::unavailable(m),
        other => ApiError::internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use todo_domain::{MemoryKv, SetOptions};

    fn post(kv: &MemoryKv, body: &str) -> Response {
        handle(kv, &Request::new("POST", "/api/tasks").with_body(body))
    }

    fn error_of(resp: &Response) -> Value {
        resp.json_body().unwrap()["error"].clone()
    }

    #[test]
    fn create_then_get_and_list() {
        let kv = MemoryKv::new();
        let resp = post(&kv, r#"{"title": "pay rent", "priority": "high"}"#);
        assert_eq!(resp.status, 201, "{:?}", resp.json_body());
        let task = resp.json_body().unwrap();
        let id = task["id"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
        assert_eq!(task["title"], "pay rent");
        assert_eq!(task["priority"], "high");
        assert_eq!(task["completed"], false);
        assert_eq!(task["user_id"], "local");
        assert_eq!(task["created_at"], task["updated_at"]);
        assert_eq!(
            resp.header("location"),
            Some(format!("/api/tasks/{id}").as_str())
        );

        let got = handle(&kv, &Request::new("GET", &format!("/api/tasks/{id}")));
        assert_eq!(got.status, 200);
        assert_eq!(got.json_body().unwrap(), task);

        let listed = handle(&kv, &Request::new("GET", "/api/tasks"));
        assert_eq!(listed.status, 200);
        assert_eq!(listed.json_body().unwrap()["tasks"], json!([task]));
    }

    #[test]
    fn create_publishes_exactly_the_created_event() {
        let kv = MemoryKv::new();
        let req = Request::new("POST", "/api/tasks")
            .with_header("x-todo-user", "alice")
            .with_header("x-correlation-id", "trace-7")
            .with_body(r#"{"title": "t"}"#);
        let resp = handle(&kv, &req);
        assert_eq!(resp.header("x-correlation-id"), Some("trace-7"));
        let task = resp.json_body().unwrap();

        let published = kv.published();
        assert_eq!(published.len(), 1);
        let event = &published[0].event;
        assert_eq!(published[0].topic, "task-events");
        assert_eq!(event.ty, "com.todo.task.created.v1");
        assert_eq!(
            event.subject.as_ref(),
            task["id"].as_str().map(str::to_owned).as_ref()
        );
        assert_eq!(event.data_as::<Value>().unwrap(), task);
        assert_eq!(event.user_id(), Some("alice"));
        assert_eq!(event.correlation_id(), Some("trace-7"));
    }

    #[test]
    fn users_only_see_their_own_tasks() {
        let kv = MemoryKv::new();
        let resp = post(&kv, r#"{"title": "mine"}"#);
        let id = resp.json_body().unwrap()["id"].as_str().unwrap().to_owned();
        let as_bob = |path: &str| {
            handle(
                &kv,
                &Request::new("GET", path).with_header("x-todo-user", "bob"),
            )
        };
        assert_eq!(as_bob(&format!("/api/tasks/{id}")).status, 404);
        assert_eq!(
            as_bob("/api/tasks").json_body().unwrap(),
            json!({"tasks": []})
        );
    }

    #[test]
    fn bad_bodies_name_the_problem_and_write_nothing() {
        let kv = MemoryKv::new();
        let resp = post(&kv, "{\"title\": ");
        assert_eq!(resp.status, 400);
        assert_eq!(error_of(&resp)["code"], "invalid_json");
        assert!(error_of(&resp)["message"].as_str().unwrap().contains("EOF"));

        let resp = post(&kv, r#"{"description": "no title"}"#);
        assert_eq!(resp.status, 422);
        assert_eq!(error_of(&resp)["field"], "title");

        let resp = post(&kv, &json!({"title": "x".repeat(501)}).to_string());
        assert_eq!(
            (resp.status, error_of(&resp)["field"].clone()),
            (422, json!("title"))
        );

        let resp = post(&kv, r#"{"title": "t", "priority": "asap"}"#);
        assert_eq!(error_of(&resp)["field"], "priority");

        assert!(kv.published().is_empty());
        assert!(kv.keys_with_prefix("").is_empty());
    }

    #[test]
    fn unknown_routes_and_methods() {
        let kv = MemoryKv::new();
        let resp = handle(&kv, &Request::new("GET", "/api/nope"));
        assert_eq!(resp.status, 404);
        assert_eq!(error_of(&resp)["code"], "not_found");

        let resp = handle(&kv, &Request::new("GET", "/api/tasks/a/b"));
        assert_eq!(resp.status, 404);

        let resp = handle(&kv, &Request::new("DELETE", "/api/tasks"));
        assert_eq!(resp.status, 405);
        assert_eq!(resp.header("allow"), Some("GET, POST"));
        assert_eq!(error_of(&resp)["code"], "method_not_allowed");

        let resp = handle(&kv, &Request::new("PUT", "/api/tasks/x"));
        assert_eq!((resp.status, resp.header("allow")), (405, Some("GET")));

        let resp = handle(&kv, &Request::new("GET", "/api/tasks/missing"));
        assert_eq!(resp.status, 404);

        // A trailing slash is the same resource.
        assert_eq!(handle(&kv, &Request::new("GET", "/api/tasks/")).status, 200);
    }

    #[test]
    fn backend_failures_map_to_retryable_statuses() {
        let kv = MemoryKv::new();
        kv.fail_next(KvError::Unavailable("redis down".into()));
        let resp = handle(&kv, &Request::new("GET", "/api/tasks"));
        assert_eq!(resp.status, 503);
        assert_eq!(error_of(&resp)["message"], "redis down");

        assert_eq!(post(&kv, r#"{"title": "first"}"#).status, 201);
        for _ in 0..crate::store::WRITE_ATTEMPTS {
            kv.before_next_transact(|kv| {
                kv.set("tasks:index:local", b"[]", SetOptions::default())
                    .unwrap();
            });
        }
        let resp = post(&kv, r#"{"title": "t"}"#);
        assert_eq!(resp.status, 409);
        assert_eq!(error_of(&resp)["code"], "conflict");
    }

    #[test]
    fn invalid_user_header_is_a_400() {
        let kv = MemoryKv::new();
        let resp = handle(
            &kv,
            &Request::new("GET", "/api/tasks").with_header("x-todo-user", "a:b"),
        );
        assert_eq!(resp.status, 400);
        assert_eq!(error_of(&resp)["field"], "x-todo-user");
    }
}
