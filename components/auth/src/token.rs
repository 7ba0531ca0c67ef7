//! Access tokens: HS256 JWTs with a short life, carrying only the user id.

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::AuthError;

/// Life of an access token. Short, because an access token cannot be
/// revoked: signing out revokes the refresh token, and the access token
/// dies on its own within this window.
pub const ACCESS_TTL_SECONDS: u64 = 900;
/// `iss` of every token we issue; anything else is refused.
pub const ISSUER: &str = "todo";
/// Shortest accepted signing key: HS256 needs 256 bits to be as strong as
/// its hash.
pub const MIN_KEY_BYTES: usize = 32;

/// `typ` of access tokens, so no other JWT signed with the same key (say,
/// a future e-mail verification token) is accepted as one.
const ACCESS_TYPE: &str = "access";
/// Tolerated clock skew between the issuing and the verifying instance.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
    iss: String,
    typ: String,
}

/// The signing and verification keys derived from the signing secret.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

/// Never prints the key material.
impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

impl Keys {
    /// Keys from the raw secret (used as-is, bytes of its UTF-8 form).
    pub fn from_secret(secret: &str) -> Result<Keys, AuthError> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(AuthError::KeyTooShort(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Expiry is checked in `verify_access_at` against the caller's
        // clock, so tests (and callers) control "now" the same way they do
        // when issuing.
        validation.validate_exp = false;
        validation.validate_aud = false;
        Ok(Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        })
    }

    /// A token for `user_id` issued at `now`, and its lifetime in seconds
    /// (the `expires_in` of the response).
    pub fn issue_access(&self, user_id: &str, now: DateTime<Utc>) -> (String, u64) {
        // A clock before 1970 is broken; such a token is simply expired.
        let iat = u64::try_from(now.timestamp()).unwrap_or(0);
        let claims = Claims {
            sub: user_id.to_owned(),
            iat,
            exp: iat + ACCESS_TTL_SECONDS,
            iss: ISSUER.to_owned(),
            typ: ACCESS_TYPE.to_owned(),
        };
        // HMAC takes keys of any length and the claims are plain strings
        // and numbers, so encoding has no failure mode short of a bug.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        (token, ACCESS_TTL_SECONDS)
    }

    /// The user id of a valid, unexpired access token.
    pub fn verify_access(&self, token: &str) -> Result<String, AuthError> {
        self.verify_access_at(token, Utc::now())
    }

    /// [`verify_access`](Self::verify_access) as of `now`.
    pub fn verify_access_at(&self, token: &str, now: DateTime<Utc>) -> Result<String, AuthError> {
        self.verify_session_at(token, now).map(|(user, _)| user)
    }

