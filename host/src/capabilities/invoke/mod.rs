//! `todo:platform/invoke`: call another service's HTTP method by app id.

pub mod dapr;
pub mod embedded;

use async_trait::async_trait;
use tracing::instrument;

use crate::capabilities::bindings::todo::platform::invoke as wit;
use crate::capabilities::{CapError, CapResult, View};

/// The calling app's id on an invoked request (Dapr's header): set by the
/// platform, never taken from a caller.
pub const CALLER_APP_HEADER: &str = "dapr-caller-app-id";

#[derive(Debug, Clone)]
pub struct InvokeRequest {
    pub method: http::Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct InvokeResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[async_trait]
pub trait InvokeBackend: Send + Sync {
    /// `NotFound` if `app_id` is unknown; any HTTP status is a success.
    async fn call(
        &self,
        caller: &str,
        app_id: &str,
        req: InvokeRequest,
    ) -> CapResult<InvokeResponse>;
}

impl wit::Host for View<'_, dyn InvokeBackend> {
    #[instrument(skip_all, fields(component = %self.component, app = %app_id, path = %request.path))]
    async fn call(&mut self, app_id: String, request: wit::Request) -> CapResult<wit::Response> {
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| CapError::Invalid(format!("bad HTTP method {:?}", request.method)))?;
        if !request.path.starts_with('/') {
            return Err(CapError::Invalid("invoke path must start with `/`".into()));
        }
        let req = InvokeRequest {
            method,
            path: request.path,
            headers: request.headers,
            body: request.body,
        };
        let resp = self.backend.call(self.component, &app_id, req).await?;
        Ok(wit::Response {
            status: resp.status,
            headers: resp.headers,
            body: resp.body,
        })
    }
}
