//! An in-memory `KeyValue` with the semantics the WIT `state` interface
//! promises (ETag and absence preconditions, TTL, atomic transactions with
//! an outbox), for
//! native unit tests of component logic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::kv::{KeyValue, KvError, Op, OutboxEvent, Precondition, SetOptions, Versioned};

type Hook = Box<dyn FnOnce(&MemoryKv) + Send>;

#[derive(Debug, Clone)]
struct Entry {
    value: Vec<u8>,
    etag: String,
    expires: Option<Instant>,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| at > now)
    }
}

#[derive(Debug, Default)]
struct Store {
    entries: BTreeMap<String, Entry>,
    next_etag: u64,
    published: Vec<OutboxEvent>,
    transactions: usize,
}

impl Store {
    fn current(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key).filter(|e| e.live(Instant::now()))
    }

    fn check(&self, key: &str, precondition: Option<&Precondition>) -> Result<(), KvError> {
        match (precondition, self.current(key)) {
            (None, _) => Ok(()),
            (Some(Precondition::EtagMatches(want)), Some(entry)) if entry.etag == *want => Ok(()),
            (Some(Precondition::EtagMatches(_)), _) => {
                Err(KvError::Conflict(format!("etag mismatch for key `{key}`")))
            }
            (Some(Precondition::Absent), None) => Ok(()),
            (Some(Precondition::Absent), Some(_)) => {
                Err(KvError::Conflict(format!("key `{key}` already exists")))
            }
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), KvError> {
        check_key(op.key())?;
        match op {
            Op::Set {
                key,
                value,
                options,
            } => {
                self.check(key, options.precondition.as_ref())?;
                self.next_etag += 1;
                let expires = options
                    .ttl_seconds
                    .map(|s| Instant::now() + Duration::from_secs(u64::from(s)));
                self.entries.insert(
                    key.clone(),
                    Entry {
                        value: value.clone(),
                        etag: self.next_etag.to_string(),
                        expires,
                    },
                );
            }
            Op::Delete { key, etag } => {
                let precondition = etag.clone().map(Precondition::EtagMatches);
                self.check(key, precondition.as_ref())?;
                self.entries.remove(key);
            }
        }
        Ok(())
    }
}

fn check_key(key: &str) -> Result<(), KvError> {
    if key.is_empty() {
        return Err(KvError::Invalid("empty key".to_owned()));
    }
    Ok(())
}

/// In-memory state. Also records what the outbox "published" and lets a
/// test inject failures or a concurrent writer.
#[derive(Default)]
pub struct MemoryKv {
    store: Mutex<Store>,
    failures: Mutex<VecDeque<KvError>>,
    before_transact: Mutex<VecDeque<Hook>>,
    before_set: Mutex<VecDeque<Hook>>,
}

