//! The keys that authenticate the chain: each entry's hash is an HMAC
//! under a secret, so whoever can write the store but does not hold the
//! key cannot produce a link that verifies.
//!
//! - `audit-chain-key`: the key new entries are written with (at least 32
//!   bytes, used as given).
//! - `audit-chain-key-previous` (optional): keys retired by a rotation,
//!   separated by whitespace or commas, still needed to verify the entries
//!   they wrote.
//!
//! Each entry names its key by id (a digest of the key, never the key), so
//! a chain written across rotations verifies with the keyring that holds
//! every key it names.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use todo_domain::{KvError, Secrets};

/// The secret new entries are keyed with.
pub const CHAIN_KEY_SECRET: &str = "audit-chain-key";
/// The secret holding retired keys.
pub const PREVIOUS_KEYS_SECRET: &str = "audit-chain-key-previous";
/// The shortest key accepted: 256 bits, HMAC-SHA-256's block strength.
pub const MIN_KEY_BYTES: usize = 32;

/// Why the keyring cannot be used. Messages name the secret, never its
/// value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the audit chain key secret `{CHAIN_KEY_SECRET}` is not configured")]
    Missing,
    #[error(
        "the secret `{secret}` holds a key of {len} bytes; at least {MIN_KEY_BYTES} are required"
    )]
    TooShort { secret: &'static str, len: usize },
    #[error("could not read the audit chain key secrets: {0}")]
    Unavailable(String),
}

/// One key and its public id.
#[derive(Clone)]
pub struct ChainKey {
    id: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainKey").field("id", &self.id).finish()
    }
}

impl ChainKey {
    pub fn new(secret: &'static str, key: &str) -> Result<Self, KeyError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                secret,
                len: key.len(),
            });
        }
        // Domain-separated so the id is not a plain digest of the key
        // usable elsewhere; 64 bits tell a handful of keys apart.
        let mut digest = Sha256::new();
        digest.update(b"todo audit chain key id\0");
        digest.update(key.as_bytes());
        let id = hex::encode(&digest.finalize()[..8]);
        Ok(ChainKey {
            id,
            key: key.as_bytes().to_vec(),
        })
    }

    /// The key new entries are written with, read on each call (appending
    /// needs no retired key: one secret read, not two).
    pub fn current(secrets: &impl Secrets) -> Result<Self, KeyError> {
        match secrets.get(CHAIN_KEY_SECRET) {
            Ok(key) => ChainKey::new(CHAIN_KEY_SECRET, &key),
            Err(KvError::NotFound) => Err(KeyError::Missing),
            Err(e) => Err(KeyError::Unavailable(e.to_string())),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA-256 of `parts`, concatenated.
    pub fn mac(&self, parts: &[&[u8]]) -> String {
        hex::encode(self.hmac(parts).finalize().into_bytes())
    }

    /// Whether `hex_mac` is the MAC of `parts`, compared in constant time.
    pub fn verifies(&self, parts: &[&[u8]], hex_mac: &str) -> bool {
        match hex::decode(hex_mac) {
            Ok(bytes) => self.hmac(parts).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }

    fn hmac(&self, parts: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac
    }
}

/// The current key and the retired ones.
#[derive(Debug, Clone)]
pub struct Keyring {
    current: ChainKey,
    previous: Vec<ChainKey>,
}

impl Keyring {
    pub fn new(current: ChainKey, previous: Vec<ChainKey>) -> Self {
        Keyring { current, previous }
    }

    /// Reads both secrets on each call, so a rotation applies at once.
    pub fn load(secrets: &impl Secrets) -> Result<Self, KeyError> {
        let current = ChainKey::current(secrets)?;
        let previous = match secrets.get(PREVIOUS_KEYS_SECRET) {
            Ok(keys) => keys
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|k| !k.is_empty())
                .map(|k| ChainKey::new(PREVIOUS_KEYS_SECRET, k))
                .collect::<Result<_, _>>()?,
            Err(KvError::NotFound) => Vec::new(),
            Err(e) => return Err(KeyError::Unavailable(e.to_string())),
        };
        Ok(Keyring::new(current, previous))
    }

    /// The key new entries are written with.
    pub fn current(&self) -> &ChainKey {
        &self.current
    }

    /// The key with this id, current or retired.
    pub fn find(&self, id: &str) -> Option<&ChainKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

/// A key tests write and verify chains with.
#[cfg(test)]
pub(crate) const TEST_KEY: &str = "audit-chain-key-for-tests-of-32-bytes";

/// Secrets holding [`TEST_KEY`] as the chain key.
#[cfg(test)]
pub(crate) fn test_secrets() -> todo_domain::StaticSecrets {
    todo_domain::StaticSecrets::default().with(CHAIN_KEY_SECRET, TEST_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::StaticSecrets;

    const A: &str = "first-audit-chain-key-of-32-bytes!!";
    const B: &str = "second-audit-chain-key-of-32-bytes!";

    #[test]
    fn ids_tell_keys_apart_and_never_show_the_key() {
        let a = ChainKey::new(CHAIN_KEY_SECRET, A).unwrap();
        let b = ChainKey::new(CHAIN_KEY_SECRET, B).unwrap();
        assert_eq!(a.id().len(), 16);
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id(), ChainKey::new(PREVIOUS_KEYS_SECRET, A).unwrap().id());
        assert!(!format!("{a:?}").contains("first"));
    }

    #[test]
    fn a_mac_verifies_only_under_its_key_and_content() {
        let a = ChainKey::new(CHAIN_KEY_SECRET, A).unwrap();
        let b = ChainKey::new(CHAIN_KEY_SECRET, B).unwrap();
        let mac = a.mac(&[b"prev", b"content"]);
        assert_eq!(mac.len(), 64);
        assert!(a.verifies(&[b"prev", b"content"], &mac));
        assert!(!a.verifies(&[b"prev", b"forged"], &mac));
        assert!(!b.verifies(&[b"prev", b"content"], &mac));
        assert!(!a.verifies(&[b"prev", b"content"], "not hex"));
    }

    #[test]
    fn the_keyring_reads_the_current_and_retired_keys() {
        let secrets = StaticSecrets::default()
            .with(CHAIN_KEY_SECRET, B)
            .with(PREVIOUS_KEYS_SECRET, &format!(" {A},\n"));
        let ring = Keyring::load(&secrets).unwrap();
        let a = ChainKey::new(CHAIN_KEY_SECRET, A).unwrap();
        assert_eq!(ring.current().id(), ChainKey::new("x", B).unwrap().id());
        assert_eq!(ring.find(a.id()).unwrap().id(), a.id());
        assert!(ring.find("0000000000000000").is_none());
    }

    #[test]
    fn a_missing_or_short_key_is_refused_by_name() {
        assert_eq!(
            Keyring::load(&StaticSecrets::default()).unwrap_err(),
            KeyError::Missing
        );
        let short = StaticSecrets::default().with(CHAIN_KEY_SECRET, "short");
        let err = Keyring::load(&short).unwrap_err();
        assert!(err.to_string().contains(CHAIN_KEY_SECRET), "{err}");
        assert!(!err.to_string().contains("short\""), "{err}");
        let bad_previous = StaticSecrets::default()
            .with(CHAIN_KEY_SECRET, A)
            .with(PREVIOUS_KEYS_SECRET, "tiny");
        assert!(matches!(
            Keyring::load(&bad_previous),
            Err(KeyError::TooShort {
                secret: PREVIOUS_KEYS_SECRET,
                len: 4
            })
        ));
    }
}
