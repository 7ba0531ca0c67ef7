//! State over Dapr (`state.redis`, `state.postgresql`): ETags with
//! first-write concurrency, create-only writes, bulk get, transactions,
//! TTL, and the outbox (`super::outbox`).
//!
//! Values that are JSON are stored as JSON (readable with `redis-cli` or
//! `psql`); other bytes are wrapped as `{"$bytes": "<base64>"}`.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::outbox::{Outbox, RecordStore};
use crate::capabilities::dapr_client::{DaprClient, segment};
use crate::capabilities::pubsub::PubSubBackend;
use crate::capabilities::state::{Item, OutboxEvent, Precondition, StateBackend, StateOp};
use crate::capabilities::{CapError, CapResult};

/// The store behind the `statestore` component: they differ in how a
/// create-only write is expressed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StoreKind {
    /// `state.redis` writes a missing key whatever the ETag, and refuses an
    /// existing one unless its version matches: ETag `-1` means "absent".
    Redis,
    /// `state.postgresql` inserts only, under first-write without an ETag.
    Postgres,
}

struct Setup {
    outbox: Arc<Outbox>,
}

pub struct DaprState {
    pub dapr: DaprClient,
    /// The component id.
    pub publisher: String,
    /// This pod's outbox lane.
    lane: String,
    pub pubsub: Arc<dyn PubSubBackend>,
    kind: OnceCell<StoreKind>,
    setup: OnceCell<Setup>,
}

pub fn encode_value(bytes: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => v,
        Err(_) => json!({"$bytes": base64::engine::general_purpose::STANDARD.encode(bytes)}),
    }
}

pub fn decode_value(v: &Value) -> Vec<u8> {
    if let Some(b64) = v.get("$bytes").and_then(Value::as_str)
        && v.as_object().is_some_and(|o| o.len() == 1)
        && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64)
    {
        return bytes;
    }
    serde_json::to_vec(v).expect("a JSON value serializes")
}

fn upsert(
    kind: StoreKind,
    key: &str,
    value: Value,
    pre: Option<&Precondition>,
    ttl: Option<u32>,
) -> Value {
    let mut request = json!({"key": key, "value": value, "options": {"concurrency": "last-write"}});
    match (pre, kind) {
        (None, _) => {}
        (Some(Precondition::EtagMatches(etag)), _) => {
            request["etag"] = etag.as_str().into();
            request["options"]["concurrency"] = "first-write".into();
        }
        (Some(Precondition::Absent), StoreKind::Redis) => {
            request["etag"] = "-1".into();
            request["options"]["concurrency"] = "first-write".into();
        }
        (Some(Precondition::Absent), StoreKind::Postgres) => {
            request["options"]["concurrency"] = "first-write".into();
        }
    }
    if let Some(ttl) = ttl {
        request["metadata"] = json!({"ttlInSeconds": ttl.to_string()});
    }
    json!({"operation": "upsert", "request": request})
}

fn delete(key: &str, etag: Option<&str>) -> Value {
    let mut request = json!({"key": key});
    if let Some(etag) = etag {
        request["etag"] = etag.into();
        request["options"] = json!({"concurrency": "first-write"});
    }
    json!({"operation": "delete", "request": request})
}

/// Inside a transaction the stores report a failed precondition as a
/// generic transaction error: Redis's scripts say "failed to set key" /
/// "failed to delete", PostgreSQL "no item was updated" or an ETag
/// mismatch. Those are conflicts, not outages.
fn conflict_if_precondition_failed(e: CapError) -> CapError {
    const SIGNS: &[&str] = &[
        "failed to set key",
        "failed to delete",
        "no item was updated",
        "etag mismatch",
    ];
    match e {
        CapError::Unavailable(m) if SIGNS.iter().any(|s| m.to_lowercase().contains(s)) => {
            CapError::Conflict(m)
        }
        other => other,
    }
}

