//! The topic trigger: events delivered to a subscriber's `event-handler`.
//!
//! The policy is here once: what an attempt's outcome means (handled,
//! dead-lettered, or retried after a backoff, up to the trigger's
//! `max_attempts`) and how a dead letter is counted. Delivery is per mode:
//! [`embedded`] reads the durable log and retries itself; [`dapr`] answers
//! the sidecar, which redelivers on RETRY and dead-letters on DROP.

pub mod dapr;
pub mod embedded;

use std::time::Duration;

use crate::app::TopicTrigger;
use crate::engine::calls::{CallError, Delivery};

/// What follows one delivery attempt.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Handled: the event is done with.
    Handled,
    /// To the dead-letter topic, with the reason it carries.
    DeadLetter(String),
    /// Deliver again after `after` (the trigger's backoff).
    Retry { why: String, after: Duration },
}

/// The verdict on attempt number `attempt` (from 1) of `trigger`.
pub fn judge(
    trigger: &TopicTrigger,
    attempt: u32,
    delivered: Result<Delivery, CallError>,
) -> Verdict {
    let why = match delivered {
        Ok(Delivery::Success) => return Verdict::Handled,
        Ok(Delivery::Drop(why)) => return Verdict::DeadLetter(format!("dropped: {why}")),
        Ok(Delivery::Retry(why)) => why,
        Err(e) => e.to_string(),
    };
    if attempt >= trigger.max_attempts {
        Verdict::DeadLetter(format!("gave up after {attempt} attempts: {why}"))
    } else {
        Verdict::Retry {
            why,
            after: trigger.backoff(attempt),
        }
    }
}

/// Counts and logs one event going to the dead-letter topic.
pub fn dead_lettered(trigger: &TopicTrigger, topic: &str, reason: &str) {
    tracing::warn!(dead_letter_topic = %trigger.dead_letter_topic, "dead-lettering: {reason}");
    crate::ops::metrics::METRICS
        .dead_letters
        .with_label_values(&[trigger.component.as_str(), topic])
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(max_attempts: u32) -> TopicTrigger {
        TopicTrigger {
            component: "c".into(),
            topics: vec!["t".into()],
            max_attempts,
            backoff_ms: 100,
            max_backoff_ms: 1_000,
            dead_letter_topic: "t-dlq".into(),
            broadcast: false,
        }
    }

    #[test]
    fn success_is_handled_and_drop_dead_letters_at_once() {
        let t = trigger(3);
        assert_eq!(judge(&t, 1, Ok(Delivery::Success)), Verdict::Handled);
        assert_eq!(
            judge(&t, 1, Ok(Delivery::Drop("bad".into()))),
            Verdict::DeadLetter("dropped: bad".into())
        );
    }

    #[test]
    fn retries_back_off_until_the_last_attempt() {
        let t = trigger(3);
        assert_eq!(
            judge(&t, 2, Ok(Delivery::Retry("busy".into()))),
            Verdict::Retry {
                why: "busy".into(),
                after: Duration::from_millis(200)
            }
        );
        assert_eq!(
            judge(&t, 3, Ok(Delivery::Retry("busy".into()))),
            Verdict::DeadLetter("gave up after 3 attempts: busy".into())
        );
    }
}
