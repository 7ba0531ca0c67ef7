//! State over Dapr (`state.redis`, `state.postgresql`): ETags with
//! first-write concurrency, bulk get, transactions, TTL.
//!
//! The outbox rides on Dapr's transactional outbox: each event becomes an
//! upsert of an outbox record in the same state transaction; Dapr publishes
//! every upserted item of a committed transaction to the store's outbox
//! topic, and this host's relay (`runtime::pod`) forwards outbox records to
//! their real topic and ignores the other items.
//!
//! Values that are JSON are stored as JSON (readable with `redis-cli` or
//! `psql`); other bytes are wrapped as `{"$bytes": "<base64>"}`.

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::{DaprClient, segment};
use crate::capabilities::state::{Item, OutboxEvent, StateBackend, StateOp};
use crate::capabilities::{CapError, CapResult};
use crate::cloudevent::Event;

/// Key prefix of outbox records in the component's state.
pub const OUTBOX_PREFIX: &str = "outbox:";
/// Outbox records outlive their relaying by far, then expire.
const OUTBOX_TTL_SECONDS: &str = "86400";

pub struct DaprState {
    pub dapr: DaprClient,
    /// The component id: the relay only forwards its own records.
    pub publisher: String,
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

/// The record written for one outbox event.
pub fn outbox_record(publisher: &str, topic: &str, event: &Event) -> Value {
    json!({"outbox": 1, "publisher": publisher, "topic": topic, "event": event.to_json()})
}

fn upsert(key: &str, value: Value, etag: Option<&str>, ttl: Option<String>) -> Value {
    let mut request = json!({"key": key, "value": value});
    if let Some(etag) = etag {
        request["etag"] = etag.into();
        request["options"] = json!({"concurrency": "first-write"});
    } else {
        request["options"] = json!({"concurrency": "last-write"});
    }
    if let Some(ttl) = ttl {
        request["metadata"] = json!({"ttlInSeconds": ttl});
    }
    json!({"operation": "upsert", "request": request})
}

#[async_trait]
impl StateBackend for DaprState {
    async fn get_bulk(&self, _ns: &str, keys: Vec<String>) -> CapResult<Vec<Option<Item>>> {
        let store = segment(&self.dapr.names.state);
        if let [key] = keys.as_slice() {
            let req = self
                .dapr
                .request(Method::GET, &format!("/v1.0/state/{store}/{}", segment(key)));
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
            let Some(key) = item["key"].as_str() else { continue };
            if let Some(data) = item.get("data").filter(|d| !d.is_null()) {
                let etag = item["etag"].as_str().unwrap_or_default().to_owned();
                found.insert(key.to_owned(), (decode_value(data), etag));
            }
        }
        Ok(keys
            .into_iter()
            .map(|key| {
                found.remove(&key).map(|(value, etag)| Item { key, value, etag })
            })
            .collect())
    }

    async fn transact(&self, _ns: &str, ops: Vec<StateOp>, events: Vec<OutboxEvent>) -> CapResult<()> {
        let store = segment(&self.dapr.names.state);
        // One plain write needs no transaction (and publishes nothing).
        if events.is_empty()
            && let [StateOp::Set { key, value, etag, ttl_seconds }] = ops.as_slice()
        {
            let mut item = upsert(key, encode_value(value), etag.as_deref(), ttl_seconds.map(|t| t.to_string()))["request"].clone();
            item["options"]["consistency"] = "strong".into();
            let req = self
                .dapr
                .request(Method::POST, &format!("/v1.0/state/{store}"))
                .json(&json!([item]));
            self.dapr.send(req, "save state").await?;
            return Ok(());
        }
        let mut operations: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                StateOp::Set { key, value, etag, ttl_seconds } => {
                    upsert(key, encode_value(value), etag.as_deref(), ttl_seconds.map(|t| t.to_string()))
                }
                StateOp::Delete { key, etag } => {
                    let mut request = json!({"key": key});
                    if let Some(etag) = etag {
                        request["etag"] = etag.as_str().into();
                        request["options"] = json!({"concurrency": "first-write"});
                    }
                    json!({"operation": "delete", "request": request})
                }
            })
            .collect();
        for e in &events {
            let key = format!("{OUTBOX_PREFIX}{}", e.event.id);
            let record = outbox_record(&self.publisher, &e.topic, &e.event);
            operations.push(upsert(&key, record, None, Some(OUTBOX_TTL_SECONDS.into())));
        }
        let req = self
            .dapr
            .request(Method::POST, &format!("/v1.0/state/{store}/transaction"))
            .json(&json!({"operations": operations}));
        self.dapr.send(req, "state transaction").await?;
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
