//! Authentication shared by components: argon2id password hashes and
//! HS256 access tokens signed with a key read through `secrets`.
//!
//! - [`hash_password`] / [`verify_password`]: PHC strings, default argon2id
//!   parameters, a random salt per hash.
//! - [`Keys`]: issues and verifies short-lived access tokens.
//! - [`bearer_user`]: the user id of a request's `Authorization: Bearer`
//!   header, as an [`ApiError`](todo_domain::ApiError) when it has none.
//! - [`random_token`] / [`token_digest`]: opaque refresh tokens, stored only
//!   by digest.
//!
//! Nothing here logs, and no error message carries a password, a hash, a
//! token or the signing key.

mod bearer;
mod password;
mod random;
mod token;

pub use bearer::{
    WWW_AUTHENTICATE, bearer_session, bearer_user, error_response, signing_keys, unauthorized,
};
pub use password::{hash_password, verify_password, verify_password_or_dummy};
pub use random::{random_token, token_digest};
pub use token::{ACCESS_TTL_SECONDS, ISSUER, Keys, MIN_KEY_BYTES};

/// Name of the secret holding the HS256 signing key.
pub const SIGNING_KEY_SECRET: &str = "auth-signing-key";

/// Why hashing, signing or verifying failed. Messages are safe to show:
/// they never include the secret material involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the signing key is {0} bytes; at least {MIN_KEY_BYTES} are required")]
    KeyTooShort(usize),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// Not a JWT at all (wrong number of parts, bad base64 or JSON).
    #[error("malformed access token")]
    Malformed,
    /// Well-formed, but the signature, issuer, algorithm or type is wrong.
    #[error("invalid access token")]
    Invalid,
    #[error("expired access token")]
    Expired,
}
