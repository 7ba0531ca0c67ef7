//! Where the chains live in state: one chain per user (the event's
//! `userid`), so each user's history is verified and paged on its own and
//! one user's appends never contend with another's.
//!
//! - `audit:<user>:head` = `{seq, hash}`, the tip; its ETag (its absence,
//!   before the first append) serializes the user's appends.
//! - `audit:<user>:entry:<seq, 20 digits>` = one `Entry` (zero-padded so
//!   keys sort in chain order in any backend that lists them).
//! - `audit:<user>:task:<task id>` = the seqs of that task's entries (every
//!   topic), written with the entry, so a task's history is one read.
//! - `audit:id:<event id>` = seq, for deduplication; created only if absent.
//! - `audit:<user>:verified` = the checkpoint of the last successful
//!   verification (`crate::verify`), keyed like the entries.

use todo_domain::{KeyValue, KvError, Versioned};

use crate::chain::{Entry, Head, StoredEntry};

/// Keys per `get-bulk` call.
pub const BULK_CHUNK: u64 = 100;
/// The chain of events that name no user.
pub const SYSTEM_CHAIN: &str = "_system";

/// One user's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chain<'a>(pub &'a str);

impl Chain<'_> {
    pub fn head_key(&self) -> String {
        format!("audit:{}:head", self.0)
    }

    pub fn entry_key(&self, seq: u64) -> String {
        format!("audit:{}:entry:{seq:020}", self.0)
    }

    /// Where the last successful verification left its checkpoint.
    pub fn checkpoint_key(&self) -> String {
        format!("audit:{}:verified", self.0)
    }

    pub fn task_key(&self, task_id: &str) -> String {
        format!("audit:{}:task:{task_id}", self.0)
    }
}

/// The seqs of `task_id`'s entries in `chain`, and the index's ETag.
pub fn read_task_index(
    kv: &impl KeyValue,
    chain: Chain,
    task_id: &str,
) -> Result<Vec<u64>, KvError> {
    let key = chain.task_key(task_id);
    match kv.get(&key)? {
        None => Ok(Vec::new()),
        Some((bytes, _)) => serde_json::from_slice(&bytes)
            .map_err(|e| KvError::Invalid(format!("`{key}` is unreadable: {e}"))),
    }
}

/// Entries with the given seqs, as stored.
pub fn read_seqs(
    kv: &impl KeyValue,
    chain: Chain,
    seqs: &[u64],
) -> Result<Vec<(u64, StoredEntry)>, KvError> {
    let keys: Vec<String> = seqs.iter().map(|&s| chain.entry_key(s)).collect();
    let items = kv.get_bulk(&keys)?;
    Ok(seqs
        .iter()
        .copied()
        .zip(items)
        .map(|(seq, item)| (seq, item.map(parse)))
        .collect())
}

pub fn id_key(event_id: &str) -> String {
    format!("audit:id:{event_id}")
}

/// The head and its ETag; an empty chain has the genesis head and no ETag.
pub fn read_head(kv: &impl KeyValue, chain: Chain) -> Result<(Head, Option<String>), KvError> {
    let key = chain.head_key();
    match kv.get(&key)? {
        None => Ok((Head::genesis(), None)),
        Some((bytes, etag)) => {
            let head = serde_json::from_slice(&bytes)
                .map_err(|e| KvError::Invalid(format!("`{key}` is unreadable: {e}")))?;
            Ok((head, Some(etag)))
        }
    }
}

/// Entries `from..=to` as stored (verification reports missing and
/// unreadable ones; queries skip them).
pub fn read_entries(
    kv: &impl KeyValue,
    chain: Chain,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, StoredEntry)>, KvError> {
    if from > to {
        return Ok(Vec::new());
    }
    let seqs: Vec<u64> = (from..=to).collect();
    read_seqs(kv, chain, &seqs)
}

fn parse((bytes, _): Versioned) -> Result<Entry, String> {
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_sort_in_chain_order() {
        let chain = Chain("u");
        assert_eq!(chain.entry_key(7), "audit:u:entry:00000000000000000007");
        assert!(chain.entry_key(9) < chain.entry_key(10));
        assert_eq!(chain.entry_key(u64::MAX).len(), "audit:u:entry:".len() + 20);
    }
}
