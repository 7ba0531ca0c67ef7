//! One request through a component's `wasi:http/incoming-handler`: the
//! HTTP trigger's requests and in-process service invocation alike.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::HeaderValue;
use http_body_util::BodyExt as _;
use http_body_util::Full;
use tokio::sync::oneshot;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::Runtime;
use super::calls::CallError;
use super::streamed::{AbortReport, Streamed};
use crate::ops::listener::AbortConnection;

/// Runs one request through a component's `wasi:http/incoming-handler`;
/// `held` (its route's fair share) is kept until the guest has finished,
/// body included.
pub async fn call_http(
    runtime: &Runtime,
    component: &str,
    mut req: http::Request<Full<Bytes>>,
    held: impl Send + 'static,
) -> Result<http::Response<HyperOutgoingBody>, CallError> {
    let slot = runtime.slot(component)?;
    if req.uri().authority().is_none() && !req.headers().contains_key(http::header::HOST) {
        req.headers_mut()
            .insert(http::header::HOST, HeaderValue::from_static("localhost"));
    }
    let abort = req.extensions().get::<AbortConnection>().cloned();
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
    // it has sent the response head. Its deadline covers the whole call,
    // writing included: a client that stops reading blocks the guest in a
    // host call, where the epoch cannot stop it.
    let limit = slot.def.limits.timeout;
    let report = AbortReport::new(&slot.def.id);
    let head_sent = Arc::new(AtomicBool::new(false));
    let (outcome_tx, outcome_rx) = oneshot::channel();
    let task_slot = slot.clone();
    let task = tokio::spawn({
        let (report, head_sent) = (report.clone(), head_sent.clone());
        async move {
            let _held = held;
            let call = guest.call_handle(&mut store, incoming, out);
            let outcome = match tokio::time::timeout(limit, call).await {
                Ok(done) => done.map_err(|e| CallError::from_trap(&task_slot, e)),
                Err(_) => Err(CallError::Deadline {
                    component: task_slot.def.id.clone(),
                    limit_ms: limit.as_millis(),
                }),
            };
            drop(store);
            let failure = outcome.as_ref().err().map(|e| {
                let reason = match e {
                    CallError::Deadline { .. } => "deadline",
                    _ => "failed",
                };
                (reason, e.to_string())
            });
            if let Some((reason, why)) = &failure
                && head_sent.load(Ordering::Acquire)
            {
                report.report(reason, why);
                // Whatever hyper still holds for a client that does not
                // read would never leave: close its connection now.
                if let Some(abort) = &abort {
                    abort.abort();
                }
            }
            let _ = outcome_tx.send(failure.map_or(Ok(()), Err));
            outcome
        }
    });
    match receiver.await {
        Ok(Ok(resp)) => {
            head_sent.store(true, Ordering::Release);
            Ok(resp.map(|body| Streamed::new(body, outcome_rx, report).boxed_unsync()))
        }
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

/// In-process service invocation reaches components through the engine.
#[async_trait::async_trait]
impl crate::capabilities::invoke::embedded::LocalApps for Runtime {
    fn has(&self, app_id: &str) -> bool {
        self.registry.get(app_id).is_some()
    }

    async fn call(
        &self,
        app_id: &str,
        request: http::Request<Full<Bytes>>,
    ) -> crate::capabilities::CapResult<
        http::Response<crate::capabilities::invoke::embedded::LocalBody>,
    > {
        use crate::capabilities::CapError;
        use http_body_util::BodyExt as _;
        let resp = call_http(self, app_id, request, ())
            .await
            .map_err(|e| match e {
                CallError::NoComponent(_) | CallError::NoExport(..) => CapError::NotFound,
                other => CapError::Unavailable(other.to_string()),
            })?;
        Ok(resp.map(|body| body.map_err(|e| e.to_string()).boxed_unsync()))
    }
}
