//! Sign-in throttling, counted before the password is checked.
//!
//! - Per **(email, client address)**: at most [`PAIR_LIMIT`] attempts that
//!   were not successes within [`WINDOW_SECONDS`]; past that the pair is
//!   refused (429) until the oldest leaves the window. A guesser at one
//!   address is stopped; the owner at another is not.
//! - Per **email**, from any address: once [`PACE_AFTER`] such attempts
//!   are in the window, one attempt per [`PACE_MILLIS`]. Guessing from many
//!   addresses is slowed to that pace, and the owner is only ever asked to
//!   wait that long, never locked out.
//!
//! Each attempt is recorded *before* the slow hash, in one guarded
//! transaction over both records, so concurrent attempts cannot all pass
//! the check before any is counted. A success takes its attempt back.
//!
//! Keys (fixed length, no email or address in clear):
//! - `signin-failures:<sha256 of the email>` → the email's attempts from every address;
//! - `signin-failures:<sha256 of the email>:<sha256 of the address>` →
//!   the pair's; both with a TTL of the window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todo_auth::token_digest;
use todo_domain::kv::retry_on_conflict;
use todo_domain::{KeyValue, KvError, Op, Precondition, SetOptions};

/// Where the host puts the client's address (overwriting any a client
/// sent).
pub const CLIENT_ADDR_HEADER: &str = "spin-client-addr";
/// Attempts per (email, address) in the window.
pub const PAIR_LIMIT: usize = 5;
/// Attempts per email, from any address, before pacing starts.
pub const PACE_AFTER: usize = 5;
/// The pace an email is held to past [`PACE_AFTER`].
pub const PACE_MILLIS: i64 = 2_000;
pub const WINDOW_SECONDS: u32 = 15 * 60;
/// Guarded writes tried before giving up on contention.
const WRITE_ATTEMPTS: u32 = 16;

pub fn email_key(email: &str) -> String {
    format!("signin-failures:{}", token_digest(email))
}

/// The client's IP from the host's `spin-client-addr` (`ip:port` from the
/// socket, a bare IP from a trusted proxy): a client's port is not part of
/// who it is.
pub fn client_ip(header: Option<&str>) -> Option<String> {
    let value = header?.trim();
    let ip = value
        .parse::<std::net::SocketAddr>()
        .map(|s| s.ip())
        .or_else(|_| value.parse::<std::net::IpAddr>())
        .ok()?;
    Some(ip.to_string())
}

/// `address` is what the host vouched for; `None` (not known) is one
/// address of its own.
pub fn pair_key(email: &str, address: Option<&str>) -> String {
    let address = address.unwrap_or("unknown");
    format!("{}:{}", email_key(email), token_digest(address))
}

/// One (email, address) pair's counted attempts.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PairRecord {
    /// Unix seconds, oldest first, at most [`PAIR_LIMIT`].
    #[serde(default)]
    at: Vec<i64>,
}

/// One email's counted attempts from every address.
#[derive(Debug, Default, Serialize, Deserialize)]
struct EmailRecord {
    /// Unix seconds and the pair it came from (a digest prefix), oldest
    /// first, at most [`PACE_AFTER`].
    #[serde(default)]
    attempts: Vec<(i64, String)>,
    /// Unix milliseconds of the last attempt let through.
    #[serde(default)]
    last_ms: i64,
}

trait Windowed: Default + serde::de::DeserializeOwned + Serialize {
    /// Drops what is older than `since` (Unix seconds).
    fn keep_since(&mut self, since: i64);
}

impl Windowed for PairRecord {
    fn keep_since(&mut self, since: i64) {
        self.at.retain(|&t| t > since);
    }
}

impl Windowed for EmailRecord {
    fn keep_since(&mut self, since: i64) {
        self.attempts.retain(|&(t, _)| t > since);
    }
}

/// An attempt let through: counted as a failure unless it [`succeeded`].
///
/// [`succeeded`]: Attempt::succeeded
#[derive(Debug)]
pub struct Attempt {
    email_key: String,
    pair_key: String,
    pair_tag: String,
}

