//! The per-user feed: every event a user's clients receive, at dense
//! positions 1, 2, 3, ... The position is the cursor; it is the same on
//! every replica because it is claimed in the shared state store.
//!
//! Keys (per user `u`):
//! - `feed:<u>:<n>` = the slot at position n: the event, or a skip
//!   (a slot claimed twice for one event, see below); TTL 30 days, and the
//!   slot [`WINDOW`] positions back is deleted when a new one is claimed.
//! - `feed:<u>:seen:<event id>` = the position an event holds, so a
//!   redelivery, or the replica that did not log it, finds it.
//! - `feed:<u>:head` = a hint of the last position, written every
//!   [`HEAD_EVERY`] positions (with the trimming): the truth is the last
//!   slot present, which slots being dense a forward scan finds in one
//!   bulk read. Appending costs two single-key writes.
//!
//! Appending claims the next free slot with a create-only write of that
//! one key, then records the event's position with a create-only write
//! too. Only single-key conditions are used: the Redis state store does
//! not roll back a multi-key transaction whose condition fails. Replicas
//! racing for one event end on one position: the loser of a slot moves
//! on, and the loser of the position record turns its slot into a skip.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_domain::{KeyValue, KvError, Op, Precondition, SetOptions};

/// Events kept per user for replay; older ones answer `resync`.
pub const WINDOW: u64 = 10_000;
/// And kept no longer than this (an idle user's feed goes away).
pub const TTL_SECONDS: u32 = 30 * 24 * 60 * 60;
/// Slots read per bulk get when scanning or replaying.
const CHUNK: u64 = 128;
/// The head hint is written (and the window trimmed) every this many
/// positions.
pub const HEAD_EVERY: u64 = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Slot {
    id: String,
    /// `None`: a skip (position claimed twice for one event).
    event: Option<Value>,
}

fn slot_key(user: &str, seq: u64) -> String {
    format!("feed:{user}:{seq}")
}

fn head_key(user: &str) -> String {
    format!("feed:{user}:head")
}

fn seen_key(user: &str, id: &str) -> String {
    format!("feed:{user}:seen:{id}")
}

fn kept(precondition: Option<Precondition>) -> SetOptions {
    SetOptions {
        precondition,
        ttl_seconds: Some(TTL_SECONDS),
    }
}

fn number(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

fn slot(bytes: &[u8]) -> Result<Slot, KvError> {
    serde_json::from_slice(bytes).map_err(|e| KvError::Invalid(format!("feed slot: {e}")))
}

/// Where an event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// A position this call claimed and then gave up (now a skip): pushed
    /// as empty so clients' streams move past it.
    pub skipped: Option<u64>,
}

/// Logs `event` (id `id`) in `user`'s feed, or finds where it already is.
pub fn append(
    kv: &impl KeyValue,
    user: &str,
    id: &str,
    event: &Value,
) -> Result<Appended, KvError> {
    let [seen, head] = <[_; 2]>::try_from(kv.get_bulk(&[seen_key(user, id), head_key(user)])?)
        .map_err(|_| KvError::Invalid("bulk get answered the wrong count".into()))?;
    if let Some(seq) = seen.and_then(|(v, _)| number(&v)) {
        return Ok(Appended { seq, skipped: None });
    }
    let hint = head.and_then(|(v, _)| number(&v)).unwrap_or(0);
    // Another replica may have logged it past the hint and not yet
    // recorded its position.
    let (last, found) = scan(kv, user, hint, HEAD_EVERY + 8, Some(id))?;
    if let Some(seq) = found {
        return Ok(Appended { seq, skipped: None });
    }
    let mut seq = last + 1;
    let claimed = Slot {
        id: id.to_owned(),
        event: Some(event.clone()),
    };
    let bytes = serde_json::to_vec(&claimed).expect("slots serialize");
    loop {
        match kv.set(
            &slot_key(user, seq),
            &bytes,
            kept(Some(Precondition::Absent)),
        ) {
            Ok(()) => break,
            Err(KvError::Conflict(_)) => {
                if let Some((v, _)) = kv.get(&slot_key(user, seq))?
                    && slot(&v)? == claimed
                {
                    // Another replica logged it here first.
                    return Ok(Appended { seq, skipped: None });
                }
                seq += 1;
            }
            Err(e) => return Err(e),
        }
    }
    let skipped = match kv.set(
        &seen_key(user, id),
        seq.to_string().as_bytes(),
        kept(Some(Precondition::Absent)),
    ) {
        Ok(()) => None,
        Err(KvError::Conflict(_)) => Some(seq),
        Err(e) => return Err(e),
    };
    if let Some(lost) = skipped {
        let owner = kv
            .get(&seen_key(user, id))?
            .and_then(|(v, _)| number(&v))
            .ok_or_else(|| KvError::Unavailable("event position vanished".into()))?;
        let skip = Slot {
            id: id.to_owned(),
            event: None,
        };
        let skip = serde_json::to_vec(&skip).expect("slots serialize");
        kv.set(&slot_key(user, lost), &skip, kept(None))?;
        return Ok(Appended {
            seq: owner,
            skipped: Some(lost),
        });
    }
    if seq % HEAD_EVERY == 0 {
        let mut ops = vec![Op::set(head_key(user), seq.to_string(), None)];
        let trimmed = seq.saturating_sub(WINDOW);
        for old in trimmed.saturating_sub(HEAD_EVERY - 1).max(1)..=trimmed {
            ops.push(Op::delete(slot_key(user, old), None));
        }
        // Only a hint (the last slot present is the truth): if the store
        // fails it now, the old hint stands, these slots wait for their
        // TTL, and the event still goes out. Failing the delivery here
        // would hold this position back (a gap every client waits on)
        // while the redelivery is in flight.
        let _ = kv.transact(ops, Vec::new());
    }
    Ok(Appended { seq, skipped: None })
}

