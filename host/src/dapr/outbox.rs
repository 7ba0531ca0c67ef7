//! The outbox over Dapr. A transaction that carries events also writes one
//! outbox record, in the same Dapr state transaction; after the commit the
//! host publishes the events and deletes the record. A crash in between
//! leaves the record, and the next host of the same lane publishes it at
//! start-up, so a change and its events are never separated.
//!
//! (Dapr's own transactional outbox publishes one message per upserted key
//! at about one per second per partition, and renders JSON values with
//! Go's `%v`: neither fits.)
//!
//! Records live at `outbox:<lane>:<seq>` with dense per-lane sequence
//! numbers, so a restarted host finds them with bulk gets from the lane's
//! persisted low-water mark, without a key scan (which Dapr lacks). A lane
//! is stable across restarts of one pod (`TODO_OUTBOX_LANE`, default
//! `<component>-<hostname>`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::capabilities::pubsub::PubSubBackend;
use crate::capabilities::state::OutboxEvent;
use crate::capabilities::{CapError, CapResult};
use crate::cloudevent::Event;

/// Sequence numbers allocated but possibly never committed (the window of
/// in-flight transactions) are skipped by a scan after this many misses.
const SCAN_WINDOW: u64 = 1024;
const CHUNK: u64 = 128;
/// A record still pending this long after its transaction is retried.
const RETRY_AFTER: Duration = Duration::from_secs(5);

pub struct Outbox {
    pub lane: String,
    next: AtomicU64,
    /// Records not yet published and deleted, with when they were
    /// allocated (the retry loop leaves young ones to their first relay).
    pending: Mutex<BTreeMap<u64, Instant>>,
}

/// The store operations the outbox needs (the Dapr state backend).
#[async_trait::async_trait]
pub trait RecordStore: Send + Sync {
    async fn get_values(&self, keys: Vec<String>) -> CapResult<Vec<Option<Vec<u8>>>>;
    async fn put(&self, key: &str, value: Vec<u8>) -> CapResult<()>;
    async fn remove(&self, key: &str) -> CapResult<()>;
}

impl Outbox {
    pub fn lane_from_env(component: &str) -> String {
        std::env::var("TODO_OUTBOX_LANE").unwrap_or_else(|_| {
            let host = std::env::var("HOSTNAME")
                .ok()
                .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
                .unwrap_or_else(|| "local".into());
            format!("{component}-{}", host.trim())
        })
    }

    fn record_key(&self, seq: u64) -> String {
        format!("outbox:{}:{seq:020}", self.lane)
    }

    fn head_key(&self) -> String {
        format!("outbox:{}:head", self.lane)
    }

    /// Recovers this lane after a restart: publishes every record a previous
    /// run left behind, then continues numbering after them.
    pub async fn recover(
        lane: String,
        store: &dyn RecordStore,
        pubsub: &dyn PubSubBackend,
        publisher: &str,
    ) -> anyhow::Result<Arc<Outbox>> {
        let outbox = Outbox {
            lane,
            next: AtomicU64::new(1),
            pending: Mutex::new(BTreeMap::new()),
        };
        let head = match store
            .get_values(vec![outbox.head_key()])
            .await?
            .pop()
            .flatten()
        {
            Some(v) => String::from_utf8_lossy(&v)
                .trim_matches('"')
                .parse()
                .unwrap_or(1),
            None => 1,
        };
        let mut seq = head;
        let mut misses = 0;
        let mut recovered = 0;
        while misses < SCAN_WINDOW {
            let keys: Vec<String> = (seq..seq + CHUNK).map(|s| outbox.record_key(s)).collect();
            let values = store.get_values(keys).await?;
            for (i, value) in values.into_iter().enumerate() {
                let s = seq + i as u64;
                match value {
                    Some(record) => {
                        misses = 0;
                        publish_record(pubsub, publisher, &record).await?;
                        store.remove(&outbox.record_key(s)).await?;
                        recovered += 1;
                    }
                    None => misses += 1,
                }
            }
            seq += CHUNK;
        }
        if recovered > 0 {
            tracing::warn!(lane = %outbox.lane, recovered, "published outbox records left by a previous run");
        }
        let next = seq;
        outbox.next.store(next, Ordering::SeqCst);
        store
            .put(&outbox.head_key(), next.to_string().into_bytes())
            .await?;
        Ok(Arc::new(outbox))
    }

