//! Scheduling over Dapr's Jobs API (`/v1.0-alpha1/jobs/<name>`). Dapr calls
//! back only the app that scheduled a job, at `POST /job/<name>`, with the
//! job's data; the data carries our job record so the callback can tell
//! the due instant and the `get` answer is exact.

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::capabilities::dapr_client::{DaprClient, segment};
use crate::capabilities::scheduler::{Job, Repeat, SchedulerBackend};
use crate::capabilities::{CapError, CapResult};

pub struct DaprScheduler {
    pub dapr: DaprClient,
}

/// The job record stored as the Dapr job's data.
pub fn job_data(job: &Job) -> Value {
    json!({
        "name": job.name,
        "due": job.due,
        "every_ms": job.repeat.as_ref().map(|r| r.every_ms),
        "times": job.repeat.as_ref().and_then(|r| r.times),
        "data": base64::engine::general_purpose::STANDARD.encode(&job.data),
    })
}

/// Reads a job record back from a `get` answer (`{"data": {"@type": ...,
/// "value": record}}`) or a callback body (the record, possibly as a JSON
/// string): whichever wrapping Dapr used.
pub fn job_from_data(v: &Value) -> Option<Job> {
    if let Some(s) = v.as_str() {
        return job_from_data(&serde_json::from_str(s).ok()?);
    }
    if v.get("due").is_none() {
        return v
            .get("data")
            .or_else(|| v.get("value"))
            .and_then(job_from_data);
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(v["data"].as_str().unwrap_or_default())
        .ok()?;
    Some(Job {
        name: v["name"].as_str()?.to_owned(),
        due: v["due"].as_u64()?,
        repeat: v["every_ms"].as_u64().map(|every_ms| Repeat {
            every_ms,
            times: v["times"].as_u64().map(|t| t as u32),
        }),
        data,
    })
}

/// Between two attempts of a job whose callback failed.
const JOB_RETRY_INTERVAL: &str = "1s";

#[async_trait]
impl SchedulerBackend for DaprScheduler {
    async fn schedule(&self, _owner: &str, job: Job) -> CapResult<()> {
        let due = Utc
            .timestamp_millis_opt(job.due as i64)
            .single()
            .ok_or_else(|| CapError::Invalid(format!("due {} is out of range", job.due)))?;
        let mut body = json!({
            "dueTime": due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": job_data(&job),
            "overwrite": true,
            // The Scheduler's default gives up after 3 retries 1 s apart: a
            // host restarting for longer would lose the job. Retry until the
            // app takes it (the handler only fails on transient trouble).
            "failurePolicy": {"constant": {"interval": JOB_RETRY_INTERVAL}},
        });
        if let Some(r) = &job.repeat {
            body["schedule"] = format!("@every {}ms", r.every_ms).into();
            if let Some(times) = r.times {
                body["repeats"] = times.into();
            }
        }
        let req = self
            .dapr
            .request(
                Method::POST,
                &format!("/v1.0-alpha1/jobs/{}", segment(&job.name)),
            )
            .json(&body);
        self.dapr.send(req, "schedule job").await?;
        Ok(())
    }

    async fn cancel(&self, owner: &str, name: &str) -> CapResult<()> {
        // Dapr deletes a missing job without complaint; the contract says
        // `not-found`, so look first.
        if self.get(owner, name).await?.is_none() {
            return Err(CapError::NotFound);
        }
        let req = self.dapr.request(
            Method::DELETE,
            &format!("/v1.0-alpha1/jobs/{}", segment(name)),
        );
        self.dapr.send(req, "delete job").await?;
        Ok(())
    }

    async fn get(&self, _owner: &str, name: &str) -> CapResult<Option<Job>> {
        let req = self
            .dapr
            .request(Method::GET, &format!("/v1.0-alpha1/jobs/{}", segment(name)));
        match self.dapr.send(req, "get job").await {
            Ok(resp) => {
                let v: Value = resp.json().await.unwrap_or_default();
                Ok(job_from_data(&v))
            }
            Err(CapError::NotFound) => Ok(None),
            // Dapr reports an unknown job as an internal error naming it.
            Err(CapError::Unavailable(m)) if m.contains("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_data_round_trips_directly_and_wrapped() {
        let job = Job {
            name: "j".into(),
            due: 1_700_000_000_000,
            repeat: Some(Repeat {
                every_ms: 500,
                times: Some(3),
            }),
            data: vec![1, 2, 3],
        };
        let data = job_data(&job);
        assert_eq!(job_from_data(&data), Some(job.clone()));
        assert_eq!(
            job_from_data(&json!({"data": data.clone()})),
            Some(job.clone())
        );
        assert_eq!(
            job_from_data(&json!({"data": data.to_string()})),
            Some(job.clone())
        );
        let get_answer = json!({"name": "j", "data": {
            "@type": "type.googleapis.com/google.protobuf.Value", "value": data}});
        assert_eq!(job_from_data(&get_answer), Some(job));
    }
}
