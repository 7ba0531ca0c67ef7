//! HTTP routing of chat-api and the mapping of failures to the shared
//! error body.

use serde_json::json;
use todo_domain::http::CORRELATION_HEADER;
use todo_domain::{ApiError, KeyValue, Request, Response, Secrets};
use todo_model::Status;
use todo_model::input::Mode;

use crate::accounts;
use crate::chat::model::{LanguageModel, NoModel};
use crate::context::{caller, correlation_id};
use crate::idempotency::Idempotency;
use crate::listing::{ListQuery, page};
use crate::tasks::{self, Caller, IfMatch, Scope, store_error};

/// The OpenAPI document of every public route.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Handles one request. Every response, errors included, echoes the
/// correlation id so a client can quote it.
pub fn handle(kv: &impl KeyValue, secrets: &impl Secrets, req: &Request) -> Response {
    handle_with(kv, secrets, &NoModel, req)
}

/// [`handle`] with a language model for the chat's model mode.
pub fn handle_with(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    model: &impl LanguageModel,
    req: &Request,
) -> Response {
    let correlation = correlation_id(req);
    let response = match route(kv, secrets, model, req, &correlation) {
        Ok(resp) => resp,
        Err(err) => todo_auth::error_response(err),
    };
    response.with_header(CORRELATION_HEADER, &correlation)
}

fn route(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    model: &impl LanguageModel,
    req: &Request,
    correlation: &str,
) -> Result<Response, ApiError> {
    if let Some(result) = accounts::route(kv, secrets, req) {
        return result;
    }
    // No trailing-slash aliases: `/api/tasks/` is the task with an empty
    // id (a 404), so every path names exactly one documented resource.
    let path = req.path.as_str();
    if path == crate::mcp::ROUTE {
        return crate::mcp::handle(kv, secrets, req, correlation);
    }
    if path == crate::series::INSTANCES_ROUTE {
        return crate::series::create_instance(kv, req, correlation);
    }
    if path == "/openapi.json" {
        return match req.method.as_str() {
            "GET" => Ok(Response {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: OPENAPI.as_bytes().to_vec(),
            }),
            m => Err(ApiError::method_not_allowed(m, &["GET"])),
        };
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["api", "chat", rest @ ..] = segments.as_slice() {
        let caller = caller(kv, secrets, req, correlation)?;
        return crate::chat::route(kv, model, req, &caller, rest);
    }
    if path == crate::preview::ROUTE {
        let caller = caller(kv, secrets, req, correlation)?;
        return crate::preview::handle(req, &caller);
    }
    let ["api", "tasks", rest @ ..] = segments.as_slice() else {
        return Err(ApiError::not_found(format!("no route for {}", req.path)));
    };
    if rest.len() > 2 {
        return Err(ApiError::not_found(format!("no route for {}", req.path)));
    }
    let caller = caller(kv, secrets, req, correlation)?;
    tasks_route(kv, req, &caller, rest)
}

fn tasks_route(
    kv: &impl KeyValue,
    req: &Request,
    caller: &Caller,
    rest: &[&str],
) -> Result<Response, ApiError> {
    let method = req.method.as_str();
    let if_match = IfMatch(req.header("if-match").map(str::to_owned));
    let idem = || Idempotency::of(req, caller.user_id());
    match (rest, method) {
        ([], "GET") => list(kv, req, caller),
        ([], "POST") => tasks::create(kv, caller, &req.body, idem()?.as_ref()),
        ([], m) => Err(ApiError::method_not_allowed(m, &["GET", "POST"])),
        ([id], "GET") => tasks::get(kv, caller, id),
        ([id], "PUT") => tasks::edit(kv, caller, id, &req.body, Mode::Replace, &if_match),
        ([id], "PATCH") => tasks::edit(kv, caller, id, &req.body, Mode::Patch, &if_match),
        ([id], "DELETE") => {
            let scope = Scope::from_query(&req.query_pairs())?;
            tasks::delete(kv, caller, id, &if_match, scope)
        }
        ([_], m) => Err(ApiError::method_not_allowed(
            m,
            &["GET", "PUT", "PATCH", "DELETE"],
        )),
        ([id, "complete"], "POST") => tasks::set_status(
            kv,
            caller,
            id,
            Status::Completed,
            &if_match,
            idem()?.as_ref(),
        ),
        ([id, "uncomplete"], "POST") => {
            tasks::set_status(kv, caller, id, Status::Open, &if_match, idem()?.as_ref())
        }
        ([_, "complete" | "uncomplete"], m) => Err(ApiError::method_not_allowed(m, &["POST"])),
        ([id, "occurrences"], "GET") => crate::occurrences::get(kv, req, caller, id),
        ([_, "occurrences"], m) => Err(ApiError::method_not_allowed(m, &["GET"])),
        _ => Err(ApiError::not_found(format!("no route for {}", req.path))),
    }
}

fn list(kv: &impl KeyValue, req: &Request, caller: &Caller) -> Result<Response, ApiError> {
    let query = ListQuery::parse(&req.query_pairs())?;
    let tasks = crate::store::all(kv, caller.user_id()).map_err(store_error)?;
    let tz = todo_model::due::parse_time_zone(&caller.time_zone).unwrap_or(chrono_tz::UTC);
    let page = page(tasks, &query, tasks::now(), tz);
    Ok(Response::json(
        200,
        &json!({"tasks": page.tasks, "next_cursor": page.next_cursor}),
    ))
}
