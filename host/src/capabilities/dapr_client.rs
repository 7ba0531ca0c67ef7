//! What every Dapr backend shares: the client of the sidecar's HTTP API and
//! the names of the Dapr components it talks to. One host per pod, one
//! component per host; the component id is the Dapr app id, so Dapr's own
//! key prefixing namespaces state per component. The backends themselves
//! live beside their capability (`capabilities/<name>/dapr.rs`).

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};

use crate::capabilities::{CapError, CapResult};

pub use crate::config::DaprNames;

/// A client for the sidecar on `127.0.0.1:$DAPR_HTTP_PORT`, sending the
/// Dapr API token when one is configured.
#[derive(Clone)]
pub struct DaprClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    pub names: DaprNames,
}

impl DaprClient {
    pub fn new(port: u16, token: Option<String>, names: DaprNames) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(DaprClient {
            http,
            base: format!("http://127.0.0.1:{port}"),
            token,
            names,
        })
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.header("dapr-api-token", token);
        }
        req
    }

    /// Sends and maps transport failures and Dapr error statuses to
    /// capability errors; `Ok` is any 2xx response.
    pub async fn send(&self, req: RequestBuilder, what: &str) -> CapResult<Response> {
        let resp = req
            .send()
            .await
            .map_err(|e| CapError::Unavailable(format!("dapr {what}: {e}")))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let message = format!(
            "dapr {what}: {status}: {}",
            body.chars().take(500).collect::<String>()
        );
        Err(match status {
            StatusCode::NOT_FOUND => CapError::NotFound,
            StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => CapError::Conflict(message),
            StatusCode::BAD_REQUEST => {
                // Dapr reports some ETag mismatches as 400 (invalid ETag).
                if body.contains("ERR_STATE_ETAG") || body.to_lowercase().contains("etag") {
                    CapError::Conflict(message)
                } else {
                    CapError::Invalid(message)
                }
            }
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => CapError::Denied(message),
            _ => CapError::Unavailable(message),
        })
    }

    /// Waits until the sidecar reports healthy (`/v1.0/healthz/outbound`).
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let start = std::time::Instant::now();
        loop {
            let req = self.request(Method::GET, "/v1.0/healthz/outbound");
            if let Ok(resp) = req.send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if start.elapsed() > timeout {
                anyhow::bail!(
                    "the Dapr sidecar at {} is not ready after {timeout:?}",
                    self.base
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Percent-encodes one path segment (keys and names may contain `:`).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
