//! The hash chain: each entry's hash covers its content and the previous
//! entry's hash, so changing, removing or reordering any stored entry breaks
//! every link after it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

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
    /// `sha256(prev_hash || canonical entry bytes)`, lower-case hex.
    pub hash: String,
}

impl Entry {
    /// The entry that follows `head`.
    pub fn next(head: &Head, topic: &str, event: Value, received_at: String) -> Self {
        let mut entry = Entry {
            seq: head.seq + 1,
            topic: topic.to_owned(),
            event,
            received_at,
            prev_hash: head.hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// The head once this entry is appended.
    pub fn as_head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    /// Canonical bytes of everything but `hash`: compact JSON with object
    /// keys sorted at every level, so the bytes do not depend on how the
    /// stored JSON was ordered or on serde_json's map features.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let content = json!({
            "seq": self.seq,
            "topic": self.topic,
            "event": self.event,
            "received_at": self.received_at,
            "prev_hash": self.prev_hash,
        });
        serde_json::to_vec(&canonical(content)).expect("JSON values always serialize")
    }

    pub fn compute_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(self.canonical_bytes());
        hex::encode(hasher.finalize())
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
    expected_seq: u64,
    prev_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl Verifier {
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
        if entry.compute_hash() != entry.hash {
            return broken("hash does not match the entry's content".to_owned());
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

    fn chain(n: u64) -> Vec<Entry> {
        let mut head = Head::genesis();
        (1..=n)
            .map(|i| {
                let entry = Entry::next(
                    &head,
                    "task-events",
                    json!({"id": i.to_string()}),
                    "t".into(),
                );
                head = entry.as_head();
                entry
            })
            .collect()
    }

    fn verify(entries: &[Entry]) -> Result<(), Break> {
        let mut verifier = Verifier::default();
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
        let a = Entry::next(
            &head,
            "t",
            json!({"a": 1, "b": {"y": 2, "x": 3}}),
            "r".into(),
        );
        let b: Value = serde_json::from_str(r#"{"b": {"x": 3, "y": 2}, "a": 1}"#).unwrap();
        let b = Entry::next(&head, "t", b, "r".into());
        assert_eq!(a.hash, b.hash);
        let c = Entry::next(
            &head,
            "t",
            json!({"a": 2, "b": {"y": 2, "x": 3}}),
            "r".into(),
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
        entries[1].hash = entries[1].compute_hash();
        let err = verify(&entries).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("prev_hash"));
    }

    #[test]
    fn removal_and_reordering_are_detected() {
        let mut entries = chain(3);
        entries.swap(0, 1);
        assert_eq!(verify(&entries).unwrap_err().seq, 1);

        let mut verifier = Verifier::default();
        let entries = chain(2);
        verifier.check(1, Some(Ok(entries[0].clone()))).unwrap();
        assert!(verifier.check(2, None).is_err());
    }

    #[test]
    fn truncated_tail_is_caught_by_the_head() {
        let entries = chain(3);
        let mut verifier = Verifier::default();
        verifier.check(1, Some(Ok(entries[0].clone()))).unwrap();
        verifier.check(2, Some(Ok(entries[1].clone()))).unwrap();
        assert_eq!(verifier.finish(&entries[2].as_head()).unwrap_err().seq, 3);
    }
}
