//! What xtask needs to know of the application, read from spin.toml (the
//! one list of components): each component's id, the cargo package that
//! builds it (its build `workdir`), and which components subscribe to
//! topics, with their own consumer group or one per pod (`broadcast`).

use std::path::Path;

use anyhow::{Context, Result};

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

fn manifest(root: &Path) -> Result<toml::Table> {
    let path = root.join("spin.toml");
    std::fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .parse()
        .with_context(|| format!("parsing {}", path.display()))
}

/// Every component of spin.toml, in the manifest's order.
pub fn components(root: &Path) -> Result<Vec<Component>> {
    let manifest = manifest(root)?;
    let table = manifest
        .get("component")
        .and_then(|c| c.as_table())
        .context("spin.toml has no [component.*]")?;
    table
        .iter()
        .map(|(id, component)| {
            let workdir = component
                .get("build")
                .and_then(|b| b.get("workdir"))
                .and_then(|w| w.as_str())
                .with_context(|| format!("component {id} has no build workdir in spin.toml"))?;
            let cargo = root.join(workdir).join("Cargo.toml");
            let package: toml::Table = std::fs::read_to_string(&cargo)
                .with_context(|| format!("reading {}", cargo.display()))?
                .parse()?;
            let package = package
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .with_context(|| format!("{} names no package", cargo.display()))?;
            Ok(Component {
                id: id.clone(),
                package: package.to_owned(),
            })
        })
        .collect()
}

/// The components with `[[trigger.topic]]` subscriptions.
pub fn subscribers(root: &Path) -> Result<Vec<Subscriber>> {
    let manifest = manifest(root)?;
    let triggers = manifest
        .get("trigger")
        .and_then(|t| t.get("topic"))
        .and_then(|t| t.as_array())
        .cloned()
        .unwrap_or_default();
    let mut out: Vec<Subscriber> = Vec::new();
    for trigger in triggers {
        let component = trigger
            .get("component")
            .and_then(|c| c.as_str())
            .context("a topic trigger names no component")?;
        if out.iter().any(|s| s.component == component) {
            continue;
        }
        out.push(Subscriber {
            component: component.to_owned(),
            broadcast: trigger
                .get("broadcast")
                .and_then(|b| b.as_bool())
                .unwrap_or(false),
        });
    }
    Ok(out)
}
