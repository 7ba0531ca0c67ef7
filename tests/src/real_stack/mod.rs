//! The real stack, exactly as pods run it: per component one
//! `todo-host serve` and one `daprd` (its sidecar), over a real Kafka,
//! Redis, PostgreSQL and Dapr Scheduler on loopback.
//!
//! The shared servers are started by `cargo xtask test` (scripts in
//! `xtask/stack/`) and described to the tests by `TODO_STACK_*` variables;
//! each stack starts its own hosts and sidecars. Stacks share Kafka's
//! consumer groups, so only one runs at a time (across test processes).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

mod evidence;
mod pod;
mod supervise;

use pod::Launch;
pub use pod::Pod;

use crate::dapr_resources::LocalDapr;
use crate::stack::Stack;
use crate::workspace_root;

/// The turn of one real stack on the shared servers: they share Kafka's
/// consumer groups and the Scheduler, so one stack runs at a time across
/// every test process (the test command runs several binaries at once).
/// An exclusive lock on a file in the servers' directory, released when
/// dropped or when the process dies.
struct Turn {
    _lock: std::fs::File,
    waited: Duration,
    since: Instant,
    /// Of the time held, how much went to starting pods (first and again)
    /// and to stopping them.
    starting: Duration,
    stopping: Duration,
    /// `stack.turns` in the servers' directory: one line per turn, read by
    /// the test command for its summary.
    ledger: PathBuf,
}

impl Turn {
    fn take(infra: &Infra) -> Result<Turn> {
        let path = infra.work.join("stack.turn");
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let asked = Instant::now();
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
        Ok(Turn {
            _lock: file,
            waited: asked.elapsed(),
            since: Instant::now(),
            starting: Duration::ZERO,
            stopping: Duration::ZERO,
            ledger: infra.work.join("stack.turns"),
        })
    }
}

impl Drop for Turn {
    /// How long stacks wait and hold, per test: the figures to watch when
    /// the test command's time grows (the turns add up across binaries).
    fn drop(&mut self) {
        use std::io::Write as _;
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
            .map(|s| {
                s.rsplit_once('-')
                    .map_or(s.clone(), |(name, _)| name.to_owned())
            })
            .unwrap_or_default();
        let test = std::thread::current().name().unwrap_or("main").to_owned();
        let line = format!(
            "{binary}\t{test}\t{:.1}\t{:.1}\t{:.1}\t{:.1}\n",
            self.waited.as_secs_f64(),
            self.since.elapsed().as_secs_f64(),
            self.starting.as_secs_f64(),
            self.stopping.as_secs_f64()
        );
        // One append of one short line: whole, beside other processes'.
        if let Ok(mut f) = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&self.ledger)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// What `cargo xtask test` started, from the environment.
#[derive(Debug, Clone)]
pub struct Infra {
    pub work: PathBuf,
    pub kafka: String,
    pub redis: String,
    pub postgres: String,
    pub scheduler: String,
}

impl Infra {
    pub fn from_env() -> Option<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Some(Infra {
            work: PathBuf::from(var("TODO_STACK_DIR")?),
            kafka: var("TODO_STACK_KAFKA")?,
            redis: var("TODO_STACK_REDIS")?,
            postgres: var("TODO_STACK_POSTGRES")?,
            scheduler: var("TODO_STACK_SCHEDULER")?,
        })
    }
}

pub const APP_TOKEN: &str = "test-app-token";
pub const DAPR_TOKEN: &str = "test-dapr-token";

pub struct RealStack {
    pub infra: Infra,
    manifest: PathBuf,
    pub pods: Vec<Pod>,
    /// The manifest every pod runs.
    app: Arc<todo_manifest::Manifest>,
    /// Extra environment of every host.
    host_env: Vec<(String, String)>,
    durable: Vec<String>,
    /// Every component of the manifest.
    components: Vec<String>,
    /// The `auth-signing-key` secret of every pod of this stack.
    pub signing_key: String,
    /// The `audit-chain-key` secret of every pod of this stack.
    audit_key: String,
    turn: Turn,
}

