//! The authenticated user of an HTTP request, and the 401 that says there
//! is none.

use todo_domain::{ApiError, KvError, Request, Response, Secrets};

use crate::{AuthError, Keys, SIGNING_KEY_SECRET};

/// The challenge every 401 must carry (RFC 6750).
pub const WWW_AUTHENTICATE: (&str, &str) = ("www-authenticate", "Bearer");

/// A 401 with code `unauthorized`.
///
/// `ApiError` has no header slot: turn it into a response with
/// [`error_response`], which adds `www-authenticate: Bearer`.
pub fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError {
        status: 401,
        code: "unauthorized",
        message: message.into(),
        field: None,
        allow: None,
    }
}

/// `err` as a response; a 401 also gets `www-authenticate: Bearer`.
pub fn error_response(err: ApiError) -> Response {
    let is_401 = err.status == 401;
    let response = err.into_response();
    if is_401 {
        response.with_header(WWW_AUTHENTICATE.0, WWW_AUTHENTICATE.1)
    } else {
        response
    }
}

/// The signing keys, read through `secrets` on each call (rotation of the
/// secret takes effect without a restart). A missing or unusable key, or a
/// secrets backend failure, is a 503: the server is misconfigured or
/// degraded, the client did nothing wrong.
pub fn signing_keys(secrets: &impl Secrets) -> Result<Keys, ApiError> {
    let secret = secrets.get(SIGNING_KEY_SECRET).map_err(|e| match e {
        KvError::NotFound => ApiError::unavailable(format!(
            "the signing key secret `{SIGNING_KEY_SECRET}` is not configured"
        )),
        other => ApiError::unavailable(format!(
            "could not read the signing key secret `{SIGNING_KEY_SECRET}`: {other}"
        )),
    })?;
    Keys::from_secret(&secret).map_err(|e| {
        ApiError::unavailable(format!(
            "the signing key secret `{SIGNING_KEY_SECRET}` is unusable: {e}"
        ))
    })
}

/// The user id of `req`'s `Authorization: Bearer <access token>` (scheme
/// matched case-insensitively).
///
/// A missing, malformed, invalid or expired token is a 401 from
/// [`unauthorized`] (callers add `www-authenticate`, see
/// [`error_response`]); the message says which, never what the token was.
/// A key problem is a 503 (see [`signing_keys`]).
pub fn bearer_user(secrets: &impl Secrets, req: &Request) -> Result<String, ApiError> {
    bearer_session(secrets, req).map(|(user, _)| user)
}

/// [`bearer_user`], with when the token expires (Unix seconds).
pub fn bearer_session(secrets: &impl Secrets, req: &Request) -> Result<(String, u64), ApiError> {
    let header = req
        .header("authorization")
        .ok_or_else(|| unauthorized("missing bearer token"))?;
    let token = parse_bearer(header).ok_or_else(|| {
        unauthorized("malformed authorization header; expected `Bearer <access token>`")
    })?;
    // The header is checked first so requests without credentials never
    // touch the secrets backend.
    let keys = signing_keys(secrets)?;
    keys.verify_session_at(token, chrono::Utc::now())
        .map_err(|e| match e {
            AuthError::Expired => unauthorized("expired access token"),
            AuthError::Malformed => unauthorized("malformed access token"),
            _ => unauthorized("invalid access token"),
        })
}

/// The token of `Bearer <token>`: one space-separated credential, nothing
/// after it.
fn parse_bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim_start();
    let ok = scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && !token.contains(char::is_whitespace);
    ok.then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use todo_domain::StaticSecrets;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn secrets() -> StaticSecrets {
        StaticSecrets::default().with(SIGNING_KEY_SECRET, KEY)
    }

    fn with_auth(value: &str) -> Request {
        Request::new("GET", "/api/me").with_header("Authorization", value)
    }

    fn token(user: &str) -> String {
        Keys::from_secret(KEY)
            .unwrap()
            .issue_access(user, Utc::now())
            .0
    }

    #[test]
    fn accepts_a_valid_token_with_any_scheme_case() {
        let t = token("alice");
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let req = with_auth(&format!("{scheme} {t}"));
            assert_eq!(bearer_user(&secrets(), &req).unwrap(), "alice");
        }
    }

    fn message_of(req: &Request) -> String {
        let err = bearer_user(&secrets(), req).unwrap_err();
        assert_eq!(err.status, 401);
        assert_eq!(err.code, "unauthorized");
        err.message
    }

    #[test]
    fn missing_malformed_invalid_and_expired_are_401s_that_say_which() {
        assert!(message_of(&Request::new("GET", "/")).contains("missing"));
        let t = token("alice");
        for bad in [
            "Basic abc".to_owned(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            t.clone(),
            format!("Bearer {t} extra"),
        ] {
            assert!(message_of(&with_auth(&bad)).contains("malformed"), "{bad}");
        }
        assert!(message_of(&with_auth("Bearer nonsense")).contains("malformed"));

        let other = Keys::from_secret("another-key-of-at-least-32-bytes!")
            .unwrap()
            .issue_access("alice", Utc::now())
            .0;
        let msg = message_of(&with_auth(&format!("Bearer {other}")));
        assert!(msg.contains("invalid"));
        assert!(!msg.contains(&other));

        let old = Keys::from_secret(KEY)
            .unwrap()
            .issue_access("alice", Utc::now() - Duration::hours(1))
            .0;
        assert!(message_of(&with_auth(&format!("Bearer {old}"))).contains("expired"));
    }

    #[test]
    fn key_problems_are_503s_that_never_show_the_key() {
        let req = with_auth(&format!("Bearer {}", token("alice")));
        let err = bearer_user(&StaticSecrets::default(), &req).unwrap_err();
        assert_eq!(err.status, 503);
        assert!(err.message.contains(SIGNING_KEY_SECRET));

        let short = StaticSecrets::default().with(SIGNING_KEY_SECRET, "short-secret");
        let err = bearer_user(&short, &req).unwrap_err();
        assert_eq!(err.status, 503);
        assert!(!err.message.contains("short-secret"));

        struct Down;
        impl Secrets for Down {
            fn get(&self, _: &str) -> Result<String, KvError> {
                Err(KvError::Unavailable("vault unreachable".into()))
            }
        }
        assert_eq!(bearer_user(&Down, &req).unwrap_err().status, 503);
        // No credentials: a 401 without asking the backend.
        assert_eq!(
            bearer_user(&Down, &Request::new("GET", "/"))
                .unwrap_err()
                .status,
            401
        );
    }

    #[test]
    fn error_response_adds_the_challenge_to_401s_only() {
        let resp = error_response(unauthorized("missing bearer token"));
        assert_eq!(resp.status, 401);
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        assert_eq!(resp.json_body().unwrap()["error"]["code"], "unauthorized");
        let resp = error_response(ApiError::not_found("x"));
        assert_eq!(resp.status, 404);
        assert_eq!(resp.header("www-authenticate"), None);
    }
}
