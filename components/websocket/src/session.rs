//! One connection, from the component's side: accept or refuse it, answer
//! its messages, start its stream, keep its record fresh, forget it.
//!
//! Connect: `Authorization: Bearer <access token>` or `?ticket=` (single
//! use), optional `?device=` (a stable id per browser / app install;
//! without one the connection is its own device) and `?cursor=` (resume
//! at once). The server sends `hello` with the current cursor and holds
//! the stream for a first-message `resume` (up to `resume_wait_ms`).

use todo_domain::{KeyValue, KvError, Request, Secrets};

use crate::config::Config;
use crate::connections::{self, Connection};
use crate::feed::{self, Replay};
use crate::frames::{self, ClientFrame};
use crate::push::Push;
use crate::{reminders, tickets};

/// Why an upgrade is refused (HTTP status instead of 101).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub reason: String,
}

fn reject(status: u16, reason: impl Into<String>) -> Rejection {
    Rejection {
        status,
        reason: reason.into(),
    }
}

fn unavailable(e: KvError) -> Rejection {
    reject(503, format!("state unavailable: {e}"))
}

/// When the host closes the connection by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    pub at_ms: u64,
    pub code: u16,
    pub reason: String,
}

/// The upgrade request, as the host passes it.
pub struct Connect<'a> {
    pub connection: &'a str,
    pub query: &'a str,
    pub headers: &'a [(String, String)],
}

