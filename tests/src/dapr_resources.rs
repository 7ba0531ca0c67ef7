//! The Dapr resources of a pod outside a cluster, rendered from the same
//! files the Helm chart renders (`dapr/components/`): `${NAME}`
//! placeholders filled in with loopback addresses, and the secret store
//! swapped for `dapr/local/secretstore.yaml` (a JSON file instead of
//! Kubernetes Secrets). Configuration objects are the cluster's only
//! (`dapr.io/config`); a standalone sidecar reads none from its folder.

use std::path::Path;

use anyhow::{Context, Result};

use crate::workspace_root;

/// Components whose data is durable (PostgreSQL) unless a stack says
/// more: the chart's `global.dapr.durableApps` default.
pub const DURABLE_DEFAULT: [&str; 2] = ["chat-api", "audit"];

/// Where a stack's servers are and which components it runs.
pub struct LocalDapr<'a> {
    pub kafka: &'a str,
    pub redis: &'a str,
    pub secrets_file: &'a Path,
    /// Every component of the manifest.
    pub components: &'a [String],
    /// Components on the PostgreSQL store.
    pub durable: &'a [String],
}

impl LocalDapr<'_> {
    /// Writes the resources of one pod into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let list = |names: Vec<&String>| serde_json::to_string(&names).expect("names are JSON");
        let durable = list(
            self.components
                .iter()
                .filter(|c| self.is_durable(c))
                .collect(),
        );
        let working = list(
            self.components
                .iter()
                .filter(|c| !self.is_durable(c))
                .collect(),
        );
        let secrets = self.secrets_file.display().to_string();
        let vars = [
            ("KAFKA_BROKERS", self.kafka),
            ("REDIS_HOST", self.redis),
            ("DURABLE_APPS", durable.as_str()),
            ("WORKING_STATE_APPS", working.as_str()),
            ("SECRETS_FILE", secrets.as_str()),
        ];
        let source = workspace_root().join("dapr");
        for file in ["pubsub.yaml", "statestore.yaml", "resiliency.yaml"] {
            render(
                &source.join("components").join(file),
                &dir.join(file),
                &vars,
            )?;
        }
        for file in ["secretstore.yaml", "conversation.yaml"] {
            render(&source.join("local").join(file), &dir.join(file), &vars)?;
        }
        Ok(())
    }

    fn is_durable(&self, component: &str) -> bool {
        is_durable(component, self.durable)
    }
}

/// Whether `component` keeps its data in PostgreSQL: the defaults and
/// what a stack adds (`durable`).
pub fn is_durable(component: &str, durable: &[String]) -> bool {
    DURABLE_DEFAULT.contains(&component) || durable.iter().any(|d| d == component)
}

/// The Dapr state store `component` uses (its host's TODO_DAPR_STATESTORE).
pub fn state_store_of(component: &str, durable: &[String]) -> &'static str {
    if is_durable(component, durable) {
        "statestore-durable"
    } else {
        "statestore"
    }
}

fn render(from: &Path, to: &Path, vars: &[(&str, &str)]) -> Result<()> {
    let template =
        std::fs::read_to_string(from).with_context(|| format!("reading {}", from.display()))?;
    let text = fill(&template, vars);
    if let Some(at) = text.find("${") {
        let end = text[at..].find('}').map_or(text.len(), |e| at + e + 1);
        anyhow::bail!("{}: no value for {}", from.display(), &text[at..end]);
    }
    std::fs::write(to, text)?;
    Ok(())
}

/// `template` with every `${NAME}` of `vars` replaced by its value.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_owned(), |t, (k, v)| {
        t.replace(&format!("${{{k}}}"), v)
    })
}
