//! Test harness: runs the real `todo-host` binary as a child process (so
//! tests can kill -9 it and restart it on the same data) and talks to it
//! over HTTP, exactly as a user would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub mod account;
pub mod api;
pub mod bench;
pub mod contract;
pub mod dapr_resources;
pub mod front_door;
pub mod manifest;
pub mod outside;
pub mod python;
pub mod real_stack;
pub mod realtime;
pub mod receiver;
pub mod schemathesis;
pub mod stack;
pub mod tamper;

/// The workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where `cargo xtask build` puts components and fixtures.
pub fn build_dir() -> PathBuf {
    std::env::var_os("TODO_BUILD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("build"))
}

/// A built `.wasm` under the build dir, with a clear message if missing.
pub fn wasm(relative: &str) -> PathBuf {
    let path = build_dir().join(relative);
    assert!(
        path.is_file(),
        "{} is missing: run the tests with `cargo xtask test`, which builds it",
        path.display()
    );
    path
}

/// The host binary: `TODO_HOST_BIN` (set by `cargo xtask test`), else the
/// debug build in cargo's target dir.
pub fn host_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TODO_HOST_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug/todo-host")
}

/// A running `todo-host up`.
pub struct HostProcess {
    bin: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// `http://127.0.0.1:<port>` of the current run.
    pub base: String,
    pub log_path: PathBuf,
}

impl HostProcess {
    /// Starts `todo-host up` on a free port with `manifest` and `data_dir`.
    pub fn start(bin: &Path, manifest: &Path, data_dir: &Path, extra: &[&str]) -> Result<Self> {
        Self::start_with_env(bin, manifest, data_dir, extra, &[])
    }

    /// [`HostProcess::start`] with extra environment variables (for
    /// `TODO_VARIABLE_*`, `TODO_SECRET_*`, `TODO_WS_*` settings).
    pub fn start_with_env(
        bin: &Path,
        manifest: &Path,
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let mut args = vec![
            "up".to_owned(),
            "--manifest".into(),
            manifest.display().to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut host = HostProcess {
            bin: bin.to_path_buf(),
            args,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            base: String::new(),
            log_path: data_dir.with_extension("log"),
        };
        host.spawn()?;
        Ok(host)
    }

    fn spawn(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)?;
        let mut child = Command::new(&self.bin)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads the "listening" line, then keeps draining stdout.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("todo-host listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        self.child = Some(child);
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => {
                self.base = url;
                Ok(())
            }
            Err(_) => {
                let status = self
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten());
                bail!(
                    "host did not start (exit: {status:?}); log:\n{}",
                    self.log()
                )
            }
        }
    }

    /// SIGKILL: no shutdown code runs, like a crash or an OOM kill.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same data directory (the port may change).
    pub fn restart(&mut self) -> Result<()> {
        self.kill9();
        self.spawn()
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Everything the host logged so far (all runs).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `bin` to completion (for start-up failures): exit code and output.
pub fn run_host(bin: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin)
        .args(args)
        .output()
        .expect("running todo-host");
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    (out.status.code(), text)
}

/// Polls `f` every 20 ms until it yields `Some`, or panics after `timeout`
/// naming `what`. For waiting on a real signal, never for fixed sleeps.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// A scratch directory with a manifest written into it.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("writing scratch file");
        p
    }

    /// Copies `src` into the scratch dir atomically (write then rename), as
    /// a deploy would, so a watcher never sees half a file.
    pub fn install(&self, src: &Path, name: &str) -> PathBuf {
        let dest = self.path(name);
        let tmp = self.path(&format!(".{name}.tmp"));
        std::fs::copy(src, &tmp).expect("copying wasm");
        std::fs::rename(&tmp, &dest).expect("renaming wasm");
        dest
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}