/// The last slot present from `hint` on, reading `chunk` slots at a time,
/// and where event `id` is if one of those slots holds it.
fn scan(
    kv: &impl KeyValue,
    user: &str,
    hint: u64,
    chunk: u64,
    id: Option<&str>,
) -> Result<(u64, Option<u64>), KvError> {
    let mut last = hint;
    let mut found = None;
    loop {
        let keys: Vec<String> = (last + 1..=last + chunk)
            .map(|n| slot_key(user, n))
            .collect();
        let mut present = 0;
        for value in kv.get_bulk(&keys)? {
            let Some((bytes, _)) = value else { break };
            present += 1;
            if let Some(id) = id {
                let s = slot(&bytes)?;
                if s.id == id && s.event.is_some() {
                    found = Some(last + present);
                }
            }
        }
        last += present;
        if present < chunk {
            return Ok((last, found));
        }
    }
}

/// The last position of `user`'s feed (0 when empty).
pub fn head(kv: &impl KeyValue, user: &str) -> Result<u64, KvError> {
    let hint = kv
        .get(&head_key(user))?
        .and_then(|(v, _)| number(&v))
        .unwrap_or(0);
    Ok(scan(kv, user, hint, CHUNK, None)?.0)
}

/// What a client resuming after a cursor gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    /// Everything after the cursor, in order (`None`: a skip).
    Events(Vec<(u64, Option<Value>)>),
    /// The cursor is outside the feed (too old, or not one of ours): the
    /// client reloads, and the stream goes on after `head`.
    Resync { head: u64 },
}

