//! `todo:platform/state`: key/value state with ETags, TTL, transactions and
//! the outbox. Keys are namespaced by the calling component.

pub mod dapr;
pub mod embedded;
pub mod outbox;

use async_trait::async_trait;
use tracing::instrument;

use crate::capabilities::bindings::todo::platform::state as wit;
use crate::capabilities::{CapError, CapResult, View};
use crate::cloudevent::Event;

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: String,
    pub value: Vec<u8>,
    pub etag: String,
}

/// What must hold for a write to succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum Precondition {
    /// The stored ETag equals this one (a missing key does not match).
    EtagMatches(String),
    /// The key does not exist.
    Absent,
}

#[derive(Debug, Clone)]
pub enum StateOp {
    Set {
        key: String,
        value: Vec<u8>,
        precondition: Option<Precondition>,
        ttl_seconds: Option<u32>,
    },
    Delete {
        key: String,
        etag: Option<String>,
    },
}

impl StateOp {
    pub fn key(&self) -> &str {
        match self {
            StateOp::Set { key, .. } | StateOp::Delete { key, .. } => key,
        }
    }
}

/// An event committed together with a state change.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub topic: String,
    pub event: Event,
}

#[async_trait]
pub trait StateBackend: Send + Sync {
    async fn get_bulk(&self, ns: &str, keys: Vec<String>) -> CapResult<Vec<Option<Item>>>;
    /// Applies all operations and publishes all events, or nothing.
    async fn transact(
        &self,
        ns: &str,
        ops: Vec<StateOp>,
        events: Vec<OutboxEvent>,
    ) -> CapResult<()>;
}

/// Keys are non-empty, bounded, and may not contain the namespace separator.
pub fn check_key(key: &str) -> CapResult<()> {
    if key.is_empty() || key.len() > 1024 || key.contains('\0') || key.contains("||") {
        return Err(CapError::Invalid(format!(
            "state key {key:?} must be 1..=1024 bytes without NUL or `||`"
        )));
    }
    Ok(())
}

fn to_wit(item: Item) -> wit::Item {
    wit::Item {
        key: item.key,
        value: item.value,
        etag: item.etag,
    }
}

fn from_wit_precondition(p: Option<wit::Precondition>) -> Option<Precondition> {
    p.map(|p| match p {
        wit::Precondition::EtagMatches(etag) => Precondition::EtagMatches(etag),
        wit::Precondition::Absent => Precondition::Absent,
    })
}

fn from_wit_op(op: wit::Operation) -> StateOp {
    match op {
        wit::Operation::Set((key, value, opts)) => StateOp::Set {
            key,
            value,
            precondition: from_wit_precondition(opts.precondition),
            ttl_seconds: opts.ttl_seconds,
        },
        wit::Operation::Delete((key, etag)) => StateOp::Delete { key, etag },
    }
}

impl wit::Host for View<'_, dyn StateBackend> {
    #[instrument(skip_all, fields(component = %self.component, key = %key))]
    async fn get(&mut self, key: String) -> CapResult<Option<wit::Item>> {
        check_key(&key)?;
        let mut items = self.backend.get_bulk(self.component, vec![key]).await?;
        Ok(items.pop().flatten().map(to_wit))
    }

    #[instrument(skip_all, fields(component = %self.component, keys = keys.len()))]
    async fn get_bulk(&mut self, keys: Vec<String>) -> CapResult<Vec<Option<wit::Item>>> {
        keys.iter().try_for_each(|k| check_key(k))?;
        let items = self.backend.get_bulk(self.component, keys).await?;
        Ok(items.into_iter().map(|i| i.map(to_wit)).collect())
    }

    #[instrument(skip_all, fields(component = %self.component, key = %key))]
    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        options: wit::SetOptions,
    ) -> CapResult<()> {
        let op = StateOp::Set {
            key,
            value,
            precondition: from_wit_precondition(options.precondition),
            ttl_seconds: options.ttl_seconds,
        };
        self.transact_ops(vec![op], Vec::new()).await
    }

    #[instrument(skip_all, fields(component = %self.component, key = %key))]
    async fn delete(&mut self, key: String, etag: Option<String>) -> CapResult<()> {
        self.transact_ops(vec![StateOp::Delete { key, etag }], Vec::new())
            .await
    }

    #[instrument(skip_all, fields(component = %self.component, ops = operations.len(), events = events.len()))]
    async fn transact(
        &mut self,
        operations: Vec<wit::Operation>,
        events: Vec<wit::OutboxEvent>,
    ) -> CapResult<()> {
        let ops = operations.into_iter().map(from_wit_op).collect();
        let events = events
            .into_iter()
            .map(|e| OutboxEvent {
                topic: e.topic,
                event: e.event.into(),
            })
            .collect();
        self.transact_ops(ops, events).await
    }
}

impl View<'_, dyn StateBackend> {
    async fn transact_ops(&mut self, ops: Vec<StateOp>, events: Vec<OutboxEvent>) -> CapResult<()> {
        ops.iter().try_for_each(|op| check_key(op.key()))?;
        for e in &events {
            crate::capabilities::pubsub::check_topic(&e.topic)?;
            crate::cloudevent::validate(&e.event).map_err(CapError::Invalid)?;
        }
        let topics: Vec<String> = events.iter().map(|e| e.topic.clone()).collect();
        self.backend.transact(self.component, ops, events).await?;
        for topic in topics {
            crate::capabilities::pubsub::count_out(self.component, &topic, 1);
        }
        Ok(())
    }
}
