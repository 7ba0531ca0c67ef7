//! `todo:platform/secrets`: read a named secret. Values never reach logs.

use async_trait::async_trait;
use tracing::instrument;

use super::{CapError, CapResult};
use crate::bindings::todo::platform::secrets as wit;
use crate::store::HostState;

#[async_trait]
pub trait SecretsBackend: Send + Sync {
    /// `NotFound` if the secret does not exist.
    async fn get(&self, owner: &str, name: &str) -> CapResult<String>;
}

impl wit::Host for HostState {
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
        self.backends.secrets.get(&self.component, &name).await
    }
}
