//! `files` of a component (Spin v2): host directories its instances see,
//! read-only. An item is a directory relative to the manifest, mounted at
//! the same path, or `{ source = "dir", destination = "/path" }`.

use std::path::{Path, PathBuf};

/// One directory mounted read-only into a component's instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMount {
    /// The host directory, resolved against the manifest's directory.
    pub source: PathBuf,
    /// Where the guest sees it: an absolute guest path.
    pub destination: String,
}

/// Parses the `files` list of component `id`; `dir` is the manifest's
/// directory. Whether each source is an existing directory is checked
/// later ([`check`]): a pod runs one component and holds only its files.
pub fn parse(id: &str, items: &[toml::Value], dir: &Path) -> Result<Vec<FileMount>, String> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("component `{id}`: files[{i}]");
            let (source, destination) = match item {
                toml::Value::String(source) => {
                    no_glob(&at, source)?;
                    // Spin mounts a bare path at the same path in the guest.
                    let guest = source.trim_start_matches("./").trim_start_matches('/');
                    let destination = format!("/{guest}");
                    check_destination(&at, &destination)?;
                    (source.as_str(), destination)
                }
                toml::Value::Table(table) => {
                    if let Some(key) = table
                        .keys()
                        .find(|k| !matches!(k.as_str(), "source" | "destination"))
                    {
                        return Err(format!(
                            "{at}: unknown key `{key}` (expected `source` and `destination`; \
                             glob patterns and `exclude_files` are not supported)"
                        ));
                    }
                    let field = |name: &str| match table.get(name) {
                        Some(toml::Value::String(s)) => Ok(s.as_str()),
                        Some(_) => Err(format!("{at}.{name}: must be a string")),
                        None => Err(format!("{at}: missing `{name}`")),
                    };
                    let source = field("source")?;
                    no_glob(&format!("{at}.source"), source)?;
                    let destination = field("destination")?;
                    check_destination(&format!("{at}.destination"), destination)?;
                    (source, destination.to_owned())
                }
                _ => {
                    return Err(format!(
                        "{at}: must be a directory (a string) or a table \
                         {{ source = \"dir\", destination = \"/path\" }}"
                    ));
                }
            };
            if source.is_empty() {
                return Err(format!("{at}: the source must name a directory"));
            }
            Ok(FileMount {
                source: dir.join(source),
                destination,
            })
        })
        .collect()
}

/// Whether every mount's source is an existing directory, naming the
/// first that is not.
pub fn check(id: &str, mounts: &[FileMount]) -> Result<(), String> {
    for (i, mount) in mounts.iter().enumerate() {
        let at = format!("component `{id}`: files[{i}].source");
        let shown = mount.source.display();
        match std::fs::metadata(&mount.source) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(format!("{at}: {shown} is not a directory")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("{at}: directory {shown} does not exist"));
            }
            Err(e) => return Err(format!("{at}: cannot read {shown}: {e}")),
        }
    }
    Ok(())
}

/// Spin also takes glob patterns; mounting a directory is all the host
/// does, so a pattern is refused rather than taken as a literal name.
fn no_glob(at: &str, source: &str) -> Result<(), String> {
    if source.contains(['*', '?', '[', ']', '{', '}']) {
        return Err(format!(
            "{at}: `{source}` is a glob pattern; glob patterns are not supported, \
             name a directory to mount"
        ));
    }
    Ok(())
}

/// A guest path the mount can live at: absolute, without `..`.
fn check_destination(at: &str, destination: &str) -> Result<(), String> {
    if !destination.starts_with('/') {
        return Err(format!("{at}: `{destination}` must start with `/`"));
    }
    if destination.split('/').any(|s| s == "..") {
        return Err(format!(
            "{at}: the guest path `{destination}` must not contain `..`"
        ));
    }
    Ok(())
}
