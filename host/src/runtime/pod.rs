//! Pod mode: one component per host beside a Dapr sidecar. The app port
//! serves the component's HTTP routes plus what Dapr calls: the
//! subscription list, event deliveries and job callbacks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tracing::Instrument as _;

use super::calls::Delivery;
use super::http::{Front, error};
use super::now_ms;
use crate::bindings::job_handler::FiredJob;
use crate::dapr::scheduler::job_from_data;

pub struct Pod {
    pub front: Arc<Front>,
    pub component: String,
    pub pubsub_name: String,
    /// For `broadcast` subscriptions (a consumer group per pod).
    pub broadcast_pubsub_name: String,
    /// `APP_API_TOKEN`: only the sidecar may call the Dapr-facing routes.
    pub app_token: Option<String>,
    /// Failed deliveries per (topic, event id). Dapr retries without limit
    /// (dapr/resiliency.yaml); the host answers DROP, which dead-letters
    /// the event, once the trigger's `max_attempts` are used up.
    pub attempts: Mutex<HashMap<(String, String), u32>>,
}

pub fn router(pod: Arc<Pod>) -> Router {
    let dapr = Router::new()
        .route("/dapr/subscribe", get(subscriptions))
        .route("/events/{topic}", post(event))
        .route("/job/{name}", post(job))
        .with_state(pod.clone());
    dapr.merge(super::http::router(pod.front.clone()))
}

fn authorized(pod: &Pod, headers: &HeaderMap) -> bool {
    super::http::token_ok(pod.app_token.as_deref(), headers)
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong dapr-api-token",
        None,
    )
}

/// The subscriptions of this component, from spin.toml.
pub fn subscription_list(pod: &Pod) -> Value {
    let subs: Vec<Value> = pod
        .front
        .runtime
        .manifest
        .topics
        .iter()
        .flat_map(|t| {
            let pubsub = if t.broadcast {
                &pod.broadcast_pubsub_name
            } else {
                &pod.pubsub_name
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

async fn subscriptions(State(pod): State<Arc<Pod>>) -> Response {
    axum::Json(subscription_list(&pod)).into_response()
}

fn status(s: &str) -> Response {
    axum::Json(json!({"status": s})).into_response()
}

async fn event(
    State(pod): State<Arc<Pod>>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&pod, &headers) {
        return unauthorized();
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
        component = %pod.component,
        topic = %topic,
        event = %event.id,
        correlation_id = event.correlation_id().unwrap_or_default()
    );
    let started = std::time::Instant::now();
    let outcome = handle_event(&pod, &topic, event)
        .instrument(span.clone())
        .await;
    tracing::info!(
        target: crate::correlation::ACCESS,
        parent: &span,
        outcome,
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
        "event"
    );
    status(outcome)
}

/// Delivers one event to the component: what to answer Dapr.
async fn handle_event(pod: &Pod, topic: &str, event: crate::cloudevent::Event) -> &'static str {
    let topic = topic.to_owned();
    let key = (topic.clone(), event.id.clone());
    let delivered = pod
        .front
        .runtime
        .deliver_event(&pod.component, &topic, event)
        .await;
    let why = match delivered {
        Ok(Delivery::Success) => {
            pod.attempts.lock().expect("attempts lock").remove(&key);
            return "SUCCESS";
        }
        Ok(Delivery::Drop(why)) => {
            tracing::warn!(topic = %topic, "handler dropped the event: {why}");
            pod.attempts.lock().expect("attempts lock").remove(&key);
            return "DROP";
        }
        Ok(Delivery::Retry(why)) => why,
        Err(e) => e.to_string(),
    };
    let max_attempts = pod
        .front
        .runtime
        .manifest
        .topics
        .iter()
        .find(|t| t.topics.contains(&topic))
        .map_or(1, |t| t.max_attempts);
    let attempt = {
        let mut attempts = pod.attempts.lock().expect("attempts lock");
        let n = attempts.entry(key.clone()).or_insert(0);
        *n += 1;
        let attempt = *n;
        if attempt >= max_attempts {
            attempts.remove(&key);
        }
        attempt
    };
    if attempt >= max_attempts {
        tracing::warn!(topic = %topic, attempt, "giving up, dead-lettering: {why}");
        crate::metrics::METRICS
            .dead_letters
            .with_label_values(&[pod.component.as_str(), topic.as_str()])
            .inc();
        "DROP"
    } else {
        tracing::warn!(topic = %topic, attempt, "delivery failed, Dapr retries: {why}");
        "RETRY"
    }
}

/// The longest a job callback that came before its instant waits it out.
const MAX_EARLY_WAIT_MS: u64 = 5_000;

async fn job(
    State(pod): State<Arc<Pod>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let span = tracing::info_span!("job", component = %pod.component, job = %name);
    let started = std::time::Instant::now();
    let resp = fire_job(pod, name, headers, body)
        .instrument(span.clone())
        .await;
    tracing::info!(
        target: crate::correlation::ACCESS,
        parent: &span,
        status = resp.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
        "job"
    );
    resp
}

async fn fire_job(pod: Arc<Pod>, name: String, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&pod, &headers) {
        return unauthorized();
    }
    let mut fired_at = now_ms();
    let record = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| job_from_data(&v));
    let Some(job) = record else {
        tracing::error!(job = %name, "job callback without our job record; ignored");
        return StatusCode::OK.into_response();
    };
    // The occurrence this firing stands for: the first due instant, or the
    // latest repeat at or before now.
    let occurrence = match &job.repeat {
        Some(r) if fired_at > job.due => job.due + (fired_at - job.due) / r.every_ms * r.every_ms,
        _ => job.due,
    };
    let name_for_log = name.clone();
    // Never early: the Scheduler's trigger may come a little before the
    // instant we gave it; the callback waits the difference out (a long
    // one is refused so the Scheduler tries again later).
    if occurrence > fired_at {
        let early = occurrence - fired_at;
        if early > MAX_EARLY_WAIT_MS {
            tracing::warn!(job = %name, early_ms = early, "job triggered early; refused");
            return error(
                StatusCode::TOO_EARLY,
                "too_early",
                "job triggered before its instant",
                None,
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(early)).await;
        fired_at = now_ms();
    }
    let fired = FiredJob {
        name,
        due: occurrence,
        fired_at,
        late: pod.front.runtime.is_late(occurrence, fired_at),
        data: job.data,
    };
    // A failure answers 500 so the Scheduler tries again; say why here,
    // as the sidecar only logs the status.
    match pod.front.runtime.run_job(&pod.component, fired).await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(why)) => {
            tracing::warn!(job = %name_for_log, "job handler failed, the Scheduler retries: {why}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "job_failed", &why, None)
        }
        Err(e) => {
            tracing::warn!(job = %name_for_log, "job call failed, the Scheduler retries: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "job_failed",
                &e.to_string(),
                None,
            )
        }
    }
}
