//! `todo:platform/pubsub`: publish CloudEvents to topics.

pub mod dapr;
pub mod embedded;

use async_trait::async_trait;
use tracing::instrument;

use crate::capabilities::bindings::CloudEvent as WitEvent;
use crate::capabilities::bindings::todo::platform::pubsub as wit;
use crate::capabilities::{CapError, CapResult, View};
use crate::cloudevent::Event;

#[async_trait]
pub trait PubSubBackend: Send + Sync {
    /// Durably accepts every event or none.
    async fn publish(&self, publisher: &str, topic: &str, events: Vec<Event>) -> CapResult<()>;
}

/// Topic names are what Kafka accepts (the manifest's rule, `app::check_topic`).
pub fn check_topic(topic: &str) -> CapResult<()> {
    crate::app::check_topic(topic).map_err(CapError::Invalid)
}

pub fn count_out(component: &str, topic: &str, n: usize) {
    crate::ops::metrics::METRICS
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

impl wit::Host for View<'_, dyn PubSubBackend> {
    #[instrument(skip_all, fields(component = %self.component, topic = %topic))]
    async fn publish(&mut self, topic: String, event: WitEvent) -> CapResult<()> {
        check_topic(&topic)?;
        let events = prepare(vec![event])?;
        self.backend.publish(self.component, &topic, events).await?;
        count_out(self.component, &topic, 1);
        Ok(())
    }

    #[instrument(skip_all, fields(component = %self.component, topic = %topic, events = events.len()))]
    async fn publish_batch(&mut self, topic: String, events: Vec<WitEvent>) -> CapResult<()> {
        check_topic(&topic)?;
        let events = prepare(events)?;
        let n = events.len();
        self.backend.publish(self.component, &topic, events).await?;
        count_out(self.component, &topic, n);
        Ok(())
    }
}
