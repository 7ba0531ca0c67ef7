//! `todo:platform/secrets`: read a named secret. Values never reach logs.

pub mod dapr;
pub mod embedded;

use async_trait::async_trait;
use tracing::instrument;

use crate::capabilities::bindings::todo::platform::secrets as wit;
use crate::capabilities::{CapError, CapResult, View};

#[async_trait]
pub trait SecretsBackend: Send + Sync {
    /// `NotFound` if the secret does not exist.
    async fn get(&self, owner: &str, name: &str) -> CapResult<String>;
}

impl wit::Host for View<'_, dyn SecretsBackend> {
    #[instrument(skip_all, fields(component = %self.component, secret = %name))]
    async fn get(&mut self, name: String) -> CapResult<String> {
        let ok = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !ok {
            return Err(CapError::Invalid(format!("bad secret name {name:?}")));
        }
        self.backend.get(self.component, &name).await
    }
}
