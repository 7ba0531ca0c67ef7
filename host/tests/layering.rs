//! The host's folders depend on each other in one direction only (see
//! `host/README.md`): a leaf (`app`, `clock`, `config`, `cloudevent`, `ops`) imports
//! nothing of the host; `capabilities` only leaves; `engine` capabilities
//! and leaves; `triggers` the engine too; only `modes` assembles
//! everything. Inside `capabilities`, a backend imports no other
//! capability's backend, and an embedded backend never the Dapr client
//! (nor a Dapr backend the embedded store).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<name>` paths a file refers to, outside comments.
fn crate_refs(text: &str) -> Vec<Vec<String>> {
    let mut refs = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let path: String = rest[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            refs.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
            rest = &rest[i + 7..];
        }
    }
    refs
}

/// The folder (or root module) a file belongs to, and the rest of its path.
fn place(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.len() == 1 && parts[0] == "mod" {
        parts.clear();
    }
    parts
}

fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    const LEAVES: &[&str] = &["app", "clock", "config", "cloudevent", "ops"];
    Some(match layer {
        "app" | "clock" | "config" | "cloudevent" | "ops" => &[],
        "capabilities" => LEAVES,
        "engine" => &[
            "app",
            "clock",
            "config",
            "cloudevent",
            "ops",
            "capabilities",
        ],
        "triggers" => &[
            "app",
            "clock",
            "config",
            "cloudevent",
            "ops",
            "capabilities",
            "engine",
        ],
        // Assembly, the crate root and the binaries may use anything.
        _ => return None,
    })
}

#[test]
fn folders_depend_in_one_direction() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = BTreeSet::new();
    let mut checked = 0;
    for file in &files {
        let at = place(&src, file);
        let Some(layer) = at.first() else { continue };
        let Some(may) = allowed(layer) else { continue };
        checked += 1;
        let text = std::fs::read_to_string(file).unwrap();
        for r in crate_refs(&text) {
            let Some(target) = r.first() else { continue };
            if target != layer && !may.contains(&target.as_str()) {
                wrong.insert(format!("{} uses crate::{}", at.join("/"), r.join("::")));
            }
        }
    }
    assert!(checked > 30, "found only {checked} files under {src:?}");
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{wrong:#?}"
    );
}

#[test]
fn a_backend_imports_no_other_backend() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join("capabilities"), &mut files);
    let mut wrong = BTreeSet::new();
    let mut backends = 0;
    for file in &files {
        let at = place(&src, file);
        // capabilities/<name>/<backend>
        let [_, name, backend] = at.as_slice() else {
            continue;
        };
        if backend != "embedded" && backend != "dapr" {
            continue;
        }
        backends += 1;
        let forbidden_shared = if backend == "embedded" {
            "dapr_client"
        } else {
            "embedded_store"
        };
        let text = std::fs::read_to_string(file).unwrap();
        for r in crate_refs(&text) {
            let other_backend = r.len() >= 3
                && r[0] == "capabilities"
                && r[1] != *name
                && (r[2] == "embedded" || r[2] == "dapr");
            let wrong_shared = r.len() >= 2 && r[0] == "capabilities" && r[1] == forbidden_shared;
            if other_backend || wrong_shared {
                wrong.insert(format!("{} uses crate::{}", at.join("/"), r.join("::")));
            }
        }
    }
    assert!(backends >= 12, "found only {backends} backends");
    assert!(
        wrong.is_empty(),
        "backends importing other backends:\n{wrong:#?}"
    );
}

#[test]
fn the_host_uses_the_platform_event_crate_not_component_code() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let users: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines().any(|l| {
                l.split("//")
                    .next()
                    .unwrap_or_default()
                    .contains("todo_domain")
            })
        })
        .map(|f| place(&src, f).join("/"))
        .collect();
    assert!(users.is_empty(), "host files using todo_domain: {users:?}");
}