#[derive(Debug)]
pub enum Admission {
    Admitted(Attempt),
    /// Seconds until an attempt would be let through.
    Refused {
        retry_after: u64,
    },
}

/// Counts an attempt for `email` from `address`, or refuses it.
pub fn admit(
    kv: &impl KeyValue,
    email: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Admission, KvError> {
    let (email_key, pair_key) = (email_key(email), pair_key(email, address));
    let pair_tag = pair_key[pair_key.len() - 16..].to_owned();
    let (secs, ms) = (now.timestamp(), now.timestamp_millis());
    let outcome = retry_on_conflict(WRITE_ATTEMPTS, || {
        let (mut pair, pair_etag) = read::<PairRecord>(kv, &pair_key, secs)?;
        let (mut mail, mail_etag) = read::<EmailRecord>(kv, &email_key, secs)?;
        if pair.at.len() >= PAIR_LIMIT {
            // Sliding window: the oldest counted attempt leaving it frees
            // one.
            let frees_at = pair.at[pair.at.len() - PAIR_LIMIT] + i64::from(WINDOW_SECONDS);
            return Ok(Admission::Refused {
                retry_after: whole_seconds_until(frees_at * 1000, ms),
            });
        }
        if mail.attempts.len() >= PACE_AFTER && ms - mail.last_ms < PACE_MILLIS {
            return Ok(Admission::Refused {
                retry_after: whole_seconds_until(mail.last_ms + PACE_MILLIS, ms),
            });
        }
        push(&mut pair.at, secs, PAIR_LIMIT);
        push(&mut mail.attempts, (secs, pair_tag.clone()), PACE_AFTER);
        mail.last_ms = ms;
        kv.transact(
            vec![
                guarded_set(&pair_key, &pair, pair_etag),
                guarded_set(&email_key, &mail, mail_etag),
            ],
            vec![],
        )?;
        Ok(Admission::Admitted(Attempt {
            email_key: email_key.clone(),
            pair_key: pair_key.clone(),
            pair_tag: pair_tag.clone(),
        }))
    });
    match outcome {
        // Still contended after every try: as busy as being refused.
        Err(KvError::Conflict(_)) => Ok(Admission::Refused { retry_after: 1 }),
        other => other,
    }
}

impl Attempt {
    /// The password was right: the pair's attempts (this one and its
    /// earlier failures) no longer count, for the pair or the email.
    pub fn succeeded(self, kv: &impl KeyValue, now: DateTime<Utc>) -> Result<(), KvError> {
        kv.delete(&self.pair_key, None)?;
        retry_on_conflict(WRITE_ATTEMPTS, || {
            let (mut mail, etag) = read::<EmailRecord>(kv, &self.email_key, now.timestamp())?;
            let Some(etag) = etag else { return Ok(()) };
            mail.attempts.retain(|(_, tag)| *tag != self.pair_tag);
            let op = if mail.attempts.is_empty() {
                Op::delete(self.email_key.clone(), Some(etag))
            } else {
                guarded_set(&self.email_key, &mail, Some(etag))
            };
            kv.transact(vec![op], vec![])
        })
    }
}

fn whole_seconds_until(at_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((at_ms - now_ms + 999) / 1000)
        .unwrap_or(0)
        .max(1)
}

fn push<T>(at: &mut Vec<T>, entry: T, keep: usize) {
    at.push(entry);
    let excess = at.len().saturating_sub(keep);
    at.drain(..excess);
}

fn guarded_set(key: &str, record: &impl Serialize, etag: Option<String>) -> Op {
    Op::Set {
        key: key.to_owned(),
        value: serde_json::to_vec(record).expect("plain records always serialize"),
        options: SetOptions {
            precondition: Some(Precondition::unchanged(etag)),
            // Every entry is at most this old once the newest is: the
            // record dies exactly when it stops mattering.
            ttl_seconds: Some(WINDOW_SECONDS),
        },
    }
}

/// The record under `key` with only its attempts still in the window, and
/// its ETag.
fn read<R: Windowed>(
    kv: &impl KeyValue,
    key: &str,
    now: i64,
) -> Result<(R, Option<String>), KvError> {
    let Some((bytes, etag)) = kv.get(key)? else {
        return Ok((R::default(), None));
    };
    // An unreadable record is treated as empty (and overwritten) rather
    // than locking the account out forever.
    let mut record: R = serde_json::from_slice(&bytes).unwrap_or_default();
    record.keep_since(now - i64::from(WINDOW_SECONDS));
    Ok((record, Some(etag)))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use todo_domain::MemoryKv;

    use super::*;

    fn refused(a: Admission) -> Option<u64> {
        match a {
            Admission::Admitted(_) => None,
            Admission::Refused { retry_after } => Some(retry_after),
        }
    }

    #[test]
    fn the_port_is_not_part_of_the_address() {
        assert_eq!(
            client_ip(Some("127.0.0.2:5123")).as_deref(),
            Some("127.0.0.2")
        );
        assert_eq!(client_ip(Some("[::1]:80")).as_deref(), Some("::1"));
        assert_eq!(
            client_ip(Some("203.0.113.7")).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(client_ip(Some("nonsense")), None);
        assert_eq!(client_ip(None), None);
    }

    #[test]
    fn a_pair_is_refused_after_five_and_freed_as_the_window_slides() {
        let kv = MemoryKv::new();
        let t0 = Utc::now();
        let at = |s: i64| t0 + Duration::seconds(s);
        let from = |ip, s| refused(admit(&kv, "a@b.co", Some(ip), at(s)).unwrap());
        for i in 0..5 {
            assert_eq!(from("10.0.0.1", i * 60), None, "attempt {i}");
        }
        // The first attempt (t0) leaves the window at t0 + 900.
        assert_eq!(from("10.0.0.1", 300), Some(600));
        assert_eq!(from("10.0.0.1", 899), Some(1));
        assert_eq!(from("10.0.0.1", 900), None);
        // Other emails are unaffected.
        assert_eq!(
            refused(admit(&kv, "c@d.co", Some("10.0.0.1"), at(900)).unwrap()),
            None
        );
    }

    #[test]
    fn another_address_is_only_paced_never_locked() {
        let kv = MemoryKv::new();
        let t0 = Utc::now();
        let at = |ms: i64| t0 + Duration::milliseconds(ms);
        for i in 0..5 {
            assert!(refused(admit(&kv, "a@b.co", Some("10.0.0.1"), at(i)).unwrap()).is_none());
        }
        // The email has had its five: one attempt per pace, from anywhere.
        assert_eq!(
            refused(admit(&kv, "a@b.co", Some("10.0.0.2"), at(10)).unwrap()),
            Some(2)
        );
        let Admission::Admitted(owner) = admit(&kv, "a@b.co", Some("10.0.0.2"), at(2_004)).unwrap()
        else {
            panic!("the owner is paced, not locked");
        };
        assert_eq!(
            refused(admit(&kv, "a@b.co", Some("10.0.0.3"), at(2_500)).unwrap()),
            Some(2)
        );
        // The owner's success does not count against the email; the
        // guesser's five still do.
        owner.succeeded(&kv, at(2_600)).unwrap();
        let (mail, _) =
            read::<EmailRecord>(&kv, &email_key("a@b.co"), at(2_600).timestamp()).unwrap();
        assert_eq!(mail.attempts.len(), 4);
        assert!(
            kv.get(&pair_key("a@b.co", Some("10.0.0.2")))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn records_keep_only_the_last_few_and_survive_corruption() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        kv.set(&email_key("a@b.co"), b"garbage", SetOptions::default())
            .unwrap();
        for i in 0..8 {
            let later = now + Duration::seconds(3 * i);
            let _ = admit(&kv, "a@b.co", Some(&format!("10.0.0.{i}")), later).unwrap();
        }
        let (bytes, _) = kv.get(&email_key("a@b.co")).unwrap().unwrap();
        let stored: EmailRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(stored.attempts.len(), PACE_AFTER);
    }
}
