//! `spin.toml`, the application manifest (Spin manifest v2 shape) with our
//! own trigger types: `topic` (subscriptions), `job` and `websocket`.
//! Unknown or misspelled fields are errors that name the field and where
//! it is, so a typo never silently disables a subscription.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod files;
mod names;
mod outbound;
mod routes;
pub use files::FileMount;
pub use names::check_topic;
pub use outbound::{AllowedHosts, default_port};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// A component's `.wasm` or one of its `files` sources is missing.
    #[error("{0}")]
    MissingSource(String),
    /// `serve --component` names a component the manifest does not have.
    #[error("no component `{0}` in the manifest")]
    UnknownComponent(String),
}

/// Per-call limits of a component.
#[derive(Debug, Clone)]
pub struct Limits {
    pub memory_bytes: usize,
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 128 << 20,
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub name: String,
    pub dir: PathBuf,
    pub components: BTreeMap<String, ComponentDef>,
    pub http: Vec<HttpTrigger>,
    pub topics: Vec<TopicTrigger>,
    pub jobs: Vec<JobTrigger>,
    pub websockets: Vec<WebSocketTrigger>,
}

#[derive(Debug, Clone)]
pub struct ComponentDef {
    pub id: String,
    /// Absolute path of the `.wasm`.
    pub source: PathBuf,
    pub variables: BTreeMap<String, String>,
    pub limits: Limits,
    /// `files`: directories its instances see, read-only.
    pub files: Vec<FileMount>,
    /// `allowed_outbound_hosts`: where its outgoing HTTP may go.
    pub outbound: std::sync::Arc<AllowedHosts>,
    /// `build.workdir`, absolute: the crate that builds it (the host does
    /// not build; `cargo xtask build` does).
    pub build_workdir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// Exact path, or a prefix ending in `/...`.
    pub route: String,
    pub component: String,
    /// At most this many requests on this route run at once; the others
    /// wait their turn. For routes whose calls are CPU-bound by design (a
    /// password hash), so that a flood of them leaves the cores to
    /// everyone else.
    #[serde(default)]
    pub max_concurrent: Option<u32>,
    /// With `max_concurrent`: how many requests may wait for a turn
    /// (default 8 per turn); beyond that the host answers 503 at once.
    #[serde(default)]
    pub max_queued: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicTrigger {
    pub component: String,
    pub topics: Vec<String>,
    /// Deliveries of one event before it is dead-lettered.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First retry delay; doubles up to `max_backoff_ms`.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    #[serde(default = "default_max_backoff")]
    pub max_backoff_ms: u64,
    #[serde(default = "default_dead_letter")]
    pub dead_letter_topic: String,
    /// Every instance of the component receives every event (its own
    /// consumer group per pod), instead of the instances sharing them. For
    /// services that act on what each pod holds, such as WebSockets. Pod
    /// mode subscribes through the broadcast pub/sub component.
    #[serde(default)]
    pub broadcast: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobTrigger {
    pub component: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSocketTrigger {
    pub route: String,
    pub component: String,
}

fn default_attempts() -> u32 {
    5
}
fn default_backoff() -> u64 {
    100
}
fn default_max_backoff() -> u64 {
    10_000
}
fn default_dead_letter() -> String {
    "dead-letters".into()
}

impl TopicTrigger {
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ms = self
            .backoff_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
            .min(self.max_backoff_ms);
        Duration::from_millis(ms)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: u32,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, toml::Value>,
    #[serde(default)]
    trigger: BTreeMap<String, Vec<toml::Value>>,
    #[serde(default)]
    component: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    build: Option<RawBuild>,
    #[serde(default)]
    memory_limit_mb: Option<u32>,
    #[serde(default)]
    timeout_ms: Option<u64>,
    /// Strings or tables: parsed by hand for errors naming the item.
    #[serde(default)]
    files: Vec<toml::Value>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // `command` and `watch` are Spin's; validated, not used
struct RawBuild {
    command: String,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    watch: Vec<String>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: shown.clone(),
            source,
        })?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        Self::parse(&text, &dir).map_err(|message| ManifestError::Invalid {
            path: shown,
            message,
        })
    }

    pub fn parse(text: &str, dir: &Path) -> Result<Self, String> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| e.to_string())?;
        if raw.spin_manifest_version != 2 {
            return Err(format!(
                "spin_manifest_version must be 2, found {}",
                raw.spin_manifest_version
            ));
        }
        let _ = (&raw.application.version, &raw.application.description);
        let _ = (&raw.application.authors, &raw.variables);
        let mut components = BTreeMap::new();
        for (id, value) in raw.component {
            let def = parse_component(&id, value, dir)?;
            components.insert(id, def);
        }
        let mut m = Manifest {
            name: raw.application.name,
            dir: dir.to_path_buf(),
            components,
            http: Vec::new(),
            topics: Vec::new(),
            jobs: Vec::new(),
            websockets: Vec::new(),
        };
        for (kind, entries) in raw.trigger {
            for (i, entry) in entries.into_iter().enumerate() {
                let at = format!("[[trigger.{kind}]] #{}", i + 1);
                let err = |e: toml::de::Error| format!("{at}: {}", e.message());
                match kind.as_str() {
                    "http" => m.http.push(entry.try_into().map_err(err)?),
                    "topic" => m.topics.push(entry.try_into().map_err(err)?),
                    "job" => m.jobs.push(entry.try_into().map_err(err)?),
                    "websocket" => m.websockets.push(entry.try_into().map_err(err)?),
                    other => {
                        return Err(format!(
                            "unknown trigger type `{other}` (expected http, topic, job or websocket)"
                        ));
                    }
                }
            }
        }
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        let known = |c: &str, what: &str| {
            if self.components.contains_key(c) {
                Ok(())
            } else {
                Err(format!("{what} refers to unknown component `{c}`"))
            }
        };
        let mut routes = std::collections::HashSet::new();
        for t in &self.http {
            known(&t.component, &format!("http route `{}`", t.route))?;
            check_route(&t.route)?;
            if !routes.insert(t.route.clone()) {
                return Err(format!("http route `{}` is declared twice", t.route));
            }
            match (t.max_concurrent, t.max_queued) {
                (Some(0), _) => {
                    return Err(format!(
                        "http route `{}`: max_concurrent must be >= 1",
                        t.route
                    ));
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "http route `{}`: max_queued needs max_concurrent",
                        t.route
                    ));
                }
                _ => {}
            }
        }
        for t in &self.websockets {
            known(&t.component, &format!("websocket route `{}`", t.route))?;
            check_route(&t.route)?;
            if !routes.insert(t.route.clone()) {
                return Err(format!("route `{}` is declared twice", t.route));
            }
        }
        for t in &self.topics {
            known(&t.component, "a topic trigger")?;
            if t.topics.is_empty() {
                return Err(format!(
                    "topic trigger of `{}` lists no topics",
                    t.component
                ));
            }
            if t.max_attempts == 0 {
                return Err(format!(
                    "topic trigger of `{}`: max_attempts must be >= 1",
                    t.component
                ));
            }
            for topic in t.topics.iter().chain([&t.dead_letter_topic]) {
                check_topic(topic)
                    .map_err(|e| format!("topic trigger of `{}`: {e}", t.component))?;
            }
        }
        for t in &self.jobs {
            known(&t.component, "a job trigger")?;
        }
        Ok(())
    }

    /// Checks that every component's `.wasm` exists and that its `files`
    /// sources are directories, naming the first that is not. Apart from
    /// parsing so that a pod checks only what it runs (`only` first).
    pub fn check_sources(&self) -> Result<(), ManifestError> {
        for c in self.components.values() {
            if !c.source.is_file() {
                return Err(ManifestError::MissingSource(format!(
                    "component `{}`: source {} does not exist (build the components first: `cargo xtask build`)",
                    c.id,
                    c.source.display()
                )));
            }
            files::check(&c.id, &c.files).map_err(ManifestError::MissingSource)?;
        }
        Ok(())
    }

    /// The manifest as one pod sees it: only `id` and its triggers.
    pub fn only(&self, id: &str) -> Result<Manifest, ManifestError> {
        if !self.components.contains_key(id) {
            return Err(ManifestError::UnknownComponent(id.to_owned()));
        }
        let mut m = self.clone();
        m.components.retain(|c, _| c == id);
        m.http.retain(|t| t.component == id);
        m.topics.retain(|t| t.component == id);
        m.jobs.retain(|t| t.component == id);
        m.websockets.retain(|t| t.component == id);
        Ok(m)
    }
}

