//! `todo:platform/scheduler`: durable named jobs that fire back into the
//! component that scheduled them.

pub mod dapr;
pub mod embedded;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::capabilities::bindings::todo::platform::scheduler as wit;
use crate::capabilities::{CapError, CapResult, View};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeat {
    pub every_ms: u64,
    pub times: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub name: String,
    /// First due instant, Unix ms.
    pub due: u64,
    pub repeat: Option<Repeat>,
    pub data: Vec<u8>,
}

#[async_trait]
pub trait SchedulerBackend: Send + Sync {
    /// Creates or replaces the job `job.name` of `owner`.
    async fn schedule(&self, owner: &str, job: Job) -> CapResult<()>;
    /// `NotFound` if there is no such job.
    async fn cancel(&self, owner: &str, name: &str) -> CapResult<()>;
    async fn get(&self, owner: &str, name: &str) -> CapResult<Option<Job>>;
}

pub fn check_name(name: &str) -> CapResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CapError::Invalid(format!(
            "job name {name:?} must be 1..=256 of [A-Za-z0-9._:-]"
        )))
    }
}

impl From<wit::Job> for Job {
    fn from(j: wit::Job) -> Self {
        Job {
            name: j.name,
            due: j.due,
            repeat: j.repeat.map(|r| Repeat {
                every_ms: r.every_ms,
                times: r.times,
            }),
            data: j.data,
        }
    }
}

impl From<Job> for wit::Job {
    fn from(j: Job) -> Self {
        wit::Job {
            name: j.name,
            due: j.due,
            repeat: j.repeat.map(|r| wit::Repeat {
                every_ms: r.every_ms,
                times: r.times,
            }),
            data: j.data,
        }
    }
}

impl wit::Host for View<'_, dyn SchedulerBackend> {
    #[instrument(skip_all, fields(component = %self.component, job = %job.name))]
    async fn schedule(&mut self, job: wit::Job) -> CapResult<()> {
        check_name(&job.name)?;
        if let Some(r) = &job.repeat
            && (r.every_ms == 0 || r.times == Some(0))
        {
            return Err(CapError::Invalid(
                "repeat needs every-ms >= 1 and times >= 1".into(),
            ));
        }
        self.backend.schedule(self.component, job.into()).await
    }

    #[instrument(skip_all, fields(component = %self.component, job = %name))]
    async fn cancel(&mut self, name: String) -> CapResult<()> {
        check_name(&name)?;
        self.backend.cancel(self.component, &name).await
    }

    #[instrument(skip_all, fields(component = %self.component, job = %name))]
    async fn get(&mut self, name: String) -> CapResult<Option<wit::Job>> {
        check_name(&name)?;
        let job = self.backend.get(self.component, &name).await?;
        Ok(job.map(Into::into))
    }
}