impl std::fmt::Debug for MemoryKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryKv")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event committed through `transact`, in order.
    pub fn published(&self) -> Vec<OutboxEvent> {
        self.lock().published.clone()
    }

    /// Number of committed transactions.
    pub fn transactions(&self) -> usize {
        self.lock().transactions
    }

    /// Live keys starting with `prefix`, sorted.
    pub fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let now = Instant::now();
        self.lock()
            .entries
            .iter()
            .filter(|(k, e)| k.starts_with(prefix) && e.live(now))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The next call of any method fails with `error` (queued in order).
    pub fn fail_next(&self, error: KvError) {
        self.failures.lock().unwrap().push_back(error);
    }

    /// Runs `hook` right before the next `transact` applies, as if another
    /// instance wrote concurrently between our reads and our commit.
    pub fn before_next_transact(&self, hook: impl FnOnce(&MemoryKv) + Send + 'static) {
        self.before_transact
            .lock()
            .unwrap()
            .push_back(Box::new(hook));
    }

    /// Runs `hook` right before the next `set` applies, as if another
    /// instance wrote concurrently between our read and our write.
    pub fn before_next_set(&self, hook: impl FnOnce(&MemoryKv) + Send + 'static) {
        self.before_set.lock().unwrap().push_back(Box::new(hook));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        // A test that panicked mid-call poisons the lock; the data is still
        // consistent because every mutation is applied whole.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn injected(&self) -> Result<(), KvError> {
        match self.failures.lock().unwrap().pop_front() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl KeyValue for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        self.injected()?;
        check_key(key)?;
        Ok(self
            .lock()
            .current(key)
            .map(|e| (e.value.clone(), e.etag.clone())))
    }

    fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Versioned>>, KvError> {
        self.injected()?;
        let store = self.lock();
        keys.iter()
            .map(|key| {
                check_key(key)?;
                Ok(store
                    .current(key)
                    .map(|e| (e.value.clone(), e.etag.clone())))
            })
            .collect()
    }

    fn set(&self, key: &str, value: &[u8], options: SetOptions) -> Result<(), KvError> {
        let hook = self.before_set.lock().unwrap().pop_front();
        if let Some(hook) = hook {
            hook(self);
        }
        self.injected()?;
        self.lock().apply(&Op::Set {
            key: key.to_owned(),
            value: value.to_vec(),
            options,
        })
    }

    fn delete(&self, key: &str, etag: Option<&str>) -> Result<(), KvError> {
        self.injected()?;
        self.lock().apply(&Op::delete(key, etag.map(str::to_owned)))
    }

    fn transact(&self, ops: Vec<Op>, events: Vec<OutboxEvent>) -> Result<(), KvError> {
        let hook = self.before_transact.lock().unwrap().pop_front();
        if let Some(hook) = hook {
            hook(self);
        }
        self.injected()?;
        let mut store = self.lock();
        // Apply to a copy and swap it in only if every operation succeeded:
        // all or nothing, like the real backends.
        let mut staged = Store {
            entries: store.entries.clone(),
            next_etag: store.next_etag,
            published: Vec::new(),
            transactions: 0,
        };
        for op in &ops {
            staged.apply(op)?;
        }
        for outbox in &events {
            if outbox.topic.is_empty() {
                return Err(KvError::Invalid("empty topic".to_owned()));
            }
        }
        store.entries = staged.entries;
        store.next_etag = staged.next_etag;
        store.published.extend(events);
        store.transactions += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventOrigin;

    fn event(ty: &str) -> OutboxEvent {
        OutboxEvent {
            topic: "t".into(),
            event: EventOrigin::new("test", "u", "c").event(ty).build(),
        }
    }

    #[test]
    fn set_and_get_with_changing_etags() {
        let kv = MemoryKv::new();
        assert_eq!(kv.get("a").unwrap(), None);
        kv.set("a", b"1", SetOptions::default()).unwrap();
        let (value, etag1) = kv.get("a").unwrap().unwrap();
        assert_eq!(value, b"1");
        kv.set("a", b"2", SetOptions::default()).unwrap();
        let (_, etag2) = kv.get("a").unwrap().unwrap();
        assert_ne!(etag1, etag2);
    }

    #[test]
    fn stale_etag_is_a_conflict() {
        let kv = MemoryKv::new();
        kv.set("a", b"1", SetOptions::default()).unwrap();
        let (_, etag) = kv.get("a").unwrap().unwrap();
        kv.set("a", b"2", SetOptions::if_match(etag.clone()))
            .unwrap();
        let err = kv
            .set("a", b"3", SetOptions::if_match(etag.clone()))
            .unwrap_err();
        assert!(matches!(err, KvError::Conflict(m) if m.contains("`a`")));
        assert!(matches!(
            kv.delete("a", Some(&etag)),
            Err(KvError::Conflict(_))
        ));
        assert!(matches!(
            kv.set("missing", b"x", SetOptions::if_match("1")),
            Err(KvError::Conflict(_))
        ));
    }

    #[test]
    fn absent_creates_once_and_then_conflicts() {
        let kv = MemoryKv::new();
        kv.set("a", b"1", SetOptions::if_absent()).unwrap();
        let err = kv.set("a", b"2", SetOptions::if_absent()).unwrap_err();
        assert!(matches!(err, KvError::Conflict(m) if m.contains("`a`") && m.contains("exists")));
        assert_eq!(kv.get("a").unwrap().unwrap().0, b"1");

        // Deleted or expired keys are absent again.
        kv.delete("a", None).unwrap();
        kv.set("a", b"3", SetOptions::if_absent()).unwrap();
        kv.set(
            "e",
            b"1",
            SetOptions {
                precondition: None,
                ttl_seconds: Some(0),
            },
        )
        .unwrap();
        kv.set("e", b"2", SetOptions::if_absent()).unwrap();
        assert_eq!(kv.get("e").unwrap().unwrap().0, b"2");
    }

    #[test]
    fn absent_in_a_transaction_fails_it_whole() {
        let kv = MemoryKv::new();
        kv.set("taken", b"0", SetOptions::default()).unwrap();
        let failed = kv.transact(
            vec![
                Op::set("new", b"1".to_vec(), Some(Precondition::Absent)),
                Op::set("taken", b"1".to_vec(), Some(Precondition::Absent)),
            ],
            vec![event("lost")],
        );
        assert!(matches!(failed, Err(KvError::Conflict(m)) if m.contains("`taken`")));
        assert_eq!(kv.get("new").unwrap(), None);
        assert_eq!(kv.get("taken").unwrap().unwrap().0, b"0");
        assert!(kv.published().is_empty());

        kv.transact(
            vec![Op::set("new", b"1".to_vec(), Some(Precondition::Absent))],
            vec![event("kept")],
        )
        .unwrap();
        assert_eq!(kv.get("new").unwrap().unwrap().0, b"1");
        assert_eq!(kv.published().len(), 1);
    }

    #[test]
    fn delete_of_missing_key_succeeds_without_etag() {
        let kv = MemoryKv::new();
        kv.delete("nope", None).unwrap();
        kv.set("a", b"1", SetOptions::default()).unwrap();
        kv.delete("a", None).unwrap();
        assert_eq!(kv.get("a").unwrap(), None);
    }

    #[test]
    fn ttl_expires_values() {
        let kv = MemoryKv::new();
        kv.set(
            "a",
            b"1",
            SetOptions {
                precondition: None,
                ttl_seconds: Some(0),
            },
        )
        .unwrap();
        assert_eq!(kv.get("a").unwrap(), None);
    }

    #[test]
    fn bulk_get_keeps_order_and_gaps() {
        let kv = MemoryKv::new();
        kv.set("b", b"2", SetOptions::default()).unwrap();
        let got = kv.get_bulk(&["a".into(), "b".into()]).unwrap();
        assert_eq!(got[0], None);
        assert_eq!(got[1].as_ref().unwrap().0, b"2");
    }

    #[test]
    fn transaction_is_all_or_nothing_including_events() {
        let kv = MemoryKv::new();
        kv.set("guard", b"0", SetOptions::default()).unwrap();
        let failed = kv.transact(
            vec![
                Op::set("x", b"1".to_vec(), None),
                Op::set(
                    "guard",
                    b"1".to_vec(),
                    Some(Precondition::EtagMatches("stale".into())),
                ),
            ],
            vec![event("lost")],
        );
        assert!(matches!(failed, Err(KvError::Conflict(_))));
        assert_eq!(kv.get("x").unwrap(), None);
        assert!(kv.published().is_empty());

        let (_, etag) = kv.get("guard").unwrap().unwrap();
        kv.transact(
            vec![
                Op::set("x", b"1".to_vec(), None),
                Op::set(
                    "guard",
                    b"1".to_vec(),
                    Some(Precondition::EtagMatches(etag)),
                ),
                Op::delete("missing", None),
            ],
            vec![event("kept")],
        )
        .unwrap();
        assert_eq!(kv.get("x").unwrap().unwrap().0, b"1");
        assert_eq!(kv.published().len(), 1);
        assert_eq!(kv.published()[0].event.ty, "kept");
        assert_eq!(kv.transactions(), 1);
    }

    #[test]
    fn injected_failures_and_hooks_fire_once() {
        let kv = MemoryKv::new();
        kv.fail_next(KvError::Unavailable("down".into()));
        assert!(matches!(kv.get("a"), Err(KvError::Unavailable(_))));
        assert_eq!(kv.get("a").unwrap(), None);

        kv.before_next_transact(|kv| kv.set("a", b"hook", SetOptions::default()).unwrap());
        kv.transact(vec![Op::set("b", b"1".to_vec(), None)], vec![])
            .unwrap();
        assert_eq!(kv.get("a").unwrap().unwrap().0, b"hook");
        assert_eq!(kv.keys_with_prefix(""), vec!["a", "b"]);

        kv.before_next_set(|kv| kv.set("c", b"hook", SetOptions::default()).unwrap());
        assert!(matches!(
            kv.set("c", b"ours", SetOptions::if_absent()),
            Err(KvError::Conflict(_))
        ));
        kv.set("c", b"ours", SetOptions::default()).unwrap();
        assert_eq!(kv.get("c").unwrap().unwrap().0, b"ours");
    }
}
