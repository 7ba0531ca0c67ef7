//! Appending a delivered event to the chain, exactly once per event id.

use todo_domain::event::now_rfc3339;
use todo_domain::kv::retry_on_conflict;
use todo_domain::{CloudEvent, HandlerError, KeyValue, KvError, Op, Precondition, Secrets};

use crate::chain::Entry;
use crate::keys::ChainKey;
use crate::store::{Chain, SYSTEM_CHAIN, id_key, read_head, read_task_index};

/// Appends tried in-process before handing the event back for redelivery:
/// concurrent handlers usually clear within a couple of attempts, and a
/// redelivery costs a broker round trip plus backoff.
pub const APPEND_ATTEMPTS: u32 = 3;

/// What happened to a delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Appended as entry `seq`.
    Appended(u64),
    /// Already recorded as entry `seq`; nothing changed.
    Duplicate(u64),
}

/// Records `event` received on `topic`.
///
/// A malformed event is dropped (redelivery cannot fix it). Otherwise the
/// entry, its dedupe key and the new head are written in one transaction
/// guarded by the head as read (its ETag, or its absence before the first
/// append) and by the dedupe key's absence. So two handlers racing for the
/// same sequence number cannot fork the chain, and two deliveries of one
/// event cannot both append it: the loser re-reads and tries again (finding
/// the new head, or the event already recorded), and after
/// `APPEND_ATTEMPTS` asks for redelivery.
///
/// The entry is keyed with the current audit chain key, read from
/// `secrets` for each event (a rotation applies at once). Without a usable
/// key nothing is written and the event waits for redelivery: an unkeyed
/// entry would be one anybody could forge.
pub fn record(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    topic: &str,
    event: &CloudEvent,
) -> Result<Recorded, HandlerError> {
    if topic.is_empty() {
        return Err(HandlerError::Drop("empty topic".to_owned()));
    }
    event
        .validate()
        .map_err(|e| HandlerError::Drop(format!("malformed event: {e}")))?;
    let event_json = event
        .to_json_value()
        .map_err(|e| HandlerError::Drop(format!("unserializable event: {e}")))?;
    let chain = chain_of(event)?;
    let key = &ChainKey::current(secrets).map_err(|e| HandlerError::Retry(e.to_string()))?;
    let received_at = now_rfc3339();

    let outcome = retry_on_conflict(APPEND_ATTEMPTS, || {
        if let Some(seq) = recorded_seq(kv, &event.id)? {
            return Ok(Recorded::Duplicate(seq));
        }
        let (head, head_etag) = read_head(kv, chain)?;
        let entry = Entry::next(&head, topic, event_json.clone(), received_at.clone(), key);
        let seq = entry.seq;
        let mut ops = vec![
            Op::set(chain.entry_key(seq), to_json(&entry), None),
            Op::set(id_key(&event.id), to_json(&seq), Some(Precondition::Absent)),
            Op::set(
                chain.head_key(),
                to_json(&entry.as_head()),
                Some(Precondition::unchanged(head_etag)),
            ),
        ];
        // The head's guard serializes this user's appends, so the task
        // index read above is still current when the transaction commits.
        if let Some(task) = event.subject.as_deref() {
            let mut seqs = read_task_index(kv, chain, task)?;
            seqs.push(seq);
            ops.push(Op::set(chain.task_key(task), to_json(&seqs), None));
        }
        kv.transact(ops, Vec::new())?;
        Ok(Recorded::Appended(seq))
    });
    outcome.map_err(|e| match e {
        KvError::Conflict(m) => HandlerError::Retry(format!("audit chain contended: {m}")),
        other => HandlerError::Retry(format!("state unavailable: {other}")),
    })
}

/// The chain an event belongs to: its user's. User ids end up in keys, so
/// one outside a safe alphabet is refused rather than stored.
fn chain_of(event: &CloudEvent) -> Result<Chain<'_>, HandlerError> {
    match event.user_id() {
        None => Ok(Chain(SYSTEM_CHAIN)),
        Some(user)
            if !user.is_empty()
                && user.len() <= 128
                && user
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'@')) =>
        {
            Ok(Chain(user))
        }
        Some(_) => Err(HandlerError::Drop(
            "userid is not a valid user id".to_owned(),
        )),
    }
}

