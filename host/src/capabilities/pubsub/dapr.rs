//! Pub/sub over Dapr: events travel as CloudEvents
//! (`application/cloudevents+json`), which Dapr passes through unwrapped.
//!
//! Every event is keyed by its user (Dapr's `partitionKey`, the Kafka
//! message key), so one user's events stay in one partition and reach each
//! consumer in the order they were published; different users still spread
//! over every partition.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;

use crate::capabilities::CapResult;
use crate::capabilities::dapr_client::{DaprClient, segment};
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
            let path = match partition_key(event) {
                Some(key) => format!(
                    "/v1.0/publish/{pubsub}/{topic}?metadata.partitionKey={}",
                    segment(key)
                ),
                None => format!("/v1.0/publish/{pubsub}/{topic}"),
            };
            let req = self
                .dapr
                .request(Method::POST, &path)
                .header("content-type", "application/cloudevents+json")
                .body(crate::cloudevent::to_bytes(event));
            self.dapr.send(req, "publish").await?;
            return Ok(());
        }
        let entries: Vec<_> = events
            .iter()
            .map(|e| {
                let mut entry = json!({
                    "entryId": e.id,
                    "event": crate::cloudevent::to_value(e),
                    "contentType": "application/cloudevents+json",
                });
                if let Some(key) = partition_key(e) {
                    entry["metadata"] = json!({ "partitionKey": key });
                }
                entry
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

/// The user an event is about (its `userid` extension); events without one
/// (platform events) go wherever the broker puts them.
fn partition_key(event: &Event) -> Option<&str> {
    event.user_id().filter(|u| !u.is_empty())
}
