//! In-process mode: every component of the manifest in one process, one
//! HTTP port, all durable data under one directory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;

use crate::capabilities::Backends;
use crate::components::{Registry, spawn_watcher};
use crate::embedded::Db;
use crate::embedded::invoke::EmbeddedInvoke;
use crate::embedded::pubsub::EmbeddedPubSub;
use crate::embedded::scheduler::EmbeddedScheduler;
use crate::embedded::secrets::EmbeddedSecrets;
use crate::embedded::state::EmbeddedState;
use crate::manifest::Manifest;
use crate::runtime::http::{Front, router};
use crate::runtime::websocket::Sockets;
use crate::runtime::{Runtime, dispatch, now_ms, timers};

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub manifest: PathBuf,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub max_body_bytes: usize,
    pub secrets_file: Option<PathBuf>,
    pub hot_swap: bool,
}

/// Everything in-process mode runs, assembled but not yet serving.
pub struct InProcess {
    pub runtime: Arc<Runtime>,
    pub db: Db,
}

impl InProcess {
    /// Loads the manifest and every component and opens the data directory.
    pub fn assemble(
        manifest: &std::path::Path,
        data_dir: &std::path::Path,
        secrets_file: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let manifest = Manifest::load(manifest)?;
        manifest.check_sources().map_err(anyhow::Error::msg)?;
        let engine = crate::sandbox::build_engine()?;
        crate::sandbox::start_epoch_ticker(&engine);
        let db = Db::open(data_dir)
            .with_context(|| format!("opening the data directory {}", data_dir.display()))?;
        let mut registry = Registry::new(engine, data_dir.join("compiled"))?;
        registry.load_all(&manifest)?;
        // After the components load: a broken app writes nothing.
        let generated = data_dir.join("secrets.json");
        crate::embedded::secrets::ensure_generated(&generated)?;
        let registry = Arc::new(registry);
        let sockets = Arc::new(Sockets::default());
        let invoke = Arc::new(EmbeddedInvoke::default());
        let secrets: Arc<dyn crate::capabilities::secrets::SecretsBackend> =
            Arc::new(EmbeddedSecrets {
                file: secrets_file,
                generated: Some(generated),
            });
        let conversation: Arc<dyn crate::capabilities::conversation::ConversationBackend> =
            match crate::embedded::conversation::OpenAiModel::from_env(secrets.clone())? {
                Some(model) => Arc::new(model),
                None => Arc::new(crate::capabilities::conversation::NoModel),
            };
        let backends = Backends {
            state: Arc::new(EmbeddedState { db: db.clone() }),
            pubsub: Arc::new(EmbeddedPubSub { db: db.clone() }),
            scheduler: Arc::new(EmbeddedScheduler { db: db.clone() }),
            invoke: invoke.clone(),
            secrets,
            realtime: sockets.clone(),
            conversation,
        };
        let runtime = Arc::new(Runtime {
            manifest,
            registry,
            backends,
            sockets,
            started_at: now_ms(),
        });
        let _ = invoke.runtime.set(Arc::downgrade(&runtime));
        Ok(InProcess { runtime, db })
    }

    /// Starts event delivery and the job timer (needs a tokio runtime).
    pub fn start_background(&self) {
        dispatch::start(&self.runtime, &self.db);
        timers::start(&self.runtime, &self.db);
    }
}

pub async fn up(opts: UpOptions) -> anyhow::Result<()> {
    let app = tokio::task::block_in_place(|| {
        InProcess::assemble(&opts.manifest, &opts.data_dir, opts.secrets_file.clone())
    })?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("binding {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let front = Arc::new(Front {
        runtime: app.runtime.clone(),
        ready: false.into(),
        max_body_bytes: opts.max_body_bytes,
        invocation: None,
    });
    app.start_background();
    tokio::spawn(crate::runtime::websocket::report_alive(app.runtime.clone()));
    if opts.hot_swap {
        spawn_watcher(app.runtime.registry.clone(), Duration::from_millis(200));
    }
    front.ready.store(true, Ordering::Release);
    tracing::info!(data_dir = %opts.data_dir.display(), "in-process mode ready");
    // Tests and scripts read this line to learn the port when given `:0`.
    println!("todo-host listening on http://{addr}");
    crate::runtime::http::serve_until_stopped(listener, router(front)).await
}