impl DaprState {
    /// `lane` is this pod's outbox lane (`crate::config::HostEnv::outbox_lane`).
    pub fn new(
        dapr: DaprClient,
        publisher: String,
        lane: String,
        pubsub: Arc<dyn PubSubBackend>,
    ) -> Arc<Self> {
        Arc::new(DaprState {
            dapr,
            publisher,
            lane,
            pubsub,
            kind: OnceCell::new(),
            setup: OnceCell::new(),
        })
    }

    /// Once the sidecar is up: learns the store kind from Dapr's metadata
    /// and recovers this pod's outbox lane.
    pub async fn initialize(self: &Arc<Self>) -> anyhow::Result<()> {
        let resp = self
            .dapr
            .send(self.dapr.request(Method::GET, "/v1.0/metadata"), "metadata")
            .await?;
        let meta: Value = resp.json().await?;
        let ty = meta["components"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == self.dapr.names.state.as_str())
            .and_then(|c| c["type"].as_str())
            .unwrap_or_default()
            .to_owned();
        let kind = match ty.as_str() {
            "state.redis" => StoreKind::Redis,
            "state.postgresql" => StoreKind::Postgres,
            other => anyhow::bail!(
                "state store `{}` has type `{other}`; expected state.redis or state.postgresql",
                self.dapr.names.state
            ),
        };
        let _ = self.kind.set(kind);
        let lane = self.lane.clone();
        let outbox =
            Outbox::recover(lane, self.as_ref(), self.pubsub.as_ref(), &self.publisher).await?;
        let store: Arc<dyn RecordStore> = self.clone();
        outbox.spawn_retry(store.clone(), self.pubsub.clone(), self.publisher.clone());
        outbox.spawn_lane_keeper(store, self.pubsub.clone(), self.publisher.clone());
        let _ = self.setup.set(Setup { outbox });
        tracing::info!(store = %ty, "state store ready");
        Ok(())
    }

    fn kind(&self) -> CapResult<StoreKind> {
        self.kind
            .get()
            .copied()
            .ok_or_else(|| CapError::Unavailable("the state store is not initialized yet".into()))
    }

    fn setup(&self) -> CapResult<&Setup> {
        self.setup
            .get()
            .ok_or_else(|| CapError::Unavailable("the state store is not initialized yet".into()))
    }

    async fn transaction(&self, operations: Vec<Value>) -> CapResult<()> {
        let store = segment(&self.dapr.names.state);
        let req = self
            .dapr
            .request(Method::POST, &format!("/v1.0/state/{store}/transaction"))
            .json(&json!({"operations": operations}));
        self.dapr
            .send(req, "state transaction")
            .await
            .map(drop)
            .map_err(conflict_if_precondition_failed)
    }
}

#[async_trait]
impl RecordStore for DaprState {
    async fn get_values(&self, keys: Vec<String>) -> CapResult<Vec<Option<Vec<u8>>>> {
        let items = self.get_bulk("", keys).await?;
        Ok(items.into_iter().map(|i| i.map(|i| i.value)).collect())
    }

