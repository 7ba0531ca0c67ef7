//! Account persistence.
//!
//! Layout (no key ever holds an email or a usable token in clear):
//! - `user:<id>` → [`StoredUser`] JSON, the source of truth for a user.
//! - `email:<sha256 hex of the lower-cased email>` → the user id, as a
//!   plain string. Created with `user:<id>` in one transaction, both
//!   guarded by `Absent`, so two sign-ups with one email cannot both win.
//!   Hashing keeps the key a fixed 70 characters of `[a-z0-9:]` whatever
//!   the email contains.
//! - `refresh:<sha256 hex of the token>` → [`RefreshRecord`] JSON, with a
//!   TTL of 30 days.
//! - `signin-failures:<sha256 hex of the lower-cased email>` → recent
//!   failed sign-in times, with a TTL of the failure window.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use todo_auth::token_digest;
use todo_domain::kv::retry_on_conflict;
use todo_domain::{KeyValue, KvError, Op, Precondition, SetOptions};

use super::User;

/// Life of a refresh token; each refresh starts a new one (sliding
/// sessions: a user active at least monthly stays signed in).
pub const REFRESH_TTL_SECONDS: u32 = 30 * 24 * 60 * 60;
/// Failed sign-ins for one email tolerated within the window.
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW_SECONDS: u32 = 15 * 60;
/// Attempts of a guarded read-modify-write before reporting contention.
const WRITE_ATTEMPTS: u32 = 10;

pub fn user_key(id: &str) -> String {
    format!("user:{id}")
}

/// `email` must already be normalized (see `input::normalize_email`).
pub fn email_key(email: &str) -> String {
    format!("email:{}", token_digest(email))
}

pub fn refresh_key(token: &str) -> String {
    format!("refresh:{}", token_digest(token))
}

pub fn failures_key(email: &str) -> String {
    format!("signin-failures:{}", token_digest(email))
}

/// A user as stored. Never serialized into a response: [`User`] is the
/// public view.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub time_zone: String,
    pub password_hash: String,
    pub created_at: String,
}

/// Leaves the hash out, so a stray `{:?}` cannot leak it.
impl std::fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("time_zone", &self.time_zone)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl StoredUser {
    pub fn public(&self) -> User {
        User {
            id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            time_zone: self.time_zone.clone(),
        }
    }
}

pub fn timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What a refresh token grants. `expires_at` duplicates the TTL because a
/// backend may purge expired keys lazily; it is checked on every use.
#[derive(Debug, Serialize, Deserialize)]
struct RefreshRecord {
    user_id: String,
    expires_at: DateTime<Utc>,
}

