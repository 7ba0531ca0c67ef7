//! An event arrives: if it is one a user's clients see, it is logged in
//! the user's feed and pushed to the user's connections this host holds
//! (every replica receives every event and pushes to its own).

use serde_json::Value;
use todo_domain::topics::event_type;
use todo_domain::{CloudEvent, HandlerError, Jobs, KeyValue, KvError};

use crate::config::Config;
use crate::push::Push;
use crate::{connections, feed, frames, reminders};

/// The event types clients receive.
pub const FORWARDED: [&str; 8] = [
    event_type::TASK_CREATED,
    event_type::TASK_UPDATED,
    event_type::TASK_COMPLETED,
    event_type::TASK_UNCOMPLETED,
    event_type::TASK_DELETED,
    event_type::RECURRING_TASK_GENERATED,
    event_type::RECURRING_SERIES_ENDED,
    event_type::REMINDER_TRIGGERED,
];

fn retry(e: KvError) -> HandlerError {
    HandlerError::Retry(format!("state unavailable: {e}"))
}

pub fn on_event(
    kv: &impl KeyValue,
    push: &impl Push,
    jobs: &impl Jobs,
    config: &Config,
    event: &CloudEvent,
    now: u64,
) -> Result<(), HandlerError> {
    if !FORWARDED.contains(&event.ty.as_str()) {
        return Ok(());
    }
    let Some(user) = event.user_id().filter(|u| !u.is_empty()) else {
        return Err(HandlerError::Drop("event names no user".into()));
    };
    let json: Value = event
        .to_json_value()
        .map_err(|e| HandlerError::Drop(format!("event does not render: {e}")))?;
    let appended = feed::append(kv, user, &event.id, &json).map_err(retry)?;
    if event.ty == event_type::REMINDER_TRIGGERED {
        let logged = reminders::Logged {
            seq: appended.seq,
            event,
            json: &json,
        };
        reminders::record(kv, jobs, user, &logged, now, config.ack_timeout_ms).map_err(retry)?;
    }
    let targets = connections::live(kv, user, now, config.connection_ttl_ms()).map_err(retry)?;
    let frame = frames::event(appended.seq, &json);
    for target in targets {
        let mut sent = push.send_ordered(&target.id, appended.seq, Some(&frame));
        if let (Ok(()), Some(skip)) = (&sent, appended.skipped) {
            sent = push.send_ordered(&target.id, skip, None);
        }
        match sent {
            // Held by another replica, or gone.
            Ok(()) | Err(KvError::NotFound) => {}
            Err(KvError::Unavailable(_)) => {
                let _ = push.close(&target.id, frames::CLOSE_TOO_SLOW, "too far behind; resume");
            }
            Err(e) => return Err(retry(e)),
        }
    }
    Ok(())
}
