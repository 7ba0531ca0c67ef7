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
//!   TTL of 30 days. A rotated token's record stays, marked `rotated`, so
//!   that its reuse is recognised.
//! - `refresh-family:<family>` and `sessions:<user id>`: a family is one
//!   sign-in's chain of rotated tokens, revoked whole when a rotated token
//!   comes back (it was stolen, or its owner's copy was) or its holder
//!   signs out; see [`super::sessions`] for them and their bounds.
//! - `signin-failures:…`: the sign-in throttle's, see [`super::throttle`].

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use todo_auth::token_digest;
use todo_domain::kv::retry_on_conflict;
use todo_domain::{KeyValue, KvError, Op, Precondition, SetOptions};

use super::User;
pub use super::sessions::revoke_family;
use super::sessions::{FamilyRecord, Sessions, read_family, refresh_key_of_digest};

/// Life of a refresh token; each refresh starts a new one (sliding
/// sessions: a user active at least monthly stays signed in).
pub const REFRESH_TTL_SECONDS: u32 = 30 * 24 * 60 * 60;
/// A rotated token presented again within this many seconds of its
/// rotation is taken for the holder's own retry, not a theft: the answer
/// to its exchange may never have arrived (a tab reloaded, a connection
/// dropped mid-response), or another tab renewed it first. The token just
/// rotated away is exchanged again (its successor rotated away in turn,
/// as the OAuth grace periods of the large identity providers do); an
/// older one gets a 409 and revokes nothing. Later it is a reuse, and ends
/// the session.
pub const RACE_SECONDS: i64 = 10;
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
    /// The sign-in this token descends from (absent in records written
    /// before families: such a token starts its own).
    #[serde(default)]
    family: Option<String>,
    /// Replaced by a successor: presenting it again is a reuse.
    #[serde(default)]
    rotated: bool,
    /// When it was replaced (absent in records written before this was
    /// kept: their reuse is never a race).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotated_at: Option<DateTime<Utc>>,
}

/// A live refresh token's owner and the ETag that guards its rotation.
#[derive(Debug)]
pub struct RefreshGrant {
    pub user_id: String,
    /// Digest of the live token this grant rotates.
    digest: String,
    family: String,
    etag: String,
}

