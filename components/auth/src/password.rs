//! Password hashing: argon2id with the crate's default parameters (the
//! OWASP minimum: 19 MiB, 2 passes, 1 lane), a random salt per hash, and
//! the PHC string format so parameters travel with each hash and can be
//! raised later without breaking stored ones.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

use crate::AuthError;

/// A real hash (of a random password nobody knows) with the default
/// parameters. Verifying against it costs what a real verification costs,
/// so a sign-in for an unknown email takes as long as one with a wrong
/// password and response time does not reveal which emails have accounts.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$PbmEWAKjR0sYSRAOEZty5A$WEbltY7HXYwEV1GGG7b3pLDRm69INTCVmAO9YRD+srE";

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        // The error names the failing step (RNG, parameters), never input.
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches `phc`. A malformed or unsupported PHC string
/// is simply not a match: the caller cannot do better than refuse.
///
/// The parameters come from the PHC string, not from the defaults, so
/// hashes made with older parameters keep verifying.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// [`verify_password`] against `phc`, or, when there is no account
/// (`None`), against a dummy hash at the same cost; always `false` then.
pub fn verify_password_or_dummy(password: &str, phc: Option<&str>) -> bool {
    match phc {
        Some(phc) => verify_password(password, phc),
        None => {
            // Done only for its cost; a match cannot mean anything.
            let _ = verify_password(password, DUMMY_HASH);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::Params;

    #[test]
    fn hash_then_verify() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(!phc.contains("correct horse"));
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("correct horse battery stapl", &phc));
    }

    #[test]
    fn salts_differ_between_hashes() {
        assert_ne!(
            hash_password("same").unwrap(),
            hash_password("same").unwrap()
        );
    }

    #[test]
    fn malformed_hashes_never_match() {
        assert!(!verify_password("x", ""));
        assert!(!verify_password("x", "not a phc string"));
        assert!(!verify_password("x", "$argon2id$v=19$m=19456,t=2,p=1$bad"));
    }

    #[test]
    fn dummy_hash_has_the_default_cost_and_never_matches() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        let params = Params::try_from(&parsed).unwrap();
        assert_eq!(params.m_cost(), Params::DEFAULT_M_COST);
        assert_eq!(params.t_cost(), Params::DEFAULT_T_COST);
        assert_eq!(params.p_cost(), Params::DEFAULT_P_COST);
        assert!(!verify_password_or_dummy("anything", None));
        let phc = hash_password("pw").unwrap();
        assert!(verify_password_or_dummy("pw", Some(&phc)));
    }
}
