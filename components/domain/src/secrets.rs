//! The secrets capability as a trait: WIT `secrets` in a component, a
//! fixed map in native tests.

use std::collections::BTreeMap;

use crate::kv::KvError;

/// Named secrets. Values must never be logged.
pub trait Secrets {
    /// `NotFound` if the secret does not exist.
    fn get(&self, name: &str) -> Result<String, KvError>;
}

/// A fixed set of secrets, for tests.
#[derive(Debug, Clone, Default)]
pub struct StaticSecrets(BTreeMap<String, String>);

impl StaticSecrets {
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.to_owned(), value.to_owned());
        self
    }
}

impl Secrets for StaticSecrets {
    fn get(&self, name: &str) -> Result<String, KvError> {
        self.0.get(name).cloned().ok_or(KvError::NotFound)
    }
}
