//! Job firing in pod mode: the Dapr Scheduler calls `POST /job/{name}` with
//! the job record the scheduler backend stored; a failure answers 500 so
//! the Scheduler tries again.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use tracing::Instrument as _;

use crate::capabilities::bindings::job_handler::FiredJob;
use crate::capabilities::scheduler::dapr::job_from_data;
use crate::engine::{Runtime, now_ms};
use crate::triggers::http::{SidecarAuth, error};

pub struct DaprJobs {
    pub runtime: Arc<Runtime>,
    pub component: String,
    pub auth: SidecarAuth,
}

impl DaprJobs {
    pub fn routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/job/{name}", post(job))
            .with_state(self)
    }
}

/// The longest a job callback that came before its instant waits it out.
const MAX_EARLY_WAIT_MS: u64 = 5_000;

async fn job(
    State(jobs): State<Arc<DaprJobs>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let span = tracing::info_span!("job", component = %jobs.component, job = %name);
    let started = std::time::Instant::now();
    let resp = fire_job(jobs, name, headers, body)
        .instrument(span.clone())
        .await;
    tracing::info!(
        target: crate::ops::correlation::ACCESS,
        parent: &span,
        status = resp.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
        "job"
    );
    resp
}

async fn fire_job(jobs: Arc<DaprJobs>, name: String, headers: HeaderMap, body: Bytes) -> Response {
    if !jobs.auth.allows(&headers) {
        return SidecarAuth::refusal();
    }
    let mut fired_at = now_ms();
    let record = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| job_from_data(&v));
    let Some(job) = record else {
        tracing::error!(job = %name, "job callback without our job record; ignored");
        return StatusCode::OK.into_response();
    };
    let occurrence = super::occurrence_at(job.due, job.repeat.as_ref(), fired_at);
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
        late: super::is_late(jobs.runtime.started_at, occurrence, fired_at),
        data: job.data,
    };
    // A failure answers 500 so the Scheduler tries again; say why here,
    // as the sidecar only logs the status.
    match jobs.runtime.run_job(&jobs.component, fired).await {
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
