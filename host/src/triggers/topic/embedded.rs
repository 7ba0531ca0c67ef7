//! Embedded event delivery: one task per (subscriber, topic) reads the
//! durable log after its cursor and delivers at least once, in order per
//! user: the events of one batch are grouped by their `userid`, each group
//! is delivered in log order, and different users' groups run concurrently
//! (as Kafka partitions keyed by user do in pod mode). Events without a
//! user form one group of their own, in log order.
//! A `retry` answer is redelivered with backoff, then dead-lettered after
//! `max_attempts`; `drop` is dead-lettered at once. The cursor only moves
//! past an event once it was handled or dead-lettered, and is persisted
//! per batch, so a crash redelivers at most one batch (consumers dedupe).
//! Once every subscriber of a topic has passed a record, it is trimmed
//! from the log (past the last [`log::RETAIN`] of the topic), so the log
//! takes the space of what is pending, not of everything ever published.

use std::sync::Arc;

use tracing::Instrument as _;

use super::Verdict;
use crate::app::TopicTrigger;
use crate::capabilities::embedded_store::{Db, log};
use crate::cloudevent::{self, Event};
use crate::engine::Runtime;

const BATCH: usize = 64;
/// How often the log is trimmed.
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

pub fn start(runtime: &Arc<Runtime>, db: &Db) {
    let mut subscribers: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for trigger in &runtime.manifest.topics {
        for topic in &trigger.topics {
            subscribers
                .entry(topic.clone())
                .or_default()
                .push(trigger.component.clone());
            let (runtime, db) = (runtime.clone(), db.clone());
            let (trigger, topic) = (trigger.clone(), topic.clone());
            tokio::spawn(async move { subscription(runtime, db, trigger, topic).await });
        }
    }
    tokio::spawn(trimmer(db.clone(), subscribers));
}

/// Trims each subscribed topic every [`TRIM_EVERY`], a batch at a time.
async fn trimmer(db: Db, subscribers: std::collections::BTreeMap<String, Vec<String>>) {
    let mut every = tokio::time::interval(TRIM_EVERY);
    loop {
        every.tick().await;
        for (topic, subs) in &subscribers {
            loop {
                let (t, s) = (topic.clone(), subs.clone());
                match db
                    .write(move |txn, _| log::trim(txn, &t, &s, log::RETAIN))
                    .await
                {
                    Ok(removed) => {
                        if removed > 0 {
                            tracing::debug!(topic = %topic, removed, "trimmed the event log");
                        }
                        if removed < log::TRIM_BATCH {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(topic = %topic, "trimming the event log: {e}");
                        break;
                    }
                }
            }
        }
    }
}

async fn subscription(runtime: Arc<Runtime>, db: Db, trigger: TopicTrigger, topic: String) {
    let subscriber = trigger.component.clone();
    let mut changes = db.log_changes();
    let mut cursor = {
        let (s, t) = (subscriber.clone(), topic.clone());
        match db.read(move |txn| log::cursor(txn, &s, &t)).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(subscriber = %subscriber, topic = %topic, "cannot read cursor: {e}");
                return;
            }
        }
    };
    loop {
        changes.borrow_and_update();
        let (t, after) = (topic.clone(), cursor);
        let batch = match db
            .read(move |txn| log::read_after(txn, &t, after, BATCH))
            .await
        {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(topic = %topic, "reading the log: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
        };
        if batch.is_empty() {
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        }
        let Some(last) = batch.last().map(|(seq, _)| *seq) else {
            continue;
        };
        let groups = by_user(batch);
        futures::future::join_all(groups.into_iter().map(|events| {
            let (runtime, db, trigger, topic) = (&runtime, &db, &trigger, &topic);
            async move {
                for event in events {
                    deliver(runtime, db, trigger, topic, event).await;
                }
            }
        }))
        .await;
        cursor = last;
        let (s, t) = (subscriber.clone(), topic.clone());
        let saved = db
            .write(move |txn, _| log::set_cursor(txn, &s, &t, cursor))
            .await;
        if let Err(e) = saved {
            tracing::error!(subscriber = %subscriber, topic = %topic, "saving cursor: {e}");
        }
    }
}

/// The batch's events grouped by user, each group in log order; groups in
/// order of their first event. Unreadable entries are logged and skipped.
fn by_user(batch: Vec<(u64, Vec<u8>)>) -> Vec<Vec<Event>> {
    let mut groups: Vec<(Option<String>, Vec<Event>)> = Vec::new();
    for (seq, bytes) in batch {
        let event = match cloudevent::from_bytes(&bytes) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(seq, "unreadable event in the log: {e}");
                continue;
            }
        };
        let user = event.user_id().map(str::to_owned);
        match groups.iter_mut().find(|(u, _)| *u == user) {
            Some((_, events)) => events.push(event),
            None => groups.push((user, vec![event])),
        }
    }
    groups.into_iter().map(|(_, events)| events).collect()
}

/// Delivers one event until it succeeds or is dead-lettered.
async fn deliver(runtime: &Runtime, db: &Db, trigger: &TopicTrigger, topic: &str, event: Event) {
    let subscriber = trigger.component.as_str();
    let span = tracing::info_span!(
        "deliver",
        component = subscriber,
        topic,
        event = %event.id,
        correlation_id = event.correlation_id().unwrap_or_default()
    );
    deliver_with_retries(runtime, db, trigger, topic, event)
        .instrument(span)
        .await
}

async fn deliver_with_retries(
    runtime: &Runtime,
    db: &Db,
    trigger: &TopicTrigger,
    topic: &str,
    event: Event,
) {
    let subscriber = trigger.component.as_str();
    let mut attempt = 1;
    loop {
        let delivered = runtime
            .deliver_event(subscriber, topic, event.clone())
            .await;
        match super::judge(trigger, attempt, delivered) {
            Verdict::Handled => return,
            Verdict::DeadLetter(reason) => {
                dead_letter(db, trigger, topic, event, &reason).await;
                return;
            }
            Verdict::Retry { why, after } => {
                tracing::warn!(attempt, "delivery failed, retrying: {why}");
                tokio::time::sleep(after).await;
                attempt += 1;
            }
        }
    }
}

async fn dead_letter(db: &Db, trigger: &TopicTrigger, topic: &str, mut event: Event, reason: &str) {
    super::dead_lettered(trigger, topic, reason);
    cloudevent::set_extension(&mut event, "originaltopic", topic.to_owned());
    cloudevent::set_extension(&mut event, "subscriber", trigger.component.clone());
    cloudevent::set_extension(
        &mut event,
        "deadletterreason",
        reason.chars().take(500).collect(),
    );
    let dlq = trigger.dead_letter_topic.clone();
    // Retried until it lands: an event must never vanish between its topic
    // and the dead-letter topic.
    loop {
        let (dlq, ev) = (dlq.clone(), event.clone());
        match db
            .write(move |txn, touched| log::append(txn, touched, &dlq, &[ev]))
            .await
        {
            Ok(()) => return,
            Err(e) => {
                tracing::error!("dead-letter write failed, retrying: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
}
