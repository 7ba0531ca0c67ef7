//! Service invocation over Dapr: `/v1.0/invoke/<app-id>/method/<path>`.

use async_trait::async_trait;
use reqwest::Method;

use crate::capabilities::dapr_client::{DaprClient, segment};
use crate::capabilities::invoke::{InvokeBackend, InvokeRequest, InvokeResponse};
use crate::capabilities::{CapError, CapResult};

pub struct DaprInvoke {
    pub dapr: DaprClient,
}

#[async_trait]
impl InvokeBackend for DaprInvoke {
    async fn call(
        &self,
        _caller: &str,
        app_id: &str,
        req: InvokeRequest,
    ) -> CapResult<InvokeResponse> {
        let method = Method::from_bytes(req.method.as_str().as_bytes())
            .map_err(|e| CapError::Invalid(e.to_string()))?;
        let path = format!("/v1.0/invoke/{}/method{}", segment(app_id), req.path);
        let mut builder = self.dapr.request(method, &path).body(req.body);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let resp = builder
            .send()
            .await
            .map_err(|e| CapError::Unavailable(format!("dapr invoke {app_id}: {e}")))?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = resp
            .bytes()
            .await
            .map_err(|e| CapError::Unavailable(format!("dapr invoke {app_id}: {e}")))?
            .to_vec();
        // Dapr's own failure to reach the app (as opposed to the app's
        // answer) carries an ERR_DIRECT_INVOKE error code.
        if status >= 500 && String::from_utf8_lossy(&body).contains("ERR_DIRECT_INVOKE") {
            return Err(CapError::Unavailable(format!(
                "dapr invoke {app_id}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        Ok(InvokeResponse {
            status,
            headers,
            body,
        })
    }
}
