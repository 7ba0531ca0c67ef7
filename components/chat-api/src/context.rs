//! Who is acting and under which correlation id.

use todo_domain::http::{CORRELATION_HEADER, usable_correlation_id};
use todo_domain::{ApiError, EventOrigin, KeyValue, Request, Secrets};
use uuid::Uuid;

use crate::accounts;
use crate::tasks::Caller;

/// The caller's correlation id if it is usable, else a fresh one: a bad
/// tracing header should not fail the request.
pub fn correlation_id(req: &Request) -> String {
    match req.header(CORRELATION_HEADER).map(str::trim) {
        Some(id) if usable_correlation_id(id) => id.to_owned(),
        _ => Uuid::now_v7().to_string(),
    }
}

/// The authenticated caller of `req`: 401 without a valid access token, or
/// when its account no longer exists.
pub fn caller(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
    correlation_id: &str,
) -> Result<Caller, ApiError> {
    let user_id = accounts::authenticate(secrets, req)?;
    let user = accounts::load_user(kv, &user_id)
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .ok_or_else(|| todo_auth::unauthorized("the account of this token no longer exists"))?;
    Ok(Caller {
        origin: EventOrigin::new(crate::SOURCE, user_id, correlation_id),
        time_zone: user.time_zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_usable_correlation_ids_and_replaces_others() {
        let req = Request::new("GET", "/").with_header("X-Correlation-Id", "req-42");
        assert_eq!(correlation_id(&req), "req-42");
        let req = Request::new("GET", "/").with_header(CORRELATION_HEADER, "has space");
        assert!(Uuid::parse_str(&correlation_id(&req)).is_ok());
        assert!(Uuid::parse_str(&correlation_id(&Request::new("GET", "/"))).is_ok());
    }
}