    /// The user id of a valid, unexpired access token and when it expires
    /// (Unix seconds): what a long-lived connection opened with it may
    /// last.
    pub fn verify_session_at(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, u64), AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_) => AuthError::Malformed,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        let claims = data.claims;
        if claims.typ != ACCESS_TYPE || claims.sub.is_empty() {
            return Err(AuthError::Invalid);
        }
        let now = u64::try_from(now.timestamp()).unwrap_or(0);
        if now > claims.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(AuthError::Expired);
        }
        Ok((claims.sub, claims.exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const KEY: &str = "0123456789abcdef0123456789abcdef";
    const OTHER_KEY: &str = "fedcba9876543210fedcba9876543210";

    fn keys() -> Keys {
        Keys::from_secret(KEY).unwrap()
    }

    /// A token signed with `KEY` carrying arbitrary claims.
    fn forge(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(KEY.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn round_trip() {
        let keys = keys();
        let (token, expires_in) = keys.issue_access("user-1", Utc::now());
        assert_eq!(expires_in, ACCESS_TTL_SECONDS);
        assert_eq!(keys.verify_access(&token).unwrap(), "user-1");
    }

    #[test]
    fn tampered_token_is_invalid() {
        let keys = keys();
        let (token, _) = keys.issue_access("user-1", Utc::now());
        // Swap the payload for another user's, keeping the signature.
        let (other, _) = keys.issue_access("user-2", Utc::now());
        let parts: Vec<&str> = token.split('.').collect();
        let other_parts: Vec<&str> = other.split('.').collect();
        let spliced = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
        assert_eq!(keys.verify_access(&spliced), Err(AuthError::Invalid));
        // Flip one character of the signature.
        let mut bad_sig = token.clone();
        let last = bad_sig.pop().unwrap();
        bad_sig.push(if last == 'A' { 'B' } else { 'A' });
        assert!(keys.verify_access(&bad_sig).is_err());
    }

    #[test]
    fn garbage_is_malformed() {
        let keys = keys();
        for bad in ["", "abc", "a.b", "a.b.c", "....."] {
            assert!(
                matches!(
                    keys.verify_access(bad),
                    Err(AuthError::Malformed | AuthError::Invalid)
                ),
                "{bad:?}"
            );
        }
        assert_eq!(keys.verify_access("not-a-jwt"), Err(AuthError::Malformed));
    }

    #[test]
    fn wrong_key_is_invalid() {
        let (token, _) = keys().issue_access("user-1", Utc::now());
        let other = Keys::from_secret(OTHER_KEY).unwrap();
        assert_eq!(other.verify_access(&token), Err(AuthError::Invalid));
    }

    #[test]
    fn expired_token_is_refused_after_the_leeway() {
        let keys = keys();
        let ttl = Duration::seconds(ACCESS_TTL_SECONDS as i64);
        let (old, _) = keys.issue_access("u", Utc::now() - ttl - Duration::seconds(60));
        assert_eq!(keys.verify_access(&old), Err(AuthError::Expired));

        let issued = Utc::now();
        let (token, _) = keys.issue_access("u", issued);
        let at = |s: i64| issued + ttl + Duration::seconds(s);
        assert_eq!(keys.verify_access_at(&token, at(0)).unwrap(), "u");
        assert_eq!(keys.verify_access_at(&token, at(5)).unwrap(), "u");
        assert_eq!(
            keys.verify_access_at(&token, at(6)),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn wrong_typ_or_issuer_or_missing_claims_is_invalid() {
        let keys = keys();
        let now = Utc::now().timestamp();
        let exp = now + 600;
        let wrong_typ = forge(
            &serde_json::json!({"sub": "u", "iat": now, "exp": exp, "iss": "todo", "typ": "refresh"}),
        );
        assert_eq!(keys.verify_access(&wrong_typ), Err(AuthError::Invalid));
        let wrong_iss = forge(
            &serde_json::json!({"sub": "u", "iat": now, "exp": exp, "iss": "evil", "typ": "access"}),
        );
        assert_eq!(keys.verify_access(&wrong_iss), Err(AuthError::Invalid));
        let no_exp =
            forge(&serde_json::json!({"sub": "u", "iat": now, "iss": "todo", "typ": "access"}));
        assert!(keys.verify_access(&no_exp).is_err());
        let empty_sub = forge(
            &serde_json::json!({"sub": "", "iat": now, "exp": exp, "iss": "todo", "typ": "access"}),
        );
        assert_eq!(keys.verify_access(&empty_sub), Err(AuthError::Invalid));
        // The same claims are accepted, so the cases above fail for the
        // reason they test.
        let good = forge(
            &serde_json::json!({"sub": "u", "iat": now, "exp": exp, "iss": "todo", "typ": "access"}),
        );
        assert_eq!(keys.verify_access(&good).unwrap(), "u");
    }

    #[test]
    fn other_algorithms_are_refused() {
        let now = Utc::now().timestamp();
        let claims = serde_json::json!({"sub": "u", "iat": now, "exp": now + 600, "iss": "todo", "typ": "access"});
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(KEY.as_bytes()),
        )
        .unwrap();
        assert_eq!(keys().verify_access(&hs512), Err(AuthError::Invalid));
        // `alg: none` with an empty signature.
        let none = format!(
            "{}.{}.",
            base64_url(br#"{"alg":"none","typ":"JWT"}"#),
            base64_url(claims.to_string().as_bytes())
        );
        assert!(keys().verify_access(&none).is_err());
    }

    fn base64_url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            Keys::from_secret("too short").unwrap_err(),
            AuthError::KeyTooShort(9)
        );
        assert!(Keys::from_secret(&KEY[..31]).is_err());
        assert!(Keys::from_secret(KEY).is_ok());
    }

    #[test]
    fn debug_hides_the_key() {
        let printed = format!("{:?}", keys());
        assert!(!printed.contains(KEY));
        assert!(!printed.contains("0123"));
    }
}