    /// Allocates a record for a transaction's events: (key, value).
    pub async fn record(&self, publisher: &str, events: &[OutboxEvent]) -> (u64, String, Value) {
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        self.pending.lock().await.insert(seq, Instant::now());
        let body = json!({
            "publisher": publisher,
            "events": events.iter().map(|e| json!({"topic": e.topic, "event": crate::cloudevent::to_value(&e.event)})).collect::<Vec<_>>(),
        });
        // A JSON string: stored verbatim by every Dapr state store.
        (seq, self.record_key(seq), Value::String(body.to_string()))
    }

    /// The transaction failed: the record was never written.
    pub async fn abandon(&self, seq: u64) {
        self.pending.lock().await.remove(&seq);
    }

    /// The transaction committed: publish its events, then drop the record.
    pub async fn relay(
        &self,
        seq: u64,
        events: Vec<OutboxEvent>,
        store: &dyn RecordStore,
        pubsub: &dyn PubSubBackend,
        publisher: &str,
    ) -> CapResult<()> {
        for (topic, batch) in by_topic(events) {
            pubsub.publish(publisher, &topic, batch).await?;
        }
        store.remove(&self.record_key(seq)).await?;
        let low = {
            let mut pending = self.pending.lock().await;
            pending.remove(&seq);
            pending.keys().next().copied()
        };
        // Advance the persisted low-water mark now and then; a stale mark
        // only makes the next recovery scan a little longer.
        if seq.is_multiple_of(64) {
            let head = low.unwrap_or_else(|| self.next.load(Ordering::SeqCst));
            let _ = store
                .put(&self.head_key(), head.to_string().into_bytes())
                .await;
        }
        Ok(())
    }

    /// Retries relaying for records whose first relay failed.
    pub fn spawn_retry(
        self: &Arc<Self>,
        store: Arc<dyn RecordStore>,
        pubsub: Arc<dyn PubSubBackend>,
        publisher: String,
    ) {
        let outbox = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                // Only records whose first relay had time to finish: a young
                // one may still be in flight (publishing it twice is
                // harmless to deduplicating consumers, but wasteful).
                let stuck: Vec<u64> = {
                    let pending = outbox.pending.lock().await;
                    pending
                        .iter()
                        .filter(|(_, since)| since.elapsed() > RETRY_AFTER)
                        .map(|(seq, _)| *seq)
                        .take(CHUNK as usize)
                        .collect()
                };
                for seq in stuck {
                    let key = outbox.record_key(seq);
                    let Ok(mut found) = store.get_values(vec![key.clone()]).await else {
                        break;
                    };
                    let Some(record) = found.pop().flatten() else {
                        continue;
                    };
                    if publish_record(pubsub.as_ref(), &publisher, &record)
                        .await
                        .is_ok()
                        && store.remove(&key).await.is_ok()
                    {
                        outbox.pending.lock().await.remove(&seq);
                    }
                }
            }
        });
    }
}

fn by_topic(events: Vec<OutboxEvent>) -> Vec<(String, Vec<Event>)> {
    let mut out: Vec<(String, Vec<Event>)> = Vec::new();
    for e in events {
        match out.iter_mut().find(|(t, _)| *t == e.topic) {
            Some((_, batch)) => batch.push(e.event),
            None => out.push((e.topic, vec![e.event])),
        }
    }
    out
}

/// Publishes the events of a stored record.
async fn publish_record(
    pubsub: &dyn PubSubBackend,
    publisher: &str,
    stored: &[u8],
) -> CapResult<()> {
    let value: Value = serde_json::from_slice(stored).map_err(CapError::trap)?;
    let record: Value = match value {
        Value::String(s) => serde_json::from_str(&s).map_err(CapError::trap)?,
        other => other,
    };
    let mut events = Vec::new();
    for e in record["events"].as_array().into_iter().flatten() {
        let topic = e["topic"].as_str().unwrap_or_default().to_owned();
        let event = crate::cloudevent::from_value(&e["event"])
            .map_err(|m| CapError::trap(anyhow::anyhow!(m)))?;
        events.push(OutboxEvent { topic, event });
    }
    for (topic, batch) in by_topic(events) {
        pubsub.publish(publisher, &topic, batch).await?;
    }
    Ok(())
}
