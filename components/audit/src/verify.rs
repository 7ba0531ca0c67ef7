//! `GET /api/audit/verify`: recomputing the chain's links under its keys.
//!
//! A successful verification leaves a checkpoint (the head it reached,
//! MACed under the current key and bound to the chain's user), and the
//! next verification starts there: it checks the entries appended since,
//! so a long chain is not reread on every call (`full` re-checks from the
//! first entry, as does any check that finds a break, to say where the
//! chain first breaks). While the checkpoint stands, a chain cut back
//! below it is reported too: the head alone cannot show entries removed
//! from the end.

use serde::{Deserialize, Serialize};
use todo_domain::{KeyValue, KvError, SetOptions};

use crate::chain::{Break, Head, Verifier};
use crate::keys::Keyring;
use crate::store::{BULK_CHUNK, Chain, read_entries, read_head};

/// Result of `GET /api/audit/verify`.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    /// Entries in the chain (the head's seq).
    pub length: u64,
    /// Entries recomputed by this call (those after the checkpoint).
    pub checked: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The head a verification reached, authenticated.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    seq: u64,
    hash: String,
    key_id: String,
    mac: String,
}

fn checkpoint_parts<'a>(chain: Chain<'a>, seq: &'a str, hash: &'a str) -> [&'a [u8]; 6] {
    [
        b"todo audit checkpoint\0",
        chain.0.as_bytes(),
        b"\0",
        seq.as_bytes(),
        b"\0",
        hash.as_bytes(),
    ]
}

/// The checkpoint of `chain`, if there is one whose MAC holds under one of
/// `keys`. Anything else (none, unreadable, forged, or made with a key no
/// longer configured) means verifying from the first entry.
fn read_checkpoint(
    kv: &impl KeyValue,
    chain: Chain,
    keys: &Keyring,
) -> Result<Option<Head>, KvError> {
    let Some((bytes, _)) = kv.get(&chain.checkpoint_key())? else {
        return Ok(None);
    };
    let Ok(cp) = serde_json::from_slice::<Checkpoint>(&bytes) else {
        return Ok(None);
    };
    let seq = cp.seq.to_string();
    let authentic = keys
        .find(&cp.key_id)
        .is_some_and(|key| key.verifies(&checkpoint_parts(chain, &seq, &cp.hash), &cp.mac));
    Ok(authentic.then_some(Head {
        seq: cp.seq,
        hash: cp.hash,
    }))
}

fn write_checkpoint(
    kv: &impl KeyValue,
    chain: Chain,
    keys: &Keyring,
    head: &Head,
) -> Result<(), KvError> {
    let key = keys.current();
    let seq = head.seq.to_string();
    let cp = Checkpoint {
        seq: head.seq,
        hash: head.hash.clone(),
        key_id: key.id().to_owned(),
        mac: key.mac(&checkpoint_parts(chain, &seq, &head.hash)),
    };
    let bytes = serde_json::to_vec(&cp).expect("checkpoints always serialize");
    kv.set(&chain.checkpoint_key(), &bytes, SetOptions::default())
}

