//! Plain HTTP request/response types: what a component's business logic
//! sees, independent of `wasi:http` so it can be unit-tested natively.

use serde::Serialize;

pub use todo_cloudevent::correlation::{CORRELATION_HEADER, usable_correlation_id};

/// An incoming request, fully buffered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Upper-case method name, e.g. `GET`.
    pub method: String,
    /// Path without the query string, e.g. `/api/tasks`.
    pub path: String,
    /// Raw query string without the leading `?` (empty when none).
    pub query: String,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decoded `application/x-www-form-urlencoded` query pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }
}

/// Parses query parameter `name` as an integer in `min..=max` (400 naming
/// the parameter otherwise).
pub fn bounded_param(name: &str, value: &str, min: usize, max: usize) -> Result<usize, ApiError> {
    value
        .parse()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_request(name, format!("{name} must be an integer in {min}..={max}"))
        })
}

/// A response to send back, fully buffered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response. Serializing our own types cannot fail short of a
    /// bug, which becomes a 500 rather than a panic inside the handler.
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => Response {
                status,
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body: bytes,
            },
            Err(e) => ApiError::internal(format!("response serialization failed: {e}")).into(),
        }
    }

    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Response {
            status,
            headers: vec![(
                "content-type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            )],
            body: body.into().into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// 204: done, nothing to say.
    pub fn no_content() -> Self {
        Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The body parsed as JSON (tests and service-to-service calls).
    pub fn json_body(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// An API error: its status and the body shape used by every service,
/// `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Methods for the `allow` header of a 405.
    pub allow: Option<String>,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            allow: None,
        }
    }

    /// 400: the body is not JSON, or not the JSON shape expected; the
    /// message carries the parser's explanation (line and column).
    pub fn invalid_json(err: &serde_json::Error) -> Self {
        Self::new(
            400,
            "invalid_json",
            format!("request body is not valid JSON: {err}"),
        )
    }

    /// 400: a malformed parameter (query, header or body field).
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.to_owned()),
            ..Self::new(400, "invalid_request", message)
        }
    }

    /// 422: well-formed JSON whose `field` fails validation.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.to_owned()),
            ..Self::new(422, "validation_failed", message)
        }
    }

    /// 422: a well-formed request that would take the caller past one of
    /// the stated limits (README, "Limits and abuse"); it changed nothing.
    pub fn quota_exceeded(message: impl Into<String>) -> Self {
        Self::new(422, "quota_exceeded", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 405; `allowed` goes into the `allow` header.
    pub fn method_not_allowed(method: &str, allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        ApiError {
            allow: Some(allow.clone()),
            ..Self::new(
                405,
                "method_not_allowed",
                format!("method {method} is not allowed here; use {allow}"),
            )
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("request body exceeds {limit} bytes"),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message)
    }

    /// 503: a backend is down; the client may retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "unavailable", message)
    }

    pub fn into_response(self) -> Response {
        // What went wrong inside is for the operator's log: a client never
        // sees storage keys, backend addresses or messages of ours.
        let message = if self.status == 500 {
            eprintln!("internal error: {}", self.message);
            "internal error; the server log has the details"
        } else {
            &self.message
        };
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message,
                field: self.field.as_deref(),
            },
        };
        let response = Response::json(self.status, &body);
        match &self.allow {
            Some(allow) => response.with_header("allow", allow),
            None => response,
        }
    }
}

/// A failure of the state capability as an API error: an unreachable
/// backend is a 503, contention that outlasted the caller's retries a 409
/// (both retryable); anything else (corrupt data, bad keys) is ours, a 500.
impl From<crate::kv::KvError> for ApiError {
    fn from(err: crate::kv::KvError) -> Self {
        use crate::kv::KvError;
        match err {
            KvError::Unavailable(m) => ApiError::unavailable(m),
            KvError::Conflict(m) => {
                ApiError::conflict(format!("too many concurrent writes, retry: {m}"))
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<ApiError> for Response {
    fn from(err: ApiError) -> Self {
        err.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_splits_path_and_query_and_decodes_pairs() {
        let req = Request::new("get", "/api/audit?type=com.todo.x&subject=a%20b")
            .with_header("X-Correlation-Id", "bob");
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/api/audit");
        assert_eq!(
            req.query_pairs(),
            vec![
                ("type".to_owned(), "com.todo.x".to_owned()),
                ("subject".to_owned(), "a b".to_owned())
            ]
        );
        assert_eq!(req.header("x-correlation-id"), Some("bob"));
    }

    #[test]
    fn error_bodies_have_the_shared_shape() {
        let resp: Response = ApiError::validation("title", "title is required").into();
        assert_eq!(resp.status, 422);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(
            resp.json_body().unwrap(),
            json!({"error": {"code": "validation_failed", "message": "title is required", "field": "title"}})
        );

        let resp: Response = ApiError::not_found("no such task").into();
        assert_eq!(
            resp.json_body().unwrap(),
            json!({"error": {"code": "not_found", "message": "no such task"}})
        );
    }

    #[test]
    fn invalid_json_names_the_parser_error() {
        let err = serde_json::from_slice::<serde_json::Value>(b"{\"a\":").unwrap_err();
        let resp = ApiError::invalid_json(&err).into_response();
        assert_eq!(resp.status, 400);
        let body = resp.json_body().unwrap();
        assert_eq!(body["error"]["code"], "invalid_json");
        assert!(body["error"]["message"].as_str().unwrap().contains("EOF"));
    }

    #[test]
    fn method_not_allowed_sets_allow_header() {
        let resp = ApiError::method_not_allowed("PUT", &["GET", "POST"]).into_response();
        assert_eq!(resp.status, 405);
        assert_eq!(resp.header("allow"), Some("GET, POST"));
        assert!(resp.json_body().unwrap()["error"].get("field").is_none());
    }

    #[test]
    fn statuses_match_their_constructors() {
        assert_eq!(ApiError::bad_request("limit", "x").status, 400);
        assert_eq!(ApiError::conflict("x").status, 409);
        assert_eq!(ApiError::payload_too_large(1).status, 413);
        assert_eq!(ApiError::internal("x").status, 500);
        assert_eq!(ApiError::unavailable("x").status, 503);
    }

    #[test]
    fn an_internal_error_tells_the_client_nothing_of_the_inside() {
        let resp = ApiError::internal("reading key audit:u1:task:t1: too long").into_response();
        assert_eq!(resp.status, 500);
        let body = resp.json_body().unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("audit:"), "{body}");
    }
}