fn check_route(route: &str) -> Result<(), String> {
    if !route.starts_with('/') || route.contains("//") || route.contains(' ') {
        return Err(format!(
            "route `{route}` must start with `/` and contain no spaces"
        ));
    }
    if route.contains("...") && !route.ends_with("/...") {
        return Err(format!(
            "route `{route}`: `...` is only allowed as the last segment"
        ));
    }
    Ok(())
}

fn parse_component(id: &str, value: toml::Value, dir: &Path) -> Result<ComponentDef, String> {
    let ok_id = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_id {
        return Err(format!("component id `{id}` must be lower-case kebab-case"));
    }
    let raw: RawComponent = value
        .try_into()
        .map_err(|e: toml::de::Error| format!("component `{id}`: {}", e.message()))?;
    let _ = &raw.description;
    let mut limits = Limits::default();
    if let Some(mb) = raw.memory_limit_mb {
        limits.memory_bytes = (mb as usize) << 20;
    }
    if let Some(ms) = raw.timeout_ms {
        limits.timeout = Duration::from_millis(ms.max(1));
    }
    Ok(ComponentDef {
        id: id.to_owned(),
        source: dir.join(&raw.source),
        variables: raw.variables,
        limits,
        files: files::parse(id, &raw.files, dir)?,
        outbound: std::sync::Arc::new(
            AllowedHosts::parse(&raw.allowed_outbound_hosts)
                .map_err(|e| format!("component `{id}`: {e}"))?,
        ),
        build_workdir: raw.build.and_then(|b| b.workdir).map(|w| dir.join(w)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[[trigger.http]]
route = "/api/..."
component = "a"
[[trigger.topic]]
component = "a"
topics = ["task-events"]
[component.a]
source = "a.wasm"
"#;

    #[test]
    fn parses_a_valid_manifest() {
        let m = Manifest::parse(GOOD, Path::new("/app")).unwrap();
        assert_eq!(m.components["a"].source, Path::new("/app/a.wasm"));
        assert_eq!(m.topics[0].max_attempts, 5);
        assert_eq!(m.http[0].route, "/api/...");
    }

    #[test]
    fn misspelled_component_field_names_field_and_component() {
        let bad = GOOD.replace("source = ", "sourc = ");
        let err = Manifest::parse(&bad, Path::new("/")).unwrap_err();
        assert!(err.contains("component `a`"), "{err}");
        assert!(err.contains("sourc"), "{err}");
    }

    #[test]
    fn misspelled_trigger_field_is_rejected() {
        let bad = GOOD.replace("topics = ", "topcis = ");
        let err = Manifest::parse(&bad, Path::new("/")).unwrap_err();
        assert!(err.contains("topcis"), "{err}");
        assert!(err.contains("trigger.topic"), "{err}");
    }

    #[test]
    fn unknown_trigger_type_and_component_are_rejected() {
        let bad = GOOD.replace("[[trigger.topic]]", "[[trigger.redis]]");
        assert!(
            Manifest::parse(&bad, Path::new("/"))
                .unwrap_err()
                .contains("redis")
        );
        let bad = GOOD.replace(
            "component = \"a\"\n[[trigger.topic]]",
            "component = \"b\"\n[[trigger.topic]]",
        );
        assert!(
            Manifest::parse(&bad, Path::new("/"))
                .unwrap_err()
                .contains("`b`")
        );
    }

    fn with_files(files: &str) -> String {
        format!("{GOOD}files = {files}\n")
    }

    #[test]
    fn files_are_directories_or_source_destination_tables() {
        let m = Manifest::parse(
            &with_files(r#"["static", { source = "build/web", destination = "/" }]"#),
            Path::new("/app"),
        )
        .unwrap();
        assert_eq!(
            m.components["a"].files,
            vec![
                FileMount {
                    source: "/app/static".into(),
                    destination: "/static".into()
                },
                FileMount {
                    source: "/app/build/web".into(),
                    destination: "/".into()
                },
            ]
        );
        let plain = Manifest::parse(GOOD, Path::new("/app")).unwrap();
        assert!(plain.components["a"].files.is_empty());
    }

    #[test]
    fn malformed_files_items_name_the_item() {
        for (files, expected) in [
            (
                r#"[{ source = "web", destination = "web" }]"#,
                "files[0].destination: `web` must start with `/`",
            ),
            (
                r#"["ok", { source = "web", destination = "/", exclude_files = [] }]"#,
                "files[1]: unknown key `exclude_files`",
            ),
            (r#"["web/**/*"]"#, "glob patterns are not supported"),
            (
                r#"[{ source = "web/*.html", destination = "/" }]"#,
                "files[0].source: `web/*.html` is a glob pattern",
            ),
            (r#"[{ source = "web" }]"#, "files[0]: missing `destination`"),
            (r#"[3]"#, "files[0]: must be a directory"),
            (
                r#"[{ source = "web", destination = "/../x" }]"#,
                "must not contain `..`",
            ),
        ] {
            let err = Manifest::parse(&with_files(files), Path::new("/app")).unwrap_err();
            assert!(err.contains("component `a`"), "{err}");
            assert!(err.contains(expected), "{files}: {err}");
        }
    }

    #[test]
    fn files_sources_must_be_existing_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.wasm"), "").unwrap();
        std::fs::write(dir.path().join("page.html"), "").unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        let check = |files: &str| {
            Manifest::parse(&with_files(files), dir.path())
                .unwrap()
                .check_sources()
                .map_err(|e| e.to_string())
        };
        check(r#"[{ source = "web", destination = "/" }]"#).unwrap();
        let err = check(r#"["web", "missing"]"#).unwrap_err();
        assert!(err.contains("component `a`: files[1].source"), "{err}");
        assert!(err.contains("missing does not exist"), "{err}");
        let err = check(r#"[{ source = "page.html", destination = "/" }]"#).unwrap_err();
        assert!(err.contains("files[0].source"), "{err}");
        assert!(err.contains("is not a directory"), "{err}");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let m = Manifest::parse(GOOD, Path::new("/")).unwrap();
        let t = &m.topics[0];
        assert_eq!(t.backoff(1), Duration::from_millis(100));
        assert_eq!(t.backoff(3), Duration::from_millis(400));
        assert_eq!(t.backoff(30), Duration::from_millis(10_000));
    }
}
