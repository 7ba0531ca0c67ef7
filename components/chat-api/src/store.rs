//! Task persistence. A write and the event it implies go through one
//! `transact` (the outbox), so a crash can never keep one without the other.
//!
//! Layout: `task:<id>` holds the task JSON (created only if absent);
//! `tasks:index:<user>` holds the user's task ids (JSON array, creation
//! order), guarded by its ETag, or by its absence when the first task of
//! the user creates it.

use todo_domain::event::now_rfc3339;
use todo_domain::kv::retry_on_conflict;
use todo_domain::topics::{TASK_EVENTS, event_type};
use todo_domain::{EventError, EventOrigin, KeyValue, KvError, Op, OutboxEvent, Precondition};
use uuid::Uuid;

use crate::tasks::{NewTask, Task};

/// Attempts of the index read-modify-write before giving up on contention.
pub const WRITE_ATTEMPTS: u32 = 10;
/// Keys per `get-bulk` call when listing.
const BULK_CHUNK: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Kv(#[from] KvError),
    /// A stored document did not parse: a bug or a manual edit.
    #[error("stored value under `{key}` is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("could not build the event: {0}")]
    Event(#[from] EventError),
}

pub fn task_key(id: &str) -> String {
    format!("task:{id}")
}

pub fn index_key(user_id: &str) -> String {
    format!("tasks:index:{user_id}")
}

/// Creates a task for `origin.user_id`: task, index entry and
/// `task.created` event in one transaction, retried if another writer
/// updated (or created) the index first.
pub fn create(kv: &impl KeyValue, origin: &EventOrigin, new: NewTask) -> Result<Task, StoreError> {
    let now = now_rfc3339();
    let task = Task {
        id: Uuid::now_v7().to_string(),
        title: new.title,
        description: new.description,
        priority: new.priority,
        completed: false,
        created_at: now.clone(),
        updated_at: now,
        user_id: origin.user_id.clone(),
    };
    let task_json = serde_json::to_vec(&task).expect("a task always serializes");
    // Built once: a retried transaction publishes the same event id, so a
    // consumer can never see two "created" events for one task.
    let event = origin
        .event(event_type::TASK_CREATED)
        .subject(&task.id)
        .data(&task)?
        .build();
    let index_key = index_key(&task.user_id);

    retry_on_conflict(WRITE_ATTEMPTS, || {
        let (mut ids, etag) = read_index(kv, &index_key).map_err(|e| match e {
            StoreError::Kv(kv) => kv,
            // A corrupt index must not be overwritten; surface as invalid.
            other => KvError::Invalid(other.to_string()),
        })?;
        ids.push(task.id.clone());
        let index_json = serde_json::to_vec(&ids).expect("ids always serialize");
        kv.transact(
            vec![
                Op::set(
                    task_key(&task.id),
                    task_json.clone(),
                    Some(Precondition::Absent),
                ),
                Op::set(
                    index_key.clone(),
                    index_json,
                    Some(Precondition::unchanged(etag)),
                ),
            ],
            vec![OutboxEvent {
                topic: TASK_EVENTS.to_owned(),
                event: event.clone(),
            }],
        )
    })?;
    Ok(task)
}

/// The task `id` if it exists and belongs to `user_id`. Someone else's task
/// is reported as absent, not forbidden, so ids cannot be probed.
pub fn get(kv: &impl KeyValue, user_id: &str, id: &str) -> Result<Option<Task>, StoreError> {
    let key = task_key(id);
    let Some((bytes, _)) = kv.get(&key)? else {
        return Ok(None);
    };
    let task = parse_task(&key, &bytes)?;
    Ok((task.user_id == user_id).then_some(task))
}

/// Every task of `user_id`, oldest first.
pub fn list(kv: &impl KeyValue, user_id: &str) -> Result<Vec<Task>, StoreError> {
    let (ids, _) = read_index(kv, &index_key(user_id))?;
    let mut tasks = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BULK_CHUNK) {
        let keys: Vec<String> = chunk.iter().map(|id| task_key(id)).collect();
        for (key, item) in keys.iter().zip(kv.get_bulk(&keys)?) {
            // An id without a task is skipped: the index is only a hint of
            // what to load, the task key is the truth.
            if let Some((bytes, _)) = item {
                let task = parse_task(key, &bytes)?;
                if task.user_id == user_id {
                    tasks.push(task);
                }
            }
        }
    }
    Ok(tasks)
}

fn read_index(kv: &impl KeyValue, key: &str) -> Result<(Vec<String>, Option<String>), StoreError> {
    match kv.get(key)? {
        None => Ok((Vec::new(), None)),
        Some((bytes, etag)) => {
            let ids = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
            Ok((ids, Some(etag)))
        }
    }
}