/// What a presented refresh token is.
#[derive(Debug)]
pub enum RefreshLookup {
    Live(RefreshGrant),
    /// A token already rotated away: its family must be revoked, unless
    /// this is a race with its own rotation (see [`RACE_SECONDS`]).
    Reused {
        family: String,
        rotated_at: Option<DateTime<Utc>>,
    },
    /// Unknown, expired or revoked.
    Invalid,
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

/// The new token's record and its family's pointer to it: `family` as
/// it stands after this token joined it, or (`None`) a new sign-in's,
/// named by its first token's digest (unique, and no secret).
fn refresh_ops(
    user_id: &str,
    token: &str,
    family: Option<(&str, FamilyRecord)>,
    now: DateTime<Utc>,
) -> Vec<Op> {
    let digest = token_digest(token);
    let (name, pointer) = family.map_or_else(
        || (digest.clone(), FamilyRecord::new(digest.clone())),
        |(name, record)| (name.to_owned(), record),
    );
    let record = RefreshRecord {
        user_id: user_id.to_owned(),
        expires_at: now + Duration::seconds(i64::from(REFRESH_TTL_SECONDS)),
        family: Some(name.clone()),
        rotated: false,
        rotated_at: None,
    };
    vec![
        Op::Set {
            key: refresh_key(token),
            value: to_json(&record),
            options: SetOptions {
                precondition: Some(Precondition::Absent),
                ttl_seconds: Some(REFRESH_TTL_SECONDS),
            },
        },
        pointer.write_op(&name),
    ]
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
        ]
        .into_iter()
        .chain(refresh_ops(&user.id, refresh_token, None, now))
        .chain(Sessions::none().add(kv, &user.id, &token_digest(refresh_token), now)?)
        .collect(),
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

/// Starts a session for `user_id` with its first refresh token `token`
/// (past the user's bound, the oldest session ends: see [`sessions`]).
pub fn create_refresh(
    kv: &impl KeyValue,
    user_id: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), KvError> {
    retry_on_conflict(WRITE_ATTEMPTS, || {
        let mut ops = refresh_ops(user_id, token, None, now);
        ops.extend(Sessions::read(kv, user_id)?.add(kv, user_id, &token_digest(token), now)?);
        kv.transact(ops, vec![])
    })
}

impl RefreshLookup {
    pub fn is_live(&self) -> bool {
        matches!(self, RefreshLookup::Live(_))
    }
}

/// What `token` is: a live grant, a rotated token presented again, or
/// nothing.
pub fn refresh_grant(
    kv: &impl KeyValue,
    token: &str,
    now: DateTime<Utc>,
) -> Result<RefreshLookup, KvError> {
    let key = refresh_key(token);
    let Some((bytes, etag)) = kv.get(&key)? else {
        return Ok(RefreshLookup::Invalid);
    };
    let record: RefreshRecord = parse(&key, &bytes)?;
    let family = record.family.unwrap_or_else(|| token_digest(token));
    Ok(if record.expires_at <= now {
        RefreshLookup::Invalid
    } else if record.rotated {
        RefreshLookup::Reused {
            family,
            rotated_at: record.rotated_at,
        }
    } else {
        RefreshLookup::Live(RefreshGrant {
            user_id: record.user_id,
            digest: token_digest(token),
            family,
            etag,
        })
    })
}

/// The live grant that `token`, rotated away moments ago, handed over to:
/// what a retry of that exchange renews. `None` unless `token` is the
/// last one `family` rotated away and its successor is still live.
pub fn successor_grant(
    kv: &impl KeyValue,
    token: &str,
    family: &str,
    now: DateTime<Utc>,
) -> Result<Option<RefreshGrant>, KvError> {
    let Some(pointer) = read_family(kv, family)? else {
        return Ok(None);
    };
    if pointer.rotated.last() != Some(&token_digest(token)) {
        return Ok(None);
    }
    let key = refresh_key_of_digest(&pointer.live);
    let Some((bytes, etag)) = kv.get(&key)? else {
        return Ok(None);
    };
    let record: RefreshRecord = parse(&key, &bytes)?;
    let live = !record.rotated && record.expires_at > now;
    Ok(live.then(|| RefreshGrant {
        user_id: record.user_id,
        digest: pointer.live,
        family: family.to_owned(),
        etag,
    }))
}

/// Replaces the live refresh token of `grant` by `new_token`, atomically:
/// the old record is marked rotated (guarded by the ETag read with the
/// grant: of two concurrent refreshes with one token, one gets
/// `Conflict`), the new one joins its family.
pub fn rotate_refresh(
    kv: &impl KeyValue,
    grant: &RefreshGrant,
    new_token: &str,
    now: DateTime<Utc>,
) -> Result<(), KvError> {
    let rotated = RefreshRecord {
        user_id: grant.user_id.clone(),
        expires_at: now + Duration::seconds(i64::from(REFRESH_TTL_SECONDS)),
        family: Some(grant.family.clone()),
        rotated: true,
        rotated_at: Some(now),
    };
    let mut ops = vec![Op::Set {
        key: refresh_key_of_digest(&grant.digest),
        value: to_json(&rotated),
        options: SetOptions {
            precondition: Some(Precondition::EtagMatches(grant.etag.clone())),
            ttl_seconds: Some(REFRESH_TTL_SECONDS),
        },
    }];
    let family =
        read_family(kv, &grant.family)?.unwrap_or_else(|| FamilyRecord::new(grant.digest.clone()));
    let (family, forgotten) = family.rotated_to(&grant.digest, token_digest(new_token));
    ops.extend(refresh_ops(
        &grant.user_id,
        new_token,
        Some((&grant.family, family)),
        now,
    ));
    ops.extend(forgotten);
    kv.transact(ops, vec![])
}

/// Ends the session `token` belongs to (every token of it); an unknown
/// token succeeds.
pub fn revoke_refresh(kv: &impl KeyValue, token: &str) -> Result<(), KvError> {
    let key = refresh_key(token);
    let family = match kv.get(&key)? {
        Some((bytes, _)) => parse::<RefreshRecord>(&key, &bytes)?.family,
        None => return Ok(()),
    };
    match family {
        Some(family) => revoke_family(kv, &family),
        None => kv.delete(&key, None),
    }
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
        for key in [
            email_key(email),
            super::super::throttle::email_key(email),
            refresh_key("tok"),
        ] {
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
        assert!(!refresh_grant(&kv, "t2", now).unwrap().is_live());
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
        let live = || match refresh_grant(&kv, "old", now).unwrap() {
            RefreshLookup::Live(grant) => grant,
            other => panic!("not live: {other:?}"),
        };
        let (first, second) = (live(), live());
        rotate_refresh(&kv, &first, "new-1", now).unwrap();
        let err = rotate_refresh(&kv, &second, "new-2", now).unwrap_err();
        assert!(matches!(err, KvError::Conflict(_)));
        assert!(matches!(
            refresh_grant(&kv, "old", now).unwrap(),
            RefreshLookup::Reused { .. }
        ));
        assert!(refresh_grant(&kv, "new-1", now).unwrap().is_live());
        assert!(matches!(
            refresh_grant(&kv, "new-2", now).unwrap(),
            RefreshLookup::Invalid
        ));
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
                .is_live()
        );
        assert!(!refresh_grant(&kv, "t", later).unwrap().is_live());
    }