fn valid_device(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 64
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The user and when their credentials expire (Unix ms).
fn authenticate(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    request: &Request,
    ticket: Option<&str>,
    now: u64,
) -> Result<(String, u64), Rejection> {
    if request.header("authorization").is_some() {
        return todo_auth::bearer_session(secrets, request)
            .map(|(user, exp)| (user, exp.saturating_mul(1000)))
            .map_err(|e| reject(e.status, e.message));
    }
    let Some(ticket) = ticket else {
        return Err(reject(
            401,
            "missing credentials: send `Authorization: Bearer <access token>` or `?ticket=` from POST /api/realtime/ticket",
        ));
    };
    match tickets::redeem(kv, ticket, now).map_err(unavailable)? {
        Some(t) if t.token_expires_ms > now => Ok((t.user, t.token_expires_ms)),
        Some(_) => Err(reject(
            401,
            "the access token behind this ticket has expired",
        )),
        None => Err(reject(401, "invalid, used or expired ticket")),
    }
}

pub fn on_connect(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    push: &impl Push,
    config: &Config,
    info: &Connect<'_>,
    now: u64,
) -> Result<Option<Expiry>, Rejection> {
    let mut request = Request::new("GET", &format!("/ws?{}", info.query));
    for (name, value) in info.headers {
        request = request.with_header(name, value);
    }
    let params = request.query_pairs();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let cursor = match param("cursor") {
        None => None,
        Some(c) => Some(
            frames::parse_cursor(c)
                .ok_or_else(|| reject(400, "`cursor` is not a cursor this server gave"))?,
        ),
    };
    let device = match param("device") {
        None => format!("conn-{}", info.connection),
        Some(d) if valid_device(d) => d.to_owned(),
        Some(_) => {
            return Err(reject(
                400,
                "`device` must be 1-64 letters, digits, `-` or `_`",
            ));
        }
    };
    let (user, expires_ms) = authenticate(kv, secrets, &request, param("ticket"), now)?;
    let record = Connection {
        user: user.clone(),
        device: device.clone(),
        opened_ms: now,
    };
    let opened = connections::open(
        kv,
        info.connection,
        &record,
        now,
        config.connection_ttl_ms(),
    )
    .map_err(unavailable)?;
    if opened == connections::Opened::Full {
        return Err(reject(
            429,
            format!(
                "at most {} live connections per user; close one first",
                connections::MAX_PER_USER
            ),
        ));
    }
    let head = feed::head(kv, &user).map_err(unavailable)?;
    let sent = push.send(
        info.connection,
        &frames::hello(head, info.connection, &device),
    );
    match cursor {
        Some(c) => resume(kv, push, info.connection, &user, c),
        None => push.start(info.connection, head, config.resume_wait_ms),
    }
    .and(sent)
    .map_err(unavailable)?;
    Ok(Some(Expiry {
        at_ms: expires_ms,
        code: frames::CLOSE_TOKEN_EXPIRED,
        reason: "access token expired; reconnect with a fresh one".into(),
    }))
}

/// Starts `connection`'s stream after `cursor` and replays what follows
/// it, or says `resync` when the cursor is outside the feed.
fn resume(
    kv: &impl KeyValue,
    push: &impl Push,
    connection: &str,
    user: &str,
    cursor: u64,
) -> Result<(), KvError> {
    match feed::after(kv, user, cursor)? {
        Replay::Events(events) => {
            push.start(connection, cursor, 0)?;
            for (seq, event) in events {
                let frame = event.map(|e| frames::event(seq, &e));
                push.send_ordered(connection, seq, frame.as_deref())?;
            }
            Ok(())
        }
        Replay::Resync { head } => {
            push.start(connection, head, 0)?;
            push.send(connection, &frames::resync(head))
        }
    }
}

fn answer(push: &impl Push, connection: &str, code: &str, message: &str) {
    // A connection gone meanwhile has no one to tell.
    let _ = push.send(connection, &frames::error(code, message));
}

pub fn on_message(
    kv: &impl KeyValue,
    push: &impl Push,
    connection: &str,
    text: &str,
    now: u64,
) -> Result<(), KvError> {
    let Some(conn) = connections::get(kv, connection)? else {
        return Ok(());
    };
    match frames::parse(text) {
        Err(message) => answer(push, connection, "bad_message", &message),
        Ok(ClientFrame::Resume { cursor: None }) => {}
        Ok(ClientFrame::Resume { cursor: Some(c) }) => match frames::parse_cursor(&c) {
            None => {
                let head = feed::head(kv, &conn.user)?;
                push.start(connection, head, 0).ok();
                push.send(connection, &frames::resync(head))?;
            }
            Some(c) => match resume(kv, push, connection, &conn.user, c) {
                Err(KvError::Conflict(_)) => answer(
                    push,
                    connection,
                    "too_late",
                    "`resume` must be the first message; reconnect to resume",
                ),
                other => other?,
            },
        },
        Ok(ClientFrame::Ack { reminder }) => {
            match reminders::ack(kv, &conn.user, &conn.device, &reminder, now)? {
                reminders::Ack::Delivered => {
                    push.send(connection, &frames::acked(&reminder, true))?
                }
                reminders::Ack::Again => push.send(connection, &frames::acked(&reminder, false))?,
                reminders::Ack::Unknown => answer(
                    push,
                    connection,
                    "unknown_reminder",
                    "no reminder with this id fired for you in the last day",
                ),
            }
        }
    }
    Ok(())
}

/// The stream starts after `after`: reminders this device has not
/// acknowledged from before that point go out first.
pub fn on_start(
    kv: &impl KeyValue,
    push: &impl Push,
    connection: &str,
    after: u64,
    now: u64,
) -> Result<(), KvError> {
    let Some(conn) = connections::get(kv, connection)? else {
        return Ok(());
    };
    for event in reminders::unacknowledged(kv, &conn.user, &conn.device, after, now)? {
        push.send(connection, &frames::reminder(&event))?;
    }
    Ok(())
}

/// Keeps the records of the connections the host says are alive. One
/// that had lapsed meanwhile (the host stalled past the TTL) may have
/// missed events: it is closed with 4008, and its resume replays them.
pub fn on_alive(
    kv: &impl KeyValue,
    push: &impl Push,
    config: &Config,
    connections: &[String],
    now: u64,
) -> Result<(), KvError> {
    for id in connections::refresh(kv, connections, now, config.connection_ttl_ms())? {
        // Gone meanwhile: nothing to close.
        let _ = push.close(&id, frames::CLOSE_TOO_SLOW, "stream interrupted; resume");
    }
    Ok(())
}

pub fn on_disconnect(
    kv: &impl KeyValue,
    config: &Config,
    connection: &str,
    now: u64,
) -> Result<(), KvError> {
    connections::close(kv, connection, now, config.connection_ttl_ms())
}
