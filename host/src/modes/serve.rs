//! Pod mode (`todo-host serve --component <id>`): one component, every
//! capability bridged to the Dapr sidecar on `DAPR_HTTP_PORT`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;

use crate::app::Manifest;
use crate::capabilities::Backends;
use crate::capabilities::conversation::{NoModel, dapr::DaprConversation};
use crate::capabilities::dapr_client::DaprClient;
use crate::capabilities::invoke::dapr::DaprInvoke;
use crate::capabilities::outgoing_http::Egress;
use crate::capabilities::pubsub::dapr::DaprPubSub;
use crate::capabilities::scheduler::dapr::DaprScheduler;
use crate::capabilities::secrets::dapr::DaprSecrets;
use crate::capabilities::state::dapr::DaprState;
use crate::config::HostEnv;
use crate::engine::registry::{Registry, spawn_watcher};
use crate::engine::{Runtime, now_ms};
use crate::ops::metrics_route::MetricsPlace;
use crate::triggers::http::{Front, Invocation, SidecarAuth};
use crate::triggers::job::dapr::DaprJobs;
use crate::triggers::topic::dapr::DaprTopics;
use crate::triggers::websocket::{KeepAlive, Sockets};

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
    /// The front door's connection deadlines and cap.
    pub connections: crate::ops::listener::ConnLimits,
    /// The callers' fair shares of component calls.
    pub shares: crate::triggers::http::ShareLimits,
    /// The only place a pod serves `/metrics` (never its app port).
    pub metrics_listen: Option<SocketAddr>,
    /// Where the client address components see comes from.
    pub client_address: crate::triggers::http::ClientAddress,
    pub hot_swap: bool,
    /// The app port is reachable by the sidecar only (the operator says
    /// so): no app API token is required.
    pub trusted_network: bool,
}

pub async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    // Without the token, any request with `dapr-caller-app-id` passes for
    // the sidecar: events, jobs and service invocations from anyone who
    // reaches the port.
    anyhow::ensure!(
        opts.app_api_token.is_some() || opts.trusted_network,
        "APP_API_TOKEN is not set: without it anyone who reaches the app port \
         ({}) could deliver events, fire jobs and invoke services as the sidecar; \
         set it (the token Dapr's `dapr.io/app-token-secret` sends), or pass \
         --trusted-network (TODO_TRUSTED_NETWORK=1) when only the sidecar can reach the port",
        opts.listen
    );
    let manifest = Manifest::load(&opts.manifest)?.only(&opts.component)?;
    manifest.check_sources()?;
    let engine = crate::engine::sandbox::build_engine()?;
    crate::engine::sandbox::start_epoch_ticker(&engine);
    let mut registry = Registry::new(engine, opts.cache_dir.clone())?;
    tokio::task::block_in_place(|| registry.load_all(&manifest))?;
    let registry = Arc::new(registry);

    let env = HostEnv::read();
    let dapr = DaprClient::new(
        opts.dapr_http_port,
        opts.dapr_api_token.clone(),
        env.dapr.clone(),
    )?;
    let sockets = Arc::new(Sockets::new(KeepAlive {
        interval: env.ws_ping_interval,
    }));
    let pubsub = Arc::new(DaprPubSub { dapr: dapr.clone() });
    let state = DaprState::new(
        dapr.clone(),
        opts.component.clone(),
        env.outbox_lane(&opts.component),
        pubsub.clone(),
    );
    let backends = Backends {
        state: state.clone(),
        pubsub,
        scheduler: Arc::new(DaprScheduler { dapr: dapr.clone() }),
        invoke: Arc::new(DaprInvoke { dapr: dapr.clone() }),
        secrets: Arc::new(DaprSecrets { dapr: dapr.clone() }),
        realtime: sockets.clone(),
        conversation: match env.dapr_conversation.clone() {
            Some(component) => Arc::new(DaprConversation {
                dapr: dapr.clone(),
                component,
            }),
            None => Arc::new(NoModel),
        },
        egress: Arc::new(Egress {
            allow_private: env.outbound_allow_private,
        }),
    };
    let runtime = Arc::new(Runtime {
        manifest,
        registry: registry.clone(),
        backends,
        started_at: now_ms(),
    });
    let front = Arc::new(
        Front::new(
            runtime.clone(),
            opts.max_body_bytes,
            Some(Invocation {
                component: opts.component.clone(),
                app_token: opts.app_api_token.clone(),
            }),
            sockets.clone(),
        )
        .with_client_address(opts.client_address.clone())
        .with_shares(opts.shares),
    );
    tokio::spawn(crate::triggers::websocket::report_alive(
        runtime.clone(),
        sockets,
    ));
    // The app port: the component's routes plus what the sidecar calls.
    let auth = SidecarAuth {
        app_token: opts.app_api_token.clone(),
    };
    let topics = Arc::new(DaprTopics::new(
        runtime.clone(),
        opts.component.clone(),
        &env.dapr,
        auth.clone(),
    ));
    let jobs = Arc::new(DaprJobs {
        runtime,
        component: opts.component.clone(),
        auth,
    });
    let app = topics
        .routes()
        .merge(jobs.routes())
        .merge(crate::triggers::http::router(front.clone()));
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
    MetricsPlace::choose(true, addr, opts.metrics_listen)
        .start_own()
        .await?;
    println!("todo-host listening on http://{addr}");
    crate::ops::shutdown::serve_until_stopped(listener, app, opts.connections).await
}
