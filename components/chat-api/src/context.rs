//! Who is acting and under which correlation id, taken from the request.

use todo_domain::http::CORRELATION_HEADER;
use todo_domain::{ApiError, EventOrigin, Request};
use uuid::Uuid;

/// Placeholder until authentication lands (accounts arrive in a later
/// issue): the host may name the acting user in this header; without it
/// every request acts as `DEFAULT_USER`. Once sign-in exists the user id
/// comes from the verified session instead, and this header is ignored.
pub const USER_HEADER: &str = "x-todo-user";
/// The single user of an installation without accounts.
pub const DEFAULT_USER: &str = "local";

const MAX_ID_LEN: usize = 128;

/// The acting user and correlation id of `req`, as an event origin.
pub fn origin_for(req: &Request) -> Result<EventOrigin, ApiError> {
    let user = match req.header(USER_HEADER) {
        None => DEFAULT_USER.to_owned(),
        Some(user) => validate_user(user.trim())?,
    };
    Ok(EventOrigin::new(crate::SOURCE, user, correlation_id(req)))
}

/// User ids end up inside state keys, so they are restricted to a safe,
/// separator-free alphabet.
fn validate_user(user: &str) -> Result<String, ApiError> {
    let ok = !user.is_empty()
        && user.len() <= MAX_ID_LEN
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(user.to_owned())
    } else {
        Err(ApiError::bad_request(
            USER_HEADER,
            "user id must be 1-128 characters of letters, digits, '.', '_', '-' or '@'",
        ))
    }
}

/// The caller's correlation id if it is usable, else a fresh one: a bad
/// tracing header should not fail the request.
fn correlation_id(req: &Request) -> String {
    match req.header(CORRELATION_HEADER).map(str::trim) {
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_ID_LEN
                && id.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            id.to_owned()
        }
        _ => Uuid::now_v7().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_the_local_user_and_a_fresh_correlation_id() {
        let origin = origin_for(&Request::new("GET", "/api/tasks")).unwrap();
        assert_eq!(origin.user_id, "local");
        assert_eq!(origin.source, "chat-api");
        assert!(Uuid::parse_str(&origin.correlation_id).is_ok());
    }

    #[test]
    fn takes_user_and_correlation_from_headers() {
        let req = Request::new("GET", "/")
            .with_header("X-Todo-User", "alice@example.com")
            .with_header("X-Correlation-Id", "req-42");
        let origin = origin_for(&req).unwrap();
        assert_eq!(origin.user_id, "alice@example.com");
        assert_eq!(origin.correlation_id, "req-42");
    }

    #[test]
    fn rejects_user_ids_that_could_break_keys() {
        for bad in ["", "a:b", "a b", &"x".repeat(129)] {
            let req = Request::new("GET", "/").with_header(USER_HEADER, bad);
            let err = origin_for(&req).unwrap_err();
            assert_eq!(err.status, 400);
            assert_eq!(err.field.as_deref(), Some(USER_HEADER));
        }
    }

    #[test]
    fn replaces_unusable_correlation_ids() {
        let req = Request::new("GET", "/").with_header(CORRELATION_HEADER, "has space");
        assert_ne!(origin_for(&req).unwrap().correlation_id, "has space");
    }
}
