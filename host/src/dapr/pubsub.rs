//! Pub/sub over Dapr: events travel as CloudEvents
//! (`application/cloudevents+json`), which Dapr passes through unwrapped.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;

use super::{DaprClient, segment};
use crate::capabilities::CapResult;
use crate::capabilities::pubsub::PubSubBackend;
use crate::cloudevent::Event;

pub struct DaprPubSub {
    pub dapr: DaprClient,
}

#[async_trait]
impl PubSubBackend for DaprPubSub {
    async fn publish(&self, _publisher: &str, topic: &str, events: Vec<Event>) -> CapResult<()> {
        let pubsub = segment(&self.dapr.names.pubsub);
        let topic = segment(topic);
        if let [event] = events.as_slice() {
            let req = self
                .dapr
                .request(Method::POST, &format!("/v1.0/publish/{pubsub}/{topic}"))
                .header("content-type", "application/cloudevents+json")
                .body(crate::cloudevent::to_bytes(event));
            self.dapr.send(req, "publish").await?;
            return Ok(());
        }
        let entries: Vec<_> = events
            .iter()
            .map(|e| {
                json!({
                    "entryId": e.id,
                    "event": crate::cloudevent::to_value(e),
                    "contentType": "application/cloudevents+json",
                })
            })
            .collect();
        let req = self
            .dapr
            .request(
                Method::POST,
                &format!("/v1.0-alpha1/publish/bulk/{pubsub}/{topic}"),
            )
            .json(&entries);
        let resp = self.dapr.send(req, "bulk publish").await?;
        // A partial failure lists the entries that did not make it.
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        if let Some(failed) = body["failedEntries"].as_array().filter(|f| !f.is_empty()) {
            return Err(crate::capabilities::CapError::Unavailable(format!(
                "dapr bulk publish: {} of {} entries failed: {}",
                failed.len(),
                events.len(),
                failed[0]
            )));
        }
        Ok(())
    }
}