fn parse_task(key: &str, bytes: &[u8]) -> Result<Task, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::Priority;
    use todo_domain::{MemoryKv, SetOptions};

    fn origin(user: &str) -> EventOrigin {
        EventOrigin::new(crate::SOURCE, user, "corr-1")
    }

    fn new_task(title: &str) -> NewTask {
        NewTask {
            title: title.into(),
            description: Some("d".into()),
            priority: Priority::High,
        }
    }

    #[test]
    fn create_writes_task_index_and_event_in_one_transaction() {
        let kv = MemoryKv::new();
        let task = create(&kv, &origin("alice"), new_task("milk")).unwrap();

        assert_eq!(kv.transactions(), 1);
        let stored: Task =
            serde_json::from_slice(&kv.get(&task_key(&task.id)).unwrap().unwrap().0).unwrap();
        assert_eq!(stored, task);
        let index: Vec<String> =
            serde_json::from_slice(&kv.get("tasks:index:alice").unwrap().unwrap().0).unwrap();
        assert_eq!(index, vec![task.id.clone()]);

        let published = kv.published();
        assert_eq!(published.len(), 1);
        let OutboxEvent { topic, event } = &published[0];
        assert_eq!(topic, "task-events");
        assert_eq!(event.ty, "com.todo.task.created.v1");
        assert_eq!(event.source, "chat-api");
        assert_eq!(event.subject.as_deref(), Some(task.id.as_str()));
        assert_eq!(event.user_id(), Some("alice"));
        assert_eq!(event.correlation_id(), Some("corr-1"));
        assert_eq!(event.data_as::<Task>().unwrap(), task);
        event.validate().unwrap();
    }

    #[test]
    fn concurrent_index_update_is_retried_not_lost() {
        let kv = MemoryKv::new();
        let first = create(&kv, &origin("u"), new_task("first")).unwrap();
        // Another instance appends to the index between our read and commit.
        kv.before_next_transact(|kv| {
            let (bytes, etag) = kv.get("tasks:index:u").unwrap().unwrap();
            let mut ids: Vec<String> = serde_json::from_slice(&bytes).unwrap();
            ids.push("other".into());
            let bytes = serde_json::to_vec(&ids).unwrap();
            kv.set("tasks:index:u", &bytes, SetOptions::if_match(etag))
                .unwrap();
        });
        let second = create(&kv, &origin("u"), new_task("second")).unwrap();

        let index: Vec<String> =
            serde_json::from_slice(&kv.get("tasks:index:u").unwrap().unwrap().0).unwrap();
        assert_eq!(index, vec![first.id, "other".into(), second.id]);
        // One event per committed create, none for the failed attempt.
        assert_eq!(kv.published().len(), 2);
    }

    #[test]
    fn concurrent_first_creates_both_land_in_the_index() {
        let kv = MemoryKv::new();
        // Another instance creates the user's first task (and so the index)
        // between our read of the missing index and our commit.
        kv.before_next_transact(|kv| {
            create(kv, &origin("u"), new_task("racer")).unwrap();
        });
        let ours = create(&kv, &origin("u"), new_task("ours")).unwrap();

        let titles: Vec<String> = list(&kv, "u")
            .unwrap()
            .into_iter()
            .map(|t| t.title)
            .collect();
        assert_eq!(titles, ["racer", "ours"]);
        let index: Vec<String> =
            serde_json::from_slice(&kv.get("tasks:index:u").unwrap().unwrap().0).unwrap();
        assert_eq!(index.len(), 2);
        assert_eq!(index[1], ours.id);
        assert_eq!(kv.published().len(), 2);
    }

    #[test]
    fn persistent_contention_gives_up_without_publishing() {
        let kv = MemoryKv::new();
        kv.fail_next(KvError::Unavailable("down".into()));
        // Unavailable is not retried: one failure ends the attempt.
        let err = create(&kv, &origin("u"), new_task("t")).unwrap_err();
        assert!(matches!(err, StoreError::Kv(KvError::Unavailable(_))));

        // From a missing index: its absence guards the first attempt, its
        // ETag the later ones.
        let kv = MemoryKv::new();
        for _ in 0..WRITE_ATTEMPTS {
            kv.before_next_transact(|kv| {
                kv.set("tasks:index:u", b"[]", SetOptions::default())
                    .unwrap();
            });
        }
        let err = create(&kv, &origin("u"), new_task("t")).unwrap_err();
        assert!(matches!(err, StoreError::Kv(KvError::Conflict(_))));
        assert!(kv.published().is_empty());
        assert!(kv.keys_with_prefix("task:").is_empty());
        assert_eq!(kv.transactions(), 0);
        assert_eq!(kv.get("tasks:index:u").unwrap().unwrap().0, b"[]");
    }

    #[test]
    fn get_hides_other_users_tasks() {
        let kv = MemoryKv::new();
        let task = create(&kv, &origin("alice"), new_task("t")).unwrap();
        assert_eq!(get(&kv, "alice", &task.id).unwrap(), Some(task.clone()));
        assert_eq!(get(&kv, "bob", &task.id).unwrap(), None);
        assert_eq!(get(&kv, "alice", "nope").unwrap(), None);
    }

    #[test]
    fn list_returns_the_users_tasks_in_creation_order() {
        let kv = MemoryKv::new();
        let titles = ["a", "b", "c"];
        for t in titles {
            create(&kv, &origin("alice"), new_task(t)).unwrap();
        }
        create(&kv, &origin("bob"), new_task("bob's")).unwrap();
        let listed: Vec<String> = list(&kv, "alice")
            .unwrap()
            .into_iter()
            .map(|t| t.title)
            .collect();
        assert_eq!(listed, titles);
        assert_eq!(list(&kv, "carol").unwrap(), vec![]);
    }

    #[test]
    fn corrupt_index_is_reported_not_overwritten() {
        let kv = MemoryKv::new();
        kv.set("tasks:index:u", b"not json", SetOptions::default())
            .unwrap();
        assert!(matches!(list(&kv, "u"), Err(StoreError::Corrupt { .. })));
        assert!(create(&kv, &origin("u"), new_task("t")).is_err());
        assert_eq!(kv.get("tasks:index:u").unwrap().unwrap().0, b"not json");
    }
}
