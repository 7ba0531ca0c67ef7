//! Accounts: sign-up, sign-in, token refresh and sign-out under
//! `/api/auth/...`, the caller's profile under `/api/me`, and the bearer
//! authentication every other route uses.
//!
//! Sessions are a short-lived JWT access token (15 minutes, see
//! `todo_auth`) plus an opaque refresh token (30 days) that is stored only
//! by digest and rotated on every use. Store layout: see [`repo`].
//!
//! Router contract:
//! - [`route`] answers `/api/auth/{signup,signin,refresh,signout}` and
//!   `/api/me`. Responses that need extra headers come back as `Ok`: every
//!   401 (with `www-authenticate: Bearer`) and the 429 of a throttled sign-in
//!   (with `retry-after`). Other errors come back as `Err` for the router
//!   to render like its own.
//! - Other routes call [`authenticate`] and render its error with
//!   [`todo_auth::error_response`], which adds the 401 challenge.
//!
//! Passwords, hashes and tokens never appear in error messages, and
//! nothing here logs.

mod cookie;
mod handlers;
mod input;
pub mod repo;
mod sessions;
pub mod throttle;

#[cfg(test)]
mod cookie_tests;
#[cfg(test)]
mod tests;

use chrono::Utc;
use chrono_tz::Tz;
use serde::Serialize;
use todo_domain::{ApiError, KeyValue, KvError, Request, Response, Secrets};

/// A user's public profile: what `GET /api/me` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// UUID v7.
    pub id: String,
    /// Lower-cased.
    pub email: String,
    /// Display name; defaults to the email's local part at sign-up.
    pub name: String,
    /// Canonical IANA name, `UTC` unless the user chose one.
    pub time_zone: String,
}

impl User {
    /// The user's time zone for relative dates. Stored names are validated
    /// on write; should one stop parsing (a zone dropped from a future
    /// tz database), UTC is a sane fallback rather than an error.
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }
}

/// Handles `/api/auth/...` and `/api/me`; `None` if the path is not one of
/// them (a trailing slash is tolerated).
pub fn route(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
) -> Option<Result<Response, ApiError>> {
    let path = req.path.strip_suffix('/').unwrap_or(&req.path);
    let method = req.method.as_str();
    let now = Utc::now();
    let post_only = |handle: &dyn Fn() -> Result<Response, ApiError>| match method {
        "POST" => handle(),
        other => Err(ApiError::method_not_allowed(other, &["POST"])),
    };
    let result = match path {
        "/api/auth/signup" => post_only(&|| handlers::signup(kv, secrets, req, now)),
        "/api/auth/signin" => post_only(&|| handlers::signin(kv, secrets, req, now)),
        "/api/auth/refresh" => post_only(&|| handlers::refresh(kv, secrets, req, now)),
        "/api/auth/signout" => post_only(&|| handlers::signout(kv, req)),
        "/api/me" => match method {
            "GET" => handlers::get_me(kv, secrets, req),
            "PATCH" => handlers::patch_me(kv, secrets, req),
            other => Err(ApiError::method_not_allowed(other, &["GET", "PATCH"])),
        },
        _ => return None,
    };
    // A 401 must carry its challenge header, which only a Response can.
    Some(match result {
        Err(err) if err.status == 401 => Ok(todo_auth::error_response(err)),
        other => other,
    })
}

/// The authenticated caller of any other route: the user id of a valid
/// `Authorization: Bearer <access token>`. Render the error with
/// [`todo_auth::error_response`] (a 401 needs `www-authenticate`).
///
/// Only the token is checked, not that the user still exists: access
/// tokens live 15 minutes, and routes that need the profile call
/// [`load_user`] anyway.
pub fn authenticate(secrets: &impl Secrets, req: &Request) -> Result<String, ApiError> {
    todo_auth::bearer_user(secrets, req)
}

/// The user's profile (time zone for relative dates), `None` if the user
/// no longer exists. A corrupt record is `KvError::Invalid`.
pub fn load_user(kv: &impl KeyValue, user_id: &str) -> Result<Option<User>, KvError> {
    Ok(repo::read_user(kv, user_id)?.map(|(user, _)| user.public()))
}
