//! One function per account endpoint. Each validates everything it can
//! (body, signing key) before writing, so a rejected request leaves the
//! store as it was; the only deliberate exception is the failed sign-in
//! counter.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use todo_auth::{
    Keys, hash_password, random_token, signing_keys, unauthorized, verify_password_or_dummy,
};
use todo_domain::{ApiError, KeyValue, KvError, Request, Response, Secrets};
use uuid::Uuid;

use super::cookie::{self, Delivery};
use super::input::{ProfilePatch, Signin, Signup, TokenBody};
use super::repo::{self, StoredUser};
use super::throttle::{self, CLIENT_ADDR_HEADER};
use super::{User, authenticate};

/// One message for unknown email and wrong password, so a client cannot
/// learn which emails have accounts.
const BAD_CREDENTIALS: &str = "invalid email or password";
const BAD_REFRESH: &str = "invalid or expired refresh token";

#[derive(Serialize)]
struct TokenResponse<'a> {
    user: &'a User,
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    /// Absent when the token went into the cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

/// A refresh token delivered the way the client asked.
struct Issued<'a> {
    token: &'a str,
    delivery: Delivery,
}

/// The body shared by sign-up, sign-in and refresh, the refresh token in it
/// or in the cookie. `no-store`: responses carrying tokens must not be
/// cached (RFC 6749 §5.1).
fn token_response(
    status: u16,
    keys: &Keys,
    user: &User,
    refresh: Issued<'_>,
    req: &Request,
    now: DateTime<Utc>,
) -> Response {
    let (access_token, expires_in) = keys.issue_access(&user.id, now);
    let resp = Response::json(
        status,
        &TokenResponse {
            user,
            access_token: &access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token: (refresh.delivery == Delivery::Body).then_some(refresh.token),
        },
    )
    .with_header("cache-control", "no-store");
    match refresh.delivery {
        Delivery::Body => resp,
        Delivery::Cookie => resp.with_header("set-cookie", &cookie::set(req, refresh.token)),
    }
}

/// The refresh token of a refresh or sign-out request (the body's, else
/// the cookie's) and where the next one goes (as asked, else where this
/// one came from).
fn presented(req: &Request) -> Result<(String, Delivery), ApiError> {
    let body = TokenBody::from_json(&req.body)?;
    let (token, came_in) = match body.token {
        Some(token) => (token, Delivery::Body),
        None => (
            cookie::from_request(req).ok_or_else(|| {
                ApiError::validation(
                    "refresh_token",
                    format!(
                        "refresh_token is required (in the body, or in the {} cookie)",
                        cookie::NAME
                    ),
                )
            })?,
            Delivery::Cookie,
        ),
    };
    Ok((token, body.delivery.unwrap_or(came_in)))
}

pub fn signup(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let input = Signup::from_json(&req.body)?;
    let keys = signing_keys(secrets)?;
    // Cheap early answer for the common duplicate, before paying for a
    // hash; the `Absent` guards below settle races.
    if repo::email_taken(kv, &input.email).map_err(ApiError::from)? {
        return Err(email_conflict());
    }
    let password_hash =
        hash_password(&input.password).map_err(|e| ApiError::internal(e.to_string()))?;
    let user = StoredUser {
        id: Uuid::now_v7().to_string(),
        email: input.email,
        name: input.name,
        time_zone: input.time_zone,
        password_hash,
        created_at: repo::timestamp(now),
    };
    let refresh = random_token();
    repo::create_account(kv, &user, &refresh, now).map_err(|e| match e {
        KvError::Conflict(_) => email_conflict(),
        other => other.into(),
    })?;
    let issued = Issued {
        token: &refresh,
        delivery: input.delivery,
    };
    Ok(token_response(201, &keys, &user.public(), issued, req, now))
}

fn email_conflict() -> ApiError {
    ApiError {
        field: Some("email".to_owned()),
        ..ApiError::conflict("an account with this email already exists")
    }
}

pub fn signin(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let input = Signin::from_json(&req.body)?;
    let keys = signing_keys(secrets)?;
    let address = throttle::client_ip(req.header(CLIENT_ADDR_HEADER));
    // Counted before the password is looked at (so concurrent guesses
    // cannot all pass the check), and refused before it is, so a throttled
    // guesser gets no signal at all.
    let attempt =
        match throttle::admit(kv, &input.email, address.as_deref(), now).map_err(ApiError::from)? {
            throttle::Admission::Admitted(attempt) => attempt,
            throttle::Admission::Refused { retry_after } => {
                return Ok(too_many_attempts(retry_after));
            }
        };
    let user = repo::user_by_email(kv, &input.email).map_err(ApiError::from)?;
    // Unknown emails are verified against a dummy hash: same time, same
    // answer, same count as a wrong password.
    let hash = user.as_ref().map(|u| u.password_hash.as_str());
    let matches = verify_password_or_dummy(&input.password, hash);
    let user = match user {
        Some(user) if matches => user,
        // The attempt stays counted.
        _ => return Err(unauthorized(BAD_CREDENTIALS)),
    };
    attempt.succeeded(kv, now).map_err(ApiError::from)?;
    let refresh = random_token();
    repo::create_refresh(kv, &user.id, &refresh, now).map_err(ApiError::from)?;
    let issued = Issued {
        token: &refresh,
        delivery: input.delivery,
    };
    Ok(token_response(200, &keys, &user.public(), issued, req, now))
}

