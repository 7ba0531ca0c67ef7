//! The chain: each entry's hash is an HMAC, under the audit chain key, of
//! its content and the previous entry's hash. Changing, removing or
//! reordering any stored entry breaks every link after it, and without the
//! key no one can re-hash a forged entry so that it verifies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::keys::{ChainKey, Keyring};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain's tip: the last sequence number and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Head {
    /// The head of an empty chain.
    pub fn genesis() -> Self {
        Head {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub topic: String,
    /// The full CloudEvent in structured-mode JSON.
    pub event: Value,
    pub received_at: String,
    pub prev_hash: String,
    /// The id of the key `hash` was made with (see [`crate::keys`]).
    /// Entries written before the chain was keyed have none and do not
    /// verify: a SHA-256 link proves nothing against someone who can write
    /// the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `HMAC-SHA-256(key, prev_hash || canonical entry bytes)`, lower-case
    /// hex.
    pub hash: String,
}

impl Entry {
    /// The entry that follows `head`, keyed with `key`.
    pub fn next(
        head: &Head,
        topic: &str,
        event: Value,
        received_at: String,
        key: &ChainKey,
    ) -> Self {
        let mut entry = Entry {
            seq: head.seq + 1,
            topic: topic.to_owned(),
            event,
            received_at,
            prev_hash: head.hash.clone(),
            key_id: Some(key.id().to_owned()),
            hash: String::new(),
        };
        entry.hash = key.mac(&[entry.prev_hash.as_bytes(), &entry.canonical_bytes()]);
        entry
    }

    /// The head once this entry is appended.
    pub fn as_head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    /// Canonical bytes of everything but `hash` (the key id included, so an
    /// entry cannot be made to name another key): compact JSON with object
    /// keys sorted at every level, so the bytes do not depend on how the
    /// stored JSON was ordered or on serde_json's map features.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let content = json!({
            "seq": self.seq,
            "topic": self.topic,
            "event": self.event,
            "received_at": self.received_at,
            "prev_hash": self.prev_hash,
            "key_id": self.key_id,
        });
        serde_json::to_vec(&canonical(content)).expect("JSON values always serialize")
    }

    /// Whether `hash` is this entry's MAC under `key`.
    pub fn verifies_under(&self, key: &ChainKey) -> bool {
        let content = self.canonical_bytes();
        key.verifies(&[self.prev_hash.as_bytes(), &content], &self.hash)
    }
}

/// Rebuilds every object with its keys in sorted order.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let sorted: Map<String, Value> = entries
                .into_iter()
                .map(|(k, v)| (k, canonical(v)))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        scalar => scalar,
    }
}

/// What was found under an entry key: `None` if missing, `Err` if it did
/// not parse.
pub type StoredEntry = Option<Result<Entry, String>>;

/// Where and why a chain fails verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: u64,
    pub reason: String,
}

/// Checks entries in order against the chain rules, carrying the running
/// hash so it can be fed one batch at a time.
#[derive(Debug)]
pub struct Verifier {
    keys: Keyring,
    expected_seq: u64,
    prev_hash: String,
}

