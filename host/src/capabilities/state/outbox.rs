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
//! `<component>-<hostname>`). Lanes are listed in a registry and kept
//! alive by a TTL'd key; a pod that is gone for good (rescheduled under
//! another name) has its lane adopted by a live pod of the same component,
//! which publishes the records and retires the lane.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::capabilities::pubsub::PubSubBackend;
use crate::capabilities::state::{OutboxEvent, Precondition};
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
    /// Value and ETag of one key.
    async fn get_item(&self, key: &str) -> CapResult<Option<(Vec<u8>, String)>>;
    async fn put(&self, key: &str, value: Vec<u8>) -> CapResult<()>;
    /// A single-key write with a precondition and an optional TTL.
    async fn put_if(
        &self,
        key: &str,
        value: Vec<u8>,
        precondition: Option<Precondition>,
        ttl_seconds: Option<u32>,
    ) -> CapResult<()>;
    async fn remove(&self, key: &str) -> CapResult<()>;
}

/// Every lane that has ever written records, so a live pod can adopt the
/// lane of a pod that is gone for good (rescheduled under another name).
const LANES_KEY: &str = "outbox:lanes";
/// A lane's owner refreshes this key; when it expires the lane is adopted.
const ALIVE_TTL_SECONDS: u32 = 15;
const HEARTBEAT: Duration = Duration::from_secs(5);

fn record_key(lane: &str, seq: u64) -> String {
    format!("outbox:{lane}:{seq:020}")
}

fn head_key(lane: &str) -> String {
    format!("outbox:{lane}:head")
}

fn alive_key(lane: &str) -> String {
    format!("outbox:{lane}:alive")
}

/// Publishes and deletes every record of `lane` from its low-water mark;
/// returns the sequence number after the last one seen, and how many.
async fn drain(
    lane: &str,
    store: &dyn RecordStore,
    pubsub: &dyn PubSubBackend,
    publisher: &str,
) -> CapResult<(u64, u64)> {
    let head = match store
        .get_values(vec![head_key(lane)])
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
    let (mut seq, mut misses, mut drained) = (head, 0, 0);
    while misses < SCAN_WINDOW {
        let keys: Vec<String> = (seq..seq + CHUNK).map(|s| record_key(lane, s)).collect();
        let values = store.get_values(keys).await?;
        for (i, value) in values.into_iter().enumerate() {
            match value {
                Some(record) => {
                    misses = 0;
                    publish_record(pubsub, publisher, &record).await?;
                    store.remove(&record_key(lane, seq + i as u64)).await?;
                    drained += 1;
                }
                None => misses += 1,
            }
        }
        seq += CHUNK;
    }
    Ok((seq, drained))
}

/// Reads the lane registry: (lanes, ETag).
async fn lanes(store: &dyn RecordStore) -> CapResult<(Vec<String>, Option<String>)> {
    Ok(match store.get_item(LANES_KEY).await? {
        Some((bytes, etag)) => (
            serde_json::from_slice(&bytes).unwrap_or_default(),
            Some(etag),
        ),
        None => (Vec::new(), None),
    })
}

/// Adds or removes a lane in the registry (optimistic, retried).
async fn update_lanes(store: &dyn RecordStore, lane: &str, add: bool) -> CapResult<()> {
    for _ in 0..10 {
        let (mut list, etag) = lanes(store).await?;
        let present = list.iter().any(|l| l == lane);
        if present == add {
            return Ok(());
        }
        if add {
            list.push(lane.to_owned());
        } else {
            list.retain(|l| l != lane);
        }
        let precondition = Some(etag.map_or(Precondition::Absent, Precondition::EtagMatches));
        let value = serde_json::to_vec(&list).expect("a list of strings serializes");
        match store.put_if(LANES_KEY, value, precondition, None).await {
            Err(CapError::Conflict(_)) => continue,
            other => return other,
        }
    }
    Err(CapError::Unavailable(
        "the outbox lane registry is contended".into(),
    ))
}

impl Outbox {
    fn record_key(&self, seq: u64) -> String {
        record_key(&self.lane, seq)
    }

    fn head_key(&self) -> String {
        head_key(&self.lane)
    }

    /// Recovers this lane after a restart: publishes every record a previous
    /// run left behind, then continues numbering after them.
    pub async fn recover(
        lane: String,
        store: &dyn RecordStore,
        pubsub: &dyn PubSubBackend,
        publisher: &str,
    ) -> anyhow::Result<Arc<Outbox>> {
        update_lanes(store, &lane, true).await?;
        store
            .put_if(
                &alive_key(&lane),
                b"1".to_vec(),
                None,
                Some(ALIVE_TTL_SECONDS),
            )
            .await?;
        let (next, recovered) = drain(&lane, store, pubsub, publisher).await?;
        if recovered > 0 {
            tracing::warn!(lane = %lane, recovered, "published outbox records left by a previous run");
        }
        store
            .put(&head_key(&lane), next.to_string().into_bytes())
            .await?;
        Ok(Arc::new(Outbox {
            lane,
            next: AtomicU64::new(next),
            pending: Mutex::new(BTreeMap::new()),
        }))
    }

    /// Keeps this lane alive and adopts lanes whose owner is gone: their
    /// records are published and the lane is retired.
    pub fn spawn_lane_keeper(
        self: &Arc<Self>,
        store: Arc<dyn RecordStore>,
        pubsub: Arc<dyn PubSubBackend>,
        publisher: String,
    ) {
        let lane = self.lane.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let alive = store
                    .put_if(
                        &alive_key(&lane),
                        b"1".to_vec(),
                        None,
                        Some(ALIVE_TTL_SECONDS),
                    )
                    .await;
                // Re-registers too: an adopter may have retired this lane
                // while its pod was down for longer than the TTL.
                let registered = match alive {
                    Ok(()) => update_lanes(store.as_ref(), &lane, true).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = registered {
                    tracing::warn!(lane = %lane, "outbox heartbeat failed: {e}");
                    continue;
                }
                if let Err(e) =
                    adopt_orphans(&lane, store.as_ref(), pubsub.as_ref(), &publisher).await
                {
                    tracing::warn!("adopting orphaned outbox lanes: {e}");
                }
            }
        });
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

async fn adopt_orphans(
    own: &str,
    store: &dyn RecordStore,
    pubsub: &dyn PubSubBackend,
    publisher: &str,
) -> CapResult<()> {
    let (list, _) = lanes(store).await?;
    for lane in list.iter().filter(|l| l.as_str() != own) {
        if store.get_item(&alive_key(lane)).await?.is_some() {
            continue;
        }
        let (_, adopted) = drain(lane, store, pubsub, publisher).await?;
        if adopted > 0 {
            tracing::warn!(lane = %lane, adopted, "published the outbox records of a lane whose pod is gone");
        }
        update_lanes(store, lane, false).await?;
        store.remove(&head_key(lane)).await?;
    }
    Ok(())
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
