//! Reminders each device has yet to acknowledge.
//!
//! `reminders:<user>` lists the reminders that fired in the last
//! [`KEEP_MS`], with the devices that acknowledged each. A device that
//! connects gets those it has not acknowledged (as `reminder` frames, for
//! the ones before its stream starts; later ones are in the stream). Its
//! `ack` publishes `reminder.delivered` once per reminder and device; a
//! reminder no device acknowledged within the configured time publishes
//! `reminder.failed` (a job per reminder checks).

use crate::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use todo_domain::kv::retry_on_conflict;
use todo_domain::topics::{REMINDER_EVENTS, event_type};
use todo_domain::{
    CloudEvent, EventOrigin, Jobs, KeyValue, KvError, Op, OutboxEvent, Precondition, SetOptions,
};

/// How long a fired reminder waits for devices that have not seen it.
pub const KEEP_MS: u64 = 24 * 60 * 60 * 1000;
/// At most this many kept per user (the newest).
const MAX_KEPT: usize = 500;
/// Job name prefix of the acknowledgement deadline.
pub const JOB_PREFIX: &str = "ackwait.";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    /// The `reminder.triggered` event id: what clients acknowledge.
    id: String,
    seq: u64,
    fired_ms: u64,
    event: Value,
    acked: Vec<String>,
    failed: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Kept {
    reminders: Vec<Pending>,
}

fn key(user: &str) -> String {
    format!("reminders:{user}")
}

fn read(kv: &impl KeyValue, user: &str) -> Result<(Kept, Option<String>), KvError> {
    match kv.get(&key(user))? {
        None => Ok((Kept::default(), None)),
        Some((bytes, etag)) => {
            let kept = serde_json::from_slice(&bytes)
                .map_err(|e| KvError::Invalid(format!("reminders: {e}")))?;
            Ok((kept, Some(etag)))
        }
    }
}

fn write_op(user: &str, kept: &Kept, etag: Option<String>) -> Op {
    Op::Set {
        key: key(user),
        value: serde_json::to_vec(kept).expect("reminders serialize"),
        options: SetOptions {
            precondition: Some(Precondition::unchanged(etag)),
            ttl_seconds: Some(u32::try_from(KEEP_MS / 1000 * 2).unwrap_or(u32::MAX)),
        },
    }
}

fn ms_of(rfc3339: Option<&str>) -> Option<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339?).ok()?;
    u64::try_from(t.timestamp_millis()).ok()
}

/// A `reminder.triggered` event as logged in the feed.
pub struct Logged<'a> {
    pub seq: u64,
    pub event: &'a CloudEvent,
    /// Its JSON form (what clients receive).
    pub json: &'a Value,
}

/// Keeps a fired reminder for the user's devices, and schedules its
/// acknowledgement deadline. Idempotent.
pub fn record(
    kv: &impl KeyValue,
    jobs: &impl Jobs,
    user: &str,
    logged: &Logged<'_>,
    now: u64,
    ack_timeout_ms: u64,
) -> Result<(), KvError> {
    let Logged { seq, event, json } = *logged;
    let fired_ms = ms_of(event.time.as_deref()).unwrap_or(now);
    retry_on_conflict(8, || {
        let (mut kept, etag) = read(kv, user)?;
        if kept.reminders.iter().any(|p| p.id == event.id) {
            return Ok(());
        }
        kept.reminders
            .retain(|p| now.saturating_sub(p.fired_ms) <= KEEP_MS);
        kept.reminders.push(Pending {
            id: event.id.clone(),
            seq,
            fired_ms,
            event: json.clone(),
            acked: Vec::new(),
            failed: false,
        });
        let excess = kept.reminders.len().saturating_sub(MAX_KEPT);
        kept.reminders.drain(..excess);
        kv.transact(vec![write_op(user, &kept, etag)], Vec::new())
    })?;
    // Scheduling the same name again replaces the job: harmless.
    jobs.schedule(
        &format!("{JOB_PREFIX}{}", event.id),
        fired_ms + ack_timeout_ms,
        user.as_bytes(),
    )
}

