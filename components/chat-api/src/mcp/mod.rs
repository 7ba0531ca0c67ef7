//! `/mcp`: the task tools for outside AI agents over MCP's Streamable
//! HTTP transport (JSON-RPC 2.0 in POST bodies, one JSON response each).
//!
//! The server is stateless: no `Mcp-Session-Id` is issued, so any replica
//! answers any request and nothing is kept between them; there are no
//! server-initiated messages, so `GET` (the SSE stream) is 405. Every
//! request carries the user's access token, and tools act as that user.

use serde_json::{Value, json};
use todo_domain::{ApiError, KeyValue, Request, Response, Secrets};

use crate::context::caller;
use crate::tasks::Caller;
use crate::tools::{self, ToolError};

pub const ROUTE: &str = "/mcp";

/// Newest first; an `initialize` asking for another gets the first.
pub const PROTOCOL_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;

const INSTRUCTIONS: &str = "Tools over the signed-in user's task list. Find a task's id with \
    list_tasks (query: text search; filter: the filter language, e.g. `status:open due<=+7d`) \
    before changing it. Dues are dates and wall-clock times in an IANA zone, the user's by default.";

fn rpc_error(status: u16, id: Value, code: i64, message: impl Into<String>) -> Response {
    Response::json(
        status,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}}),
    )
}

/// Handles one HTTP request to `/mcp`.
pub fn handle(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
    correlation: &str,
) -> Result<Response, ApiError> {
    if req.method != "POST" {
        return Err(ApiError::method_not_allowed(&req.method, &["POST"]));
    }
    let caller = caller(kv, secrets, req, correlation)?;
    if let Some(version) = req.header("mcp-protocol-version")
        && !PROTOCOL_VERSIONS.contains(&version.trim())
    {
        return Err(ApiError::bad_request(
            "mcp-protocol-version",
            format!(
                "unsupported protocol version `{version}`; supported: {}",
                PROTOCOL_VERSIONS.join(", ")
            ),
        ));
    }
    if let Some(accept) = req.header("accept")
        && !accepts_json(accept)
    {
        return Err(ApiError {
            status: 406,
            code: "not_acceptable",
            message: "responses are application/json; the accept header must allow it".into(),
            field: Some("accept".into()),
            allow: None,
        });
    }
    let message: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => {
            return Ok(rpc_error(
                400,
                Value::Null,
                PARSE_ERROR,
                format!("parse error: {e}"),
            ));
        }
    };
    Ok(respond(kv, &caller, &message))
}

fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let media = range.split(';').next().unwrap_or("").trim();
        matches!(media, "application/json" | "application/*" | "*/*")
    })
}

/// The HTTP response to one JSON-RPC message.
fn respond(kv: &impl KeyValue, caller: &Caller, message: &Value) -> Response {
    let Some(obj) = message.as_object() else {
        let why = if message.is_array() {
            "batches are not supported; send one message per request"
        } else {
            "a message is a JSON-RPC 2.0 object"
        };
        return rpc_error(400, Value::Null, INVALID_REQUEST, why);
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    if obj.get("jsonrpc") != Some(&json!("2.0")) {
        return rpc_error(400, id, INVALID_REQUEST, "`jsonrpc` must be \"2.0\"");
    }
    let Some(method) = obj.get("method") else {
        // A client's response to a request of ours: we send none.
        return if obj.contains_key("result") || obj.contains_key("error") {
            accepted()
        } else {
            rpc_error(400, id, INVALID_REQUEST, "a request needs a `method`")
        };
    };
    let Some(method) = method.as_str() else {
        return rpc_error(400, id, INVALID_REQUEST, "`method` must be a string");
    };
    if !obj.contains_key("id") {
        // A notification (`notifications/initialized`, cancellations):
        // nothing to answer.
        return accepted();
    }
    if !(id.is_string() || id.is_i64() || id.is_u64()) {
        return rpc_error(
            400,
            Value::Null,
            INVALID_REQUEST,
            "`id` must be a string or an integer",
        );
    }
    let params = obj.get("params").cloned().unwrap_or_else(|| json!({}));
    if !params.is_object() {
        return rpc_error(200, id, INVALID_PARAMS, "`params` must be an object");
    }
    let outcome = match method {
        "initialize" => Ok(initialize(&params)),
        "ping" => Ok(json!({})),
        "tools/list" => {
            Ok(json!({"tools": tools::specs().iter().map(tool_json).collect::<Vec<_>>()}))
        }
        "tools/call" => call(kv, caller, &params),
        other => Err((METHOD_NOT_FOUND, format!("method not found: {other}"))),
    };
    match outcome {
        Ok(result) => Response::json(200, &json!({"jsonrpc": "2.0", "id": id, "result": result})),
        Err((code, message)) => rpc_error(200, id, code, message),
    }
}

fn accepted() -> Response {
    Response {
        status: 202,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn initialize(params: &Value) -> Value {
    let asked = params["protocolVersion"].as_str().unwrap_or_default();
    let version = PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == asked)
        .unwrap_or(&PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "todo", "title": "Todo", "version": env!("CARGO_PKG_VERSION")},
        "instructions": INSTRUCTIONS
    })
}

fn tool_json(spec: &tools::Spec) -> Value {
    json!({
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "inputSchema": spec.input,
        "outputSchema": spec.output,
        "annotations": {
            "title": spec.title,
            "readOnlyHint": spec.read_only,
            "destructiveHint": spec.destructive,
            "idempotentHint": spec.read_only,
            "openWorldHint": false
        }
    })
}

/// `tools/call`: a tool's failure the model can act on (bad arguments, no
/// such task) is a result with `isError`; only a broken server is a
/// JSON-RPC error.
fn call(kv: &impl KeyValue, caller: &Caller, params: &Value) -> Result<Value, (i64, String)> {
    let Some(name) = params["name"].as_str() else {
        return Err((INVALID_PARAMS, "`name` (a string) is required".into()));
    };
    let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
    match tools::call(kv, caller, name, &arguments) {
        Ok(result) => Ok(json!({
            "content": [{"type": "text", "text": result.to_string()}],
            "structuredContent": result,
            "isError": false
        })),
        Err(ToolError::Unknown(name)) => Err((INVALID_PARAMS, format!("unknown tool: {name}"))),
        Err(ToolError::Failed(e)) if e.status >= 500 => Err((INTERNAL_ERROR, e.message)),
        Err(failure) => Ok(json!({
            "content": [{"type": "text", "text": failure.message()}],
            "structuredContent": failure.to_json(),
            "isError": true
        })),
    }
}

#[cfg(test)]
mod tests;
