//! Embedded scheduler: durable jobs plus an index ordered by the instant the
//! timer must next act on each. The firing loop is `triggers::job::embedded`.

use async_trait::async_trait;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::capabilities::embedded_store::{Db, JOB_DUE, JOBS, Touched, next_counter};
use crate::capabilities::scheduler::{Job, SchedulerBackend};
use crate::capabilities::{CapError, CapResult};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredJob {
    pub job: Job,
    /// Nominal due instant of the occurrence that fires next.
    pub occurrence: u64,
    /// When the timer acts next: the occurrence, a retry, or the end of the
    /// lease of a firing in progress (so a crash mid-firing fires again).
    pub fire_at: u64,
    /// Occurrences completed so far.
    pub fired: u32,
    /// Failed attempts of the current occurrence.
    pub attempts: u32,
    /// Changes on every (re)schedule: a firing only completes the version it
    /// claimed, so a job cancelled or replaced mid-firing stays so.
    pub version: u64,
}

fn enc(job: &StoredJob) -> Vec<u8> {
    serde_json::to_vec(job).expect("a job serializes")
}

fn dec(bytes: &[u8]) -> CapResult<StoredJob> {
    serde_json::from_slice(bytes).map_err(|e| CapError::trap(anyhow::anyhow!("corrupt job: {e}")))
}

pub fn load(txn: &WriteTransaction, owner: &str, name: &str) -> CapResult<Option<StoredJob>> {
    let jobs = txn.open_table(JOBS).map_err(redb::Error::from)?;
    let raw = jobs.get((owner, name)).map_err(redb::Error::from)?;
    raw.map(|v| dec(v.value())).transpose()
}

/// Writes `job` and moves its index entry to `job.fire_at`.
pub fn store(
    txn: &WriteTransaction,
    touched: &mut Touched,
    owner: &str,
    previous: Option<&StoredJob>,
    job: &StoredJob,
) -> CapResult<()> {
    remove(txn, touched, owner, previous)?;
    let name = job.job.name.as_str();
    let mut jobs = txn.open_table(JOBS).map_err(redb::Error::from)?;
    jobs.insert((owner, name), enc(job).as_slice())
        .map_err(redb::Error::from)?;
    let mut due = txn.open_table(JOB_DUE).map_err(redb::Error::from)?;
    due.insert((job.fire_at, owner, name), ())
        .map_err(redb::Error::from)?;
    touched.jobs = true;
    Ok(())
}

pub fn remove(
    txn: &WriteTransaction,
    touched: &mut Touched,
    owner: &str,
    job: Option<&StoredJob>,
) -> CapResult<()> {
    let Some(job) = job else { return Ok(()) };
    let name = job.job.name.as_str();
    let mut jobs = txn.open_table(JOBS).map_err(redb::Error::from)?;
    jobs.remove((owner, name)).map_err(redb::Error::from)?;
    let mut due = txn.open_table(JOB_DUE).map_err(redb::Error::from)?;
    due.remove((job.fire_at, owner, name))
        .map_err(redb::Error::from)?;
    touched.jobs = true;
    Ok(())
}

/// Index entries due at or before `now`, earliest first.
pub fn due_before(
    txn: &ReadTransaction,
    now: u64,
    limit: usize,
) -> CapResult<Vec<(u64, String, String)>> {
    let due = txn.open_table(JOB_DUE).map_err(redb::Error::from)?;
    let mut out = Vec::new();
    for entry in due
        .range(..=(now, "\u{10FFFF}", "\u{10FFFF}"))
        .map_err(redb::Error::from)?
    {
        let (k, _) = entry.map_err(redb::Error::from)?;
        let (at, owner, name) = k.value();
        if at > now || out.len() >= limit {
            break;
        }
        out.push((at, owner.to_owned(), name.to_owned()));
    }
    Ok(out)
}

/// The earliest instant the timer must act, if any job exists.
pub fn next_fire(txn: &ReadTransaction) -> CapResult<Option<u64>> {
    let due = txn.open_table(JOB_DUE).map_err(redb::Error::from)?;
    let first = due.first().map_err(redb::Error::from)?;
    Ok(first.map(|(k, _)| k.value().0))
}

pub struct EmbeddedScheduler {
    pub db: Db,
}

#[async_trait]
impl SchedulerBackend for EmbeddedScheduler {
    async fn schedule(&self, owner: &str, job: Job) -> CapResult<()> {
        let owner = owner.to_owned();
        self.db
            .write(move |txn, touched| {
                let previous = load(txn, &owner, &job.name)?;
                let stored = StoredJob {
                    occurrence: job.due,
                    fire_at: job.due,
                    fired: 0,
                    attempts: 0,
                    version: next_counter(txn, "job-version")?,
                    job,
                };
                store(txn, touched, &owner, previous.as_ref(), &stored)
            })
            .await
    }

    async fn cancel(&self, owner: &str, name: &str) -> CapResult<()> {
        let (owner, name) = (owner.to_owned(), name.to_owned());
        self.db
            .write(move |txn, touched| {
                let job = load(txn, &owner, &name)?.ok_or(CapError::NotFound)?;
                remove(txn, touched, &owner, Some(&job))
            })
            .await
    }

    async fn get(&self, owner: &str, name: &str) -> CapResult<Option<Job>> {
        let (owner, name) = (owner.to_owned(), name.to_owned());
        self.db
            .read(move |txn| {
                let jobs = txn.open_table(JOBS).map_err(redb::Error::from)?;
                let raw = jobs
                    .get((owner.as_str(), name.as_str()))
                    .map_err(redb::Error::from)?;
                Ok(raw.map(|v| dec(v.value())).transpose()?.map(|s| s.job))
            })
            .await
    }
}
