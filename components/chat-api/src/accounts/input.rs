//! Parsing and validation of the account request bodies.
//!
//! Same conventions as `tasks`: malformed JSON is a 400 quoting the parser
//! (serde_json syntax errors name a position, never the input), a
//! well-formed body with a bad field is a 422 naming the field, unknown
//! fields are refused, and `null` counts as absent. Messages never echo a
//! password.

use std::str::FromStr;

use chrono_tz::Tz;
use serde_json::{Map, Value};
use todo_domain::ApiError;

use super::cookie::Delivery;

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Caps the work one request can make argon2 do.
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_NAME_CHARS: usize = 200;
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// A validated `POST /api/auth/signup` body. No `Debug`: it holds a
/// password.
pub struct Signup {
    /// Trimmed and lower-cased.
    pub email: String,
    pub password: String,
    /// Trimmed; defaults to the email's local part.
    pub name: String,
    /// Canonical IANA name.
    pub time_zone: String,
    pub delivery: Delivery,
}

/// A `POST /api/auth/signin` body. The email is only normalized, not
/// validated: a string that is no email simply has no account. No `Debug`.
pub struct Signin {
    pub email: String,
    pub password: String,
    pub delivery: Delivery,
}

/// A refresh or sign-out body: the token (absent when it comes in the
/// cookie) and where the client wants the next one (absent: where this
/// one came from).
#[derive(Debug, PartialEq, Eq)]
pub struct TokenBody {
    pub token: Option<String>,
    pub delivery: Option<Delivery>,
}

/// A validated `PATCH /api/me` body; `None` leaves the field as it is.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    pub name: Option<String>,
    pub time_zone: Option<String>,
}

impl Signup {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let mut fields = object(body)?;
        let email = email(&required_string(&mut fields, "email")?)?;
        let password = new_password(required_string(&mut fields, "password")?)?;
        let name = optional_string(&mut fields, "name")?
            .map(|n| name(&n))
            .transpose()?;
        let time_zone = optional_string(&mut fields, "time_zone")?
            .map(|z| time_zone(&z))
            .transpose()?
            .unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned());
        let delivery = delivery(&mut fields)?.unwrap_or(Delivery::Body);
        reject_unknown(&fields)?;
        let name = name.unwrap_or_else(|| default_name(&email));
        Ok(Signup {
            email,
            password,
            name,
            time_zone,
            delivery,
        })
    }
}

impl Signin {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let mut fields = object(body)?;
        let email = normalize_email(&required_string(&mut fields, "email")?);
        let password = required_string(&mut fields, "password")?;
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(too_long_password());
        }
        let delivery = delivery(&mut fields)?.unwrap_or(Delivery::Body);
        reject_unknown(&fields)?;
        Ok(Signin {
            email,
            password,
            delivery,
        })
    }
}

impl ProfilePatch {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let mut fields = object(body)?;
        let name = optional_string(&mut fields, "name")?
            .map(|n| name(&n))
            .transpose()?;
        let time_zone = optional_string(&mut fields, "time_zone")?
            .map(|z| time_zone(&z))
            .transpose()?;
        reject_unknown(&fields)?;
        Ok(ProfilePatch { name, time_zone })
    }
}

impl TokenBody {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let mut fields = object(body)?;
        let token = optional_string(&mut fields, "refresh_token")?;
        let delivery = delivery(&mut fields)?;
        reject_unknown(&fields)?;
        if token.as_deref() == Some("") {
            return Err(ApiError::validation(
                "refresh_token",
                "refresh_token must not be empty",
            ));
        }
        Ok(TokenBody { token, delivery })
    }
}

/// `refresh_token_delivery`: `"body"` or `"cookie"`.
fn delivery(fields: &mut Map<String, Value>) -> Result<Option<Delivery>, ApiError> {
    const FIELD: &str = "refresh_token_delivery";
    match optional_string(fields, FIELD)?.as_deref() {
        None => Ok(None),
        Some("body") => Ok(Some(Delivery::Body)),
        Some("cookie") => Ok(Some(Delivery::Cookie)),
        Some(_) => Err(ApiError::validation(
            FIELD,
            "refresh_token_delivery must be \"body\" or \"cookie\"",
        )),
    }
}

