//! HTTP routes, each for the authenticated caller only:
//! - `POST /api/realtime/ticket` -> 201 `{ticket, expires_at, expires_in}`:
//!   a single-use ticket to open `/ws?ticket=...` within 30 s.
//! - `GET /api/realtime/connections` -> `{connections: [{id, device,
//!   connected_at, last_seen}]}`: the caller's live connections.

use serde_json::json;
use todo_domain::{ApiError, KeyValue, Request, Response, Secrets};

use crate::config::Config;
use crate::rfc3339;
use crate::{connections, tickets};

pub fn handle(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    config: &Config,
    req: &Request,
    now: u64,
) -> Response {
    route(kv, secrets, config, req, now).unwrap_or_else(todo_auth::error_response)
}

fn route(
    kv: &impl KeyValue,
    secrets: &impl Secrets,
    config: &Config,
    req: &Request,
    now: u64,
) -> Result<Response, ApiError> {
    let path = req.path.strip_suffix('/').unwrap_or(&req.path);
    let allowed: &[&str] = match path {
        "/api/realtime/ticket" => &["POST"],
        "/api/realtime/connections" => &["GET"],
        _ => return Err(ApiError::not_found(format!("no route for {}", req.path))),
    };
    if !allowed.contains(&req.method.as_str()) {
        return Err(ApiError::method_not_allowed(&req.method, allowed));
    }
    let (user, token_exp) = todo_auth::bearer_session(secrets, req)?;
    if path == "/api/realtime/ticket" {
        let (ticket, record) = tickets::issue(kv, &user, token_exp.saturating_mul(1000), now)
            .map_err(ApiError::from)?;
        return Ok(Response::json(
            201,
            &json!({
                "ticket": ticket,
                "expires_at": rfc3339(record.expires_ms),
                "expires_in": tickets::TICKET_TTL_MS / 1000,
            }),
        )
        .with_header("cache-control", "no-store"));
    }
    let live =
        connections::live(kv, &user, now, config.connection_ttl_ms()).map_err(ApiError::from)?;
    let list: Vec<_> = live
        .into_iter()
        .map(|e| {
            json!({
                "id": e.id,
                "device": e.device,
                "connected_at": rfc3339(e.opened_ms),
                "last_seen": rfc3339(e.seen_ms),
            })
        })
        .collect();
    Ok(Response::json(200, &json!({"connections": list})))
}
