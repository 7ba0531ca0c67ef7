//! `todo-host publish`: appends CloudEvents to a topic of a stopped
//! in-process host's durable log; they are delivered when it next starts.
//! For operators (re-sending a dead-lettered event after a fix, replaying
//! one a consumer must see again) and for tests of redelivery.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::capabilities::embedded_store::{Db, log};
use crate::cloudevent::{self, Event};

/// Reads one event (a JSON object) or several (a JSON array) from `json`.
pub fn parse_events(json: &[u8]) -> Result<Vec<Event>> {
    let value: serde_json::Value = serde_json::from_slice(json).context("the input is not JSON")?;
    let values = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            cloudevent::from_value(v)
                .map_err(|e| anyhow::anyhow!("event {i} is not a valid CloudEvent: {e}"))
        })
        .collect()
}

/// Appends `events` to `topic` in the log under `data_dir`.
pub async fn publish(data_dir: &Path, topic: &str, events: Vec<Event>) -> Result<usize> {
    if topic.is_empty() {
        bail!("the topic is empty");
    }
    if !data_dir.join("todo.redb").is_file() {
        bail!("no in-process data in {}", data_dir.display());
    }
    // The store allows one process: a running host holds it.
    let db = Db::open(data_dir).with_context(|| {
        format!(
            "opening {} (stop `todo-host up` on it first)",
            data_dir.display()
        )
    })?;
    let count = events.len();
    let topic = topic.to_owned();
    db.write(move |txn, touched| log::append(txn, touched, &topic, &events))
        .await
        .context("appending to the log")?;
    Ok(count)
}