fn too_many_attempts(retry_after: u64) -> Response {
    ApiError {
        status: 429,
        code: "too_many_requests",
        message: format!("too many failed sign-ins for this email; retry in {retry_after} seconds"),
        field: None,
        allow: None,
    }
    .into_response()
    .with_header("retry-after", &retry_after.to_string())
}

pub fn refresh(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let (token, delivery) = presented(req)?;
    match renew(kv, secrets, req, &token, delivery, now) {
        // A cookie that grants nothing is removed, so the browser stops
        // sending it.
        Err(err) if err.status == 401 && delivery == Delivery::Cookie => {
            Ok(todo_auth::error_response(err).with_header("set-cookie", &cookie::clear(req)))
        }
        other => other,
    }
}

fn renew(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
    token: &str,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let token = token.to_owned();
    let keys = signing_keys(secrets)?;
    let grant = match repo::refresh_grant(kv, &token, now).map_err(ApiError::from)? {
        repo::RefreshLookup::Live(grant) => grant,
        repo::RefreshLookup::Reused { rotated_at, family }
            if rotated_at.is_some_and(|at| now - at <= Duration::seconds(repo::RACE_SECONDS)) =>
        {
            // The holder retrying an exchange whose answer it never got
            // (or another tab's, just done): the token it was exchanged
            // for is renewed in turn. Anything older grants nothing.
            repo::successor_grant(kv, &token, &family, now)
                .map_err(ApiError::from)?
                .ok_or_else(refresh_raced)?
        }
        repo::RefreshLookup::Reused { family, .. } => {
            // Two holders of one token (a thief and its owner): whichever
            // comes second ends the session for both.
            repo::revoke_family(kv, &family).map_err(ApiError::from)?;
            return Err(unauthorized(BAD_REFRESH));
        }
        repo::RefreshLookup::Invalid => return Err(unauthorized(BAD_REFRESH)),
    };
    // A token outliving its user (deleted account) grants nothing.
    let (user, _) = repo::read_user(kv, &grant.user_id)
        .map_err(ApiError::from)?
        .ok_or_else(|| unauthorized(BAD_REFRESH))?;
    let new_token = random_token();
    repo::rotate_refresh(kv, &grant, &new_token, now).map_err(|e| match e {
        // Another request rotated this token since we read it (or
        // revoked it: then the retry finds nothing and gets its 401).
        KvError::Conflict(_) => refresh_raced(),
        other => other.into(),
    })?;
    let issued = Issued {
        token: &new_token,
        delivery,
    };
    Ok(token_response(200, &keys, &user.public(), issued, req, now))
}

/// 409: the token was renewed a moment ago by another request of its
/// holder; the newer token is the one to use.
fn refresh_raced() -> ApiError {
    ApiError::conflict(
        "this refresh token was just renewed by another request; retry with the newer one",
    )
}

/// The refresh token is the credential; an `Authorization` header is
/// ignored (it is often expired by the time a user signs out). Ends the
/// token's whole session.
pub fn signout(kv: &impl KeyValue, req: &Request) -> Result<Response, ApiError> {
    let (token, delivery) = presented(req)?;
    repo::revoke_refresh(kv, &token).map_err(ApiError::from)?;
    Ok(match delivery {
        Delivery::Body => Response::no_content(),
        Delivery::Cookie => Response::no_content().with_header("set-cookie", &cookie::clear(req)),
    })
}

pub fn get_me(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
) -> Result<Response, ApiError> {
    let user_id = authenticate(secrets, req)?;
    let (user, _) = repo::read_user(kv, &user_id)
        .map_err(ApiError::from)?
        .ok_or_else(gone)?;
    Ok(Response::json(200, &user.public()))
}

pub fn patch_me(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    req: &Request,
) -> Result<Response, ApiError> {
    // Authentication first: an anonymous caller learns nothing from
    // validation errors.
    let user_id = authenticate(secrets, req)?;
    let patch = ProfilePatch::from_json(&req.body)?;
    let user = repo::update_user(kv, &user_id, |user| {
        if let Some(name) = &patch.name {
            user.name.clone_from(name);
        }
        if let Some(zone) = &patch.time_zone {
            user.time_zone.clone_from(zone);
        }
    })
    .map_err(ApiError::from)?
    .ok_or_else(gone)?;
    Ok(Response::json(200, &user.public()))
}

/// A valid token for a user that no longer exists: the credential is no
/// good any more.
fn gone() -> ApiError {
    unauthorized("the account of this access token no longer exists")
}
