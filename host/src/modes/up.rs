//! In-process mode: every component of the manifest in one process, one
//! HTTP port, all durable data under one directory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;

use crate::app::Manifest;
use crate::capabilities::Backends;
use crate::capabilities::conversation::{ConversationBackend, NoModel, embedded::OpenAiModel};
use crate::capabilities::embedded_store::Db;
use crate::capabilities::invoke::embedded::{EmbeddedInvoke, LocalApps};
use crate::capabilities::outgoing_http::Egress;
use crate::capabilities::pubsub::embedded::EmbeddedPubSub;
use crate::capabilities::scheduler::embedded::EmbeddedScheduler;
use crate::capabilities::secrets::{SecretsBackend, embedded::EmbeddedSecrets};
use crate::capabilities::state::embedded::EmbeddedState;
use crate::config::HostEnv;
use crate::engine::registry::{Registry, spawn_watcher};
use crate::engine::{Runtime, now_ms};
use crate::ops::metrics_route::MetricsPlace;
use crate::triggers::http::{Front, router};
use crate::triggers::websocket::{KeepAlive, Sockets};
use crate::triggers::{job, topic};

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub manifest: PathBuf,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Compiled components; `<data_dir>/compiled` unless given.
    pub cache_dir: Option<PathBuf>,
    pub max_body_bytes: usize,
    /// The front door's connection deadlines and cap.
    pub connections: crate::ops::listener::ConnLimits,
    /// The callers' fair shares of component calls.
    pub shares: crate::triggers::http::ShareLimits,
    /// A listener of its own for `/metrics` (see `MetricsPlace`).
    pub metrics_listen: Option<SocketAddr>,
    /// Where the client address components see comes from.
    pub client_address: crate::triggers::http::ClientAddress,
    pub secrets_file: Option<PathBuf>,
    pub hot_swap: bool,
}

/// Everything in-process mode runs, assembled but not yet serving.
pub struct InProcess {
    pub runtime: Arc<Runtime>,
    pub sockets: Arc<Sockets>,
    pub db: Db,
}

impl InProcess {
    /// Loads the manifest and every component and opens the data directory.
    /// Compiled components are kept in `cache_dir` (`<data_dir>/compiled`
    /// when `None`).
    pub fn assemble(
        manifest: &std::path::Path,
        data_dir: &std::path::Path,
        cache_dir: Option<&std::path::Path>,
        secrets_file: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let env = HostEnv::read();
        let manifest = Manifest::load(manifest)?;
        manifest.check_sources()?;
        let engine = crate::engine::sandbox::build_engine()?;
        crate::engine::sandbox::start_epoch_ticker(&engine);
        let db = Db::open(data_dir)
            .with_context(|| format!("opening the data directory {}", data_dir.display()))?;
        let cache_dir = cache_dir.map_or_else(|| data_dir.join("compiled"), |d| d.to_path_buf());
        let mut registry = Registry::new(engine, cache_dir)?;
        registry.load_all(&manifest)?;
        // After the components load: a broken app writes nothing.
        let generated = data_dir.join("secrets.json");
        crate::capabilities::secrets::embedded::ensure_generated(&generated)?;
        let registry = Arc::new(registry);
        let sockets = Arc::new(Sockets::new(KeepAlive {
            interval: env.ws_ping_interval,
        }));
        let invoke = Arc::new(EmbeddedInvoke::default());
        let secrets: Arc<dyn SecretsBackend> = Arc::new(EmbeddedSecrets {
            file: secrets_file,
            generated: Some(generated),
        });
        let conversation: Arc<dyn ConversationBackend> = match &env.llm {
            Some(endpoint) => Arc::new(OpenAiModel::new(endpoint, secrets.clone())?),
            None => Arc::new(NoModel),
        };
        let backends = Backends {
            state: Arc::new(EmbeddedState { db: db.clone() }),
            pubsub: Arc::new(EmbeddedPubSub { db: db.clone() }),
            scheduler: Arc::new(EmbeddedScheduler { db: db.clone() }),
            invoke: invoke.clone(),
            secrets,
            realtime: sockets.clone(),
            conversation,
            egress: Arc::new(Egress {
                allow_private: env.outbound_allow_private,
            }),
        };
        let runtime = Arc::new(Runtime {
            manifest,
            registry,
            backends,
            started_at: now_ms(),
        });
        let apps: Arc<dyn LocalApps> = runtime.clone();
        let _ = invoke.apps.set(Arc::downgrade(&apps));
        Ok(InProcess {
            runtime,
            sockets,
            db,
        })
    }

    /// Starts event delivery and the job timer (needs a tokio runtime).
    pub fn start_background(&self) {
        topic::embedded::start(&self.runtime, &self.db);
        job::embedded::start(&self.runtime, &self.db);
    }
}

pub async fn up(opts: UpOptions) -> anyhow::Result<()> {
    let app = tokio::task::block_in_place(|| {
        InProcess::assemble(
            &opts.manifest,
            &opts.data_dir,
            opts.cache_dir.as_deref(),
            opts.secrets_file.clone(),
        )
    })?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("binding {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let front = Arc::new(
        Front::new(
            app.runtime.clone(),
            opts.max_body_bytes,
            None,
            app.sockets.clone(),
        )
        .with_client_address(opts.client_address.clone())
        .with_shares(opts.shares),
    );
    app.start_background();
    tokio::spawn(crate::triggers::websocket::report_alive(
        app.runtime.clone(),
        app.sockets.clone(),
    ));
    if opts.hot_swap {
        spawn_watcher(app.runtime.registry.clone(), Duration::from_millis(200));
    }
    front.ready.store(true, Ordering::Release);
    tracing::info!(data_dir = %opts.data_dir.display(), "in-process mode ready");
    // Tests and scripts read this line to learn the port when given `:0`.
    println!("todo-host listening on http://{addr}");
    let metrics = MetricsPlace::choose(false, addr, opts.metrics_listen);
    metrics.start_own().await?;
    let app = router(front).merge(metrics.app_routes());
    crate::ops::shutdown::serve_until_stopped(listener, app, opts.connections).await
}