/// A live refresh token's owner and the ETag that guards its rotation.
#[derive(Debug)]
pub struct RefreshGrant {
    pub user_id: String,
    etag: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Failures {
    /// Unix seconds of the most recent failures, oldest first, at most
    /// `MAX_FAILURES`.
    at: Vec<i64>,
}

fn parse<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, KvError> {
    // A corrupt record is a bug or a manual edit; the error names the key
    // (which holds no secret) but not the value.
    serde_json::from_slice(bytes)
        .map_err(|e| KvError::Invalid(format!("stored value under `{key}` is unreadable: {e}")))
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("plain records always serialize")
}

fn refresh_op(user_id: &str, token: &str, now: DateTime<Utc>) -> Op {
    let record = RefreshRecord {
        user_id: user_id.to_owned(),
        expires_at: now + Duration::seconds(i64::from(REFRESH_TTL_SECONDS)),
    };
    Op::Set {
        key: refresh_key(token),
        value: to_json(&record),
        options: SetOptions {
            precondition: Some(Precondition::Absent),
            ttl_seconds: Some(REFRESH_TTL_SECONDS),
        },
    }
}

pub fn read_user(kv: &impl KeyValue, id: &str) -> Result<Option<(StoredUser, String)>, KvError> {
    let key = user_key(id);
    match kv.get(&key)? {
        None => Ok(None),
        Some((bytes, etag)) => Ok(Some((parse(&key, &bytes)?, etag))),
    }
}

/// The account registered under `email` (normalized), if any.
pub fn user_by_email(kv: &impl KeyValue, email: &str) -> Result<Option<StoredUser>, KvError> {
    let Some((id, _)) = kv.get(&email_key(email))? else {
        return Ok(None);
    };
    let id = String::from_utf8(id)
        .map_err(|_| KvError::Invalid("stored user id is not UTF-8".to_owned()))?;
    // An email key without its user (deleted by hand) is no account.
    Ok(read_user(kv, &id)?.map(|(user, _)| user))
}

pub fn email_taken(kv: &impl KeyValue, email: &str) -> Result<bool, KvError> {
    Ok(kv.get(&email_key(email))?.is_some())
}

/// Creates the user, its email key and its first refresh token in one
/// transaction. `Conflict` means the email is taken (the id is a fresh
/// UUID v7 and the token 256 random bits, so they cannot collide).
pub fn create_account(
    kv: &impl KeyValue,
    user: &StoredUser,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<(), KvError> {
    kv.transact(
        vec![
            Op::set(
                user_key(&user.id),
                to_json(user),
                Some(Precondition::Absent),
            ),
            Op::set(
                email_key(&user.email),
                user.id.clone().into_bytes(),
                Some(Precondition::Absent),
            ),
            refresh_op(&user.id, refresh_token, now),
        ],
        vec![],
    )
}

/// Applies `change` to the user `id` guarded by its ETag, re-reading and
/// retrying if another write got in first. `None` if there is no user.
pub fn update_user(
    kv: &impl KeyValue,
    id: &str,
    change: impl Fn(&mut StoredUser),
) -> Result<Option<StoredUser>, KvError> {
    let key = user_key(id);
    retry_on_conflict(WRITE_ATTEMPTS, || {
        let Some((mut user, etag)) = read_user(kv, id)? else {
            return Ok(None);
        };
        let before = user.clone();
        change(&mut user);
        if user != before {
            kv.set(&key, &to_json(&user), SetOptions::if_match(etag))?;
        }
        Ok(Some(user))
    })
}

/// Stores a new refresh token for `user_id`.
pub fn create_refresh(
    kv: &impl KeyValue,
    user_id: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), KvError> {
    kv.transact(vec![refresh_op(user_id, token, now)], vec![])
}

/// The grant of `token` if it exists and has not expired.
pub fn refresh_grant(
    kv: &impl KeyValue,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<RefreshGrant>, KvError> {
    let key = refresh_key(token);
    let Some((bytes, etag)) = kv.get(&key)? else {
        return Ok(None);
    };
    let record: RefreshRecord = parse(&key, &bytes)?;
    Ok((record.expires_at > now).then_some(RefreshGrant {
        user_id: record.user_id,
        etag,
    }))
}

/// Replaces the refresh token of `grant` by `new_token`, atomically. The
/// delete is guarded by the ETag read with the grant: of two concurrent
/// refreshes with one token, one gets `Conflict`.
pub fn rotate_refresh(
    kv: &impl KeyValue,
    old_token: &str,
    grant: &RefreshGrant,
    new_token: &str,
    now: DateTime<Utc>,
) -> Result<(), KvError> {
    kv.transact(
        vec![
            Op::delete(refresh_key(old_token), Some(grant.etag.clone())),
            refresh_op(&grant.user_id, new_token, now),
        ],
        vec![],
    )
}

/// Revokes `token`; revoking an unknown token succeeds.
pub fn revoke_refresh(kv: &impl KeyValue, token: &str) -> Result<(), KvError> {
    kv.delete(&refresh_key(token), None)
}

/// The failed sign-in state of one email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// `Some(seconds until the window admits another attempt)` when it
    /// already holds `MAX_FAILURES` failures.
    pub retry_after: Option<u64>,
    /// A failure record exists (a success should delete it).
    pub has_record: bool,
}

pub fn lockout(kv: &impl KeyValue, email: &str, now: DateTime<Utc>) -> Result<Lockout, KvError> {
    let (recent, etag) = recent_failures(kv, &failures_key(email), now)?;
    let has_record = etag.is_some();
    if recent.len() < MAX_FAILURES {
        return Ok(Lockout {
            retry_after: None,
            has_record,
        });
    }
    // Sliding window: the oldest of the last few failures leaving the
    // window frees one attempt.
    let frees_at = recent[recent.len() - MAX_FAILURES] + i64::from(FAILURE_WINDOW_SECONDS);
    let seconds = u64::try_from(frees_at - now.timestamp())
        .unwrap_or(0)
        .max(1);
    Ok(Lockout {
        retry_after: Some(seconds),
        has_record,
    })
}

/// Counts a failed sign-in for `email`.
pub fn record_failure(kv: &impl KeyValue, email: &str, now: DateTime<Utc>) -> Result<(), KvError> {
    let key = failures_key(email);
    retry_on_conflict(WRITE_ATTEMPTS, || {
        let (mut at, etag) = recent_failures(kv, &key, now)?;
        at.push(now.timestamp());
        let excess = at.len().saturating_sub(MAX_FAILURES);
        at.drain(..excess);
        kv.set(
            &key,
            &to_json(&Failures { at }),
            SetOptions {
                // Guarded so concurrent failures are all counted.
                precondition: Some(Precondition::unchanged(etag)),
                // Every entry is at most this old once the newest is: the
                // record dies exactly when it stops mattering.
                ttl_seconds: Some(FAILURE_WINDOW_SECONDS),
            },
        )
    })
}

/// Forgets the failures of `email` after a successful sign-in.
pub fn clear_failures(kv: &impl KeyValue, email: &str) -> Result<(), KvError> {
    kv.delete(&failures_key(email), None)
}

/// Failure times still inside the window, and the record's ETag.
fn recent_failures(
    kv: &impl KeyValue,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<i64>, Option<String>), KvError> {
    let Some((bytes, etag)) = kv.get(key)? else {
        return Ok((Vec::new(), None));
    };
    // An unreadable counter is treated as empty (and overwritten by the
    // next failure) rather than locking the account out forever.
    let failures: Failures = serde_json::from_slice(&bytes).unwrap_or_default();
    let since = now.timestamp() - i64::from(FAILURE_WINDOW_SECONDS);
    let recent = failures.at.into_iter().filter(|&t| t > since).collect();
    Ok((recent, Some(etag)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::MemoryKv;

    fn user(id: &str, email: &str) -> StoredUser {
        StoredUser {
            id: id.into(),
            email: email.into(),
            name: "n".into(),
            time_zone: "UTC".into(),
            password_hash: "$argon2id$secret-hash".into(),
            created_at: timestamp(Utc::now()),
        }
    }

    #[test]
    fn keys_hold_no_email_or_token_and_use_a_safe_alphabet() {
        let email = "o'brien+x/y@example.com";
        for key in [email_key(email), failures_key(email), refresh_key("tok")] {
            assert!(!key.contains("brien") && !key.contains("tok"), "{key}");
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'-')
            );
        }
        assert_eq!(email_key(email).len(), "email:".len() + 64);
    }

    #[test]
    fn debug_hides_the_password_hash() {
        assert!(!format!("{:?}", user("1", "a@b.co")).contains("secret-hash"));
    }

    #[test]
    fn second_account_with_one_email_conflicts_and_writes_nothing() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        create_account(&kv, &user("1", "a@b.co"), "t1", now).unwrap();
        let err = create_account(&kv, &user("2", "a@b.co"), "t2", now).unwrap_err();
        assert!(matches!(err, KvError::Conflict(_)));
        assert_eq!(read_user(&kv, "2").unwrap(), None);
        assert!(refresh_grant(&kv, "t2", now).unwrap().is_none());
        assert_eq!(user_by_email(&kv, "a@b.co").unwrap().unwrap().id, "1");
    }

    #[test]
    fn update_retries_after_a_concurrent_write() {
        let kv = MemoryKv::new();
        create_account(&kv, &user("1", "a@b.co"), "t", Utc::now()).unwrap();
        kv.before_next_set(|kv| {
            let (mut u, etag) = read_user(kv, "1").unwrap().unwrap();
            u.time_zone = "Asia/Tokyo".into();
            kv.set(&user_key("1"), &to_json(&u), SetOptions::if_match(etag))
                .unwrap();
        });
        let updated = update_user(&kv, "1", |u| u.name = "new".into())
            .unwrap()
            .unwrap();
        // Both writes survive: ours was re-applied on the fresh copy.
        assert_eq!(
            (updated.name.as_str(), updated.time_zone.as_str()),
            ("new", "Asia/Tokyo")
        );
        assert_eq!(read_user(&kv, "1").unwrap().unwrap().0, updated);
        assert_eq!(update_user(&kv, "nobody", |_| {}).unwrap(), None);
    }

    #[test]
    fn concurrent_rotation_of_one_token_has_one_winner() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        create_refresh(&kv, "u", "old", now).unwrap();
        let first = refresh_grant(&kv, "old", now).unwrap().unwrap();
        let second = refresh_grant(&kv, "old", now).unwrap().unwrap();
        rotate_refresh(&kv, "old", &first, "new-1", now).unwrap();
        let err = rotate_refresh(&kv, "old", &second, "new-2", now).unwrap_err();
        assert!(matches!(err, KvError::Conflict(_)));
        assert!(refresh_grant(&kv, "old", now).unwrap().is_none());
        assert!(refresh_grant(&kv, "new-1", now).unwrap().is_some());
        assert!(refresh_grant(&kv, "new-2", now).unwrap().is_none());
    }

