//! Topic delivery in pod mode: the sidecar asks for the subscription list
//! (`GET /dapr/subscribe`) and delivers each event to `POST
//! /events/{topic}`; the answer follows the trigger's policy: SUCCESS,
//! RETRY (Dapr redelivers) or DROP (Dapr dead-letters).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tracing::Instrument as _;

use super::Verdict;
use crate::cloudevent::Event;
use crate::engine::Runtime;
use crate::triggers::http::SidecarAuth;

pub struct DaprTopics {
    pub runtime: Arc<Runtime>,
    pub component: String,
    pub pubsub_name: String,
    /// For `broadcast` subscriptions (a consumer group per pod).
    pub broadcast_pubsub_name: String,
    pub auth: SidecarAuth,
    /// Failed deliveries per (topic, event id). Dapr retries without limit
    /// (dapr/resiliency.yaml); the host answers DROP, which dead-letters
    /// the event, once the trigger's `max_attempts` are used up.
    attempts: Mutex<HashMap<(String, String), u32>>,
}

impl DaprTopics {
    pub fn new(
        runtime: Arc<Runtime>,
        component: String,
        names: &crate::config::DaprNames,
        auth: SidecarAuth,
    ) -> Self {
        DaprTopics {
            runtime,
            component,
            pubsub_name: names.pubsub.clone(),
            broadcast_pubsub_name: names.broadcast_pubsub.clone(),
            auth,
            attempts: Mutex::default(),
        }
    }

    pub fn routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/dapr/subscribe", get(subscriptions))
            .route("/events/{topic}", post(event))
            .with_state(self)
    }

    /// The subscriptions of this component, from spin.toml.
    pub fn subscription_list(&self) -> Value {
        let subs: Vec<Value> = self
            .runtime
            .manifest
            .topics
            .iter()
            .flat_map(|t| {
                let pubsub = if t.broadcast {
                    &self.broadcast_pubsub_name
                } else {
                    &self.pubsub_name
                };
                t.topics.iter().map(move |topic| {
                    json!({
                        "pubsubname": pubsub,
                        "topic": topic,
                        "route": format!("/events/{topic}"),
                        "deadLetterTopic": t.dead_letter_topic,
                    })
                })
            })
            .collect();
        Value::Array(subs)
    }

    /// Delivers one event to the component: what to answer Dapr.
    async fn handle(&self, topic: &str, event: Event) -> &'static str {
        let Some(trigger) = self
            .runtime
            .manifest
            .topics
            .iter()
            .find(|t| t.topics.iter().any(|t| t == topic))
        else {
            tracing::warn!(topic = %topic, "event for a topic this component does not subscribe to");
            return "DROP";
        };
        let key = (topic.to_owned(), event.id.clone());
        let delivered = self
            .runtime
            .deliver_event(&self.component, topic, event)
            .await;
        // One lock per delivery: the count is kept only for a retry.
        let (attempt, verdict) = {
            let mut attempts = self.attempts.lock().expect("attempts lock");
            let attempt = attempts.get(&key).map_or(1, |n| n + 1);
            let verdict = super::judge(trigger, attempt, delivered);
            if matches!(verdict, Verdict::Retry { .. }) {
                attempts.insert(key, attempt);
            } else {
                attempts.remove(&key);
            }
            (attempt, verdict)
        };
        match verdict {
            Verdict::Retry { why, .. } => {
                tracing::warn!(topic = %topic, attempt, "delivery failed, Dapr retries: {why}");
                "RETRY"
            }
            Verdict::DeadLetter(reason) => {
                super::dead_lettered(trigger, topic, &reason);
                "DROP"
            }
            Verdict::Handled => "SUCCESS",
        }
    }
}

async fn subscriptions(State(topics): State<Arc<DaprTopics>>) -> Response {
    axum::Json(topics.subscription_list()).into_response()
}

fn status(s: &str) -> Response {
    axum::Json(json!({"status": s})).into_response()
}

async fn event(
    State(topics): State<Arc<DaprTopics>>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !topics.auth.allows(&headers) {
        return SidecarAuth::refusal();
    }
    let event = match crate::cloudevent::from_bytes(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(topic = %topic, "undecodable event dropped: {e}");
            return status("DROP");
        }
    };
    let span = tracing::info_span!(
        "event",
        component = %topics.component,
        topic = %topic,
        event = %event.id,
        correlation_id = event.correlation_id().unwrap_or_default()
    );
    let started = std::time::Instant::now();
    let outcome = topics.handle(&topic, event).instrument(span.clone()).await;
    tracing::info!(
        target: crate::ops::correlation::ACCESS,
        parent: &span,
        outcome,
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
        "event"
    );
    status(outcome)
}
