//! Loading components: compile once (cached on disk by content hash),
//! pre-instantiate once, and swap a new version in atomically when its
//! `.wasm` changes. In-flight calls hold the old version until they finish.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

use crate::app::{ComponentDef, Manifest};
use crate::capabilities::bindings::exports::wasi::http::incoming_handler;
use crate::capabilities::bindings::{event_handler, job_handler, websocket_handler};
use crate::engine::cached_artifact;
use crate::engine::store::HostState;
use crate::ops::private_fs;

/// Which exports the manifest's triggers need from a component.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub http: bool,
    pub events: bool,
    pub jobs: bool,
    pub websocket: bool,
}

impl Needs {
    pub fn of(manifest: &Manifest, id: &str) -> Self {
        Needs {
            http: manifest.http.iter().any(|t| t.component == id),
            events: manifest.topics.iter().any(|t| t.component == id),
            jobs: manifest.jobs.iter().any(|t| t.component == id),
            websocket: manifest.websockets.iter().any(|t| t.component == id),
        }
    }
}

/// What the hot-swap watcher last saw of a component's file.
#[derive(Default)]
struct Watched {
    /// (mtime, len) at the last look.
    stamp: Option<(SystemTime, u64)>,
    /// Hash of a version already refused, so it is not retried every pass.
    refused: Option<String>,
}

/// One compiled, linked version of a component.
pub struct Loaded {
    /// Hex SHA-256 of the `.wasm`.
    pub hash: String,
    pub pre: InstancePre<HostState>,
    pub http: Option<incoming_handler::GuestIndices>,
    pub events: Option<event_handler::GuestIndices>,
    pub jobs: Option<job_handler::GuestIndices>,
    pub websocket: Option<websocket_handler::GuestIndices>,
}

pub struct Slot {
    pub def: ComponentDef,
    pub env: Vec<(String, String)>,
    needs: Needs,
    current: ArcSwap<Loaded>,
    seen: Mutex<Watched>,
}

impl Slot {
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }
}

pub struct Registry {
    pub engine: Engine,
    linker: Linker<HostState>,
    cache_dir: PathBuf,
    slots: BTreeMap<String, Arc<Slot>>,
}

impl Registry {
    pub fn new(engine: Engine, cache_dir: PathBuf) -> anyhow::Result<Self> {
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::engine::linker::add_to_linker(&mut linker)?;
        // Its files are loaded as native code: only this user may write it.
        private_fs::ensure_dir(&cache_dir, private_fs::OthersWriting::Refuse)
            .context("the cache of compiled components")?;
        Ok(Registry {
            engine,
            linker,
            cache_dir,
            slots: BTreeMap::new(),
        })
    }

