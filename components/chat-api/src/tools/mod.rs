//! The task tools: one implementation behind the chat assistant and the
//! MCP server. Each call is turned into the REST operation it stands for
//! and runs through the same functions as the REST routes, so validation,
//! authorization (the caller's own tasks only), events and audit are
//! identical whichever surface a change came from.

mod schemas;

use serde_json::{Map, Value, json};
use todo_domain::{ApiError, KeyValue, Response};
use todo_model::Status;
use todo_model::input::Mode;

use crate::idempotency::Idempotency;
use crate::listing::{ListQuery, page};
use crate::tasks::{self, Caller, IfMatch, Scope, store_error};

pub use schemas::{Spec, spec, specs};

/// Why a call did not run.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// No tool of that name.
    Unknown(String),
    /// The call ran into the REST API's answer: bad arguments (400 / 422,
    /// naming the field), no such task (404), a conflict, or a failure.
    Failed(ApiError),
}

impl ToolError {
    pub fn message(&self) -> String {
        match self {
            ToolError::Unknown(name) => format!("there is no tool named `{name}`"),
            ToolError::Failed(e) => match &e.field {
                Some(field) => format!("{field}: {}", e.message),
                None => e.message.clone(),
            },
        }
    }
}

impl ToolError {
    /// The failure as the result of a call: `{"error": {code, message,
    /// field}}`, the REST error body's shape.
    pub fn to_json(&self) -> Value {
        match self {
            ToolError::Failed(e) => {
                json!({"error": {"code": e.code, "message": e.message, "field": e.field}})
            }
            ToolError::Unknown(_) => {
                json!({"error": {"code": "unknown_tool", "message": self.message()}})
            }
        }
    }
}

impl From<ApiError> for ToolError {
    fn from(e: ApiError) -> Self {
        ToolError::Failed(e)
    }
}

fn arguments(args: &Value) -> Result<Map<String, Value>, ApiError> {
    match args {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Map::new()),
        _ => Err(ApiError::bad_request(
            "arguments",
            "must be an object of named arguments",
        )),
    }
}

/// Takes the required string `id` out of `args`.
fn take_id(args: &mut Map<String, Value>) -> Result<String, ApiError> {
    match args.remove("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => Ok(id),
        Some(Value::String(_)) => Err(ApiError::bad_request("id", "must not be empty")),
        Some(_) => Err(ApiError::bad_request("id", "must be a string")),
        None => Err(ApiError::bad_request("id", "is required")),
    }
}

/// Refuses whatever is left in `args`.
fn no_more(args: &Map<String, Value>) -> Result<(), ApiError> {
    match args.keys().next() {
        Some(extra) => Err(ApiError::bad_request(
            extra,
            format!("unknown argument `{extra}`"),
        )),
        None => Ok(()),
    }
}

fn task_of(response: Response) -> Result<Value, ApiError> {
    let task = response
        .json_body()
        .map_err(|e| ApiError::internal(format!("a task response did not parse: {e}")))?;
    Ok(json!({ "task": task }))
}

fn bytes(fields: Map<String, Value>) -> Vec<u8> {
    serde_json::to_vec(&Value::Object(fields)).expect("JSON values serialize")
}

/// `list_tasks` arguments as the query pairs of `GET /api/tasks`.
fn list_pairs(mut args: Map<String, Value>) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = Vec::new();
    for (arg, param) in [
        ("query", "q"),
        ("filter", "filter"),
        ("sort", "sort"),
        ("cursor", "cursor"),
    ] {
        match args.remove(arg) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => pairs.push((param.to_owned(), s)),
            Some(_) => return Err(ApiError::bad_request(arg, "must be a string")),
        }
    }
    match args.remove("limit") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.is_u64() => pairs.push(("limit".into(), n.to_string())),
        Some(_) => {
            return Err(ApiError::bad_request(
                "limit",
                "must be an integer from 1 to 200",
            ));
        }
    }
    no_more(&args)?;
    Ok(pairs)
}

/// Runs tool `name` for `caller` with `args`; its structured result.
pub fn call(
    kv: &impl KeyValue,
    caller: &Caller,
    name: &str,
    args: &Value,
) -> Result<Value, ToolError> {
    call_as(kv, caller, name, args, None)
}

/// [`call`], with an idempotency key for the calls that take one
/// (adding, completing, reopening): a retried chat message replays them.
pub fn call_as(
    kv: &impl KeyValue,
    caller: &Caller,
    name: &str,
    args: &Value,
    idem: Option<&Idempotency>,
) -> Result<Value, ToolError> {
    // Not `spec(name)`: that builds every schema from the OpenAPI
    // document, which a call does not need.
    if !schemas::NAMES.contains(&name) {
        return Err(ToolError::Unknown(name.to_owned()));
    }
    let mut args = arguments(args)?;
    let none = IfMatch(None);
    let result = match name {
        "add_task" => task_of(tasks::create(kv, caller, &bytes(args), idem)?)?,
        "list_tasks" => {
            let query = ListQuery::parse(&list_pairs(args)?)?;
            let all = crate::store::all(kv, caller.user_id()).map_err(store_error)?;
            let tz = todo_model::due::parse_time_zone(&caller.time_zone).unwrap_or(chrono_tz::UTC);
            let page = page(all, &query, tasks::now(), tz);
            json!({"tasks": page.tasks, "next_cursor": page.next_cursor})
        }
        "get_task" => {
            let id = take_id(&mut args)?;
            no_more(&args)?;
            task_of(tasks::get(kv, caller, &id)?)?
        }
        "update_task" => {
            let id = take_id(&mut args)?;
            task_of(tasks::edit(
                kv,
                caller,
                &id,
                &bytes(args),
                Mode::Patch,
                &none,
            )?)?
        }
        "complete_task" | "uncomplete_task" => {
            let id = take_id(&mut args)?;
            no_more(&args)?;
            let to = if name == "complete_task" {
                Status::Completed
            } else {
                Status::Open
            };
            task_of(tasks::set_status(kv, caller, &id, to, &none, idem)?)?
        }
        "delete_task" => {
            let id = take_id(&mut args)?;
            let scope = match args.remove("scope") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(s)) => vec![("scope".to_owned(), s)],
                Some(_) => return Err(ApiError::bad_request("scope", "must be a string").into()),
            };
            no_more(&args)?;
            let scope = Scope::from_query(&scope)?;
            tasks::delete(kv, caller, &id, &none, scope)?;
            let scope = match scope {
                Scope::Occurrence => "occurrence",
                Scope::Series => "series",
            };
            json!({"id": id, "deleted": true, "scope": scope})
        }
        other => unreachable!("tool {other} is listed but not dispatched"),
    };
    Ok(result)
}

#[cfg(test)]
mod tests;