/// The form emails are compared and stored in: trimmed, lower-cased.
/// Lower-casing the local part is not strictly RFC 5321, but no real
/// provider distinguishes case there, and users type it inconsistently.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A plausible email, normalized: one `@`, a non-empty local part, a
/// domain with a dot between non-empty labels, no whitespace or control
/// characters, at most 254 characters. Deliverability is not checked.
pub fn email(raw: &str) -> Result<String, ApiError> {
    let email = normalize_email(raw);
    let invalid = || ApiError::validation("email", "email must look like name@example.com");
    if email.is_empty() {
        return Err(ApiError::validation("email", "email is required"));
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(ApiError::validation(
            "email",
            format!("email exceeds {MAX_EMAIL_CHARS} characters"),
        ));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid());
    };
    let domain_ok = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || domain.contains('@') || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// Length is counted in characters, not bytes, so non-ASCII passwords are
/// not penalized. Not trimmed: spaces are legitimate password characters.
fn new_password(password: String) -> Result<String, ApiError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ApiError::validation(
            "password",
            format!("password must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(too_long_password());
    }
    Ok(password)
}

fn too_long_password() -> ApiError {
    ApiError::validation(
        "password",
        format!("password exceeds {MAX_PASSWORD_CHARS} characters"),
    )
}

fn name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::validation(
            "name",
            format!("name exceeds {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// The local part of a validated email, cut to the name limit: a friendly
/// default display name that reveals nothing the user did not type.
fn default_name(email: &str) -> String {
    let local = email.split_once('@').map_or(email, |(local, _)| local);
    local.chars().take(MAX_NAME_CHARS).collect()
}

/// The canonical IANA name of `raw` (chrono-tz's database, exact case).
pub fn time_zone(raw: &str) -> Result<String, ApiError> {
    Tz::from_str(raw)
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            ApiError::validation(
                "time_zone",
                "time_zone must be an IANA time zone name such as Europe/Paris or UTC",
            )
        })
}

fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(body).map_err(|e| ApiError::invalid_json(&e))? {
        Value::Object(fields) => Ok(fields),
        _ => Err(ApiError::bad_request(
            "body",
            "request body must be a JSON object",
        )),
    }
}

fn optional_string(
    fields: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::validation(
            name,
            format!("{name} must be a string"),
        )),
    }
}

fn required_string(fields: &mut Map<String, Value>, name: &str) -> Result<String, ApiError> {
    optional_string(fields, name)?
        .ok_or_else(|| ApiError::validation(name, format!("{name} is required")))
}