    /// Loads every component of the manifest; the first failure stops
    /// start-up with a message naming the component.
    pub fn load_all(&mut self, manifest: &Manifest) -> anyhow::Result<()> {
        for def in manifest.components.values() {
            let needs = Needs::of(manifest, &def.id);
            let bytes = std::fs::read(&def.source).with_context(|| {
                format!("component `{}`: reading {}", def.id, def.source.display())
            })?;
            let loaded = self
                .prepare(&def.id, &bytes, needs)
                .with_context(|| format!("component `{}` ({})", def.id, def.source.display()))?;
            let env = def
                .variables
                .iter()
                .map(|(k, v)| {
                    let name = k.to_ascii_uppercase();
                    (
                        name.clone(),
                        crate::config::variable_override(&name).unwrap_or(v.clone()),
                    )
                })
                .collect();
            let slot = Slot {
                def: def.clone(),
                env,
                needs,
                current: ArcSwap::from_pointee(loaded),
                seen: Mutex::new(Watched {
                    stamp: stamp(&def.source),
                    refused: None,
                }),
            };
            tracing::info!(component = %def.id, "loaded");
            self.slots.insert(def.id.clone(), Arc::new(slot));
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Slot>> {
        self.slots.get(id)
    }

    /// Compiles (or loads from the cache), links and checks the exports.
    fn prepare(&self, id: &str, bytes: &[u8], needs: Needs) -> anyhow::Result<Loaded> {
        let hash = hex::encode(Sha256::digest(bytes));
        let component = self.compile_cached(&hash, bytes)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking (does it import something the host does not provide?)")?;
        let export = |what: &str| format!("`{id}` must export `{what}` for its triggers");
        let http = incoming_handler::GuestIndices::new(&pre).ok();
        let events = event_handler::GuestIndices::new(&pre).ok();
        let jobs = job_handler::GuestIndices::new(&pre).ok();
        let websocket = websocket_handler::GuestIndices::new(&pre).ok();
        anyhow::ensure!(
            !needs.http || http.is_some(),
            export("wasi:http/incoming-handler")
        );
        anyhow::ensure!(!needs.events || events.is_some(), export("event-handler"));
        anyhow::ensure!(!needs.jobs || jobs.is_some(), export("job-handler"));
        anyhow::ensure!(
            !needs.websocket || websocket.is_some(),
            export("websocket-handler")
        );
        Ok(Loaded {
            hash,
            pre,
            http,
            events,
            jobs,
            websocket,
        })
    }

    /// Compiling is the slow part of start-up; the native artifact is kept
    /// in the cache dir, keyed by the `.wasm` hash and the engine's
    /// compatibility hash so an upgraded host never loads a stale artifact.
    fn compile_cached(&self, hash: &str, bytes: &[u8]) -> anyhow::Result<Component> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        let path = self
            .cache_dir
            .join(format!("{hash}-{:016x}.cwasm", h.finish()));
        match cached_artifact::read(&path, hash) {
            Ok(Some(artifact)) => {
                // SAFETY: the artifact is one this host's user wrote into a
                // directory only it can write (checked in `Registry::new`),
                // for this engine configuration (the name), and its digest
                // and the component's hash were just verified.
                #[allow(unsafe_code)]
                match unsafe { Component::deserialize(&self.engine, &artifact) } {
                    Ok(c) => return Ok(c),
                    Err(e) => tracing::warn!("discarding cached {}: {e}", path.display()),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("discarding cached {}: {e}", path.display()),
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling")?;
        if let Ok(artifact) = component.serialize()
            && let Err(e) = cached_artifact::write(&path, hash, &artifact)
        {
            tracing::warn!("not caching {}: {e:#}", path.display());
        }
        Ok(component)
    }

    /// One pass of the hot-swap watcher: any `.wasm` whose file changed is
    /// loaded; a version that fails to compile or link is refused and the
    /// old one keeps serving.
    pub fn reload_changed(&self) {
        for slot in self.slots.values() {
            let now = stamp(&slot.def.source);
            let mut seen = slot.seen.lock().expect("watcher lock");
            if now.is_none() || now == seen.stamp {
                continue;
            }
            seen.stamp = now;
            let Ok(bytes) = std::fs::read(&slot.def.source) else {
                continue;
            };
            let hash = hex::encode(Sha256::digest(&bytes));
            if hash == slot.current().hash || seen.refused.as_deref() == Some(hash.as_str()) {
                continue;
            }
            match self.prepare(&slot.def.id, &bytes, slot.needs) {
                Ok(loaded) => {
                    tracing::info!(component = %slot.def.id, hash = %&loaded.hash[..12], "swapped in new version");
                    slot.current.store(Arc::new(loaded));
                    seen.refused = None;
                }
                Err(e) => {
                    tracing::error!(component = %slot.def.id, "refused new version: {e:#}");
                    seen.refused = Some(hash);
                }
            }
        }
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Polls for changed `.wasm` files. Polling (not inotify) because editors
/// and build tools replace files in ways inotify reports inconsistently,
/// and a stat per component per interval costs nothing.
pub fn spawn_watcher(registry: Arc<Registry>, every: Duration) {
    std::thread::Builder::new()
        .name("todo-hot-swap".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                registry.reload_changed();
            }
        })
        .expect("spawning the hot-swap watcher");
}
