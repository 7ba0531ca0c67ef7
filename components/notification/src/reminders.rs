//! One job per reminder instant, and what happens when it fires.
//!
//! State:
//! - `reminder:<job>` = the scheduled reminder (from its `scheduled`
//!   event) while it still applies; the job fires only if it is there.
//! - `cancelled:<job>` = a tombstone (kept 30 days), so a `scheduled` that
//!   arrives after its own `cancelled` (redelivery) is not revived.
//!
//! The job name is a function of (task, reminder, instant): a redelivered
//! `scheduled` replaces the same job; a moved due is another instant,
//! hence another job (chat-api cancels the old one).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use todo_domain::topics::{REMINDER_EVENTS, event_type};
use todo_domain::{
    CloudEvent, EventOrigin, HandlerError, KeyValue, KvError, Op, OutboxEvent, SetOptions,
};

use todo_domain::Jobs;

/// How long a cancellation is remembered against late `scheduled` events.
pub const TOMBSTONE_TTL_SECONDS: u32 = 30 * 24 * 60 * 60;

/// What a `scheduled` / `cancelled` event says about one reminder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReminderRef {
    task_id: String,
    reminder: Value,
    at: String,
}

/// A scheduled reminder as kept until it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    user_id: String,
    correlation_id: String,
    task_id: String,
    title: String,
    due: Value,
    due_at: Value,
    reminder: Value,
    /// The instant it must fire (RFC 3339).
    at: String,
}

impl ReminderRef {
    fn at(&self) -> Result<DateTime<Utc>, HandlerError> {
        DateTime::parse_from_rfc3339(&self.at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| HandlerError::Drop(format!("`at` is not RFC 3339: {e}")))
    }

    /// `rem.<task>.<reminder>.<unix ms>`: the alphabet of job names.
    fn job_name(&self) -> Result<String, HandlerError> {
        let reminder = self.reminder["id"]
            .as_str()
            .ok_or_else(|| HandlerError::Drop("reminder has no id".to_owned()))?;
        let safe = |s: &str| {
            !s.is_empty()
                && s.len() <= 100
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if !safe(&self.task_id) || !safe(reminder) {
            return Err(HandlerError::Drop(
                "task or reminder id unusable in a job name".to_owned(),
            ));
        }
        Ok(format!(
            "rem.{}.{reminder}.{}",
            self.task_id,
            self.at()?.timestamp_millis()
        ))
    }
}

fn pending_key(job: &str) -> String {
    format!("reminder:{job}")
}

fn tombstone_key(job: &str) -> String {
    format!("cancelled:{job}")
}

fn retry(e: KvError) -> HandlerError {
    HandlerError::Retry(format!("state or scheduler unavailable: {e}"))
}

/// Handles one event of `reminder-events`; other types are not ours.
pub fn on_event(
    kv: &impl KeyValue,
    jobs: &impl Jobs,
    event: &CloudEvent,
) -> Result<(), HandlerError> {
    match event.ty.as_str() {
        event_type::REMINDER_SCHEDULED => scheduled(kv, jobs, event),
        event_type::REMINDER_CANCELLED => cancelled(kv, jobs, event),
        event_type::REMINDER_DELIVERED => crate::outcomes::record(kv, event, false),
        event_type::REMINDER_FAILED => crate::outcomes::record(kv, event, true),
        _ => Ok(()),
    }
}

fn scheduled(kv: &impl KeyValue, jobs: &impl Jobs, event: &CloudEvent) -> Result<(), HandlerError> {
    let data: Value = event
        .data_as()
        .map_err(|e| HandlerError::Drop(format!("payload is not JSON: {e}")))?;
    let reminder: ReminderRef = serde_json::from_value(data.clone())
        .map_err(|e| HandlerError::Drop(format!("not a scheduled reminder: {e}")))?;
    let job = reminder.job_name()?;
    let at = reminder.at()?;
    if kv.get(&tombstone_key(&job)).map_err(retry)?.is_some() {
        return Ok(());
    }
    let pending = Pending {
        user_id: event.user_id().unwrap_or_default().to_owned(),
        correlation_id: event.correlation_id().unwrap_or_default().to_owned(),
        task_id: reminder.task_id.clone(),
        title: data["title"].as_str().unwrap_or_default().to_owned(),
        due: data["due"].clone(),
        due_at: data["due_at"].clone(),
        reminder: reminder.reminder.clone(),
        at: reminder.at.clone(),
    };
    let bytes = serde_json::to_vec(&pending).expect("pending reminders serialize");
    // The record first: a job that fires finds what to publish. Scheduling
    // the same name again replaces the job, so a redelivery is harmless.
    kv.set(&pending_key(&job), &bytes, SetOptions::default())
        .map_err(retry)?;
    let due_ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    jobs.schedule(&job, due_ms, job.as_bytes()).map_err(retry)
}

fn cancelled(kv: &impl KeyValue, jobs: &impl Jobs, event: &CloudEvent) -> Result<(), HandlerError> {
    let reminder: ReminderRef = event
        .data_as()
        .map_err(|e| HandlerError::Drop(format!("not a cancelled reminder: {e}")))?;
    let job = reminder.job_name()?;
    kv.transact(
        vec![
            Op::delete(pending_key(&job), None),
            Op::Set {
                key: tombstone_key(&job),
                value: b"1".to_vec(),
                options: SetOptions {
                    precondition: None,
                    ttl_seconds: Some(TOMBSTONE_TTL_SECONDS),
                },
            },
        ],
        Vec::new(),
    )
    .map_err(retry)?;
    match jobs.cancel(&job) {
        Ok(()) | Err(KvError::NotFound) => Ok(()),
        Err(e) => Err(retry(e)),
    }
}

/// A fired job, as the job handler receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub name: String,
    /// The instant it was due and when it fired (Unix ms).
    pub due: u64,
    pub fired_at: u64,
    /// It came due while the host was down.
    pub late: bool,
}