/// Unknown fields are refused so a misspelt field is not silently dropped.
fn reject_unknown(rest: &Map<String, Value>) -> Result<(), ApiError> {
    match rest.keys().next() {
        Some(name) => Err(ApiError::validation(
            name,
            format!("unknown field `{name}`"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signup(v: Value) -> Result<Signup, ApiError> {
        Signup::from_json(v.to_string().as_bytes())
    }

    fn field_of(result: Result<Signup, ApiError>) -> (u16, String) {
        let err = result.err().expect("should be rejected");
        (err.status, err.field.unwrap_or_default())
    }

    #[test]
    fn signup_normalizes_and_defaults() {
        let s = signup(json!({"email": "  Alice.B@Example.COM ", "password": "p4ssword"})).unwrap();
        assert_eq!(s.email, "alice.b@example.com");
        assert_eq!(s.name, "alice.b");
        assert_eq!(s.time_zone, "UTC");
        let s = signup(
            json!({"email": "a@b.co", "password": "p4ssword", "name": " Al ",
            "time_zone": "Europe/Paris"}),
        )
        .unwrap();
        assert_eq!(
            (s.name.as_str(), s.time_zone.as_str()),
            ("Al", "Europe/Paris")
        );
        let s = signup(
            json!({"email": "a@b.co", "password": "p4ssword", "name": null,
            "time_zone": null}),
        )
        .unwrap();
        assert_eq!((s.name.as_str(), s.time_zone.as_str()), ("a", "UTC"));
    }

    #[test]
    fn emails_are_checked() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@b.co",
            "a@b@c.co",
            "a b@c.co",
            "a@.co",
            "a@b.",
            "a@b..co",
        ] {
            assert_eq!(
                field_of(signup(json!({"email": bad, "password": "p4ssword"}))),
                (422, "email".into()),
                "{bad:?}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(243));
        assert_eq!(long.len(), 255);
        assert_eq!(
            field_of(signup(json!({"email": long, "password": "p4ssword"}))),
            (422, "email".into())
        );
        assert!(signup(json!({"email": &long[1..], "password": "p4ssword"})).is_ok());
    }

    #[test]
    fn passwords_are_checked_by_characters_and_never_echoed() {
        let err = signup(json!({"email": "a@b.co", "password": "short7!"}))
            .err()
            .unwrap();
        assert_eq!((err.status, err.field.as_deref()), (422, Some("password")));
        assert!(!err.message.contains("short7!"));
        // Eight characters, more bytes.
        assert!(signup(json!({"email": "a@b.co", "password": "éééééééé"})).is_ok());
        assert_eq!(
            field_of(signup(
                json!({"email": "a@b.co", "password": "x".repeat(1025)})
            )),
            (422, "password".into())
        );
        assert_eq!(
            field_of(signup(json!({"email": "a@b.co", "password": 12345678}))),
            (422, "password".into())
        );
    }

    #[test]
    fn names_zones_and_unknown_fields_are_checked() {
        let base = |extra: Value| {
            let mut v = json!({"email": "a@b.co", "password": "p4ssword"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            signup(v)
        };
        assert_eq!(
            field_of(base(json!({"name": "x".repeat(201)}))),
            (422, "name".into())
        );
        assert_eq!(field_of(base(json!({"name": 5}))), (422, "name".into()));
        assert_eq!(
            field_of(base(json!({"time_zone": "Mars/Olympus"}))),
            (422, "time_zone".into())
        );
        assert_eq!(
            field_of(base(json!({"time_zone": ""}))),
            (422, "time_zone".into())
        );
        assert_eq!(
            field_of(base(json!({"admin": true}))),
            (422, "admin".into())
        );
        assert_eq!(
            field_of(signup(json!({"password": "p4ssword"}))),
            (422, "email".into())
        );
    }

    #[test]
    fn malformed_bodies_are_400s() {
        let err = Signup::from_json(b"{\"email\":").err().unwrap();
        assert_eq!((err.status, err.code), (400, "invalid_json"));
        let err = Signup::from_json(b"[1]").err().unwrap();
        assert_eq!(err.status, 400);
        assert_eq!(TokenBody::from_json(b"").unwrap_err().status, 400);
    }

    #[test]
    fn signin_and_refresh_bodies() {
        let s = Signin::from_json(br#"{"email": " Bob@X.io ", "password": "pw"}"#).unwrap();
        assert_eq!((s.email.as_str(), s.password.as_str()), ("bob@x.io", "pw"));
        let err = Signin::from_json(br#"{"email": "b@x.io", "password": "pw", "remember": true}"#)
            .err()
            .unwrap();
        assert_eq!(err.field.as_deref(), Some("remember"));
        assert_eq!(
            TokenBody::from_json(br#"{"refresh_token": "abc"}"#).unwrap(),
            TokenBody {
                token: Some("abc".into()),
                delivery: None
            }
        );
        // The token may come in the cookie instead.
        assert_eq!(
            TokenBody::from_json(br#"{"refresh_token_delivery": "cookie"}"#).unwrap(),
            TokenBody {
                token: None,
                delivery: Some(Delivery::Cookie)
            }
        );
        for bad in [r#"{"refresh_token": ""}"#, r#"{"refresh_token": 1}"#] {
            let err = TokenBody::from_json(bad.as_bytes()).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("refresh_token"), "{bad}");
        }
        for bad in [
            r#"{"refresh_token_delivery": "header"}"#,
            r#"{"refresh_token_delivery": true}"#,
        ] {
            let err = TokenBody::from_json(bad.as_bytes()).unwrap_err();
            assert_eq!(
                (err.status, err.field.as_deref()),
                (422, Some("refresh_token_delivery")),
                "{bad}"
            );
        }
        let s = Signin::from_json(
            br#"{"email": "b@x.io", "password": "pw", "refresh_token_delivery": "cookie"}"#,
        )
        .unwrap();
        assert_eq!(s.delivery, Delivery::Cookie);
    }

    #[test]
    fn patch_bodies() {
        assert_eq!(
            ProfilePatch::from_json(b"{}").unwrap(),
            ProfilePatch::default()
        );
        let p = ProfilePatch::from_json(br#"{"name": " N ", "time_zone": "Asia/Tokyo"}"#).unwrap();
        assert_eq!(p.name.as_deref(), Some("N"));
        assert_eq!(p.time_zone.as_deref(), Some("Asia/Tokyo"));
        let err = ProfilePatch::from_json(br#"{"email": "x@y.z"}"#).unwrap_err();
        assert_eq!((err.status, err.field.as_deref()), (422, Some("email")));
        let err = ProfilePatch::from_json(br#"{"time_zone": "Nowhere"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("time_zone"));
    }
}
