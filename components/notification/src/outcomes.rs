//! What became of each fired reminder, from websocket's events:
//! `delivery:<reminder event id>` = the devices that acknowledged it
//! (`reminder.delivered`) and whether no device did in time
//! (`reminder.failed`). Kept 30 days; idempotent under redelivery.

use serde::{Deserialize, Serialize};
use todo_domain::kv::update;
use todo_domain::{CloudEvent, HandlerError, KeyValue, KvError, SetOptions};

/// How long an outcome is kept.
pub const OUTCOME_TTL_SECONDS: u32 = 30 * 24 * 60 * 60;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub task_id: String,
    /// Devices that acknowledged it, in the order they did.
    pub delivered_to: Vec<String>,
    /// When it was reported unacknowledged (RFC 3339), if it was.
    pub failed_at: Option<String>,
}

pub fn key(reminder_event_id: &str) -> String {
    format!("delivery:{reminder_event_id}")
}

fn field<'a>(data: &'a serde_json::Value, name: &str) -> Result<&'a str, HandlerError> {
    data[name]
        .as_str()
        .ok_or_else(|| HandlerError::Drop(format!("`{name}` missing")))
}

/// Records a `reminder.delivered` (`failed` false) or `reminder.failed`.
pub fn record(kv: &impl KeyValue, event: &CloudEvent, failed: bool) -> Result<(), HandlerError> {
    let data: serde_json::Value = event
        .data_as()
        .map_err(|e| HandlerError::Drop(format!("payload is not JSON: {e}")))?;
    let reminder = field(&data, "reminder_event_id")?;
    let task = field(&data, "task_id")?.to_owned();
    let device = if failed {
        None
    } else {
        Some(field(&data, "device")?.to_owned())
    };
    let at = event.time.clone().unwrap_or_default();
    let key = key(reminder);
    let result = update(kv, &key, 8, |current| {
        let mut outcome: Outcome = match current {
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| KvError::Invalid(format!("{key}: {e}")))?,
            None => Outcome::default(),
        };
        outcome.task_id.clone_from(&task);
        match &device {
            Some(d) if !outcome.delivered_to.contains(d) => outcome.delivered_to.push(d.clone()),
            Some(_) => {}
            None => {
                outcome.failed_at.get_or_insert_with(|| at.clone());
            }
        }
        Ok(serde_json::to_vec(&outcome).expect("outcomes serialize"))
    });
    result.map_err(|e| HandlerError::Retry(format!("state unavailable: {e}")))?;
    // `update` writes without a TTL; give the record one.
    if let Some((bytes, _)) = kv
        .get(&key)
        .map_err(|e| HandlerError::Retry(e.to_string()))?
    {
        let options = SetOptions {
            precondition: None,
            ttl_seconds: Some(OUTCOME_TTL_SECONDS),
        };
        kv.set(&key, &bytes, options)
            .map_err(|e| HandlerError::Retry(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use todo_domain::topics::event_type;
    use todo_domain::{EventOrigin, MemoryKv};

    fn event(ty: &str, data: serde_json::Value) -> CloudEvent {
        EventOrigin::new("websocket", "u", "c")
            .event(ty)
            .subject("t1")
            .data(&data)
            .unwrap()
            .build()
    }

    fn outcome(kv: &MemoryKv) -> Outcome {
        serde_json::from_slice(&kv.get(&key("r1")).unwrap().unwrap().0).unwrap()
    }

    #[test]
    fn deliveries_and_a_failure_are_recorded_once_each() {
        let kv = MemoryKv::new();
        let delivered = |device: &str| {
            event(
                event_type::REMINDER_DELIVERED,
                json!({"reminder_event_id": "r1", "task_id": "t1", "device": device, "delivered_at": "x"}),
            )
        };
        let failed = event(
            event_type::REMINDER_FAILED,
            json!({"reminder_event_id": "r1", "task_id": "t1", "title": "x", "triggered_at": "x", "ack_timeout_seconds": 300}),
        );
        record(&kv, &failed, true).unwrap();
        record(&kv, &delivered("phone"), false).unwrap();
        record(&kv, &delivered("phone"), false).unwrap();
        record(&kv, &delivered("laptop"), false).unwrap();
        record(&kv, &failed, true).unwrap();
        let o = outcome(&kv);
        assert_eq!(o.task_id, "t1");
        assert_eq!(o.delivered_to, ["phone", "laptop"]);
        assert_eq!(o.failed_at, failed.time);
    }

    #[test]
    fn a_payload_without_its_reminder_is_dropped() {
        let kv = MemoryKv::new();
        let bad = event(event_type::REMINDER_FAILED, json!({"task_id": "t1"}));
        assert!(matches!(
            record(&kv, &bad, true),
            Err(HandlerError::Drop(_))
        ));
    }
}
