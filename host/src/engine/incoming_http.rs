//! One request through a component's `wasi:http/incoming-handler`: the
//! HTTP trigger's requests and in-process service invocation alike.

use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;
use tokio::sync::oneshot;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::Runtime;
use super::calls::CallError;

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
        let resp = call_http(self, app_id, request)
            .await
            .map_err(|e| match e {
                CallError::NoComponent(_) | CallError::NoExport(..) => CapError::NotFound,
                other => CapError::Unavailable(other.to_string()),
            })?;
        Ok(resp.map(|body| body.map_err(|e| e.to_string()).boxed_unsync()))
    }
}
