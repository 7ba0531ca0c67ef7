//! Embedded service invocation: a direct call into the target component's
//! HTTP handler, exactly as Dapr would deliver it to that app.

use std::sync::{OnceLock, Weak};

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::capabilities::invoke::{InvokeBackend, InvokeRequest, InvokeResponse};
use crate::capabilities::{CapError, CapResult};
use crate::runtime::Runtime;
use crate::runtime::calls::CallError;

/// Largest response body a caller receives.
const MAX_RESPONSE: usize = 16 << 20;

#[derive(Default)]
pub struct EmbeddedInvoke {
    /// Set once the runtime exists (the runtime owns this backend).
    pub runtime: OnceLock<Weak<Runtime>>,
}

#[async_trait]
impl InvokeBackend for EmbeddedInvoke {
    async fn call(
        &self,
        caller: &str,
        app_id: &str,
        req: InvokeRequest,
    ) -> CapResult<InvokeResponse> {
        let runtime = self
            .runtime
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| CapError::Unavailable("host is shutting down".into()))?;
        if runtime.registry.get(app_id).is_none() {
            return Err(CapError::NotFound);
        }
        let mut builder = http::Request::builder()
            .method(req.method)
            .uri(format!("http://{app_id}{}", req.path))
            .header(crate::runtime::http::CALLER_APP_HEADER, caller);
        // The caller's id is the host's to say, not the caller's.
        for (k, v) in req
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(crate::runtime::http::CALLER_APP_HEADER))
        {
            builder = builder.header(k, v);
        }
        let request = builder
            .body(Full::new(Bytes::from(req.body)))
            .map_err(|e| CapError::Invalid(format!("invoke request: {e}")))?;
        let resp = crate::runtime::http::call_http(&runtime, app_id, request)
            .await
            .map_err(|e| match e {
                CallError::NoComponent(_) | CallError::NoExport(..) => CapError::NotFound,
                other => CapError::Unavailable(other.to_string()),
            })?;
        let (parts, body) = resp.into_parts();
        let body = http_body_util::Limited::new(body, MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| CapError::Unavailable(format!("reading response of `{app_id}`: {e}")))?
            .to_bytes();
        let headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
            .collect();
        Ok(InvokeResponse {
            status: parts.status.as_u16(),
            headers,
            body: body.to_vec(),
        })
    }
}