/// A loopback port that is free now and stays free until a pod binds it.
///
/// Not from `bind(0)`: that hands out the kernel's ephemeral range, from
/// which every outgoing connection (to Kafka, PostgreSQL, a sidecar) also
/// takes its local port, so a port picked that way was seen taken before
/// its daprd or host bound it. Ports below the ephemeral range are only
/// ever taken by an explicit bind; each is handed out once per process.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(0);
    const FIRST: u16 = 20_000;
    if low > FIRST + 1_000 {
        let span = low - FIRST;
        // Spread test processes over the span (one holds the stack's turn
        // at a time, but a leftover from a killed run may still hold a port).
        if NEXT.load(Ordering::Relaxed) == 0 {
            let seed = (std::process::id() as u64).wrapping_mul(2_654_435_761) % u64::from(span);
            NEXT.store(seed as u16 + 1, Ordering::Relaxed);
        }
        for _ in 0..span {
            let offset = NEXT.fetch_add(1, Ordering::Relaxed) % span;
            let port = FIRST + offset;
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn script(name: &str) -> PathBuf {
    workspace_root().join("xtask/stack").join(name)
}

/// Components run as two replicas, as in a cluster: the websocket
/// service, whose replicas each hold their own connections.
pub const REPLICATED: [&str; 1] = ["websocket"];

impl RealStack {
    /// The app port of `component`'s `replica` (public routes and
    /// WebSockets of that very pod).
    pub fn replica_url(&self, component: &str, replica: usize, path: &str) -> String {
        let pod = &self.pods[self.replica_index(component, replica)];
        format!("http://127.0.0.1:{}{path}", pod.app_port)
    }

    /// Index in `pods` of `component`'s `replica`.
    pub fn replica_index(&self, component: &str, replica: usize) -> usize {
        self.pods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.component == component)
            .nth(replica)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no replica {replica} of {component}"))
    }

    /// Starts a pod for every component of `manifest`.
    pub fn start(infra: Infra, manifest: &Path) -> Result<Self> {
        Self::start_with(infra, manifest, &[])
    }

    /// Like [`RealStack::start`], with `durable` components also on the
    /// PostgreSQL store.
    pub fn start_with(infra: Infra, manifest: &Path, durable: &[&str]) -> Result<Self> {
        Self::start_configured(infra, manifest, durable, &[])
    }

    /// [`RealStack::start_with`], every host getting `env` too.
    pub fn start_configured(
        infra: Infra,
        manifest: &Path,
        durable: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let turn = Turn::take(&infra)?;
        let app = Arc::new(todo_manifest::Manifest::load(manifest)?);
        let components: Vec<String> = app.components.keys().cloned().collect();
        let run = infra
            .work
            .join(format!("stack-{}", uuid::Uuid::new_v4().simple()));
        let mut stack = RealStack {
            infra,
            manifest: manifest.to_path_buf(),
            pods: Vec::new(),
            app,
            components,
            durable: durable.iter().map(|s| s.to_string()).collect(),
            host_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            // A key the test holds too (`TODO_SECRET_AUTH_SIGNING_KEY`, as
            // in-process), or a fresh one.
            signing_key: env
                .iter()
                .find(|(k, _)| *k == "TODO_SECRET_AUTH_SIGNING_KEY")
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| {
                    format!(
                        "{}{}",
                        uuid::Uuid::new_v4().simple(),
                        uuid::Uuid::new_v4().simple()
                    )
                }),
            audit_key: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            turn,
        };
        for component in stack.components.clone() {
            let replicas = if REPLICATED.contains(&component.as_str()) {
                2
            } else {
                1
            };
            for replica in 0..replicas {
                let name = format!("{component}-{replica}");
                let dir = run.join(&name);
                stack.write_resources(&dir)?;
                stack.pods.push(Pod {
                    component: component.clone(),
                    name,
                    app_port: free_port(),
                    metrics_port: free_port(),
                    dapr_http_port: free_port(),
                    dir,
                    host: None,
                });
            }
        }
        let starting = Instant::now();
        stack.start_pods(&(0..stack.pods.len()).collect::<Vec<_>>())?;
        eprintln!(
            "real stack: {} pods up in {:.1}s",
            stack.pods.len(),
            starting.elapsed().as_secs_f64()
        );
        Ok(stack)
    }

    fn write_resources(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let secrets = dir.join("secrets.json");
        // Every pod of one stack shares the token signing key, as the
        // pods of a cluster share one Kubernetes secret.
        let secrets_json = serde_json::json!({
            "greeting": "hello from the secret store",
            "auth-signing-key": self.signing_key,
            "audit-chain-key": self.audit_key,
            "redis-password": "",
            "postgres-url": self.infra.postgres,
        });
        std::fs::write(&secrets, secrets_json.to_string())?;
        LocalDapr {
            kafka: &self.infra.kafka,
            redis: &self.infra.redis,
            secrets_file: &secrets,
            components: &self.components,
            durable: &self.durable,
        }
        .write(&dir.join("resources"))
    }

    /// Starts pod `i`'s host and sidecar (again, after a kill).
    pub fn start_pod(&mut self, i: usize) -> Result<()> {
        self.start_pods(&[i])
    }

    /// Starts the pods `which` side by side (most of a start is waiting:
    /// on a port, on daprd loading its components, on readiness).
    pub fn start_pods(&mut self, which: &[usize]) -> Result<()> {
        let since = Instant::now();
        let launch = Launch {
            scheduler: &self.infra.scheduler,
            manifest: &self.manifest,
            durable: &self.durable,
            host_env: &self.host_env,
            name_db: self.infra.work.join("nr.db"),
        };
        let result = std::thread::scope(|scope| {
            let started: Vec<_> = self
                .pods
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| which.contains(i))
                .map(|(_, pod)| scope.spawn(|| launch.start(pod)))
                .collect();
            started
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|_| bail!("a pod's start panicked")))
                .collect::<Result<Vec<()>>>()
        });
        self.turn.starting += since.elapsed();
        result.map(|_| ())
    }

    pub fn pod(&self, component: &str) -> usize {
        self.pods
            .iter()
            .position(|p| p.component == component)
            .expect("a pod for the component")
    }

    /// SIGKILL to a pod's host only; the sidecar stays.
    pub fn kill_host(&mut self, i: usize) {
        if let Some(mut h) = self.pods[i].host.take() {
            let _ = h.kill();
            let _ = h.wait();
        }
    }

    /// SIGKILL to a pod's sidecar only.
    pub fn kill_daprd(&mut self, i: usize) {
        let pid_file = self.pods[i].dir.join("daprd/daprd.pid");
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            let _ = std::fs::remove_file(pid_file);
        }
    }

    /// Stops the Dapr Scheduler every sidecar of the run talks to.
    pub fn stop_scheduler(&self) -> Result<()> {
        self.scheduler_script("stop")
    }

    /// Starts the Scheduler again on its address and data (its etcd).
    pub fn start_scheduler(&self) -> Result<()> {
        self.scheduler_script("start")
    }

    fn scheduler_script(&self, command: &str) -> Result<()> {
        let status = Command::new("bash")
            .arg(script("scheduler.sh"))
            .arg(command)
            .arg(self.infra.work.join("scheduler"))
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("scheduler.sh {command} failed");
        }
        Ok(())
    }

    /// Whether Dapr holds job `name` for the component of pod `i` (asked
    /// through that pod's sidecar).
    pub fn has_job(&self, i: usize, name: &str) -> Result<bool> {
        let url = format!(
            "http://127.0.0.1:{}/v1.0-alpha1/jobs/{name}",
            self.pods[i].dapr_http_port
        );
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "5",
            ])
            .args(["-H", &format!("dapr-api-token: {DAPR_TOKEN}"), &url])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim() == "200")
    }

    /// Kills pod `i` (host and sidecar, SIGKILL) and starts both again.
    pub fn restart_pod(&mut self, i: usize) -> Result<()> {
        self.kill_host(i);
        self.kill_daprd(i);
        self.start_pod(i)
    }

    /// The manifest the pods run (its routes, components, triggers).
    pub fn app(&self) -> &Arc<todo_manifest::Manifest> {
        &self.app
    }

    /// What `component`'s (first) host wrote to stderr.
    pub fn host_log(&self, component: &str) -> String {
        let pod = &self.pods[self.pod(component)];
        std::fs::read_to_string(pod.dir.join("host.log")).unwrap_or_default()
    }

    pub fn log_of(&self, component: &str) -> String {
        let pod = &self.pods[self.pod(component)];
        let host = std::fs::read_to_string(pod.dir.join("host.log")).unwrap_or_default();
        let daprd = std::fs::read_to_string(pod.dir.join("daprd/daprd.log")).unwrap_or_default();
        format!("--- host\n{host}\n--- daprd\n{daprd}")
    }
}

