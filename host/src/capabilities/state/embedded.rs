//! Embedded state: values with ETags and expiry in the `state` table; a
//! transaction checks every ETag before writing anything and appends its
//! outbox events to the log in the same commit.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};

use crate::capabilities::embedded_store::log;
use crate::capabilities::embedded_store::{Db, STATE, Touched, next_counter};
use crate::capabilities::state::{Item, OutboxEvent, Precondition, StateBackend, StateOp};
use crate::capabilities::{CapError, CapResult};
use crate::clock::now_ms;

/// Stored form: 8-byte ETag, 8-byte expiry (0 = never), then the value.
struct Stored {
    etag: u64,
    expires_at: u64,
    value: Vec<u8>,
}

impl Stored {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.value.len());
        out.extend_from_slice(&self.etag.to_le_bytes());
        out.extend_from_slice(&self.expires_at.to_le_bytes());
        out.extend_from_slice(&self.value);
        out
    }

    fn decode(bytes: &[u8]) -> CapResult<Self> {
        if bytes.len() < 16 {
            return Err(CapError::trap(anyhow::anyhow!("corrupt state record")));
        }
        let (etag, rest) = bytes.split_at(8);
        let (exp, value) = rest.split_at(8);
        Ok(Stored {
            etag: u64::from_le_bytes(etag.try_into().expect("8 bytes")),
            expires_at: u64::from_le_bytes(exp.try_into().expect("8 bytes")),
            value: value.to_vec(),
        })
    }

    fn live(self, now: u64) -> Option<Self> {
        (self.expires_at == 0 || self.expires_at > now).then_some(self)
    }
}

fn full_key(ns: &str, key: &str) -> String {
    format!("{ns}\0{key}")
}

pub struct EmbeddedState {
    pub db: Db,
}

#[async_trait]
impl StateBackend for EmbeddedState {
    async fn get_bulk(&self, ns: &str, keys: Vec<String>) -> CapResult<Vec<Option<Item>>> {
        let ns = ns.to_owned();
        self.db
            .read(move |txn| {
                let table = txn.open_table(STATE).map_err(redb::Error::from)?;
                let now = now_ms();
                keys.into_iter()
                    .map(|key| {
                        let raw = table
                            .get(full_key(&ns, &key).as_str())
                            .map_err(redb::Error::from)?;
                        let stored = match raw {
                            Some(v) => Stored::decode(v.value())?.live(now),
                            None => None,
                        };
                        Ok(stored.map(|s| Item {
                            key,
                            value: s.value,
                            etag: s.etag.to_string(),
                        }))
                    })
                    .collect()
            })
            .await
    }

    async fn transact(
        &self,
        ns: &str,
        ops: Vec<StateOp>,
        events: Vec<OutboxEvent>,
    ) -> CapResult<()> {
        let ns = ns.to_owned();
        self.db
            .write(move |txn, touched| apply(txn, touched, &ns, ops, events))
            .await
    }
}

/// Checks every precondition first, then writes: a failed check leaves the
/// group transaction untouched.
fn apply(
    txn: &WriteTransaction,
    touched: &mut Touched,
    ns: &str,
    ops: Vec<StateOp>,
    events: Vec<OutboxEvent>,
) -> CapResult<()> {
    let now = now_ms();
    {
        let table = txn.open_table(STATE).map_err(redb::Error::from)?;
        // ETag each key will have as earlier ops in this transaction apply.
        let mut overlay: HashMap<&str, Option<String>> = HashMap::new();
        for op in &ops {
            let key = op.key();
            let current = match overlay.get(key) {
                Some(v) => v.clone(),
                None => match table
                    .get(full_key(ns, key).as_str())
                    .map_err(redb::Error::from)?
                {
                    Some(v) => Stored::decode(v.value())?
                        .live(now)
                        .map(|s| s.etag.to_string()),
                    None => None,
                },
            };
            let ok = match op {
                StateOp::Set { precondition, .. } => match precondition {
                    None => true,
                    Some(Precondition::EtagMatches(e)) => current.as_deref() == Some(e.as_str()),
                    Some(Precondition::Absent) => current.is_none(),
                },
                StateOp::Delete { etag, .. } => etag
                    .as_ref()
                    .is_none_or(|e| current.as_deref() == Some(e.as_str())),
            };
            if !ok {
                return Err(CapError::Conflict(format!(
                    "precondition failed for key {key:?}"
                )));
            }
            let after = match op {
                StateOp::Set { .. } => Some(String::from("pending")),
                StateOp::Delete { .. } => None,
            };
            overlay.insert(key, after);
        }
    }
    let mut table = txn.open_table(STATE).map_err(redb::Error::from)?;
    for op in ops {
        match op {
            StateOp::Set {
                key,
                value,
                ttl_seconds,
                ..
            } => {
                let stored = Stored {
                    etag: next_counter(txn, "etag")?,
                    expires_at: ttl_seconds.map_or(0, |s| now + u64::from(s) * 1000),
                    value,
                };
                table
                    .insert(full_key(ns, &key).as_str(), stored.encode().as_slice())
                    .map_err(redb::Error::from)?;
            }
            StateOp::Delete { key, .. } => {
                table
                    .remove(full_key(ns, &key).as_str())
                    .map_err(redb::Error::from)?;
            }
        }
    }
    let mut by_topic: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for e in events {
        by_topic.entry(e.topic).or_default().push(e.event);
    }
    for (topic, events) in by_topic {
        log::append(txn, touched, &topic, &events)?;
    }
    Ok(())
}