fn recorded_seq(kv: &impl KeyValue, event_id: &str) -> Result<Option<u64>, KvError> {
    match kv.get(&id_key(event_id))? {
        None => Ok(None),
        Some((bytes, _)) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| KvError::Invalid(format!("dedupe key unreadable: {e}"))),
    }
}

fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("audit records always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{GENESIS_HASH, Head};
    use crate::keys::test_secrets;
    use crate::store::read_entries;
    use todo_domain::EventOrigin;
    use todo_domain::topics::{TASK_EVENTS, event_type};
    use todo_domain::{MemoryKv, SetOptions};

    fn event(subject: &str) -> CloudEvent {
        EventOrigin::new("chat-api", "u", "c")
            .event(event_type::TASK_CREATED)
            .subject(subject)
            .data(&serde_json::json!({"id": subject}))
            .unwrap()
            .build()
    }

    fn head(kv: &MemoryKv) -> Head {
        read_head(kv, Chain("u")).unwrap().0
    }

    #[test]
    fn appends_the_full_event_and_moves_the_head() {
        let kv = MemoryKv::new();
        let e = event("t1");
        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &e),
            Ok(Recorded::Appended(1))
        );

        let (_, entry) = read_entries(&kv, Chain("u"), 1, 1).unwrap().remove(0);
        let entry = entry.unwrap().unwrap();
        assert_eq!(entry.topic, TASK_EVENTS);
        assert_eq!(entry.prev_hash, GENESIS_HASH);
        assert_eq!(entry.event, e.to_json_value().unwrap());
        assert_eq!(entry.event["specversion"], "1.0");
        assert_eq!(head(&kv), entry.as_head());
        assert_eq!(kv.get(&id_key(&e.id)).unwrap().unwrap().0, b"1");
        assert!(kv.published().is_empty(), "audit publishes nothing");
    }

    #[test]
    fn redelivery_of_the_same_id_has_no_effect() {
        let kv = MemoryKv::new();
        let e = event("t1");
        record(&kv, &test_secrets(), TASK_EVENTS, &e).unwrap();
        record(&kv, &test_secrets(), TASK_EVENTS, &event("t2")).unwrap();
        let before = head(&kv);
        let writes = kv.transactions();

        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &e),
            Ok(Recorded::Duplicate(1))
        );
        assert_eq!(head(&kv), before);
        assert_eq!(kv.transactions(), writes);
        assert_eq!(kv.keys_with_prefix("audit:u:entry:").len(), 2);
    }

    #[test]
    fn malformed_events_are_dropped_without_writes() {
        let kv = MemoryKv::new();
        let mut e = event("t1");
        e.id.clear();
        assert!(matches!(
            record(&kv, &test_secrets(), TASK_EVENTS, &e),
            Err(HandlerError::Drop(m)) if m.contains("id")
        ));
        assert!(matches!(
            record(&kv, &test_secrets(), "", &event("t2")),
            Err(HandlerError::Drop(_))
        ));
        assert!(kv.keys_with_prefix("").is_empty());
    }

    #[test]
    fn a_concurrent_append_is_retried_without_forking() {
        let kv = MemoryKv::new();
        record(&kv, &test_secrets(), TASK_EVENTS, &event("first")).unwrap();
        // Another handler appends between our head read and our commit.
        kv.before_next_transact(|kv| {
            assert_eq!(
                record(kv, &test_secrets(), TASK_EVENTS, &event("racer")),
                Ok(Recorded::Appended(2))
            );
        });
        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &event("ours")),
            Ok(Recorded::Appended(3))
        );
        assert_eq!(subjects(&kv, 3), ["first", "racer", "ours"]);
    }

    fn subjects(kv: &MemoryKv, to: u64) -> Vec<String> {
        read_entries(kv, Chain("u"), 1, to)
            .unwrap()
            .into_iter()
            .map(|(_, e)| {
                e.unwrap().unwrap().event["subject"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn concurrent_first_appends_cannot_both_become_seq_1() {
        let kv = MemoryKv::new();
        // Another handler makes the very first append between our read of
        // the (missing) head and our commit.
        kv.before_next_transact(|kv| {
            assert_eq!(
                record(kv, &test_secrets(), TASK_EVENTS, &event("racer")),
                Ok(Recorded::Appended(1))
            );
        });
        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &event("ours")),
            Ok(Recorded::Appended(2))
        );
        assert_eq!(subjects(&kv, 2), ["racer", "ours"]);
        assert_eq!(head(&kv).seq, 2);
        assert_eq!(kv.transactions(), 2);
        assert!(
            crate::verify::verify(
                &kv,
                Chain("u"),
                crate::keys::Keyring::load(&test_secrets()).unwrap(),
                true
            )
            .unwrap()
            .ok
        );
    }

    #[test]
    fn a_racing_duplicate_delivery_is_recorded_once() {
        let kv = MemoryKv::new();
        record(&kv, &test_secrets(), TASK_EVENTS, &event("first")).unwrap();
        let e = event("twice");
        // The same event, delivered twice at once: the other delivery
        // commits between our dedupe check and our commit.
        let other = e.clone();
        kv.before_next_transact(move |kv| {
            assert_eq!(
                record(kv, &test_secrets(), TASK_EVENTS, &other),
                Ok(Recorded::Appended(2))
            );
        });
        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &e),
            Ok(Recorded::Duplicate(2))
        );
        assert_eq!(head(&kv).seq, 2);
        assert_eq!(kv.keys_with_prefix("audit:u:entry:").len(), 2);
    }

    #[test]
    fn the_dedupe_key_alone_stops_a_second_append() {
        let kv = MemoryKv::new();
        record(&kv, &test_secrets(), TASK_EVENTS, &event("first")).unwrap();
        let e = event("twice");
        // Only the dedupe key appears concurrently (the head is untouched),
        // so nothing but its absence precondition can catch the duplicate.
        let key = id_key(&e.id);
        kv.before_next_transact(move |kv| {
            kv.set(&key, b"1", SetOptions::default()).unwrap();
        });
        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &e),
            Ok(Recorded::Duplicate(1))
        );
        assert_eq!(head(&kv).seq, 1);
        assert_eq!(kv.keys_with_prefix("audit:u:entry:").len(), 1);
    }

    #[test]
    fn persistent_contention_asks_for_redelivery() {
        let kv = MemoryKv::new();
        record(&kv, &test_secrets(), TASK_EVENTS, &event("first")).unwrap();
        for _ in 0..APPEND_ATTEMPTS {
            // Rewriting the head changes its ETag, as a racing append would.
            kv.before_next_transact(|kv| {
                let (bytes, _) = kv.get(&Chain("u").head_key()).unwrap().unwrap();
                kv.set(&Chain("u").head_key(), &bytes, SetOptions::default())
                    .unwrap();
            });
        }
        let ours = event("ours");
        assert!(matches!(
            record(&kv, &test_secrets(), TASK_EVENTS, &ours),
            Err(HandlerError::Retry(_))
        ));
        assert!(kv.get(&id_key(&ours.id)).unwrap().is_none());
        // The redelivery then succeeds.
        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &ours),
            Ok(Recorded::Appended(2))
        );
    }

    #[test]
    fn without_a_chain_key_nothing_is_written_and_the_event_waits() {
        let kv = MemoryKv::new();
        let e = event("t");
        let outcome = record(&kv, &todo_domain::StaticSecrets::default(), TASK_EVENTS, &e);
        assert!(
            matches!(&outcome, Err(HandlerError::Retry(m)) if m.contains("audit-chain-key")),
            "{outcome:?}"
        );
        assert!(kv.keys_with_prefix("").is_empty());
        // Once the key is configured, the redelivery is recorded.
        assert_eq!(
            record(&kv, &test_secrets(), TASK_EVENTS, &e),
            Ok(Recorded::Appended(1))
        );
    }

    #[test]
    fn backend_outage_asks_for_redelivery() {
        let kv = MemoryKv::new();
        kv.fail_next(KvError::Unavailable("down".into()));
        assert!(matches!(
            record(&kv, &test_secrets(), TASK_EVENTS, &event("t")),
            Err(HandlerError::Retry(m)) if m.contains("down")
        ));
    }
}
