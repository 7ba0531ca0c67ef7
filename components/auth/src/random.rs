//! Opaque random tokens (refresh tokens) and the digests they are stored
//! under.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Bytes of randomness in a [`random_token`]: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;

/// A fresh token: 32 bytes from the OS RNG, base64url without padding
/// (43 characters, safe in JSON, URLs and headers).
///
/// # Panics
/// If the OS RNG fails. There is no safe fallback for a credential, and the
/// RNG failing means the platform is broken (on wasm32-wasip2 it is
/// `wasi:random`, which the host always provides).
pub fn random_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of `token`, lower-case hex. Store and look tokens up by this so
/// a leaked store holds nothing usable as a credential. A plain hash is
/// enough (no salt or stretching) because the tokens are 256-bit random.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_urlsafe_chars_and_differ() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), TOKEN_BYTES);
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = random_token();
        assert_eq!(token_digest(&token), token_digest(&token));
        assert!(!token_digest(&token).contains(&token));
    }
}