fn rfc3339_ms(ms: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Publishes `reminder.triggered` for a fired job if its reminder still
/// applies, and forgets it in the same transaction: a job that fires
/// again later (a retried firing) finds nothing to publish.
///
/// The delete is not guarded by the record's ETag: state stores such as
/// Redis cannot roll back a guarded multi-key transaction (the outbox adds
/// a key). Two firings racing past the read would both publish, so the
/// event's id is derived from the job: consumers deduplicate by id, and
/// the reminder is triggered once in effect.
pub fn on_job(kv: &impl KeyValue, job: &Fired) -> Result<(), String> {
    let key = pending_key(&job.name);
    let Some((bytes, _)) = kv.get(&key).map_err(|e| e.to_string())? else {
        // Cancelled, or already published.
        return Ok(());
    };
    let pending: Pending = serde_json::from_slice(&bytes).map_err(|e| format!("{key}: {e}"))?;
    let late_ms = job.fired_at.saturating_sub(job.due);
    let data = json!({
        "task_id": pending.task_id,
        "title": pending.title,
        "due": pending.due,
        "due_at": pending.due_at,
        "reminder": pending.reminder,
        "at": pending.at,
        "fired_at": rfc3339_ms(job.fired_at),
        "late": job.late,
        "late_ms": late_ms,
    });
    let correlation = if pending.correlation_id.is_empty() {
        job.name.clone()
    } else {
        pending.correlation_id.clone()
    };
    let mut event = EventOrigin::new(crate::SOURCE, &pending.user_id, correlation)
        .event(event_type::REMINDER_TRIGGERED)
        .subject(&pending.task_id)
        .data(&data)
        .map_err(|e| e.to_string())?
        .build();
    event.id = format!("triggered.{}", job.name);
    kv.transact(
        vec![Op::delete(key, None)],
        vec![OutboxEvent {
            topic: REMINDER_EVENTS.to_owned(),
            event,
        }],
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
