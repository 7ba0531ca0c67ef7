//! What xtask needs to know of the application, from spin.toml (the one
//! list of components) as the host reads it (`todo-manifest`): each
//! component's id, the cargo package that builds it (its build `workdir`),
//! and which components subscribe to topics, with their own consumer
//! group or one per pod (`broadcast`).

use std::path::Path;

use anyhow::{Context, Result};
use todo_manifest::Manifest;

pub struct Component {
    /// The id in spin.toml, the Dapr app id, the chart's service name.
    pub id: String,
    /// The cargo package in the component's build `workdir`.
    pub package: String,
}

pub struct Subscriber {
    pub component: String,
    /// Every replica is its own consumer group (`<component>-<n>`).
    pub broadcast: bool,
}

fn manifest(root: &Path) -> Result<Manifest> {
    Ok(Manifest::load(&root.join("spin.toml"))?)
}

/// Every component of spin.toml, by id.
pub fn components(root: &Path) -> Result<Vec<Component>> {
    manifest(root)?
        .components
        .values()
        .map(|c| {
            let workdir = c
                .build_workdir
                .as_ref()
                .with_context(|| format!("component {} has no build workdir in spin.toml", c.id))?;
            let cargo = workdir.join("Cargo.toml");
            let package: toml::Table = std::fs::read_to_string(&cargo)
                .with_context(|| format!("reading {}", cargo.display()))?
                .parse()?;
            let package = package
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .with_context(|| format!("{} names no package", cargo.display()))?;
            Ok(Component {
                id: c.id.clone(),
                package: package.to_owned(),
            })
        })
        .collect()
}

/// The components with `[[trigger.topic]]` subscriptions.
pub fn subscribers(root: &Path) -> Result<Vec<Subscriber>> {
    let mut out: Vec<Subscriber> = Vec::new();
    for trigger in manifest(root)?.topics {
        if !out.iter().any(|s| s.component == trigger.component) {
            out.push(Subscriber {
                component: trigger.component,
                broadcast: trigger.broadcast,
            });
        }
    }
    Ok(out)
}
