//! Secrets over Dapr's secrets API (`/v1.0/secrets/<store>/<name>`).

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

use crate::capabilities::dapr_client::{DaprClient, segment};
use crate::capabilities::secrets::SecretsBackend;
use crate::capabilities::{CapError, CapResult};

pub struct DaprSecrets {
    pub dapr: DaprClient,
}

#[async_trait]
impl SecretsBackend for DaprSecrets {
    async fn get(&self, _owner: &str, name: &str) -> CapResult<String> {
        let path = format!(
            "/v1.0/secrets/{}/{}",
            segment(&self.dapr.names.secrets),
            segment(name)
        );
        let resp = self
            .dapr
            .send(self.dapr.request(Method::GET, &path), "get secret")
            .await
            .map_err(|e| match e {
                // Stores answer a missing secret with 500/ERR_SECRET_GET.
                CapError::Unavailable(m) if m.contains("ERR_SECRET_GET") => CapError::NotFound,
                other => other,
            })?;
        let map: serde_json::Map<String, Value> = resp
            .json()
            .await
            .map_err(|e| CapError::Unavailable(format!("dapr get secret: {e}")))?;
        // A secret is a map; ours are single values under their own name.
        map.get(name)
            .or_else(|| (map.len() == 1).then(|| map.values().next()).flatten())
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(CapError::NotFound)
    }
}
