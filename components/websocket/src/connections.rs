//! Connection tracking in state, with a TTL: a host that dies leaves
//! records that expire instead of ghosts.
//!
//! - `conn:<id>` = who the connection belongs to (user, device).
//! - `conns:<user>` = the user's connections with when each was last
//!   heard from; what an event is pushed to, and what
//!   `GET /api/realtime/connections` lists.
//!
//! Both are refreshed every keep-alive interval (`on-alive`); entries not
//! refreshed within the TTL are ignored and pruned. The record outlives
//! its index entry ([`RECORD_TTL_FACTOR`] times the TTL): a host stalled
//! past the TTL still finds whose its connections are, and a dead host's
//! records still expire.

use serde::{Deserialize, Serialize};
use todo_domain::kv::retry_on_conflict;
use todo_domain::{KeyValue, KvError, Op, SetOptions};

/// Whose a connection is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub user: String,
    pub device: String,
    /// Unix ms.
    pub opened_ms: u64,
}

/// One connection of a user, as tracked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub device: String,
    pub opened_ms: u64,
    pub seen_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Index {
    entries: Vec<Entry>,
}

fn conn_key(id: &str) -> String {
    format!("conn:{id}")
}

fn index_key(user: &str) -> String {
    format!("conns:{user}")
}

/// Live connections one user may hold (tabs and devices together); the
/// next is refused until one closes or stops being heard from.
pub const MAX_PER_USER: usize = 32;

/// Whether [`open`] admitted the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Admitted,
    /// The user already holds [`MAX_PER_USER`] live connections; nothing
    /// was recorded for this one.
    Full,
}

/// How many TTLs a connection's record lives without a refresh.
pub const RECORD_TTL_FACTOR: u64 = 10;

fn record_ttl(ttl_ms: u64) -> SetOptions {
    ttl(ttl_ms.saturating_mul(RECORD_TTL_FACTOR))
}

fn ttl(ttl_ms: u64) -> SetOptions {
    SetOptions {
        precondition: None,
        ttl_seconds: Some(u32::try_from(ttl_ms.div_ceil(1000)).unwrap_or(u32::MAX)),
    }
}

fn decode_index(bytes: Option<&[u8]>) -> Result<Index, KvError> {
    match bytes {
        None => Ok(Index::default()),
        Some(b) => serde_json::from_slice(b).map_err(|e| KvError::Invalid(format!("conns: {e}"))),
    }
}

/// Rewrites `user`'s index through `change`, dropping entries not heard
/// from within `ttl_ms`, under its ETag.
fn edit(
    kv: &impl KeyValue,
    user: &str,
    now: u64,
    ttl_ms: u64,
    mut change: impl FnMut(&mut Vec<Entry>),
) -> Result<(), KvError> {
    let key = index_key(user);
    retry_on_conflict(8, || {
        let current = kv.get(&key)?;
        let mut index = decode_index(current.as_ref().map(|(v, _)| v.as_slice()))?;
        index
            .entries
            .retain(|e| now.saturating_sub(e.seen_ms) <= ttl_ms);
        change(&mut index.entries);
        let bytes = serde_json::to_vec(&index).expect("indexes serialize");
        let mut options = ttl(ttl_ms);
        options.precondition = Some(todo_domain::Precondition::unchanged(
            current.map(|(_, etag)| etag),
        ));
        kv.set(&key, &bytes, options)
    })
}

/// Records connection `id` of `conn.user`, unless the user already holds
/// [`MAX_PER_USER`] live ones (then its record is removed again). The count
/// and the entry are one write under the index's ETag, so connections
/// racing for the last place cannot both take it.
pub fn open(
    kv: &impl KeyValue,
    id: &str,
    conn: &Connection,
    now: u64,
    ttl_ms: u64,
) -> Result<Opened, KvError> {
    // The record first: the host may report the connection alive before
    // this returns, and a connection without a record is told to resume.
    let bytes = serde_json::to_vec(conn).expect("connections serialize");
    kv.set(&conn_key(id), &bytes, record_ttl(ttl_ms))?;
    let mut opened = Opened::Admitted;
    edit(kv, &conn.user, now, ttl_ms, |entries| {
        entries.retain(|e| e.id != id);
        if entries.len() >= MAX_PER_USER {
            opened = Opened::Full;
            return;
        }
        opened = Opened::Admitted;
        entries.push(Entry {
            id: id.to_owned(),
            device: conn.device.clone(),
            opened_ms: conn.opened_ms,
            seen_ms: now,
        });
    })?;
    if opened == Opened::Full {
        kv.delete(&conn_key(id), None)?;
    }
    Ok(opened)
}

