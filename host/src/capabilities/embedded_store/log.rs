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

/// Records of a topic kept after every subscriber has passed them: a
/// window for an operator looking back (and the `todo-host publish`
/// re-send of one), as a broker's retention would keep.
pub const RETAIN: u64 = 10_000;
/// Records removed per trim at most, so one trim never holds the group
/// commit long; the next trim takes the rest.
pub const TRIM_BATCH: usize = 10_000;

/// Removes `topic`'s records that every one of `subscribers` has passed
/// (its cursor is at or beyond them) and that are older than the last
/// `retain`. A topic nobody subscribes to (the dead letters) is kept
/// whole. Returns how many records were removed.
pub fn trim(
    txn: &WriteTransaction,
    topic: &str,
    subscribers: &[String],
    retain: u64,
) -> CapResult<usize> {
    if subscribers.is_empty() {
        return Ok(0);
    }
    let head = {
        let heads = txn.open_table(LOG_HEAD).map_err(redb::Error::from)?;
        heads
            .get(topic)
            .map_err(redb::Error::from)?
            .map_or(0, |v| v.value())
    };
    let passed = {
        let cursors = txn.open_table(CURSORS).map_err(redb::Error::from)?;
        let mut min = u64::MAX;
        for subscriber in subscribers {
            let at = cursors
                .get((subscriber.as_str(), topic))
                .map_err(redb::Error::from)?
                .map_or(0, |v| v.value());
            min = min.min(at);
        }
        min
    };
    let upto = passed.min(head.saturating_sub(retain));
    if upto == 0 {
        return Ok(0);
    }
    let mut log = txn.open_table(LOG).map_err(redb::Error::from)?;
    let seqs: Vec<u64> = log
        .range((topic, 0)..=(topic, upto))
        .map_err(redb::Error::from)?
        .take(TRIM_BATCH)
        .map(|entry| entry.map(|(k, _)| k.value().1))
        .collect::<Result<_, _>>()
        .map_err(redb::Error::from)?;
    for seq in &seqs {
        log.remove((topic, *seq)).map_err(redb::Error::from)?;
    }
    Ok(seqs.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::embedded_store::Db;

    fn event(i: u64) -> Event {
        Event {
            id: format!("e{i}"),
            source: "test".into(),
            ty: "com.todo.test.v1".into(),
            subject: None,
            time: None,
            datacontenttype: None,
            data: b"{}".to_vec(),
            extensions: Vec::new(),
        }
    }

    async fn seqs(db: &Db, topic: &'static str) -> Vec<u64> {
        db.read(move |txn| read_after(txn, topic, 0, usize::MAX))
            .await
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect()
    }

    async fn cursor_at(db: &Db, subscriber: &'static str, seq: u64) {
        db.write(move |txn, _| set_cursor(txn, subscriber, "t", seq))
            .await
            .unwrap();
    }

    async fn trim_with(db: &Db, subscribers: &[&str], retain: u64) -> usize {
        let subscribers: Vec<String> = subscribers.iter().map(|s| s.to_string()).collect();
        db.write(move |txn, _| trim(txn, "t", &subscribers, retain))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn only_what_every_subscriber_passed_beyond_the_window_goes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let events: Vec<Event> = (1..=50).map(event).collect();
        db.write(move |txn, touched| append(txn, touched, "t", &events))
            .await
            .unwrap();
        // `b` has not started: nothing is trimmed for it.
        cursor_at(&db, "a", 40).await;
        assert_eq!(trim_with(&db, &["a", "b"], 5).await, 0);
        assert_eq!(seqs(&db, "t").await.len(), 50);
        // Both passed 30: records 1-30 go, the rest stays readable.
        cursor_at(&db, "b", 30).await;
        assert_eq!(trim_with(&db, &["a", "b"], 5).await, 30);
        assert_eq!(seqs(&db, "t").await, (31..=50).collect::<Vec<_>>());
        // Everyone at the head: the last `retain` records are kept.
        cursor_at(&db, "a", 50).await;
        cursor_at(&db, "b", 50).await;
        assert_eq!(trim_with(&db, &["a", "b"], 5).await, 15);
        assert_eq!(seqs(&db, "t").await, (46..=50).collect::<Vec<_>>());
        // The sequence goes on after a trim; a topic without subscribers
        // is never trimmed.
        db.write(|txn, touched| append(txn, touched, "t", &[event(51)]))
            .await
            .unwrap();
        assert_eq!(seqs(&db, "t").await.last(), Some(&51));
        assert_eq!(trim_with(&db, &[], 0).await, 0);
    }
}
