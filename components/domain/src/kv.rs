//! The state capability as a trait, so business logic runs against the WIT
//! `state` imports in a component and against `MemoryKv` in native tests.

use crate::event::CloudEvent;

/// A stored value and its ETag.
pub type Versioned = (Vec<u8>, String);

/// Mirrors the WIT `error` variant: the failures a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    #[error("not found")]
    NotFound,
    /// A precondition failed (ETag mismatch, or the key already exists):
    /// someone else wrote first. Re-read and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    /// The backend is unreachable; retrying later may help.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("denied: {0}")]
    Denied(String),
}

/// What must hold for a write to succeed (WIT `precondition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// The stored ETag must equal this one; a missing key does not match.
    EtagMatches(String),
    /// The key must not exist (create only).
    Absent,
}

impl Precondition {
    /// The key is still as it was read: `Some(etag)` must still carry that
    /// ETag, `None` (it did not exist) must still be missing. The guard of
    /// a read-modify-write, including the one that creates the key.
    pub fn unchanged(read_etag: Option<String>) -> Self {
        match read_etag {
            Some(etag) => Precondition::EtagMatches(etag),
            None => Precondition::Absent,
        }
    }
}

/// Options of a single write (WIT `set-options`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// None: the last write wins.
    pub precondition: Option<Precondition>,
    /// Expire the value this many seconds after the write.
    pub ttl_seconds: Option<u32>,
}

impl SetOptions {
    /// A write guarded by `precondition` (none: last write wins).
    pub fn guarded(precondition: Option<Precondition>) -> Self {
        SetOptions {
            precondition,
            ttl_seconds: None,
        }
    }

    /// Write only if the stored ETag is still `etag`.
    pub fn if_match(etag: impl Into<String>) -> Self {
        Self::guarded(Some(Precondition::EtagMatches(etag.into())))
    }

    /// Write only if the key does not exist yet.
    pub fn if_absent() -> Self {
        Self::guarded(Some(Precondition::Absent))
    }
}

/// One operation of a transaction (WIT `operation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Set {
        key: String,
        value: Vec<u8>,
        options: SetOptions,
    },
    Delete {
        key: String,
        etag: Option<String>,
    },
}

impl Op {
    pub fn set(
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
        precondition: Option<Precondition>,
    ) -> Self {
        Op::Set {
            key: key.into(),
            value: value.into(),
            options: SetOptions::guarded(precondition),
        }
    }

    pub fn delete(key: impl Into<String>, etag: Option<String>) -> Self {
        Op::Delete {
            key: key.into(),
            etag,
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Op::Set { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}

/// An event published if and only if its transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub topic: String,
    pub event: CloudEvent,
}

/// Key/value state with ETags, preconditions, TTL and transactions with an
/// outbox.
pub trait KeyValue {
    fn get(&self, key: &str) -> Result<Option<Versioned>, KvError>;
    /// One entry per key, in the order given.
    fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Versioned>>, KvError>;
    fn set(&self, key: &str, value: &[u8], options: SetOptions) -> Result<(), KvError>;
    /// Deleting a missing key succeeds unless an ETag was given.
    fn delete(&self, key: &str, etag: Option<&str>) -> Result<(), KvError>;
    /// All operations and all events, or nothing.
    fn transact(&self, ops: Vec<Op>, events: Vec<OutboxEvent>) -> Result<(), KvError>;
}

/// Runs `attempt` until it does not fail with `Conflict`, at most `attempts`
/// times; the last conflict is returned if contention never clears.
/// Between attempts it backs off (1, 2, 4, ... ms, capped at 50 ms, with
/// jitter) so that writers racing for one key spread out instead of
/// colliding again at once.
pub fn retry_on_conflict<T>(
    attempts: u32,
    mut attempt: impl FnMut() -> Result<T, KvError>,
) -> Result<T, KvError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt() {
            Err(KvError::Conflict(_)) if tries < attempts => {
                std::thread::sleep(conflict_backoff(tries));
            }
            other => return other,
        }
    }
}

fn conflict_backoff(tries: u32) -> std::time::Duration {
    let base_us = (1_000u64 << tries.min(6)).min(50_000);
    // Jitter from the clock's low bits: no RNG needed, different per writer.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::time::Duration::from_micros(base_us / 2 + u64::from(nanos) % (base_us / 2 + 1))
}

/// Read-modify-write of one key guarded by its ETag, retried on conflict.
/// `change` gets the current value (`None` if absent) and returns the new one.
///
/// A key that does not exist yet is created only if it is still absent, so
/// two first writers cannot both win: the loser re-reads and retries.
pub fn update<K: KeyValue + ?Sized>(
    kv: &K,
    key: &str,
    attempts: u32,
    mut change: impl FnMut(Option<&[u8]>) -> Result<Vec<u8>, KvError>,
) -> Result<(), KvError> {
    retry_on_conflict(attempts, || {
        let current = kv.get(key)?;
        let (value, etag) = match &current {
            Some((value, etag)) => (Some(value.as_slice()), Some(etag.clone())),
            None => (None, None),
        };
        let next = change(value)?;
        kv.set(
            key,
            &next,
            SetOptions::guarded(Some(Precondition::unchanged(etag))),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_kv::MemoryKv;

    #[test]
    fn retry_stops_after_the_given_attempts() {
        let mut calls = 0;
        let result: Result<(), _> = retry_on_conflict(3, || {
            calls += 1;
            Err(KvError::Conflict("k".into()))
        });
        assert_eq!(calls, 3);
        assert!(matches!(result, Err(KvError::Conflict(_))));
    }

    #[test]
    fn retry_does_not_retry_other_errors() {
        let mut calls = 0;
        let result: Result<(), _> = retry_on_conflict(3, || {
            calls += 1;
            Err(KvError::Unavailable("down".into()))
        });
        assert_eq!(calls, 1);
        assert!(matches!(result, Err(KvError::Unavailable(_))));
    }

    #[test]
    fn update_retries_when_a_concurrent_writer_wins() {
        let kv = MemoryKv::new();
        kv.set("n", b"1", SetOptions::default()).unwrap();
        let mut first = true;
        update(&kv, "n", 3, |current| {
            if first {
                first = false;
                // Another writer sneaks in between our read and our write.
                kv.set("n", b"10", SetOptions::default()).unwrap();
            }
            let n: u32 = std::str::from_utf8(current.unwrap())
                .unwrap()
                .parse()
                .unwrap();
            Ok((n + 1).to_string().into_bytes())
        })
        .unwrap();
        assert_eq!(kv.get("n").unwrap().unwrap().0, b"11");
    }

    #[test]
    fn update_creating_a_key_retries_when_another_creates_it_first() {
        let kv = MemoryKv::new();
        let mut seen = Vec::new();
        update(&kv, "n", 3, |current| {
            let n: u32 = match current {
                // Another first writer creates the key between our read
                // (nothing there) and our write.
                None if seen.is_empty() => {
                    kv.set("n", b"10", SetOptions::default()).unwrap();
                    0
                }
                None => 0,
                Some(bytes) => std::str::from_utf8(bytes).unwrap().parse().unwrap(),
            };
            seen.push(n);
            Ok((n + 1).to_string().into_bytes())
        })
        .unwrap();
        assert_eq!(seen, [0, 10]);
        assert_eq!(kv.get("n").unwrap().unwrap().0, b"11");
    }

    #[test]
    fn unchanged_mirrors_what_was_read() {
        assert_eq!(Precondition::unchanged(None), Precondition::Absent);
        assert_eq!(
            Precondition::unchanged(Some("7".into())),
            Precondition::EtagMatches("7".into())
        );
    }
}