impl Stack for RealStack {
    /// Through chat-api's sidecar, keyed by the event's user like the host
    /// publishes it (so it lands in that user's partition).
    fn redeliver(&mut self, topic: &str, event: &serde_json::Value) -> Result<bool> {
        let pod = &self.pods[self.pod("chat-api")];
        let user = event["userid"].as_str().unwrap_or_default();
        let url = format!(
            "http://127.0.0.1:{}/v1.0/publish/pubsub/{topic}?metadata.partitionKey={user}",
            pod.dapr_http_port
        );
        let out = Command::new("curl")
            .args(["-fsS", "--max-time", "10", "-X", "POST", &url])
            .args(["-H", "content-type: application/cloudevents+json"])
            .args(["-H", &format!("dapr-api-token: {DAPR_TOKEN}")])
            .args(["--data-binary", &event.to_string()])
            .output()?;
        if !out.status.success() {
            bail!(
                "publishing through daprd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(true)
    }

    fn url(&self, path: &str) -> String {
        let component = self
            .app
            .serving(path)
            .unwrap_or_else(|| panic!("no route for {path}"));
        // The first replica whose host runs, as a Service routes around a
        // dead pod.
        let pod = self
            .pods
            .iter()
            .find(|p| p.component == component && p.host.is_some())
            .unwrap_or(&self.pods[self.pod(component)]);
        format!("http://127.0.0.1:{}{path}", pod.app_port)
    }

    fn crash_and_restart(&mut self) -> Result<()> {
        for i in 0..self.pods.len() {
            self.kill_host(i);
            self.kill_daprd(i);
        }
        self.start_pods(&(0..self.pods.len()).collect::<Vec<_>>())
    }

    fn name(&self) -> &'static str {
        "real stack"
    }

    /// In PostgreSQL, where durable components keep their state (the
    /// others' Redis is not written behind their backs by any test).
    fn rewrite_state(
        &mut self,
        ns: &str,
        keys: &[String],
        edit: crate::tamper::Edit,
    ) -> Result<()> {
        if !crate::dapr_resources::is_durable(ns, &self.durable) {
            bail!("{ns} keeps its state in Redis here; rewrite_state edits PostgreSQL");
        }
        crate::tamper::rewrite_postgres(&self.infra.postgres, ns, keys, edit)
    }

    fn kill_websocket(&mut self, replica: usize) -> Result<()> {
        let i = self.replica_index("websocket", replica);
        self.kill_host(i);
        Ok(())
    }

    fn revive_websocket(&mut self, replica: usize) -> Result<()> {
        let i = self.replica_index("websocket", replica);
        self.start_pod(i)
    }

    fn ws_url(&self, replica: usize, path: &str) -> String {
        self.replica_url("websocket", replica % 2, path)
            .replacen("http://", "ws://", 1)
    }

    fn metrics_url(&self, component: &str, replica: usize) -> String {
        let pod = &self.pods[self.replica_index(component, replica)];
        format!("http://127.0.0.1:{}/metrics", pod.metrics_port)
    }
}

impl Drop for RealStack {
    /// Every pod stopped side by side (a sidecar takes a moment to shut
    /// down gracefully), before the turn passes to the next stack.
    fn drop(&mut self) {
        let since = Instant::now();
        for i in 0..self.pods.len() {
            self.kill_host(i);
        }
        std::thread::scope(|scope| {
            for pod in &self.pods {
                scope.spawn(|| {
                    let _ = Command::new("bash")
                        .arg(script("daprd.sh"))
                        .arg("stop")
                        .arg(pod.dir.join("daprd"))
                        .status();
                });
            }
        });
        self.turn.stopping = since.elapsed();
        if std::thread::panicking() {
            self.keep_logs();
        }
    }
}