impl Verifier {
    /// A verifier for a chain from its first entry.
    pub fn new(keys: Keyring) -> Self {
        Verifier {
            keys,
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }

    /// A verifier that continues after entry `seq`, whose hash is `hash`
    /// (a checkpoint of an earlier verification).
    pub fn resume(keys: Keyring, seq: u64, hash: String) -> Self {
        Verifier {
            keys,
            expected_seq: seq + 1,
            prev_hash: hash,
        }
    }

    /// The seq [`Verifier::check`] expects next.
    pub fn next_seq(&self) -> u64 {
        self.expected_seq
    }

    /// Checks what is stored for `seq`.
    pub fn check(&mut self, seq: u64, entry: StoredEntry) -> Result<(), Break> {
        let broken = |reason: String| Err(Break { seq, reason });
        debug_assert_eq!(seq, self.expected_seq);
        let entry = match entry {
            None => return broken("entry is missing".to_owned()),
            Some(Err(e)) => return broken(format!("entry is unreadable: {e}")),
            Some(Ok(entry)) => entry,
        };
        if entry.seq != seq {
            return broken(format!("entry claims seq {}", entry.seq));
        }
        if entry.prev_hash != self.prev_hash {
            return broken("prev_hash does not match the previous entry's hash".to_owned());
        }
        let Some(key_id) = entry.key_id.as_deref() else {
            return broken(
                "entry names no key: written before the chain was keyed, or forged".to_owned(),
            );
        };
        let Some(key) = self.keys.find(key_id) else {
            return broken(format!(
                "entry is keyed with key {key_id}, which is not configured"
            ));
        };
        if !entry.verifies_under(key) {
            return broken("hash does not match the entry's content under its key".to_owned());
        }
        self.prev_hash = entry.hash;
        self.expected_seq += 1;
        Ok(())
    }

    /// Checks that `head` points at the last verified entry.
    pub fn finish(&self, head: &Head) -> Result<(), Break> {
        if head.hash != self.prev_hash {
            return Err(Break {
                seq: head.seq,
                reason: "head hash does not match the last entry".to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{CHAIN_KEY_SECRET, TEST_KEY};
    use sha2::{Digest, Sha256};

    const OTHER_KEY: &str = "another-audit-chain-key-of-32-bytes!";

    fn key(secret: &str) -> ChainKey {
        ChainKey::new(CHAIN_KEY_SECRET, secret).unwrap()
    }

    fn ring() -> Keyring {
        Keyring::new(key(TEST_KEY), Vec::new())
    }

    fn chain(n: u64) -> Vec<Entry> {
        chain_under(&key(TEST_KEY), Head::genesis(), 1..=n)
    }

    fn chain_under(
        key: &ChainKey,
        mut head: Head,
        seqs: std::ops::RangeInclusive<u64>,
    ) -> Vec<Entry> {
        seqs.map(|i| {
            let entry = Entry::next(
                &head,
                "task-events",
                json!({"id": i.to_string()}),
                "t".into(),
                key,
            );
            head = entry.as_head();
            entry
        })
        .collect()
    }

    fn verify(entries: &[Entry]) -> Result<(), Break> {
        verify_with(ring(), entries)
    }

    fn verify_with(keys: Keyring, entries: &[Entry]) -> Result<(), Break> {
        let mut verifier = Verifier::new(keys);
        for (i, e) in entries.iter().enumerate() {
            verifier.check(i as u64 + 1, Some(Ok(e.clone())))?;
        }
        verifier.finish(
            &entries
                .last()
                .map(Entry::as_head)
                .unwrap_or_else(Head::genesis),
        )
    }

    #[test]
    fn entries_link_to_their_predecessor() {
        let entries = chain(3);
        assert_eq!(entries[0].prev_hash, GENESIS_HASH);
        assert_eq!(entries[1].prev_hash, entries[0].hash);
        assert_eq!(entries[2].seq, 3);
        assert_eq!(entries[0].hash.len(), 64);
        verify(&entries).unwrap();
    }

    #[test]
    fn hash_ignores_key_order_but_not_content() {
        let head = Head::genesis();
        let k = key(TEST_KEY);
        let a = Entry::next(
            &head,
            "t",
            json!({"a": 1, "b": {"y": 2, "x": 3}}),
            "r".into(),
            &k,
        );
        let b: Value = serde_json::from_str(r#"{"b": {"x": 3, "y": 2}, "a": 1}"#).unwrap();
        let b = Entry::next(&head, "t", b, "r".into(), &k);
        assert_eq!(a.hash, b.hash);
        let c = Entry::next(
            &head,
            "t",
            json!({"a": 2, "b": {"y": 2, "x": 3}}),
            "r".into(),
            &k,
        );
        assert_ne!(a.hash, c.hash);
    }

    #[test]
    fn any_edit_is_detected_at_the_edited_entry() {
        let mut entries = chain(4);
        entries[2].event = json!({"id": "forged"});
        assert_eq!(verify(&entries).unwrap_err().seq, 3);
    }

    #[test]
    fn a_rehashed_forgery_breaks_the_next_link() {
        let mut entries = chain(4);
        entries[1].topic = "forged".into();
        // The forger holds the key: then only the next link shows it.
        entries[1] = Entry::next(
            &entries[0].as_head(),
            "forged",
            entries[1].event.clone(),
            "t".into(),
            &key(TEST_KEY),
        );
        let err = verify(&entries).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("prev_hash"));
    }

    /// What someone who can write the store but lacks the key can do: edit
    /// an entry and re-hash it and every later link (and the head).
    fn rehash_without_the_key(entries: &mut [Entry], from: usize, keep_key_id: bool) {
        for i in from..entries.len() {
            if i > 0 {
                entries[i].prev_hash = entries[i - 1].hash.clone();
            }
            if !keep_key_id {
                entries[i].key_id = None;
            }
            let mut hasher = Sha256::new();
            hasher.update(entries[i].prev_hash.as_bytes());
            hasher.update(entries[i].canonical_bytes());
            entries[i].hash = hex::encode(hasher.finalize());
        }
    }

    #[test]
    fn a_chain_rehashed_without_the_key_fails_at_the_first_forged_entry() {
        for keep_key_id in [true, false] {
            let mut entries = chain(4);
            entries[1].event = json!({"id": "forged"});
            rehash_without_the_key(&mut entries, 1, keep_key_id);
            let err = verify(&entries).unwrap_err();
            assert_eq!(err.seq, 2, "{err:?}");

            // Rewriting the whole chain as if written before keys existed.
            let mut entries = chain(3);
            rehash_without_the_key(&mut entries, 0, keep_key_id);
            let err = verify(&entries).unwrap_err();
            assert_eq!(err.seq, 1, "{err:?}");
        }
    }

    #[test]
    fn a_forger_with_another_key_is_caught() {
        let mut entries = chain(2);
        entries.extend(chain_under(&key(OTHER_KEY), entries[1].as_head(), 3..=3));
        let err = verify(&entries).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("not configured"), "{}", err.reason);
    }

    #[test]
    fn a_chain_across_a_rotation_verifies_with_the_retired_key() {
        // Written with TEST_KEY, then with OTHER_KEY after the rotation.
        let mut entries = chain(2);
        entries.extend(chain_under(&key(OTHER_KEY), entries[1].as_head(), 3..=4));
        let rotated = Keyring::new(key(OTHER_KEY), vec![key(TEST_KEY)]);
        verify_with(rotated, &entries).unwrap();
        // Without the retired key, the first entries cannot be checked.
        let err = verify_with(Keyring::new(key(OTHER_KEY), Vec::new()), &entries).unwrap_err();
        assert_eq!(err.seq, 1);
    }

    #[test]
    fn an_entry_cannot_be_made_to_name_another_key() {
        let mut entries = chain(1);
        let other = key(OTHER_KEY);
        entries[0].key_id = Some(other.id().to_owned());
        let both = Keyring::new(key(TEST_KEY), vec![other]);
        assert_eq!(verify_with(both, &entries).unwrap_err().seq, 1);
    }

    #[test]
    fn removal_and_reordering_are_detected() {
        let mut entries = chain(3);
        entries.swap(0, 1);
        assert_eq!(verify(&entries).unwrap_err().seq, 1);

        let mut verifier = Verifier::new(ring());
        let entries = chain(2);
        verifier.check(1, Some(Ok(entries[0].clone()))).unwrap();
        assert!(verifier.check(2, None).is_err());
    }

    #[test]
    fn truncated_tail_is_caught_by_the_head() {
        let entries = chain(3);
        let mut verifier = Verifier::new(ring());
        verifier.check(1, Some(Ok(entries[0].clone()))).unwrap();
        verifier.check(2, Some(Ok(entries[1].clone()))).unwrap();
        assert_eq!(verifier.finish(&entries[2].as_head()).unwrap_err().seq, 3);
    }
}