/// The events of `user`'s feed after `cursor`.
pub fn after(kv: &impl KeyValue, user: &str, cursor: u64) -> Result<Replay, KvError> {
    let mut out = Vec::new();
    let mut next = cursor + 1;
    loop {
        let keys: Vec<String> = (next..next + CHUNK).map(|n| slot_key(user, n)).collect();
        let slots = kv.get_bulk(&keys)?;
        let mut ended = false;
        for (i, s) in slots.into_iter().enumerate() {
            match s {
                Some((v, _)) => out.push((next + i as u64, slot(&v)?.event)),
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            break;
        }
        next += CHUNK;
    }
    if out.is_empty() {
        // Nothing after the cursor: fine if the cursor is the last
        // position; not if it was trimmed away or never existed.
        let current = head(kv, user)?;
        let known =
            cursor == current && (cursor == 0 || kv.get(&slot_key(user, cursor))?.is_some());
        if !known {
            return Ok(Replay::Resync { head: current });
        }
    }
    Ok(Replay::Events(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use todo_domain::MemoryKv;

    fn ev(n: u32) -> Value {
        json!({"id": format!("e{n}"), "n": n})
    }

    fn events(r: Replay) -> Vec<u64> {
        match r {
            Replay::Events(v) => v.into_iter().map(|(s, _)| s).collect(),
            other => panic!("expected events, got {other:?}"),
        }
    }

    #[test]
    fn positions_are_dense_and_an_event_keeps_its_position() {
        let kv = MemoryKv::new();
        for n in 1..=3 {
            let a = append(&kv, "u", &format!("e{n}"), &ev(n)).unwrap();
            assert_eq!(
                a,
                Appended {
                    seq: u64::from(n),
                    skipped: None
                }
            );
        }
        // Redelivered: the same position, nothing new.
        assert_eq!(append(&kv, "u", "e2", &ev(2)).unwrap().seq, 2);
        assert_eq!(head(&kv, "u").unwrap(), 3);
        assert_eq!(events(after(&kv, "u", 1).unwrap()), [2, 3]);
        assert_eq!(events(after(&kv, "u", 3).unwrap()), Vec::<u64>::new());
        // Another user's feed is separate.
        assert_eq!(append(&kv, "v", "e1", &ev(1)).unwrap().seq, 1);
    }

    #[test]
    fn a_stale_head_hint_is_walked_past() {
        let kv = MemoryKv::new();
        for n in 1..=5 {
            append(&kv, "u", &format!("e{n}"), &ev(n)).unwrap();
        }
        kv.set("feed:u:head", b"2", SetOptions::default()).unwrap();
        assert_eq!(head(&kv, "u").unwrap(), 5);
        assert_eq!(append(&kv, "u", "e6", &ev(6)).unwrap().seq, 6);
    }

    fn put(kv: &MemoryKv, key: &str, slot: &Slot) {
        kv.set(
            key,
            &serde_json::to_vec(slot).unwrap(),
            SetOptions::default(),
        )
        .unwrap();
    }

    #[test]
    fn an_event_another_replica_logged_is_found_not_logged_again() {
        let kv = MemoryKv::new();
        append(&kv, "u", "e1", &ev(1)).unwrap();
        // The other replica claimed 2 for e2 and has recorded nothing else
        // yet (no position record, no head).
        put(
            &kv,
            "feed:u:2",
            &Slot {
                id: "e2".into(),
                event: Some(ev(2)),
            },
        );
        assert_eq!(
            append(&kv, "u", "e2", &ev(2)).unwrap(),
            Appended {
                seq: 2,
                skipped: None
            }
        );
        assert_eq!(append(&kv, "u", "e3", &ev(3)).unwrap().seq, 3);
    }

    #[test]
    fn skips_replay_as_empty_positions() {
        let kv = MemoryKv::new();
        append(&kv, "u", "e1", &ev(1)).unwrap();
        put(
            &kv,
            "feed:u:2",
            &Slot {
                id: "e1".into(),
                event: None,
            },
        );
        append(&kv, "u", "e3", &ev(3)).unwrap();
        match after(&kv, "u", 0).unwrap() {
            Replay::Events(v) => {
                let shape: Vec<(u64, bool)> = v.iter().map(|(s, e)| (*s, e.is_some())).collect();
                assert_eq!(shape, [(1, true), (2, false), (3, true)]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cursors_outside_the_feed_resync() {
        let kv = MemoryKv::new();
        assert_eq!(events(after(&kv, "u", 0).unwrap()), Vec::<u64>::new());
        for n in 1..=3 {
            append(&kv, "u", &format!("e{n}"), &ev(n)).unwrap();
        }
        assert_eq!(events(after(&kv, "u", 0).unwrap()), [1, 2, 3]);
        // A cursor from the future (another deployment, a reset store).
        assert_eq!(after(&kv, "u", 9).unwrap(), Replay::Resync { head: 3 });
        // Trimmed: position 1 and 2 gone (trimming writes the head hint).
        kv.set("feed:u:head", b"3", SetOptions::default()).unwrap();
        kv.delete("feed:u:1", None).unwrap();
        kv.delete("feed:u:2", None).unwrap();
        assert_eq!(events(after(&kv, "u", 2).unwrap()), [3]);
        assert_eq!(after(&kv, "u", 0).unwrap(), Replay::Resync { head: 3 });
    }

    #[test]
    fn the_window_keeps_the_last_events() {
        let kv = MemoryKv::new();
        // A full window, written directly (appending 10,000 one by one
        // is slow in a debug build and proves nothing more).
        for n in 1..=WINDOW {
            let slot = Slot {
                id: format!("e{n}"),
                event: Some(json!(n)),
            };
            kv.set(
                &slot_key("u", n),
                &serde_json::to_vec(&slot).unwrap(),
                SetOptions::default(),
            )
            .unwrap();
        }
        kv.set(
            &head_key("u"),
            WINDOW.to_string().as_bytes(),
            SetOptions::default(),
        )
        .unwrap();
        // Up to the second multiple of HEAD_EVERY past the window.
        let last = (WINDOW / HEAD_EVERY + 2) * HEAD_EVERY;
        for n in WINDOW + 1..=last {
            append(&kv, "u", &format!("x{n}"), &ev(n as u32)).unwrap();
        }
        let trimmed = last - WINDOW;
        for n in 1..=trimmed {
            assert!(kv.get(&slot_key("u", n)).unwrap().is_none(), "{n}");
        }
        assert!(kv.get(&slot_key("u", trimmed + 1)).unwrap().is_some());
        assert_eq!(
            kv.get(&head_key("u")).unwrap().unwrap().0,
            last.to_string().as_bytes()
        );
        assert_eq!(
            after(&kv, "u", trimmed - 1).unwrap(),
            Replay::Resync { head: last }
        );
        assert_eq!(
            events(after(&kv, "u", trimmed).unwrap()).len(),
            WINDOW as usize
        );
    }

    #[test]
    fn a_failed_head_hint_does_not_fail_the_append() {
        let kv = MemoryKv::new();
        for n in 1..HEAD_EVERY {
            append(&kv, "u", &format!("e{n}"), &ev(n as u32)).unwrap();
        }
        // The store fails the hint's write (a timeout, say).
        kv.before_next_transact(|kv| kv.fail_next(KvError::Unavailable("timeout".into())));
        let at = append(&kv, "u", "hinted", &ev(0)).unwrap();
        assert_eq!(at.seq, HEAD_EVERY, "the event is logged and goes out");
        assert!(kv.get(&head_key("u")).unwrap().is_none(), "no hint written");
        // The next append finds the truth past the stale hint.
        let next = append(&kv, "u", "after", &ev(1)).unwrap();
        assert_eq!(next.seq, HEAD_EVERY + 1);
        // A redelivery of the hinted event finds its position.
        assert_eq!(append(&kv, "u", "hinted", &ev(0)).unwrap().seq, HEAD_EVERY);
    }
}
