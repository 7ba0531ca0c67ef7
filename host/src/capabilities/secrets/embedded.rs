//! Embedded secrets: environment variables `TODO_SECRET_<NAME>` (upper-case,
//! `-` and `.` as `_`), then an optional JSON file of name -> value, then
//! the secrets the host generated for itself under the data directory.

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;

use crate::capabilities::secrets::SecretsBackend;
use crate::capabilities::{CapError, CapResult};

pub struct EmbeddedSecrets {
    pub file: Option<PathBuf>,
    /// `<data dir>/secrets.json`: generated on first start (see
    /// [`ensure_generated`]), kept with the data it protects.
    pub generated: Option<PathBuf>,
}

/// Secrets an installation needs and the host may invent: the key that
/// signs access tokens and the key of the audit chain. Generated once, so
/// tokens survive restarts and the chain stays verifiable; a data dir from
/// before a name was listed gains it on the next start.
pub const GENERATED: [&str; 2] = ["auth-signing-key", "audit-chain-key"];

/// Makes sure `path` holds every secret of [`GENERATED`], creating the
/// missing ones from the OS RNG. The file is written owner-only and
/// replaced atomically; values are never logged.
pub fn ensure_generated(path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut map: HashMap<String, String> = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON object of strings", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let missing: Vec<&str> = GENERATED
        .into_iter()
        .filter(|name| !map.contains_key(*name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for name in missing {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("OS random source: {e}"))?;
        map.insert(name.to_owned(), hex::encode(bytes));
        tracing::info!(secret = name, "generated a secret");
    }
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write as _;
        // A leftover of an interrupted write goes; a new file (never
        // through a symlink) takes its place.
        let _ = std::fs::remove_file(&tmp);
        let mut file = crate::ops::private_fs::create_new(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(&map)?)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

async fn lookup(file: &std::path::Path, name: &str) -> CapResult<Option<String>> {
    let text = match tokio::fs::read_to_string(file).await {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CapError::Unavailable(format!("secrets file: {e}"))),
    };
    let map: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
        CapError::Unavailable(format!("secrets file is not a JSON object of strings: {e}"))
    })?;
    Ok(map.get(name).cloned())
}

#[async_trait]
impl SecretsBackend for EmbeddedSecrets {
    async fn get(&self, _owner: &str, name: &str) -> CapResult<String> {
        if let Some(v) = crate::config::secret_from_env(name) {
            return Ok(v);
        }
        for file in [&self.file, &self.generated].into_iter().flatten() {
            if let Some(value) = lookup(file, name).await? {
                return Ok(value);
            }
        }
        Err(CapError::NotFound)
    }
}