pub fn get(kv: &impl KeyValue, id: &str) -> Result<Option<Connection>, KvError> {
    kv.get(&conn_key(id))?
        .map(|(v, _)| {
            serde_json::from_slice(&v).map_err(|e| KvError::Invalid(format!("conn: {e}")))
        })
        .transpose()
}

pub fn close(kv: &impl KeyValue, id: &str, now: u64, ttl_ms: u64) -> Result<(), KvError> {
    let Some(conn) = get(kv, id)? else {
        return Ok(());
    };
    edit(kv, &conn.user, now, ttl_ms, |entries| {
        entries.retain(|e| e.id != id)
    })?;
    kv.delete(&conn_key(id), None)
}

/// The live connections in an index value read by the caller.
fn live_in(bytes: Option<&[u8]>, now: u64, ttl_ms: u64) -> Result<Vec<Entry>, KvError> {
    let mut index = decode_index(bytes)?;
    index
        .entries
        .retain(|e| now.saturating_sub(e.seen_ms) <= ttl_ms);
    Ok(index.entries)
}

pub fn live(kv: &impl KeyValue, user: &str, now: u64, ttl_ms: u64) -> Result<Vec<Entry>, KvError> {
    let current = kv.get(&index_key(user))?;
    live_in(current.as_ref().map(|(v, _)| v.as_slice()), now, ttl_ms)
}

/// Marks `ids` (connections this host holds that answered its pings) as
/// heard from now, and extends their records. Returns the connections
/// that must resume: those whose record is gone, and those that had been
/// taken as gone (not heard from within the TTL, so events may have been
/// pushed past them). Only a resume from their cursor, which replays from
/// the feed, gives them what they missed.
pub fn refresh(
    kv: &impl KeyValue,
    ids: &[String],
    now: u64,
    ttl_ms: u64,
) -> Result<Vec<String>, KvError> {
    let keys: Vec<String> = ids.iter().map(|id| conn_key(id)).collect();
    let mut by_user: std::collections::BTreeMap<String, Vec<(String, Connection)>> =
        Default::default();
    let mut ops = Vec::new();
    let mut lapsed = Vec::new();
    for (id, value) in ids.iter().zip(kv.get_bulk(&keys)?) {
        let Some((bytes, _)) = value else {
            lapsed.push(id.clone());
            continue;
        };
        let conn: Connection =
            serde_json::from_slice(&bytes).map_err(|e| KvError::Invalid(format!("conn: {e}")))?;
        ops.push(Op::Set {
            key: conn_key(id),
            value: bytes,
            options: record_ttl(ttl_ms),
        });
        by_user
            .entry(conn.user.clone())
            .or_default()
            .push((id.clone(), conn));
    }
    if !ops.is_empty() {
        kv.transact(ops, Vec::new())?;
    }
    for (user, conns) in by_user {
        let mut missing = Vec::new();
        edit(kv, &user, now, ttl_ms, |entries| {
            // A retry under conflict runs this again: count afresh.
            missing.clear();
            for (id, conn) in &conns {
                match entries.iter_mut().find(|e| &e.id == id) {
                    Some(e) => e.seen_ms = now,
                    None => {
                        missing.push(id.clone());
                        entries.push(Entry {
                            id: id.clone(),
                            device: conn.device.clone(),
                            opened_ms: conn.opened_ms,
                            seen_ms: now,
                        });
                    }
                }
            }
        })?;
        lapsed.append(&mut missing);
    }
    Ok(lapsed)
}