/// The kept reminders `device` has not acknowledged, logged at or before
/// `until` (later ones reach it through its stream), oldest first.
pub fn unacknowledged(
    kv: &impl KeyValue,
    user: &str,
    device: &str,
    until: u64,
    now: u64,
) -> Result<Vec<Value>, KvError> {
    let (kept, _) = read(kv, user)?;
    Ok(kept
        .reminders
        .into_iter()
        .filter(|p| p.seq <= until && now.saturating_sub(p.fired_ms) <= KEEP_MS)
        .filter(|p| !p.acked.iter().any(|d| d == device))
        .map(|p| p.event)
        .collect())
}

/// An event of type `ty` (fixed id `id`) about the fired reminder
/// `triggered` (its JSON form), in the reminder's correlation.
fn announce(
    user: &str,
    triggered: &Value,
    ty: &str,
    id: String,
    data: &Value,
) -> Result<CloudEvent, KvError> {
    let correlation = triggered["correlationid"]
        .as_str()
        .or(triggered["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let mut event = EventOrigin::new(crate::SOURCE, user, correlation)
        .event(ty)
        .subject(task_of(triggered))
        .data(data)
        .map_err(|e| KvError::Invalid(e.to_string()))?
        .build();
    event.id = id;
    Ok(event)
}

/// Publishes `event` (through the outbox), then writes the user's
/// record under its ETag. Not one transaction: the Redis state store
/// cannot make a guarded write atomic with the outbox's own key. The ids
/// of what is published here are fixed by (reminder, device), so a
/// publish repeated after a conflict or a crash is the same event, which
/// consumers deduplicate; once the record is written, nothing is
/// published again.
fn publish_then_write(
    kv: &impl KeyValue,
    event: CloudEvent,
    user: &str,
    kept: &Kept,
    etag: Option<String>,
) -> Result<(), KvError> {
    let outbox = OutboxEvent {
        topic: REMINDER_EVENTS.to_owned(),
        event,
    };
    kv.transact(Vec::new(), vec![outbox])?;
    kv.transact(vec![write_op(user, kept, etag)], Vec::new())
}

/// What an `ack` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// First acknowledgement by this device: `reminder.delivered` published.
    Delivered,
    /// This device had acknowledged it already: nothing published.
    Again,
    /// Not a reminder of this user's last day.
    Unknown,
}

fn task_of(event: &Value) -> String {
    event["subject"].as_str().unwrap_or_default().to_owned()
}

pub fn ack(
    kv: &impl KeyValue,
    user: &str,
    device: &str,
    reminder: &str,
    now: u64,
) -> Result<Ack, KvError> {
    retry_on_conflict(8, || {
        let (mut kept, etag) = read(kv, user)?;
        let Some(p) = kept.reminders.iter_mut().find(|p| p.id == reminder) else {
            return Ok(Ack::Unknown);
        };
        if p.acked.iter().any(|d| d == device) {
            return Ok(Ack::Again);
        }
        p.acked.push(device.to_owned());
        let data = json!({
            "reminder_event_id": reminder,
            "task_id": task_of(&p.event),
            "device": device,
            "delivered_at": rfc3339(now),
        });
        // One per reminder and device, whatever retries happen.
        let id = format!("delivered.{reminder}.{device}");
        let event = announce(user, &p.event, event_type::REMINDER_DELIVERED, id, &data)?;
        publish_then_write(kv, event, user, &kept, etag)?;
        Ok(Ack::Delivered)
    })
}

/// The acknowledgement deadline of `reminder` passed: if no device
/// acknowledged it, `reminder.failed` is published (once).
pub fn deadline(
    kv: &impl KeyValue,
    user: &str,
    reminder: &str,
    ack_timeout_ms: u64,
) -> Result<bool, KvError> {
    retry_on_conflict(8, || {
        let (mut kept, etag) = read(kv, user)?;
        let Some(p) = kept.reminders.iter_mut().find(|p| p.id == reminder) else {
            return Ok(false);
        };
        if !p.acked.is_empty() || p.failed {
            return Ok(false);
        }
        p.failed = true;
        let data = json!({
            "reminder_event_id": reminder,
            "task_id": task_of(&p.event),
            "title": p.event["data"]["title"],
            "triggered_at": rfc3339(p.fired_ms),
            "ack_timeout_seconds": ack_timeout_ms / 1000,
        });
        let id = format!("failed.{reminder}");
        let event = announce(user, &p.event, event_type::REMINDER_FAILED, id, &data)?;
        publish_then_write(kv, event, user, &kept, etag)?;
        Ok(true)
    })
}