    fn rotate(kv: &MemoryKv, old: &str, new: &str, now: DateTime<Utc>) {
        let RefreshLookup::Live(grant) = refresh_grant(kv, old, now).unwrap() else {
            panic!("{old} is not live");
        };
        rotate_refresh(kv, &grant, new, now).unwrap();
    }

    #[test]
    fn past_a_hundred_sessions_a_new_sign_in_ends_the_oldest() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        create_account(&kv, &user("1", "a@b.co"), "s0", now).unwrap();
        for i in 1..=100 {
            create_refresh(&kv, "1", &format!("s{i}"), now).unwrap();
        }
        let live = |t: &str| refresh_grant(&kv, t, now).unwrap().is_live();
        // 101 sign-ins, room for 100: the first one ended.
        assert!(!live("s0"));
        assert!((1..=100).all(|i| live(&format!("s{i}"))));
        // A session that ended on its own (signed out) makes room: the
        // next sign-in ends no one.
        revoke_refresh(&kv, "s50").unwrap();
        create_refresh(&kv, "1", "s101", now).unwrap();
        assert!(live("s1") && live("s101") && !live("s50"));
        // Another user's sessions are their own.
        create_refresh(&kv, "2", "other", now).unwrap();
        assert!(live("s1") && live("other"));
    }

    #[test]
    fn a_session_remembers_its_last_fifty_rotated_tokens() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        create_refresh(&kv, "u", "r0", now).unwrap();
        for i in 0..60 {
            rotate(&kv, &format!("r{i}"), &format!("r{}", i + 1), now);
        }
        assert!(refresh_grant(&kv, "r60", now).unwrap().is_live());
        // r0..r9 forgotten: no record left to hold.
        for i in 0..10 {
            assert!(
                kv.get(&refresh_key(&format!("r{i}"))).unwrap().is_none(),
                "r{i}"
            );
        }
        assert!(matches!(
            refresh_grant(&kv, "r10", now).unwrap(),
            RefreshLookup::Reused { .. }
        ));
        // Reuse of a remembered one still ends the session, every record
        // of it gone.
        let RefreshLookup::Reused { family, .. } = refresh_grant(&kv, "r59", now).unwrap() else {
            panic!("r59 is remembered");
        };
        revoke_family(&kv, &family).unwrap();
        assert!(!refresh_grant(&kv, "r60", now).unwrap().is_live());
        assert!(kv.get(&refresh_key("r10")).unwrap().is_none());
    }

    #[test]
    fn signing_out_ends_the_whole_session_and_old_family_records_still_work() {
        let kv = MemoryKv::new();
        let now = Utc::now();
        create_refresh(&kv, "u", "a0", now).unwrap();
        // A family pointer as written before rotated tokens were kept: the
        // live token's digest as plain text.
        let family = token_digest("a0");
        kv.set(
            &format!("refresh-family:{family}"),
            family.as_bytes(),
            SetOptions::default(),
        )
        .unwrap();
        rotate(&kv, "a0", "a1", now);
        rotate(&kv, "a1", "a2", now);
        assert!(refresh_grant(&kv, "a2", now).unwrap().is_live());
        // Signing out with the rotated a1 (a stale copy) ends the session.
        revoke_refresh(&kv, "a1").unwrap();
        assert!(!refresh_grant(&kv, "a2", now).unwrap().is_live());
    }
}
