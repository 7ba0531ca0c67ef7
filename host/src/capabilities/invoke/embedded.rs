//! Embedded service invocation: a direct call into the target component's
//! HTTP handler, exactly as Dapr would deliver it to that app.

use std::sync::{OnceLock, Weak};

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use super::{CALLER_APP_HEADER, InvokeBackend, InvokeRequest, InvokeResponse};
use crate::capabilities::{CapError, CapResult};

/// Largest response body a caller receives.
const MAX_RESPONSE: usize = 16 << 20;

/// The components of this process, as service invocation reaches them:
/// one request into a component's HTTP handler (the engine implements it).
#[async_trait]
pub trait LocalApps: Send + Sync {
    /// Whether `app_id` is a loaded component.
    fn has(&self, app_id: &str) -> bool;
    /// `NotFound` when the component has no HTTP handler.
    async fn call(
        &self,
        app_id: &str,
        request: http::Request<Full<Bytes>>,
    ) -> CapResult<http::Response<LocalBody>>;
}

/// A component's response body, as the engine streams it.
pub type LocalBody = http_body_util::combinators::UnsyncBoxBody<Bytes, String>;

#[derive(Default)]
pub struct EmbeddedInvoke {
    /// Set once the engine exists (it owns this backend, so the link back
    /// is weak).
    pub apps: OnceLock<Weak<dyn LocalApps>>,
}

#[async_trait]
impl InvokeBackend for EmbeddedInvoke {
    async fn call(
        &self,
        caller: &str,
        app_id: &str,
        req: InvokeRequest,
    ) -> CapResult<InvokeResponse> {
        let apps = self
            .apps
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| CapError::Unavailable("host is shutting down".into()))?;
        if !apps.has(app_id) {
            return Err(CapError::NotFound);
        }
        let mut builder = http::Request::builder()
            .method(req.method)
            .uri(format!("http://{app_id}{}", req.path))
            .header(CALLER_APP_HEADER, caller);
        // The caller's id is the host's to say, not the caller's.
        for (k, v) in req
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(CALLER_APP_HEADER))
        {
            builder = builder.header(k, v);
        }
        let request = builder
            .body(Full::new(Bytes::from(req.body)))
            .map_err(|e| CapError::Invalid(format!("invoke request: {e}")))?;
        let resp = apps.call(app_id, request).await?;
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
