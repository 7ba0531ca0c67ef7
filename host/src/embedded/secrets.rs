//! Embedded secrets: environment variables `TODO_SECRET_<NAME>` (upper-case,
//! `-` and `.` as `_`), then an optional JSON file of name -> value.

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;

use crate::capabilities::secrets::SecretsBackend;
use crate::capabilities::{CapError, CapResult};

pub struct EmbeddedSecrets {
    pub file: Option<PathBuf>,
}

impl EmbeddedSecrets {
    fn env_name(name: &str) -> String {
        let upper: String = name
            .chars()
            .map(|c| match c {
                '-' | '.' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        format!("TODO_SECRET_{upper}")
    }
}

#[async_trait]
impl SecretsBackend for EmbeddedSecrets {
    async fn get(&self, _owner: &str, name: &str) -> CapResult<String> {
        if let Ok(v) = std::env::var(Self::env_name(name)) {
            return Ok(v);
        }
        let Some(file) = &self.file else {
            return Err(CapError::NotFound);
        };
        let text = match tokio::fs::read_to_string(file).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CapError::NotFound),
            Err(e) => return Err(CapError::Unavailable(format!("secrets file: {e}"))),
        };
        let map: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
            CapError::Unavailable(format!("secrets file is not a JSON object of strings: {e}"))
        })?;
        map.get(name).cloned().ok_or(CapError::NotFound)
    }
}
