//! `todo:platform/pubsub`: publish CloudEvents to topics.

use async_trait::async_trait;
use tracing::instrument;

use super::{CapError, CapResult};
use crate::bindings::CloudEvent as WitEvent;
use crate::bindings::todo::platform::pubsub as wit;
use crate::cloudevent::Event;
use crate::store::HostState;

#[async_trait]
pub trait PubSubBackend: Send + Sync {
    /// Durably accepts every event or none.
    async fn publish(&self, publisher: &str, topic: &str, events: Vec<Event>) -> CapResult<()>;
}

/// Topic names are what Kafka accepts, so both backends agree.
pub fn check_topic(topic: &str) -> CapResult<()> {
    let ok = !topic.is_empty()
        && topic.len() <= 249
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(CapError::Invalid(format!(
            "topic {topic:?} must be 1..=249 of [A-Za-z0-9._-]"
        )))
    }
}

pub fn count_out(component: &str, topic: &str, n: usize) {
    crate::metrics::METRICS
        .events_out
        .with_label_values(&[component, topic])
        .inc_by(n as u64);
}

fn prepare(events: Vec<WitEvent>) -> CapResult<Vec<Event>> {
    events
        .into_iter()
        .map(|e| {
            let e = Event::from(e);
            crate::cloudevent::validate(&e).map_err(CapError::Invalid)?;
            Ok(e)
        })
        .collect()
}

impl wit::Host for HostState {
    #[instrument(skip_all, fields(component = %self.component, topic = %topic))]
    async fn publish(&mut self, topic: String, event: WitEvent) -> CapResult<()> {
        check_topic(&topic)?;
        let events = prepare(vec![event])?;
        self.backends
            .pubsub
            .publish(&self.component, &topic, events)
            .await?;
        count_out(&self.component, &topic, 1);
        Ok(())
    }

    #[instrument(skip_all, fields(component = %self.component, topic = %topic, events = events.len()))]
    async fn publish_batch(&mut self, topic: String, events: Vec<WitEvent>) -> CapResult<()> {
        check_topic(&topic)?;
        let events = prepare(events)?;
        let n = events.len();
        self.backends
            .pubsub
            .publish(&self.component, &topic, events)
            .await?;
        count_out(&self.component, &topic, n);
        Ok(())
    }
}
