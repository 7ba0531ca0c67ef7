//! `Secrets` over the host's `secrets` capability.

use crate::bindings::todo::platform::secrets as wit;
use crate::types::error_from_wit;

#[derive(Debug, Clone, Copy, Default)]
pub struct WitSecrets;

impl todo_domain::Secrets for WitSecrets {
    fn get(&self, name: &str) -> Result<String, todo_domain::KvError> {
        wit::get(name).map_err(error_from_wit)
    }
}
