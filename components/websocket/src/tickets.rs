//! Single-use tickets: browsers cannot set `Authorization` on a WebSocket,
//! so they trade their access token for a ticket (`POST
//! /api/realtime/ticket`) and pass it as `/ws?ticket=...` within 30 s.
//!
//! Stored only by digest (`ticket:<sha-256>`), with the user and the
//! expiry of the access token it came from, which bounds the connection.
//! Redeeming deletes it under its ETag, so of two uses only one wins.

use serde::{Deserialize, Serialize};
use todo_domain::{KeyValue, KvError, SetOptions};

/// How long a ticket may wait to be used.
pub const TICKET_TTL_MS: u64 = 30_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub user: String,
    /// When the access token it was issued for expires (Unix ms).
    pub token_expires_ms: u64,
    pub expires_ms: u64,
}

fn key(ticket: &str) -> String {
    format!("ticket:{}", todo_auth::token_digest(ticket))
}

/// A new ticket for `user` and when it expires.
pub fn issue(
    kv: &impl KeyValue,
    user: &str,
    token_expires_ms: u64,
    now: u64,
) -> Result<(String, Ticket), KvError> {
    let ticket = todo_auth::random_token();
    let record = Ticket {
        user: user.to_owned(),
        token_expires_ms,
        expires_ms: now + TICKET_TTL_MS,
    };
    let bytes = serde_json::to_vec(&record).expect("tickets serialize");
    // The store's TTL has second granularity: one second more, and the
    // exact expiry is checked on redemption.
    let options = SetOptions {
        precondition: Some(todo_domain::Precondition::Absent),
        ttl_seconds: Some(u32::try_from(TICKET_TTL_MS / 1000 + 1).unwrap_or(31)),
    };
    kv.set(&key(&ticket), &bytes, options)?;
    Ok((ticket, record))
}

/// The ticket's record if it is valid now; it cannot be used again.
pub fn redeem(kv: &impl KeyValue, ticket: &str, now: u64) -> Result<Option<Ticket>, KvError> {
    if ticket.is_empty() || ticket.len() > 256 {
        return Ok(None);
    }
    let key = key(ticket);
    let Some((bytes, etag)) = kv.get(&key)? else {
        return Ok(None);
    };
    match kv.delete(&key, Some(&etag)) {
        Ok(()) => {}
        // Someone redeemed it between our read and our delete.
        Err(KvError::Conflict(_) | KvError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    }
    let record: Ticket =
        serde_json::from_slice(&bytes).map_err(|e| KvError::Invalid(format!("ticket: {e}")))?;
    Ok((now <= record.expires_ms).then_some(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::MemoryKv;

    #[test]
    fn a_ticket_works_once_and_not_after_it_expires() {
        let kv = MemoryKv::new();
        let (t, _) = issue(&kv, "alice", 99_000, 1_000).unwrap();
        let used = redeem(&kv, &t, 2_000).unwrap().unwrap();
        assert_eq!(used.user, "alice");
        assert_eq!(used.token_expires_ms, 99_000);
        assert_eq!(redeem(&kv, &t, 2_000).unwrap(), None);

        let (late, _) = issue(&kv, "alice", 99_000, 1_000).unwrap();
        assert_eq!(redeem(&kv, &late, 1_000 + TICKET_TTL_MS + 1).unwrap(), None);
        // Expired tickets are consumed too.
        assert_eq!(redeem(&kv, &late, 2_000).unwrap(), None);

        assert_eq!(redeem(&kv, "made-up", 2_000).unwrap(), None);
        // Only the digest is stored.
        let (t, _) = issue(&kv, "bob", 99_000, 1_000).unwrap();
        assert!(
            kv.keys_with_prefix("ticket:")
                .iter()
                .all(|k| !k.contains(&t))
        );
    }
}
