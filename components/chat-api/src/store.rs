//! Task persistence: a user's tasks sharded over a fixed number of keys.
//!
//! Layout: `tasks:<user>:<shard>` holds `{"tasks": {<id>: Task, ...}}` for
//! the tasks whose id hashes to that shard. Listing reads every shard of
//! the user in one `get-bulk`; a write rewrites one shard, guarded by its
//! ETag (or its absence when the write creates it). So there is no hot
//! per-user index: concurrent writes of one user only contend when they
//! land in the same shard, and then the loser re-reads and retries.
//!
//! Every write and the events it implies go through one `transact` (the
//! outbox), so a crash can never keep one without the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use todo_domain::kv::retry_on_conflict;
use todo_domain::{KeyValue, KvError, Op, OutboxEvent, Precondition};
use todo_model::Task;

/// Shards per user. 32 keeps a shard of a 5,000-task user near 150 tasks
/// (a write rewrites ~100 KB) while a list is still one bulk read.
pub const SHARDS: u32 = 32;
/// Tasks one shard holds at most: the quota of tasks per user, enforced
/// where a write already reads (a count over every shard would make each
/// create read the user's whole list). Ids hash evenly, so a user meets it
/// between ~11,000 and [`TASK_LIMIT`] tasks.
pub const SHARD_TASK_LIMIT: usize = 400;
/// The most tasks a user can hold.
pub const TASK_LIMIT: usize = SHARDS as usize * SHARD_TASK_LIMIT;
/// Attempts of a write before contention is reported as a 409.
pub const WRITE_ATTEMPTS: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Kv(#[from] KvError),
    /// The write would add a task past the user's quota.
    #[error("you have reached the limit of about {TASK_LIMIT} tasks; delete some to make room")]
    Full,
    /// A stored document did not parse: a bug or a manual edit.
    #[error("stored value under `{key}` is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

/// The shard of `id`: FNV-1a, stable across versions and platforms (the
/// layout on disk depends on it).
pub fn shard_of(id: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in id.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % SHARDS
}

pub fn shard_key(user_id: &str, shard: u32) -> String {
    format!("tasks:{user_id}:{shard:02}")
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Shard {
    tasks: BTreeMap<String, Task>,
}

fn parse_shard(key: &str, bytes: &[u8]) -> Result<Shard, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn read_shard(kv: &impl KeyValue, key: &str) -> Result<(Shard, Option<String>), StoreError> {
    match kv.get(key)? {
        None => Ok((Shard::default(), None)),
        Some((bytes, etag)) => Ok((parse_shard(key, &bytes)?, Some(etag))),
    }
}

/// The task `id` of `user_id`; another user's task is simply not there.
pub fn get(kv: &impl KeyValue, user_id: &str, id: &str) -> Result<Option<Task>, StoreError> {
    let (mut shard, _) = read_shard(kv, &shard_key(user_id, shard_of(id)))?;
    Ok(shard.tasks.remove(id))
}

/// Every task of `user_id`, in no particular order.
pub fn all(kv: &impl KeyValue, user_id: &str) -> Result<Vec<Task>, StoreError> {
    let keys: Vec<String> = (0..SHARDS).map(|s| shard_key(user_id, s)).collect();
    let mut tasks = Vec::new();
    for (key, item) in keys.iter().zip(kv.get_bulk(&keys)?) {
        if let Some((bytes, _)) = item {
            tasks.extend(parse_shard(key, &bytes)?.tasks.into_values());
        }
    }
    Ok(tasks)
}

/// What one attempt of a write decided.
#[derive(Debug)]
pub enum Change<R> {
    /// Store `task` (`None`: delete it) with `events` and `extra` ops.
    Commit {
        /// Boxed: a task is large next to a `Done` reply.
        task: Option<Box<Task>>,
        events: Vec<OutboxEvent>,
        extra: Vec<Op>,
        reply: R,
    },
    /// Nothing to write.
    Done(R),
}

/// One attempt of a read-modify-write of task `id`: `decide` sees the
/// current task (`None` if absent) and says what to write. `Ok(Err(_))` is
/// the caller's own refusal; `Err(KvError::Conflict)` means another writer
/// won the shard and the whole attempt should be repeated.
pub fn attempt<R, E>(
    kv: &impl KeyValue,
    user_id: &str,
    id: &str,
    decide: impl FnOnce(Option<&Task>) -> Result<Change<R>, E>,
) -> Result<Result<R, E>, StoreError> {
    let key = shard_key(user_id, shard_of(id));
    let (mut shard, etag) = read_shard(kv, &key)?;
    let change = match decide(shard.tasks.get(id)) {
        Ok(change) => change,
        Err(e) => return Ok(Err(e)),
    };
    let (task, events, extra, reply) = match change {
        Change::Done(reply) => return Ok(Ok(reply)),
        Change::Commit {
            task,
            events,
            extra,
            reply,
        } => (task, events, extra, reply),
    };
    match task {
        Some(task) => {
            if !shard.tasks.contains_key(id) && shard.tasks.len() >= SHARD_TASK_LIMIT {
                return Err(StoreError::Full);
            }
            shard.tasks.insert(id.to_owned(), *task);
        }
        None => {
            shard.tasks.remove(id);
        }
    }
    let bytes = serde_json::to_vec(&shard).expect("tasks always serialize");
    let mut ops = vec![Op::set(key, bytes, Some(Precondition::unchanged(etag)))];
    ops.extend(extra);
    kv.transact(ops, events)?;
    Ok(Ok(reply))
}

/// Repeats `one` while it loses to concurrent writers (with backoff), at
/// most `WRITE_ATTEMPTS` times.
pub fn retrying<T>(mut one: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut corrupt = None;
    let result = retry_on_conflict(WRITE_ATTEMPTS, || match one() {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Kv(e)) => Err(e),
        Err(e @ (StoreError::Corrupt { .. } | StoreError::Full)) => {
            corrupt = Some(e);
            Ok(None)
        }
    })?;
    match (result, corrupt) {
        (Some(v), _) => Ok(v),
        (None, Some(e)) => Err(e),
        (None, None) => unreachable!("a None result always records its error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::{MemoryKv, SetOptions};

    fn task(id: &str) -> Task {
        Task::new(id, "u", id, "2026-11-27T00:00:00Z")
    }

    /// Writes `t` and nothing else.
    fn upsert(t: Task) -> Result<Change<()>, ()> {
        Ok(Change::Commit {
            task: Some(Box::new(t)),
            events: vec![],
            extra: vec![],
            reply: (),
        })
    }

    fn put(kv: &MemoryKv, user: &str, t: Task) {
        let id = t.id.clone();
        attempt(kv, user, &id, |_| upsert(t)).unwrap().unwrap();
    }

    #[test]
    fn shards_spread_ids_and_are_stable() {
        assert_eq!(shard_of("a"), shard_of("a"));
        let used: std::collections::BTreeSet<u32> =
            (0..200).map(|i| shard_of(&format!("id-{i}"))).collect();
        assert_eq!(used.len(), SHARDS as usize);
        assert_eq!(shard_key("u", 3), "tasks:u:03");
    }

    #[test]
    fn tasks_are_per_user() {
        let kv = MemoryKv::new();
        put(&kv, "alice", task("t1"));
        put(&kv, "alice", task("t2"));
        assert!(get(&kv, "alice", "t1").unwrap().is_some());
        assert!(get(&kv, "bob", "t1").unwrap().is_none());
        assert_eq!(all(&kv, "alice").unwrap().len(), 2);
        assert!(all(&kv, "bob").unwrap().is_empty());
    }

    #[test]
    fn a_lost_race_for_the_shard_is_retried() {
        let kv = MemoryKv::new();
        put(&kv, "u", task("a"));
        // Another writer changes the same shard between read and commit.
        let key = shard_key("u", shard_of("a"));
        kv.before_next_transact(move |kv| {
            let (bytes, etag) = kv.get(&key).unwrap().unwrap();
            kv.set(&key, &bytes, SetOptions::if_match(etag)).unwrap();
        });
        let mut attempts = 0;
        retrying(|| {
            attempts += 1;
            attempt(&kv, "u", "a", |t| {
                let mut t = t.unwrap().clone();
                t.version += 1;
                upsert(t)
            })
        })
        .unwrap()
        .unwrap();
        assert_eq!(attempts, 2);
        assert_eq!(get(&kv, "u", "a").unwrap().unwrap().version, 2);
    }

    /// Ids that land in shard `shard`, as many as asked.
    fn ids_in(shard: u32, n: usize) -> Vec<String> {
        (0..)
            .map(|i| format!("id-{i}"))
            .filter(|id| shard_of(id) == shard)
            .take(n)
            .collect()
    }

    #[test]
    fn a_full_shard_takes_no_new_task_but_keeps_its_own() {
        let kv = MemoryKv::new();
        let ids = ids_in(5, SHARD_TASK_LIMIT + 1);
        let (last, held) = ids.split_last().unwrap();
        for id in held {
            put(&kv, "u", task(id));
        }
        let refused = attempt(&kv, "u", last, |_| upsert(task(last)));
        assert!(matches!(refused, Err(StoreError::Full)), "{refused:?}");
        assert!(get(&kv, "u", last).unwrap().is_none());
        // Its tasks can still change, other shards still take new ones,
        // and deleting one makes room.
        put(&kv, "u", task(&held[0]));
        put(&kv, "u", task(&ids_in(6, 1)[0]));
        attempt(&kv, "u", &held[1], |_| {
            Ok::<_, ()>(Change::Commit {
                task: None,
                events: vec![],
                extra: vec![],
                reply: (),
            })
        })
        .unwrap()
        .unwrap();
        put(&kv, "u", task(last));
        assert_eq!(all(&kv, "u").unwrap().len(), SHARD_TASK_LIMIT + 1);
    }

    #[test]
    fn corrupt_shard_is_reported_not_overwritten() {
        let kv = MemoryKv::new();
        let key = shard_key("u", shard_of("x"));
        kv.set(&key, b"not json", SetOptions::default()).unwrap();
        assert!(matches!(all(&kv, "u"), Err(StoreError::Corrupt { .. })));
        let result = retrying(|| attempt::<_, ()>(&kv, "u", "x", |_| Ok(Change::Done(()))));
        assert!(matches!(result, Err(StoreError::Corrupt { .. })));
        assert_eq!(kv.get(&key).unwrap().unwrap().0, b"not json");
    }
}