    async fn get_item(&self, key: &str) -> CapResult<Option<(Vec<u8>, String)>> {
        let mut items = self.get_bulk("", vec![key.to_owned()]).await?;
        Ok(items.pop().flatten().map(|i| (i.value, i.etag)))
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> CapResult<()> {
        self.put_if(key, value, None, None).await
    }

    async fn put_if(
        &self,
        key: &str,
        value: Vec<u8>,
        precondition: Option<Precondition>,
        ttl_seconds: Option<u32>,
    ) -> CapResult<()> {
        let value = encode_value(&value);
        let op = upsert(self.kind()?, key, value, precondition.as_ref(), ttl_seconds);
        self.transaction(vec![op]).await
    }

    async fn remove(&self, key: &str) -> CapResult<()> {
        self.transaction(vec![delete(key, None)]).await
    }
}

#[async_trait]
impl StateBackend for DaprState {
    async fn get_bulk(&self, _ns: &str, keys: Vec<String>) -> CapResult<Vec<Option<Item>>> {
        let store = segment(&self.dapr.names.state);
        if let [key] = keys.as_slice() {
            let req = self.dapr.request(
                Method::GET,
                &format!("/v1.0/state/{store}/{}", segment(key)),
            );
            let resp = self.dapr.send(req, "get state").await?;
            if resp.status() == reqwest::StatusCode::NO_CONTENT {
                return Ok(vec![None]);
            }
            let etag = resp
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned();
            let body = resp
                .bytes()
                .await
                .map_err(|e| CapError::Unavailable(format!("dapr get state: {e}")))?;
            let value: Value = serde_json::from_slice(&body)
                .map_err(|e| CapError::Unavailable(format!("dapr get state: not JSON: {e}")))?;
            return Ok(vec![Some(Item {
                key: key.clone(),
                value: decode_value(&value),
                etag,
            })]);
        }
        let req = self
            .dapr
            .request(Method::POST, &format!("/v1.0/state/{store}/bulk"))
            .json(&json!({"keys": keys, "parallelism": 16}));
        let resp = self.dapr.send(req, "bulk get state").await?;
        let items: Vec<Value> = resp
            .json()
            .await
            .map_err(|e| CapError::Unavailable(format!("dapr bulk get: {e}")))?;
        // Dapr answers in any order; put results back in the caller's order.
        let mut found = std::collections::HashMap::new();
        for item in items {
            if let Some(err) = item.get("error").and_then(Value::as_str) {
                return Err(CapError::Unavailable(format!("dapr bulk get: {err}")));
            }
            let Some(key) = item["key"].as_str() else {
                continue;
            };
            if let Some(data) = item.get("data").filter(|d| !d.is_null()) {
                let etag = item["etag"].as_str().unwrap_or_default().to_owned();
                found.insert(key.to_owned(), (decode_value(data), etag));
            }
        }
        Ok(keys
            .into_iter()
            .map(|key| {
                found
                    .remove(&key)
                    .map(|(value, etag)| Item { key, value, etag })
            })
            .collect())
    }

    async fn transact(
        &self,
        _ns: &str,
        ops: Vec<StateOp>,
        events: Vec<OutboxEvent>,
    ) -> CapResult<()> {
        let setup = self.setup()?;
        let kind = self.kind()?;
        // Redis runs a transaction as MULTI/EXEC of one script per key: a
        // failed precondition fails its own key only and the rest commit.
        // Refuse rather than break all-or-nothing.
        let guarded = ops.iter().any(|op| match op {
            StateOp::Set { precondition, .. } => precondition.is_some(),
            StateOp::Delete { etag, .. } => etag.is_some(),
        });
        if kind == StoreKind::Redis && guarded && ops.len() + usize::from(!events.is_empty()) > 1 {
            return Err(CapError::Invalid(
                "the Redis state store cannot apply ETag or create-only checks atomically across keys; \
                 use a single key or the PostgreSQL store"
                    .into(),
            ));
        }
        let mut operations: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                StateOp::Set {
                    key,
                    value,
                    precondition,
                    ttl_seconds,
                } => upsert(
                    kind,
                    key,
                    encode_value(value),
                    precondition.as_ref(),
                    *ttl_seconds,
                ),
                StateOp::Delete { key, etag } => delete(key, etag.as_deref()),
            })
            .collect();
        if events.is_empty() {
            return self.transaction(operations).await;
        }
        let (seq, key, record) = setup.outbox.record(&self.publisher, &events).await;
        operations.push(upsert(kind, &key, record, None, None));
        if let Err(e) = self.transaction(operations).await {
            setup.outbox.abandon(seq).await;
            return Err(e);
        }
        // Committed: the events are safe in the record. A failed relay is
        // retried in the background, so the caller sees success.
        if let Err(e) = setup
            .outbox
            .relay(seq, events, self, self.pubsub.as_ref(), &self.publisher)
            .await
        {
            tracing::warn!("outbox relay failed, will retry: {e}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_stay_json_and_bytes_round_trip() {
        let v = encode_value(br#"{"a":1}"#);
        assert_eq!(v["a"], 1);
        assert_eq!(decode_value(&v), br#"{"a":1}"#);
        let raw = [0u8, 255, 3];
        assert_eq!(decode_value(&encode_value(&raw)), raw);
    }
}