    #[test]
    fn refresh_records_expire_by_date_as_well_as_ttl() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        create_refresh(&kv, "u", "t", now).unwrap();
        let later = now + Duration::seconds(i64::from(REFRESH_TTL_SECONDS));
        assert!(
            refresh_grant(&kv, "t", later - Duration::seconds(1))
                .unwrap()
                .is_some()
        );
        assert!(refresh_grant(&kv, "t", later).unwrap().is_none());
    }

    fn locked_for(kv: &MemoryKv, email: &str, now: DateTime<Utc>) -> Result<Option<u64>, KvError> {
        lockout(kv, email, now).map(|l| l.retry_after)
    }

    #[test]
    fn failures_lock_after_five_and_free_as_the_window_slides() {
        let kv = MemoryKv::new();
        let t0 = Utc::now();
        let at = |s: i64| t0 + Duration::seconds(s);
        for i in 0..4 {
            record_failure(&kv, "a@b.co", at(i * 60)).unwrap();
            assert_eq!(locked_for(&kv, "a@b.co", at(i * 60)).unwrap(), None);
        }
        record_failure(&kv, "a@b.co", at(240)).unwrap();
        // The first failure (t0) leaves the window at t0 + 900.
        assert_eq!(locked_for(&kv, "a@b.co", at(300)).unwrap(), Some(600));
        assert_eq!(locked_for(&kv, "a@b.co", at(899)).unwrap(), Some(1));
        assert_eq!(locked_for(&kv, "a@b.co", at(900)).unwrap(), None);
        // Other emails are unaffected; clearing unlocks.
        assert_eq!(locked_for(&kv, "c@d.co", at(300)).unwrap(), None);
        clear_failures(&kv, "a@b.co").unwrap();
        assert_eq!(locked_for(&kv, "a@b.co", at(300)).unwrap(), None);
        assert!(kv.keys_with_prefix("signin-failures:").is_empty());
    }

    #[test]
    fn failure_records_keep_only_the_last_few_and_survive_corruption() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        kv.set(&failures_key("a@b.co"), b"garbage", SetOptions::default())
            .unwrap();
        assert_eq!(locked_for(&kv, "a@b.co", now).unwrap(), None);
        for _ in 0..8 {
            record_failure(&kv, "a@b.co", now).unwrap();
        }
        let (bytes, _) = kv.get(&failures_key("a@b.co")).unwrap().unwrap();
        let stored: Failures = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(stored.at.len(), MAX_FAILURES);
    }
}
