//! Writing a stack's stored state behind its components' backs, as someone
//! with access to the store (the data file, Redis) could: for tests that
//! show what such a person can and cannot get past.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result};
use redb::ReadableTable as _;

/// What [`crate::Stack::rewrite_state`] hands its edit: the stored value of
/// each key (`None`: absent), returning the value to store for each.
pub type Edit<'a> = &'a mut dyn FnMut(Vec<Option<Vec<u8>>>) -> Vec<Vec<u8>>;

/// The host's state table (`host/src/capabilities/embedded_store`): keys
/// `<component>\0<key>`, values an 8-byte ETag and an 8-byte expiry before
/// the bytes the component wrote. The host must be stopped (the file admits
/// one process).
const STATE: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("state");
const HEADER: usize = 16;

pub fn rewrite_embedded(data_dir: &Path, ns: &str, keys: &[String], edit: Edit) -> Result<()> {
    let db = redb::Database::open(data_dir.join("todo.redb")).context("opening todo.redb")?;
    let txn = db.begin_write()?;
    {
        let mut table = txn.open_table(STATE)?;
        let full: Vec<String> = keys.iter().map(|k| format!("{ns}\0{k}")).collect();
        let mut headers = Vec::new();
        let mut values = Vec::new();
        for key in &full {
            let stored = table.get(key.as_str())?.map(|v| v.value().to_vec());
            let (header, value) = match stored {
                Some(bytes) if bytes.len() >= HEADER => {
                    (bytes[..HEADER].to_vec(), Some(bytes[HEADER..].to_vec()))
                }
                _ => (vec![0; HEADER], None),
            };
            headers.push(header);
            values.push(value);
        }
        for ((key, mut header), value) in full.iter().zip(headers).zip(edit(values)) {
            header.extend_from_slice(&value);
            table.insert(key.as_str(), header.as_slice())?;
        }
    }
    txn.commit()?;
    Ok(())
}

/// The same through `psql` on Dapr's PostgreSQL state store (where the
/// durable components keep their state): rows of
/// `todo_state` keyed `<app id>||<key>` whose `value` is the JSON.
pub fn rewrite_postgres(url: &str, ns: &str, keys: &[String], edit: Edit) -> Result<()> {
    crate::outside::ensure_tool("psql", "postgresql-client");
    let psql = |sql: &str, vars: &[(&str, &str)]| {
        let mut cmd = Command::new("psql");
        cmd.arg(url).args(["-X", "-At", "-v", "ON_ERROR_STOP=1"]);
        for (name, value) in vars {
            cmd.arg("-v").arg(format!("{name}={value}"));
        }
        crate::outside::run_with_stdin(&mut cmd, sql)
    };
    let full: Vec<String> = keys.iter().map(|k| format!("{ns}||{k}")).collect();
    let values = full
        .iter()
        .map(|key| {
            let out = psql(
                "SELECT value::text FROM todo_state WHERE key = :'key';\n",
                &[("key", key)],
            );
            let out = out.trim_end();
            (!out.is_empty()).then(|| out.as_bytes().to_vec())
        })
        .collect();
    for (key, value) in full.iter().zip(edit(values)) {
        let value = String::from_utf8(value).context("stored values here are JSON text")?;
        let updated = psql(
            "UPDATE todo_state SET value = :'value'::jsonb WHERE key = :'key' RETURNING key;\n",
            &[("key", key), ("value", &value)],
        );
        anyhow::ensure!(!updated.trim().is_empty(), "no row {key} to rewrite");
    }
    Ok(())
}
