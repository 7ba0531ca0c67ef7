//! Where the chain lives in state.
//!
//! - `audit:head` = `{seq, hash}`, the tip; its ETag (its absence, before the
//!   first append) serializes appends.
//! - `audit:entry:<seq, 20 digits>` = one `Entry` (zero-padded so keys sort
//!   in chain order in any backend that lists them).
//! - `audit:id:<event id>` = seq, for deduplication; created only if absent.

use todo_domain::{KeyValue, KvError, Versioned};

use crate::chain::{Entry, Head, StoredEntry};

pub const HEAD_KEY: &str = "audit:head";
/// Keys per `get-bulk` call.
pub const BULK_CHUNK: u64 = 100;

pub fn entry_key(seq: u64) -> String {
    format!("audit:entry:{seq:020}")
}

pub fn id_key(event_id: &str) -> String {
    format!("audit:id:{event_id}")
}

/// The head and its ETag; an empty chain has the genesis head and no ETag.
pub fn read_head(kv: &impl KeyValue) -> Result<(Head, Option<String>), KvError> {
    match kv.get(HEAD_KEY)? {
        None => Ok((Head::genesis(), None)),
        Some((bytes, etag)) => {
            let head = serde_json::from_slice(&bytes)
                .map_err(|e| KvError::Invalid(format!("`{HEAD_KEY}` is unreadable: {e}")))?;
            Ok((head, Some(etag)))
        }
    }
}

/// Entries `from..=to` as stored (verification reports missing and
/// unreadable ones; queries skip them).
pub fn read_entries(
    kv: &impl KeyValue,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, StoredEntry)>, KvError> {
    if from > to {
        return Ok(Vec::new());
    }
    let seqs: Vec<u64> = (from..=to).collect();
    let keys: Vec<String> = seqs.iter().map(|&s| entry_key(s)).collect();
    let items = kv.get_bulk(&keys)?;
    Ok(seqs
        .into_iter()
        .zip(items)
        .map(|(seq, item)| (seq, item.map(parse)))
        .collect())
}

fn parse((bytes, _): Versioned) -> Result<Entry, String> {
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_sort_in_chain_order() {
        assert_eq!(entry_key(7), "audit:entry:00000000000000000007");
        assert!(entry_key(9) < entry_key(10));
        assert_eq!(entry_key(u64::MAX).len(), "audit:entry:".len() + 20);
    }
}
