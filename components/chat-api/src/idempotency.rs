//! `Idempotency-Key`: a retried POST with the same key and body returns the
//! first response and acts once; the same key with another body is a 422.
//!
//! The record of the first response is written in the same transaction as
//! the change it describes, created only if absent, so two concurrent
//! requests with one key cannot both act: the loser retries, finds the
//! record and replays it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use todo_domain::{ApiError, KeyValue, KvError, Op, Request, Response, SetOptions};

pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const TTL_SECONDS: u32 = 24 * 60 * 60;
const MAX_KEY_LEN: usize = 255;
/// Response headers worth replaying.
const KEPT_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

/// The idempotency key of one request, scoped to its user.
#[derive(Debug, Clone)]
pub struct Idempotency {
    store_key: String,
    /// What the request was: a replay must be the same request.
    fingerprint: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

impl Idempotency {
    /// The request's key, if it sent one (400 when it is unusable).
    pub fn of(req: &Request, user_id: &str) -> Result<Option<Self>, ApiError> {
        let Some(key) = req.header(HEADER) else {
            return Ok(None);
        };
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::bad_request(
                HEADER,
                format!("Idempotency-Key must be 1-{MAX_KEY_LEN} visible ASCII characters"),
            ));
        }
        Ok(Some(Idempotency {
            store_key: format!("idem:{user_id}:{}", sha256_hex(&[key.as_bytes()])),
            fingerprint: sha256_hex(&[req.method.as_bytes(), req.path.as_bytes(), &req.body]),
        }))
    }

    /// The first response if this key was used: `Ok` to replay it, `Err`
    /// (422) when it was used for a different request.
    pub fn replay(
        &self,
        kv: &impl KeyValue,
    ) -> Result<Option<Result<Response, ApiError>>, KvError> {
        let Some((bytes, _)) = kv.get(&self.store_key)? else {
            return Ok(None);
        };
        let Ok(record) = serde_json::from_slice::<Record>(&bytes) else {
            // An unreadable record cannot be honoured; acting again is
            // worse than refusing, so refuse.
            return Ok(Some(Err(ApiError::validation(
                "idempotency-key",
                "this Idempotency-Key's first response cannot be replayed; use a new key",
            ))));
        };
        if record.fingerprint != self.fingerprint {
            return Ok(Some(Err(ApiError::validation(
                "idempotency-key",
                "this Idempotency-Key was already used with a different request",
            ))));
        }
        let mut resp = Response {
            status: record.status,
            headers: record.headers,
            body: record.body.into_bytes(),
        };
        resp = resp.with_header("idempotent-replayed", "true");
        Ok(Some(Ok(resp)))
    }

    /// A key for one step of this request (a chat turn's n-th tool call):
    /// a retried request replays each step's first response too.
    pub fn derived(&self, step: &str) -> Idempotency {
        Idempotency {
            store_key: format!("{}:{step}", self.store_key),
            fingerprint: sha256_hex(&[self.fingerprint.as_bytes(), step.as_bytes()]),
        }
    }

    /// The write that remembers `resp`, for the transaction that acts.
    pub fn remember(&self, resp: &Response) -> Op {
        let record = Record {
            fingerprint: self.fingerprint.clone(),
            status: resp.status,
            headers: resp
                .headers
                .iter()
                .filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str()))
                .cloned()
                .collect(),
            body: String::from_utf8_lossy(&resp.body).into_owned(),
        };
        Op::Set {
            key: self.store_key.clone(),
            value: serde_json::to_vec(&record).expect("records serialize"),
            options: SetOptions {
                ttl_seconds: Some(TTL_SECONDS),
                ..SetOptions::if_absent()
            },
        }
    }
}
