//! Sessions and their bounds. A session is one sign-in: a family of
//! refresh tokens, each replacing the one before. What one user can make
//! the store hold is bounded twice:
//!
//! - at most [`MAX_SESSIONS`] live sessions per user: a new sign-in past
//!   it ends the oldest (a script signing in in a loop cannot fill the
//!   store, and a user's own devices never notice: no one has 100);
//! - at most [`ROTATED_KEPT`] rotated tokens remembered per session (for
//!   reuse detection): older ones are forgotten as the chain grows, so a
//!   client refreshing in a loop holds a fixed amount too. A token older
//!   than that presented again is simply invalid.
//!
//! Layout:
//! - `refresh-family:<family>` → [`FamilyRecord`] JSON: the digest of the
//!   live token and those of the rotated ones kept (records written
//!   before this was kept hold the live digest as a plain string);
//! - `sessions:<user id>` → [`SessionEntry`] JSON list, oldest first: the
//!   user's sessions, pruned of ended ones when the list reaches its
//!   bound.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todo_domain::{KeyValue, KvError, Op, Precondition, SetOptions};

use super::repo::REFRESH_TTL_SECONDS;

/// Live sessions per user.
pub const MAX_SESSIONS: usize = 100;
/// Rotated tokens remembered per session.
pub const ROTATED_KEPT: usize = 50;

pub fn family_key(family: &str) -> String {
    format!("refresh-family:{family}")
}

fn sessions_key(user_id: &str) -> String {
    format!("sessions:{user_id}")
}

pub(super) fn refresh_key_of_digest(digest: &str) -> String {
    format!("refresh:{digest}")
}

/// What a family's pointer holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyRecord {
    /// Digest of the live token.
    pub live: String,
    /// Digests of rotated tokens still remembered, oldest first.
    #[serde(default)]
    pub rotated: Vec<String>,
}

impl FamilyRecord {
    pub fn new(live: String) -> Self {
        FamilyRecord {
            live,
            rotated: Vec::new(),
        }
    }

    fn parse(key: &str, bytes: &[u8]) -> Result<Self, KvError> {
        if bytes.first() == Some(&b'{') {
            return serde_json::from_slice(bytes).map_err(|e| {
                KvError::Invalid(format!("stored value under `{key}` is unreadable: {e}"))
            });
        }
        String::from_utf8(bytes.to_vec())
            .map(FamilyRecord::new)
            .map_err(|_| KvError::Invalid(format!("stored value under `{key}` is not UTF-8")))
    }

    /// The family after `old` was replaced by `new`, and the deletions of
    /// the rotated records it no longer remembers.
    pub fn rotated_to(&self, old: &str, new: String) -> (FamilyRecord, Vec<Op>) {
        let mut rotated = self.rotated.clone();
        rotated.push(old.to_owned());
        let excess = rotated.len().saturating_sub(ROTATED_KEPT);
        let forgotten = rotated
            .drain(..excess)
            .map(|digest| Op::delete(refresh_key_of_digest(&digest), None))
            .collect();
        (FamilyRecord { live: new, rotated }, forgotten)
    }

    /// Deletes every record of the family and its pointer.
    fn revoke_ops(&self, family: &str) -> Vec<Op> {
        std::iter::once(&self.live)
            .chain(&self.rotated)
            .map(|digest| Op::delete(refresh_key_of_digest(digest), None))
            .chain(std::iter::once(Op::delete(family_key(family), None)))
            .collect()
    }

    /// The write of the family's pointer (it lives as long as its newest
    /// token).
    pub fn write_op(&self, family: &str) -> Op {
        Op::Set {
            key: family_key(family),
            value: serde_json::to_vec(self).expect("plain records always serialize"),
            options: SetOptions {
                precondition: None,
                ttl_seconds: Some(REFRESH_TTL_SECONDS),
            },
        }
    }
}

pub fn read_family(kv: &impl KeyValue, family: &str) -> Result<Option<FamilyRecord>, KvError> {
    let key = family_key(family);
    kv.get(&key)?
        .map(|(bytes, _)| FamilyRecord::parse(&key, &bytes))
        .transpose()
}

/// Revokes every token of `family` (a rotated token came back, or its
/// holder signed out). Revoking a family already gone succeeds.
pub fn revoke_family(kv: &impl KeyValue, family: &str) -> Result<(), KvError> {
    match read_family(kv, family)? {
        Some(record) => kv.transact(record.revoke_ops(family), vec![]),
        None => Ok(()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEntry {
    pub family: String,
    pub created_at: DateTime<Utc>,
}

/// The user's session list as read, with what guards its rewrite.
pub struct Sessions {
    entries: Vec<SessionEntry>,
    precondition: Precondition,
}

impl Sessions {
    pub fn read(kv: &impl KeyValue, user_id: &str) -> Result<Self, KvError> {
        let key = sessions_key(user_id);
        Ok(match kv.get(&key)? {
            Some((bytes, etag)) => Sessions {
                entries: serde_json::from_slice(&bytes).map_err(|e| {
                    KvError::Invalid(format!("stored value under `{key}` is unreadable: {e}"))
                })?,
                precondition: Precondition::EtagMatches(etag),
            },
            None => Sessions {
                entries: Vec::new(),
                precondition: Precondition::Absent,
            },
        })
    }

    /// A new user's empty list (its write is guarded by `Absent`).
    pub fn none() -> Self {
        Sessions {
            entries: Vec::new(),
            precondition: Precondition::Absent,
        }
    }

    /// The writes that add `family` to the user's sessions: at the bound,
    /// ended sessions are pruned from the list, and if it is still full
    /// the oldest live ones are revoked to make room. Goes in the same
    /// transaction as the new token, guarded by the list's ETag (a
    /// concurrent sign-in makes it a `Conflict`, to be retried).
    pub fn add(
        mut self,
        kv: &impl KeyValue,
        user_id: &str,
        family: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Op>, KvError> {
        let mut ops = Vec::new();
        if self.entries.len() >= MAX_SESSIONS {
            let keys: Vec<String> = self.entries.iter().map(|e| family_key(&e.family)).collect();
            let found = kv.get_bulk(&keys)?;
            let mut live = Vec::new();
            for (entry, (key, value)) in self.entries.into_iter().zip(keys.iter().zip(found)) {
                if let Some((bytes, _)) = value {
                    live.push((entry, FamilyRecord::parse(key, &bytes)?));
                }
            }
            let evicted = live.len().saturating_sub(MAX_SESSIONS - 1);
            for (entry, record) in live.drain(..evicted) {
                ops.extend(record.revoke_ops(&entry.family));
            }
            self.entries = live.into_iter().map(|(entry, _)| entry).collect();
        }
        self.entries.push(SessionEntry {
            family: family.to_owned(),
            created_at: now,
        });
        ops.push(Op::Set {
            key: sessions_key(user_id),
            value: serde_json::to_vec(&self.entries).expect("plain records always serialize"),
            options: SetOptions {
                precondition: Some(self.precondition),
                ttl_seconds: None,
            },
        });
        Ok(ops)
    }
}
