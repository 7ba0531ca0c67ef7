//! The durable event log: per-topic sequence numbers, appended inside the
//! caller's write transaction so that outbox events commit with their state.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{CURSORS, LOG, LOG_HEAD, Touched};
use crate::capabilities::CapResult;
use crate::cloudevent::Event;

pub fn append(
    txn: &WriteTransaction,
    touched: &mut Touched,
    topic: &str,
    events: &[Event],
) -> CapResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut heads = txn.open_table(LOG_HEAD).map_err(redb::Error::from)?;
    let mut seq = heads
        .get(topic)
        .map_err(redb::Error::from)?
        .map(|v| v.value())
        .unwrap_or(0);
    let mut log = txn.open_table(LOG).map_err(redb::Error::from)?;
    for e in events {
        seq += 1;
        log.insert((topic, seq), crate::cloudevent::to_bytes(e).as_slice())
            .map_err(redb::Error::from)?;
    }
    heads.insert(topic, seq).map_err(redb::Error::from)?;
    touched.log = true;
    Ok(())
}

/// Up to `limit` entries of `topic` after `after`, in order.
pub fn read_after(
    txn: &ReadTransaction,
    topic: &str,
    after: u64,
    limit: usize,
) -> CapResult<Vec<(u64, Vec<u8>)>> {
    let log = txn.open_table(LOG).map_err(redb::Error::from)?;
    let mut out = Vec::new();
    let range = log
        .range((topic, after + 1)..=(topic, u64::MAX))
        .map_err(redb::Error::from)?;
    for entry in range.take(limit) {
        let (k, v) = entry.map_err(redb::Error::from)?;
        out.push((k.value().1, v.value().to_vec()));
    }
    Ok(out)
}

pub fn head(txn: &ReadTransaction, topic: &str) -> CapResult<u64> {
    let heads = txn.open_table(LOG_HEAD).map_err(redb::Error::from)?;
    Ok(heads
        .get(topic)
        .map_err(redb::Error::from)?
        .map(|v| v.value())
        .unwrap_or(0))
}

pub fn cursor(txn: &ReadTransaction, subscriber: &str, topic: &str) -> CapResult<u64> {
    let cursors = txn.open_table(CURSORS).map_err(redb::Error::from)?;
    Ok(cursors
        .get((subscriber, topic))
        .map_err(redb::Error::from)?
        .map(|v| v.value())
        .unwrap_or(0))
}

pub fn set_cursor(
    txn: &WriteTransaction,
    subscriber: &str,
    topic: &str,
    seq: u64,
) -> CapResult<()> {
    let mut cursors = txn.open_table(CURSORS).map_err(redb::Error::from)?;
    cursors
        .insert((subscriber, topic), seq)
        .map_err(redb::Error::from)?;
    Ok(())
}
