//! The HTTP front door: health endpoints, WebSocket routes, and every
//! `[[trigger.http]]` route dispatched into its component.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use serde_json::json;
use tracing::Instrument as _;

mod client;
mod invocation;
mod shares;
mod turns;

pub use client::{CLIENT_ADDR_HEADER, ClientAddress};
pub use invocation::{CALLER_APP_HEADER, Invocation, SidecarAuth, token_ok};
pub use shares::{ShareLimits, Shares};
pub use turns::{Turn, Turns};

use crate::engine::Runtime;
use crate::triggers::websocket::Sockets;

pub struct Front {
    pub runtime: Arc<Runtime>,
    pub ready: AtomicBool,
    pub max_body_bytes: usize,
    /// Pod mode only: service invocations from the sidecar.
    pub invocation: Option<Invocation>,
    /// The host-held WebSockets of the `[[trigger.websocket]]` routes.
    pub sockets: Arc<Sockets>,
    /// The routes' fair shares (`max_concurrent`).
    pub turns: Turns,
    /// Where the address components see as the client's comes from.
    pub client_address: ClientAddress,
    /// The callers' fair shares.
    pub shares: Arc<Shares>,
}

impl Front {
    pub fn new(
        runtime: Arc<Runtime>,
        max_body_bytes: usize,
        invocation: Option<Invocation>,
        sockets: Arc<Sockets>,
    ) -> Self {
        Front {
            turns: Turns::new(&runtime.manifest),
            runtime,
            ready: false.into(),
            max_body_bytes,
            invocation,
            sockets,
            client_address: ClientAddress::Socket,
            shares: Shares::new(ShareLimits::default()),
        }
    }

    pub fn with_shares(self, limits: ShareLimits) -> Self {
        Front {
            shares: Shares::new(limits),
            ..self
        }
    }

    pub fn with_client_address(self, client_address: ClientAddress) -> Self {
        Front {
            client_address,
            ..self
        }
    }
}

pub fn router(front: Arc<Front>) -> Router {
    let mut app = Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz));
    for t in &front.runtime.manifest.websockets {
        app = app.route(&t.route, get(crate::triggers::websocket::upgrade));
    }
    app.fallback(dispatch).with_state(front)
}

async fn readyz(State(front): State<Arc<Front>>) -> Response {
    if front.ready.load(Ordering::Acquire) {
        (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
    } else {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "starting up",
            None,
        )
    }
}

/// `{"error": {"code", "message", "request_id"?}}`: the one error shape.
pub fn error(status: StatusCode, code: &str, message: &str, request_id: Option<&str>) -> Response {
    let mut body = json!({"error": {"code": code, "message": message}});
    if let Some(id) = request_id {
        body["error"]["request_id"] = id.into();
    }
    (status, axum::Json(body)).into_response()
}

async fn dispatch(State(front): State<Arc<Front>>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let invoked = front
        .invocation
        .as_ref()
        .filter(|i| i.from_sidecar(req.headers()))
        .map(|i| i.component.as_str());
    let trigger = front.runtime.manifest.http_trigger(req.uri().path());
    let routed = trigger.map(|t| t.component.as_str()).or(invoked);
    let Some(component) = routed.map(str::to_owned) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no route for {}", req.uri().path()),
            Some(&request_id),
        );
    };
    let (mut parts, body) = req.into_parts();
    // Components trust the caller's app id only because it can only come
    // from service invocation: a client cannot claim one.
    if invoked.is_none() {
        parts.headers.remove(CALLER_APP_HEADER);
    }
    front.client_address.stamp(&mut parts);
    let body = match axum::body::to_bytes(body, front.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let mut resp = error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &format!("request body exceeds {} bytes", front.max_body_bytes),
                Some(&request_id),
            );
            // The rest of the body was never read: the connection cannot
            // carry another request.
            resp.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };
    // The application's own calls (from the sidecar) are no caller's.
    let place = match invoked {
        Some(_) => None,
        None => {
            let caller = front.shares.caller_of(&parts);
            match front.shares.take(caller).await {
                Ok(place) => Some(place),
                Err(refused) => return caller_refused(trigger, refused, &request_id),
            }
        }
    };
    let turn = match trigger {
        Some(t) => match front.turns.take(&t.route).await {
            Ok(turn) => turn,
            Err(turns::Busy) => return busy(&t.route, &request_id),
        },
        None => None,
    };
    parts.headers.insert(
        "x-request-id",
        HeaderValue::from_str(&request_id).expect("uuid is a valid header"),
    );
    // The caller's correlation id, or this request's id: the component
    // puts it on the events it publishes, so one id follows a change
    // through every service's log lines.
    let correlation =
        crate::ops::correlation::of_request(&parts.headers).unwrap_or_else(|| request_id.clone());
    parts.headers.insert(
        crate::ops::correlation::HEADER,
        HeaderValue::from_str(&correlation).expect("checked to be a valid header"),
    );
    // What the access line says, taken only when it is written (off in
    // `todo-host up`, where requests are the hot path).
    let access = tracing::enabled!(target: crate::ops::correlation::ACCESS, tracing::Level::INFO)
        .then(|| (parts.method.clone(), parts.uri.path().to_owned()));
    let req = http::Request::from_parts(parts, Full::new(body));
    let span = tracing::info_span!(
        "http",
        component = %component,
        request_id = %request_id,
        correlation_id = %correlation
    );
    let started = std::time::Instant::now();
    let result =
        crate::engine::incoming_http::call_http(&front.runtime, &component, req, (place, turn))
            .instrument(span.clone())
            .await;
    crate::ops::metrics::METRICS.observe_handler(&component, "http", started.elapsed());
    let mut resp = match result {
        Ok(resp) => resp.map(Body::new),
        Err(e) => {
            tracing::error!(parent: &span, "request failed: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "component_failed",
                &e.to_string(),
                Some(&request_id),
            )
        }
    };
    if let Some((method, path)) = access {
        tracing::info!(
            target: crate::ops::correlation::ACCESS,
            parent: &span,
            method = %method,
            path = %path,
            status = resp.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1e3,
            "request"
        );
    }
    let headers = resp.headers_mut();
    headers.insert(
        "x-request-id",
        HeaderValue::from_str(&request_id).expect("uuid is a valid header"),
    );
    headers.insert(
        crate::ops::correlation::HEADER,
        HeaderValue::from_str(&correlation).expect("checked to be a valid header"),
    );
    resp
}

/// 503 for a request that found every place on its route taken.
fn busy(route: &str, request_id: &str) -> Response {
    crate::ops::metrics::METRICS
        .requests_refused
        .with_label_values(&[route, "busy"])
        .inc();
    let mut resp = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "too many requests of this kind are waiting; try again shortly",
        Some(request_id),
    );
    resp.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// 429 for a caller with every place of theirs taken (or who waited too
/// long for one): their own calls are in the way, not anyone else's.
fn caller_refused(
    trigger: Option<&crate::app::HttpTrigger>,
    refused: shares::Refused,
    request_id: &str,
) -> Response {
    let (reason, message) = match refused {
        shares::Refused::Full => (
            "caller_full",
            "too many of your requests are running or waiting; try again shortly",
        ),
        shares::Refused::Waited => (
            "caller_waited",
            "your other requests held every place for too long; try again shortly",
        ),
    };
    let route = trigger.map_or("-", |t| t.route.as_str());
    crate::ops::metrics::METRICS
        .requests_refused
        .with_label_values(&[route, reason])
        .inc();
    let mut resp = error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        message,
        Some(request_id),
    );
    resp.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}
