//! The HTTP front door: health endpoints, WebSocket routes, and every
//! `[[trigger.http]]` route dispatched into its component.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use serde_json::json;
use tokio::sync::oneshot;
use tracing::Instrument as _;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::Runtime;
use super::calls::CallError;

pub struct Front {
    pub runtime: Arc<Runtime>,
    pub ready: AtomicBool,
    pub max_body_bytes: usize,
    /// Pod mode only: service invocations from the sidecar.
    pub invocation: Option<Invocation>,
}

/// In pod mode the sidecar delivers service invocations to the app port.
/// They reach the component whatever its public routes, as a direct call
/// does in-process, but only from the sidecar: they must carry
/// `dapr-caller-app-id` and, when configured, the app API token.
pub struct Invocation {
    pub component: String,
    pub app_token: Option<String>,
}

impl Invocation {
    pub fn from_sidecar(&self, headers: &http::HeaderMap) -> bool {
        headers.contains_key(CALLER_APP_HEADER) && token_ok(self.app_token.as_deref(), headers)
    }
}

/// Whether `headers` carry the expected `dapr-api-token` (compared in
/// constant time); always true when no token is configured.
pub fn token_ok(expected: Option<&str>, headers: &http::HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let given = headers
        .get("dapr-api-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A listener whose accepted sockets have `TCP_NODELAY`. A response leaves
/// in several writes (the head, then the body chunks a component streams);
/// with Nagle's algorithm on, the last small write waits for the client's
/// delayed ACK, about 40 ms on Linux, on every request.
pub fn without_nagle(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt as _;
    fn no_delay(tcp: &mut tokio::net::TcpStream) {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {e}");
        }
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

/// How long open connections (WebSockets above all) get to finish after a
/// stop signal before the host exits anyway (a pod's grace period is 30 s).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `app` until SIGINT or SIGTERM (what Kubernetes sends a pod),
/// then lets in-flight requests finish for up to [`SHUTDOWN_GRACE`].
pub async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: Router,
) -> anyhow::Result<()> {
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let server = axum::serve(without_nagle(listener), app).with_graceful_shutdown(async move {
        stop_signal().await;
        tracing::info!("stop signal: finishing in-flight requests");
        let _ = stopping.send(true);
    });
    tokio::select! {
        served = server => served?,
        _ = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; exiting"),
    }
    Ok(())
}

async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

pub fn router(front: Arc<Front>) -> Router {
    let mut app = Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|| async { crate::metrics::METRICS.render() }),
        );
    for t in &front.runtime.manifest.websockets {
        app = app.route(&t.route, get(super::websocket::upgrade));
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

/// The calling app's id on an invoked request (Dapr's header).
pub const CALLER_APP_HEADER: &str = "dapr-caller-app-id";

/// `{"error": {"code", "message", "request_id"?}}`: the one error shape.
pub fn error(status: StatusCode, code: &str, message: &str, request_id: Option<&str>) -> Response {
    let mut body = json!({"error": {"code": code, "message": message}});
    if let Some(id) = request_id {
        body["error"]["request_id"] = id.into();
    }
    (status, axum::Json(body)).into_response()
}

/// Finds the component for a path: exact routes, then the longest
/// `/prefix/...` wildcard.
pub fn route<'a>(runtime: &'a Runtime, path: &str) -> Option<&'a str> {
    let mut best: Option<(&str, usize)> = None;
    for t in &runtime.manifest.http {
        let matched = match t.route.strip_suffix("/...") {
            Some(prefix) => {
                let hit = path == prefix
                    || (path.starts_with(prefix) && path[prefix.len()..].starts_with('/'))
                    || prefix.is_empty();
                hit.then_some(prefix.len())
            }
            None => (path == t.route).then_some(usize::MAX),
        };
        if let Some(len) = matched
            && best.is_none_or(|(_, l)| len > l)
        {
            best = Some((t.component.as_str(), len));
        }
    }
    best.map(|(c, _)| c)
}

async fn dispatch(State(front): State<Arc<Front>>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let invoked = front
        .invocation
        .as_ref()
        .filter(|i| i.from_sidecar(req.headers()))
        .map(|i| i.component.as_str());
    let routed = route(&front.runtime, req.uri().path()).or(invoked);
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
    parts.headers.insert(
        "x-request-id",
        HeaderValue::from_str(&request_id).expect("uuid is a valid header"),
    );
    // The caller's correlation id, or this request's id: the component
    // puts it on the events it publishes, so one id follows a change
    // through every service's log lines.
    let correlation =
        crate::correlation::of_request(&parts.headers).unwrap_or_else(|| request_id.clone());
    parts.headers.insert(
        crate::correlation::HEADER,
        HeaderValue::from_str(&correlation).expect("checked to be a valid header"),
    );
    // What the access line says, taken only when it is written (off in
    // `todo-host up`, where requests are the hot path).
    let access = tracing::enabled!(target: crate::correlation::ACCESS, tracing::Level::INFO)
        .then(|| (parts.method.clone(), parts.uri.path().to_owned()));
    let req = http::Request::from_parts(parts, Full::new(body));
    let span = tracing::info_span!(
        "http",
        component = %component,
        request_id = %request_id,
        correlation_id = %correlation
    );
    let started = std::time::Instant::now();
    let result = call_http(&front.runtime, &component, req)
        .instrument(span.clone())
        .await;
    crate::metrics::METRICS.observe_handler(&component, "http", started.elapsed());
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
            target: crate::correlation::ACCESS,
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
        crate::correlation::HEADER,
        HeaderValue::from_str(&correlation).expect("checked to be a valid header"),
    );
    resp
}

/// Runs one request through a component's `wasi:http/incoming-handler`.
pub async fn call_http(
    runtime: &Runtime,
    component: &str,
    mut req: http::Request<Full<Bytes>>,
) -> Result<http::Response<HyperOutgoingBody>, CallError> {
    let slot = runtime.slot(component)?;
    if req.uri().authority().is_none() && !req.headers().contains_key(http::header::HOST) {
        req.headers_mut()
            .insert(http::header::HOST, HeaderValue::from_static("localhost"));
    }
    let (loaded, mut store, instance) = runtime.instantiate(&slot).await?;
    let indices = loaded.http.as_ref().ok_or(CallError::NoExport(
        slot.def.id.clone(),
        "wasi:http/incoming-handler",
    ))?;
    let trap = |e: wasmtime::Error| CallError::Trap {
        component: slot.def.id.clone(),
        message: format!("{e:#}"),
    };
    let guest = indices.load(&mut store, &instance).map_err(trap)?;
    let (sender, receiver) = oneshot::channel();
    let incoming = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .map_err(trap)?;
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .map_err(trap)?;
    // The guest runs in its own task so it may keep streaming the body after
    // it has sent the response head.
    let task_slot = slot.clone();
    let task = tokio::spawn(async move {
        guest
            .call_handle(&mut store, incoming, out)
            .await
            .map_err(|e| CallError::from_trap(&task_slot, e))
    });
    match receiver.await {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(code)) => Err(CallError::Trap {
            component: slot.def.id.clone(),
            message: format!("the component answered with an HTTP error: {code:?}"),
        }),
        Err(_) => match task.await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(CallError::Trap {
                component: slot.def.id.clone(),
                message: "the component returned without sending a response".into(),
            }),
            Err(join) => Err(CallError::Trap {
                component: slot.def.id.clone(),
                message: join.to_string(),
            }),
        },
    }
}
