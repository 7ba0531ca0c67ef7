//! Embedded job firing: sleeps until the earliest job is due (never before),
//! claims it with a lease, runs the owner's job handler, then reschedules a
//! repeat or removes a one-off. A job that came due while the host was down
//! fires once at start-up, marked late.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;

use crate::capabilities::CapResult;
use crate::capabilities::bindings::job_handler::FiredJob;
use crate::capabilities::embedded_store::{Db, Touched};
use crate::capabilities::scheduler::embedded::{self as jobs, StoredJob};
use crate::engine::{Runtime, now_ms};

/// How long a claimed firing may run before another attempt starts.
const MIN_LEASE_MS: u64 = 30_000;
const MAX_RETRY_MS: u64 = 60_000;

pub fn start(runtime: &Arc<Runtime>, db: &Db) {
    let (runtime, db) = (runtime.clone(), db.clone());
    tokio::spawn(async move { timer_loop(runtime, db).await });
}

async fn timer_loop(runtime: Arc<Runtime>, db: Db) {
    let changed = db.job_changes();
    loop {
        let wake = changed.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let now = now_ms();
        let due = match db.read(move |txn| jobs::due_before(txn, now, 256)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("reading jobs: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if !due.is_empty() {
            claim_and_fire(&runtime, &db, due).await;
            continue;
        }
        let next = db.read(jobs::next_fire).await.ok().flatten();
        match next {
            None => wake.await,
            Some(at) => {
                // Sleep to the instant, then re-check the wall clock: tokio's
                // timer never fires early, and the loop re-reads before firing.
                let wait = Duration::from_millis(at.saturating_sub(now_ms()));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = &mut wake => {}
                }
            }
        }
    }
}

/// Moves each due job's index entry to the end of a lease, all in one
/// write transaction (one commit per wake-up rather than per job, so a
/// burst of due jobs is not serialized behind one commit each), then fires
/// each on its own task so one slow handler does not delay the others.
async fn claim_and_fire(runtime: &Arc<Runtime>, db: &Db, due: Vec<(u64, String, String)>) {
    let leases: Vec<u64> = due
        .iter()
        .map(|(_, owner, _)| {
            runtime
                .slot(owner)
                .map(|s| s.def.limits.timeout.as_millis() as u64 * 2)
                .unwrap_or(0)
                .max(MIN_LEASE_MS)
        })
        .collect();
    let claimed = db
        .write(move |txn, touched| {
            let mut claimed = Vec::new();
            for ((at, owner, name), lease) in due.into_iter().zip(leases) {
                let Some(job) = jobs::load(txn, &owner, &name)? else {
                    continue;
                };
                if job.fire_at != at {
                    continue;
                }
                let mut leased = job.clone();
                leased.fire_at = now_ms() + lease;
                jobs::store(txn, touched, &owner, Some(&job), &leased)?;
                claimed.push((owner, leased));
            }
            Ok(claimed)
        })
        .await;
    let claimed = match claimed {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::error!("claiming due jobs: {e}");
            return;
        }
    };
    for (owner, job) in claimed {
        let (runtime, db) = (runtime.clone(), db.clone());
        let span = tracing::info_span!("job", component = %owner, job = %job.job.name);
        tokio::spawn(async move { fire(&runtime, &db, owner, job).await }.instrument(span));
    }
}

async fn fire(runtime: &Runtime, db: &Db, owner: String, job: StoredJob) {
    let fired_at = now_ms();
    let late = super::is_late(runtime.started_at, job.occurrence, fired_at);
    let fired = FiredJob {
        name: job.job.name.clone(),
        due: job.occurrence,
        fired_at,
        late,
        data: job.job.data.clone(),
    };
    let ok = match runtime.run_job(&owner, fired).await {
        Ok(Ok(())) => true,
        Ok(Err(why)) => {
            tracing::warn!("job handler failed: {why}");
            false
        }
        Err(e) => {
            tracing::warn!("job call failed: {e}");
            false
        }
    };
    let result = db
        .write(move |txn, touched| complete(txn, touched, &owner, job, ok))
        .await;
    if let Err(e) = result {
        tracing::error!("completing job: {e}");
    }
}

/// Applies the outcome unless the job was replaced or cancelled meanwhile.
fn complete(
    txn: &redb::WriteTransaction,
    touched: &mut Touched,
    owner: &str,
    claimed: StoredJob,
    ok: bool,
) -> CapResult<()> {
    let Some(current) = jobs::load(txn, owner, &claimed.job.name)? else {
        return Ok(());
    };
    if current.version != claimed.version {
        return Ok(());
    }
    let mut next = current.clone();
    if !ok {
        next.attempts += 1;
        let backoff = (500u64 << next.attempts.min(7)).min(MAX_RETRY_MS);
        next.fire_at = now_ms() + backoff;
        return jobs::store(txn, touched, owner, Some(&current), &next);
    }
    next.fired += 1;
    next.attempts = 0;
    let again = next
        .job
        .repeat
        .as_ref()
        .filter(|r| r.times.is_none_or(|t| next.fired < t));
    match again {
        Some(r) => {
            let occurrence = super::next_occurrence(next.occurrence, r.every_ms, now_ms());
            next.occurrence = occurrence;
            next.fire_at = occurrence;
            jobs::store(txn, touched, owner, Some(&current), &next)
        }
        None => jobs::remove(txn, touched, owner, Some(&current)),
    }
}
