//! Pod mode (`todo-host serve --component <id>`): one component, every
//! capability bridged to the Dapr sidecar on `DAPR_HTTP_PORT`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;

use crate::capabilities::Backends;
use crate::components::{Registry, spawn_watcher};
use crate::dapr::invoke::DaprInvoke;
use crate::dapr::pubsub::DaprPubSub;
use crate::dapr::scheduler::DaprScheduler;
use crate::dapr::secrets::DaprSecrets;
use crate::dapr::state::DaprState;
use crate::dapr::{DaprClient, DaprNames};
use crate::manifest::Manifest;
use crate::runtime::http::{Front, Invocation};
use crate::runtime::pod::{Pod, router};
use crate::runtime::websocket::Sockets;
use crate::runtime::{Runtime, now_ms};

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub manifest: PathBuf,
    pub component: String,
    pub listen: SocketAddr,
    pub dapr_http_port: u16,
    pub dapr_api_token: Option<String>,
    pub app_api_token: Option<String>,
    /// Where compiled components are cached (pods: an emptyDir).
    pub cache_dir: PathBuf,
    pub max_body_bytes: usize,
    pub hot_swap: bool,
}

pub async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    let manifest = Manifest::load(&opts.manifest)?
        .only(&opts.component)
        .map_err(anyhow::Error::msg)?;
    manifest.check_sources().map_err(anyhow::Error::msg)?;
    let engine = crate::sandbox::build_engine()?;
    crate::sandbox::start_epoch_ticker(&engine);
    let mut registry = Registry::new(engine, opts.cache_dir.clone())?;
    tokio::task::block_in_place(|| registry.load_all(&manifest))?;
    let registry = Arc::new(registry);

    let names = DaprNames::from_env();
    let dapr = DaprClient::new(
        opts.dapr_http_port,
        opts.dapr_api_token.clone(),
        names.clone(),
    )?;
    let sockets = Arc::new(Sockets::default());
    let pubsub = Arc::new(DaprPubSub { dapr: dapr.clone() });
    let state = DaprState::new(dapr.clone(), opts.component.clone(), pubsub.clone());
    let backends = Backends {
        state: state.clone(),
        pubsub,
        scheduler: Arc::new(DaprScheduler { dapr: dapr.clone() }),
        invoke: Arc::new(DaprInvoke { dapr: dapr.clone() }),
        secrets: Arc::new(DaprSecrets { dapr: dapr.clone() }),
        realtime: sockets.clone(),
        conversation: match std::env::var("TODO_DAPR_CONVERSATION")
            .ok()
            .filter(|c| !c.is_empty())
        {
            Some(component) => Arc::new(crate::dapr::conversation::DaprConversation {
                dapr: dapr.clone(),
                component,
            }),
            None => Arc::new(crate::capabilities::conversation::NoModel),
        },
    };
    let runtime = Arc::new(Runtime {
        manifest,
        registry: registry.clone(),
        backends,
        sockets,
        started_at: now_ms(),
    });
    let front = Arc::new(Front {
        runtime,
        ready: false.into(),
        max_body_bytes: opts.max_body_bytes,
        invocation: Some(Invocation {
            component: opts.component.clone(),
            app_token: opts.app_api_token.clone(),
        }),
    });
    tokio::spawn(crate::runtime::websocket::report_alive(
        front.runtime.clone(),
    ));
    let pod = Arc::new(Pod {
        front: front.clone(),
        component: opts.component.clone(),
        pubsub_name: names.pubsub.clone(),
        broadcast_pubsub_name: names.broadcast_pubsub.clone(),
        app_token: opts.app_api_token.clone(),
        attempts: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("binding {}", opts.listen))?;
    let addr = listener.local_addr()?;
    if opts.hot_swap {
        spawn_watcher(registry, Duration::from_millis(500));
    }
    // Ready once the sidecar answers and the outbox lane is recovered:
    // until then the pod takes no traffic.
    let ready_front = front.clone();
    tokio::spawn(async move {
        let setup = async {
            dapr.wait_ready(Duration::from_secs(600)).await?;
            state.initialize().await
        };
        match setup.await {
            Ok(()) => ready_front.ready.store(true, Ordering::Release),
            Err(e) => {
                tracing::error!("pod setup failed: {e:#}");
                std::process::exit(1);
            }
        }
    });
    tracing::info!(component = %opts.component, dapr_http_port = opts.dapr_http_port, "pod mode");
    println!("todo-host listening on http://{addr}");
    crate::runtime::http::serve_until_stopped(listener, router(pod)).await
}
