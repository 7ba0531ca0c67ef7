//! One pod of a real stack: its host (`todo-host serve`) and its sidecar
//! (`daprd`), started and made ready.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{APP_TOKEN, DAPR_TOKEN, free_port, script};
use crate::dapr_resources::state_store_of;
use crate::host_bin;

pub struct Pod {
    pub component: String,
    /// `<component>-<replica>`: daprd's POD_NAME (the broadcast consumer
    /// group) and the host's outbox lane, as a StatefulSet pod has.
    pub name: String,
    pub app_port: u16,
    /// The host's own listener for `/metrics` (a pod serves none on its
    /// app port).
    pub metrics_port: u16,
    pub dapr_http_port: u16,
    pub(super) dir: PathBuf,
    pub(super) host: Option<Child>,
}

/// What every pod of a stack is started with.
pub(super) struct Launch<'a> {
    pub scheduler: &'a str,
    pub manifest: &'a Path,
    pub durable: &'a [String],
    pub host_env: &'a [(String, String)],
    /// The sidecars' shared name-resolution database.
    pub name_db: PathBuf,
}

impl Launch<'_> {
    /// Starts `pod`'s host and sidecar and waits until both are ready.
    pub fn start(&self, pod: &mut Pod) -> Result<()> {
        let store_name = state_store_of(&pod.component, self.durable);
        // The test command's one cache for every host of the run (the
        // same component is compiled once, not once per pod), else the pod's.
        let cache_dir = std::env::var_os("TODO_CACHE_DIR")
            .map_or_else(|| pod.dir.join("compiled"), PathBuf::from);
        std::fs::create_dir_all(&pod.dir)?;
        // A port picked free can be taken by another process before the
        // host binds it; the host then exits at once and is started again,
        // on a fresh port unless its sidecar (told the port) is running.
        let sidecar_up = pod.dir.join("daprd/daprd.pid").exists();
        let mut attempt = 0;
        loop {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(pod.dir.join("host.log"))?;
            let mut host = Command::new(host_bin())
                .args(["serve", "--component", &pod.component, "--manifest"])
                .arg(self.manifest)
                .args(["--listen", &format!("127.0.0.1:{}", pod.app_port)])
                .args([
                    "--metrics-listen",
                    &format!("127.0.0.1:{}", pod.metrics_port),
                ])
                .arg("--cache-dir")
                .arg(&cache_dir)
                .env("DAPR_HTTP_PORT", pod.dapr_http_port.to_string())
                .env("DAPR_API_TOKEN", DAPR_TOKEN)
                .env("APP_API_TOKEN", APP_TOKEN)
                .env("TODO_DAPR_STATESTORE", store_name)
                .env("TODO_OUTBOX_LANE", &pod.name)
                .env("TODO_LOG_FORMAT", "text")
                .envs(self.host_env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()
                .context("starting todo-host serve")?;
            let healthz = format!("http://127.0.0.1:{}/healthz", pod.app_port);
            let since = Instant::now();
            let exited = loop {
                if http_ok(&healthz) || since.elapsed() > Duration::from_secs(60) {
                    break false;
                }
                if host.try_wait()?.is_some() {
                    break true;
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            if !exited {
                pod.host = Some(host);
                break;
            }
            attempt += 1;
            if attempt == 3 {
                bail!(
                    "host of {} exited at start three times; log:\n{}",
                    pod.component,
                    std::fs::read_to_string(pod.dir.join("host.log")).unwrap_or_default()
                );
            }
            if !sidecar_up {
                pod.app_port = free_port();
            }
            // The sidecar never calls this one: always free to change.
            pod.metrics_port = free_port();
        }
        // The script picks daprd's gRPC ports by binding port 0 and
        // releasing it; another process can take one before daprd binds it
        // ("address already in use"), so a failed start is tried again
        // with fresh ports.
        let mut started = false;
        for _ in 0..3 {
            let out = Command::new("bash")
                .arg(script("daprd.sh"))
                .arg("start")
                .arg(pod.dir.join("daprd"))
                .args([&pod.component, &pod.app_port.to_string()])
                .arg(pod.dir.join("resources"))
                .arg(self.scheduler)
                .env("DAPR_HTTP_PORT", pod.dapr_http_port.to_string())
                .env("DAPR_API_TOKEN", DAPR_TOKEN)
                .env("APP_API_TOKEN", APP_TOKEN)
                .env("DAPR_NR_DB", &self.name_db)
                .env("POD_NAME", &pod.name)
                .stderr(Stdio::inherit())
                .output()
                .context("starting daprd")?;
            if out.status.success() {
                started = true;
                break;
            }
        }
        if !started {
            bail!("daprd for {} did not start", pod.component);
        }
        // Ready: the host answers /readyz once its sidecar is healthy, and
        // daprd's /v1.0/healthz once it reaches the app.
        let start = Instant::now();
        let app = format!("http://127.0.0.1:{}/readyz", pod.app_port);
        let sidecar = format!("http://127.0.0.1:{}/v1.0/healthz", pod.dapr_http_port);
        while !(http_ok(&app) && http_ok(&sidecar)) {
            if start.elapsed() > Duration::from_secs(60) {
                bail!(
                    "pod {} not ready; host log:\n{}",
                    pod.component,
                    std::fs::read_to_string(pod.dir.join("host.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

fn http_ok(url: &str) -> bool {
    Command::new("curl")
        .args(["-fs", "-o", "/dev/null", "--max-time", "2", url])
        .status()
        .is_ok_and(|s| s.success())
}