/// Verifies `chain` under `keys`: from its checkpoint, or from the first
/// entry when `full` (or when there is no valid checkpoint).
pub fn verify(
    kv: &impl KeyValue,
    chain: Chain,
    keys: Keyring,
    full: bool,
) -> Result<Verification, KvError> {
    let (head, _) = read_head(kv, chain)?;
    let checkpoint = if full {
        None
    } else {
        read_checkpoint(kv, chain, &keys)?
    };
    let verdict = |checked: u64, result: Result<(), Break>| match result {
        Ok(()) => Verification {
            ok: true,
            length: head.seq,
            checked,
            broken_at: None,
            reason: None,
        },
        Err(broken) => Verification {
            ok: false,
            length: head.seq,
            checked,
            broken_at: Some(broken.seq),
            reason: Some(broken.reason),
        },
    };
    if let Some(cp) = &checkpoint
        && cp.seq > head.seq
    {
        return Ok(verdict(
            0,
            Err(Break {
                seq: head.seq + 1,
                reason: format!(
                    "the chain ends at {}, but was verified up to {}: entries were removed",
                    head.seq, cp.seq
                ),
            }),
        ));
    }
    let mut verifier = match &checkpoint {
        Some(cp) => Verifier::resume(keys.clone(), cp.seq, cp.hash.clone()),
        None => Verifier::new(keys.clone()),
    };
    let start = verifier.next_seq();
    let result = loop {
        let from = verifier.next_seq();
        if from > head.seq {
            break verifier.finish(&head);
        }
        let to = head.seq.min(from + BULK_CHUNK - 1);
        let checked = read_entries(kv, chain, from, to)?
            .into_iter()
            .try_for_each(|(seq, entry)| verifier.check(seq, entry));
        if checked.is_err() {
            break checked;
        }
    };
    if result.is_err() && checkpoint.is_some() {
        // Something behind or at the checkpoint changed (the head no
        // longer leads to it) or a new entry is broken: a check from the
        // first entry says where the chain first breaks.
        return verify(kv, chain, keys, true);
    }
    let checked = verifier.next_seq() - start;
    let advanced = checkpoint.as_ref().map_or(0, |cp| cp.seq) < head.seq;
    if result.is_ok() && advanced {
        // A checkpoint that cannot be saved costs the next call a longer
        // check, nothing else: the verification itself stands.
        let _ = write_checkpoint(kv, chain, &keys, &head);
    }
    Ok(verdict(checked, result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Entry;
    use crate::ingest::record;
    use crate::keys::{CHAIN_KEY_SECRET, ChainKey, test_secrets};
    use todo_domain::topics::{TASK_EVENTS, event_type};
    use todo_domain::{EventOrigin, MemoryKv};

    fn ring() -> Keyring {
        Keyring::load(&test_secrets()).unwrap()
    }

    fn append(kv: &MemoryKv, n: usize) {
        let origin = EventOrigin::new("chat-api", "u", "c");
        for _ in 0..n {
            let event = origin.event(event_type::TASK_CREATED).subject("a").build();
            record(kv, &test_secrets(), TASK_EVENTS, &event).unwrap();
        }
    }

    fn log(n: usize) -> MemoryKv {
        let kv = MemoryKv::new();
        append(&kv, n);
        kv
    }

    fn check(kv: &MemoryKv, full: bool) -> Verification {
        verify(kv, Chain("u"), ring(), full).unwrap()
    }

    fn edit(kv: &MemoryKv, seq: u64, f: impl FnOnce(&mut Entry)) {
        let key = Chain("u").entry_key(seq);
        let (bytes, _) = kv.get(&key).unwrap().unwrap();
        let mut entry: Entry = serde_json::from_slice(&bytes).unwrap();
        f(&mut entry);
        let bytes = serde_json::to_vec(&entry).unwrap();
        kv.set(&key, &bytes, SetOptions::default()).unwrap();
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(
            check(&MemoryKv::new(), false),
            Verification {
                ok: true,
                length: 0,
                checked: 0,
                broken_at: None,
                reason: None
            }
        );
        let v = check(&log(205), false);
        assert!(v.ok, "{v:?}");
        assert_eq!((v.length, v.checked), (205, 205));
    }

    #[test]
    fn the_first_tampered_entry_is_reported() {
        let kv = log(150);
        edit(&kv, 120, |e| e.event["subject"] = "forged".into());
        let v = check(&kv, false);
        assert!(!v.ok);
        assert_eq!((v.length, v.broken_at), (150, Some(120)));
        assert!(v.reason.unwrap().contains("hash"));
    }

    #[test]
    fn deleted_and_garbled_entries_are_reported() {
        let kv = log(5);
        kv.delete(&Chain("u").entry_key(4), None).unwrap();
        kv.set(&Chain("u").entry_key(2), b"{", SetOptions::default())
            .unwrap();
        let v = check(&kv, false);
        assert_eq!(v.broken_at, Some(2));
        assert!(v.reason.unwrap().contains("unreadable"));
    }

    #[test]
    fn the_next_verification_checks_only_what_was_appended() {
        let kv = log(120);
        assert_eq!(check(&kv, false).checked, 120);
        assert_eq!(check(&kv, false).checked, 0);
        append(&kv, 7);
        let v = check(&kv, false);
        assert_eq!((v.ok, v.length, v.checked), (true, 127, 7));
        // A break in the new entries is found, and located by a check
        // from the first entry; a broken chain moves no checkpoint.
        append(&kv, 3);
        edit(&kv, 129, |e| e.topic = "forged".into());
        for _ in 0..2 {
            let v = check(&kv, false);
            assert_eq!((v.ok, v.broken_at, v.checked), (false, Some(129), 128));
        }
    }

    #[test]
    fn a_rewrite_up_to_the_head_is_located_at_its_first_entry() {
        let kv = log(4);
        check(&kv, false);
        // Entry 2 edited and the head pointed elsewhere: the head no longer
        // leads to the checkpoint, and the full check finds entry 2.
        edit(&kv, 2, |e| e.event["subject"] = "forged".into());
        let head = serde_json::to_vec(&Head {
            seq: 4,
            hash: "00".repeat(32),
        })
        .unwrap();
        kv.set(&Chain("u").head_key(), &head, SetOptions::default())
            .unwrap();
        let v = check(&kv, false);
        assert_eq!((v.ok, v.broken_at, v.checked), (false, Some(2), 1));
    }

    #[test]
    fn full_rechecks_from_the_first_entry() {
        let kv = log(10);
        check(&kv, false);
        edit(&kv, 3, |e| e.event["subject"] = "forged".into());
        // Past the checkpoint an old edit is out of sight; `full` finds it.
        assert!(check(&kv, false).ok);
        let v = check(&kv, true);
        assert_eq!((v.ok, v.broken_at, v.checked), (false, Some(3), 2));
    }

    #[test]
    fn a_chain_cut_back_below_its_checkpoint_is_reported() {
        let kv = log(6);
        check(&kv, false);
        // Someone moves the head back to entry 4 and deletes 5 and 6.
        let (bytes, _) = kv.get(&Chain("u").entry_key(4)).unwrap().unwrap();
        let fourth: Entry = serde_json::from_slice(&bytes).unwrap();
        let head = serde_json::to_vec(&fourth.as_head()).unwrap();
        kv.set(&Chain("u").head_key(), &head, SetOptions::default())
            .unwrap();
        for seq in [5, 6] {
            kv.delete(&Chain("u").entry_key(seq), None).unwrap();
        }
        let v = check(&kv, false);
        assert_eq!((v.ok, v.length, v.broken_at), (false, 4, Some(5)));
        assert!(v.reason.unwrap().contains("removed"));
    }

    #[test]
    fn a_forged_or_foreign_checkpoint_is_ignored() {
        let kv = log(4);
        check(&kv, false);
        // A checkpoint claiming a later, bogus position without the key...
        let (bytes, _) = kv.get(&Chain("u").checkpoint_key()).unwrap().unwrap();
        let mut cp: Checkpoint = serde_json::from_slice(&bytes).unwrap();
        cp.seq = 9;
        let forged = serde_json::to_vec(&cp).unwrap();
        kv.set(&Chain("u").checkpoint_key(), &forged, SetOptions::default())
            .unwrap();
        assert_eq!(check(&kv, false).checked, 4);
        // ...and another user's checkpoint copied over are not trusted.
        let other = log(4);
        let theirs = Chain("v");
        let key = ChainKey::new(CHAIN_KEY_SECRET, crate::keys::TEST_KEY).unwrap();
        let head = read_head(&other, Chain("u")).unwrap().0;
        let seq = head.seq.to_string();
        let cp = Checkpoint {
            seq: head.seq,
            hash: head.hash.clone(),
            key_id: key.id().to_owned(),
            mac: key.mac(&checkpoint_parts(theirs, &seq, &head.hash)),
        };
        let bytes = serde_json::to_vec(&cp).unwrap();
        other
            .set(&Chain("u").checkpoint_key(), &bytes, SetOptions::default())
            .unwrap();
        assert_eq!(
            verify(&other, Chain("u"), ring(), false).unwrap().checked,
            4
        );
    }
}
