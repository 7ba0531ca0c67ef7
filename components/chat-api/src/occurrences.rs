//! `GET /api/tasks/{id}/occurrences?count=N`: the next due instants of a
//! task's series, starting with its own due.

use serde_json::json;
use todo_domain::http::bounded_param;
use todo_domain::{ApiError, KeyValue, Request, Response};
use todo_model::recurrence::{self, Occurrence};
use todo_model::task::format_instant;

use crate::store;
use crate::tasks::{Caller, not_found, store_error};

pub const DEFAULT_COUNT: usize = 10;
pub const MAX_COUNT: usize = 100;

pub fn get(
    kv: &impl KeyValue,
    req: &Request,
    caller: &Caller,
    id: &str,
) -> Result<Response, ApiError> {
    let mut count = DEFAULT_COUNT;
    for (name, value) in req.query_pairs() {
        match name.as_str() {
            "count" => count = bounded_param("count", &value, 1, MAX_COUNT)?,
            other => {
                return Err(ApiError::bad_request(
                    other,
                    format!("unknown query parameter `{other}`"),
                ));
            }
        }
    }
    let task = store::get(kv, caller.user_id(), id)
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))?;
    let occurrences: Vec<Occurrence> = match (&task.recurrence, &task.due) {
        (Some(rule), Some(due)) => {
            recurrence::occurrences(rule, due, task.occurrence.unwrap_or(1), count)
                .map_err(|e| ApiError::internal(format!("stored rule does not expand: {e}")))?
        }
        // Not recurring: the task's own due is its only occurrence.
        (None, Some(due)) => vec![Occurrence {
            local: due.local().format("%Y-%m-%dT%H:%M:%S").to_string(),
            at: format_instant(due.instant()),
        }],
        _ => Vec::new(),
    };
    Ok(Response::json(200, &json!({ "occurrences": occurrences })))
}
