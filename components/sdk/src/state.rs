//! `KeyValue` over the host's `state` capability.

use crate::bindings::todo::platform::state as wit;
use crate::types::{error_from_wit, event_to_wit};
use todo_domain::kv::{KeyValue, KvError, Op, OutboxEvent, Precondition, SetOptions, Versioned};

/// Stateless: the host scopes keys to the calling component.
#[derive(Debug, Clone, Copy, Default)]
pub struct WitState;

fn options_to_wit(options: SetOptions) -> wit::SetOptions {
    wit::SetOptions {
        precondition: options.precondition.map(|p| match p {
            Precondition::EtagMatches(etag) => wit::Precondition::EtagMatches(etag),
            Precondition::Absent => wit::Precondition::Absent,
        }),
        ttl_seconds: options.ttl_seconds,
    }
}

impl KeyValue for WitState {
    fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        wit::get(key)
            .map(|item| item.map(|item| (item.value, item.etag)))
            .map_err(error_from_wit)
    }

    fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Versioned>>, KvError> {
        let items = wit::get_bulk(keys).map_err(error_from_wit)?;
        Ok(items
            .into_iter()
            .map(|item| item.map(|item| (item.value, item.etag)))
            .collect())
    }

    fn set(&self, key: &str, value: &[u8], options: SetOptions) -> Result<(), KvError> {
        wit::set(key, value, &options_to_wit(options)).map_err(error_from_wit)
    }

    fn delete(&self, key: &str, etag: Option<&str>) -> Result<(), KvError> {
        wit::delete(key, etag).map_err(error_from_wit)
    }

    fn transact(&self, ops: Vec<Op>, events: Vec<OutboxEvent>) -> Result<(), KvError> {
        let ops: Vec<wit::Operation> = ops
            .into_iter()
            .map(|op| match op {
                Op::Set {
                    key,
                    value,
                    options,
                } => wit::Operation::Set((key, value, options_to_wit(options))),
                Op::Delete { key, etag } => wit::Operation::Delete((key, etag)),
            })
            .collect();
        let events: Vec<wit::OutboxEvent> = events
            .into_iter()
            .map(|e| wit::OutboxEvent {
                topic: e.topic,
                event: event_to_wit(e.event),
            })
            .collect();
        wit::transact(&ops, &events).map_err(error_from_wit)
    }
}
