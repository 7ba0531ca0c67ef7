//! The system under test, whatever runs it. Scenarios are written against
//! [`Stack`] so the same suite runs in-process and on the real Dapr stack.

use std::path::PathBuf;

use anyhow::Result;

use crate::{HostProcess, Scratch, host_bin, workspace_root};

pub trait Stack: Send {
    /// Full URL of a public API path (`/api/...`), wherever it is served.
    fn url(&self, path: &str) -> String;
    /// Kills every process of the stack with SIGKILL and starts it again on
    /// the same data.
    fn crash_and_restart(&mut self) -> Result<()>;
    fn name(&self) -> &'static str;
    /// `ws://` URL of `path` on WebSocket replica `replica` (the stack's
    /// only one in-process; replicas alternate on the real stack).
    fn ws_url(&self, _replica: usize, path: &str) -> String {
        self.url(path).replacen("http://", "ws://", 1)
    }
    /// SIGKILL of the host holding WebSocket replica `replica`. In-process
    /// that is the whole application, started again at once; on the real
    /// stack the other replica goes on serving until
    /// [`Stack::revive_websocket`].
    /// Where `component`'s `replica` serves `/metrics` (in-process: the
    /// one host's app port, bound to loopback; a pod: its own listener).
    fn metrics_url(&self, _component: &str, _replica: usize) -> String {
        self.url("/metrics")
    }
    fn kill_websocket(&mut self, _replica: usize) -> Result<()> {
        self.crash_and_restart()
    }
    fn revive_websocket(&mut self, _replica: usize) -> Result<()> {
        Ok(())
    }
    /// Publishes `event` (a CloudEvent as JSON) on `topic` once more, as a
    /// broker redelivering it would. `Ok(false)` where the stack cannot.
    fn redeliver(&mut self, _topic: &str, _event: &serde_json::Value) -> Result<bool> {
        Ok(false)
    }
    /// Rewrites component `ns`'s stored values of `keys` directly in the
    /// store, behind every component's back (see [`crate::tamper`]).
    fn rewrite_state(&mut self, ns: &str, keys: &[String], edit: crate::tamper::Edit)
    -> Result<()>;
}

/// `todo-host up` with the application's own spin.toml.
pub struct InProcess {
    scratch: Scratch,
    pub host: HostProcess,
}

impl InProcess {
    pub fn start() -> Result<Self> {
        Self::start_with_env(&[])
    }

    /// With extra environment variables for the host.
    pub fn start_with_env(env: &[(&str, &str)]) -> Result<Self> {
        let scratch = Scratch::new();
        let manifest: PathBuf = workspace_root().join("spin.toml");
        let host =
            HostProcess::start_with_env(&host_bin(), &manifest, &scratch.path("data"), &[], env)?;
        Ok(InProcess { scratch, host })
    }
}

impl Stack for InProcess {
    fn url(&self, path: &str) -> String {
        self.host.url(path)
    }

    fn crash_and_restart(&mut self) -> Result<()> {
        self.host.restart()
    }

    fn name(&self) -> &'static str {
        "in-process"
    }

    /// Stops the host, edits its data file, starts it again.
    fn rewrite_state(
        &mut self,
        ns: &str,
        keys: &[String],
        edit: crate::tamper::Edit,
    ) -> Result<()> {
        self.host.kill9();
        crate::tamper::rewrite_embedded(&self.scratch.path("data"), ns, keys, edit)?;
        self.host.restart()
    }

    /// Stops the host, appends the event to its log with `todo-host
    /// publish` (the store admits one process), and starts it again.
    fn redeliver(&mut self, topic: &str, event: &serde_json::Value) -> Result<bool> {
        use std::io::Write as _;
        self.host.kill9();
        let mut child = std::process::Command::new(host_bin())
            .args(["publish", "--topic", topic, "--data-dir"])
            .arg(self.scratch.path("data"))
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(event.to_string().as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            anyhow::bail!(
                "todo-host publish failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.host.restart()?;
        Ok(true)
    }
}

/// Every stack the scenarios run against: in-process always, the real
/// stack whenever `cargo xtask test` started its servers. Started one at a
/// time, as the scenario reaches it.
pub fn stacks() -> impl Iterator<Item = Box<dyn Stack>> {
    stacks_with_env(&[])
}

/// [`stacks`] whose hosts get extra environment variables (shorter
/// timeouts for a scenario, a signing key the test also holds, ...).
pub fn stacks_with_env(env: &[(&str, &str)]) -> impl Iterator<Item = Box<dyn Stack>> + use<> {
    let owned: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let manifest = workspace_root().join("spin.toml");
    let real = crate::real_stack::Infra::from_env();
    if real.is_none() {
        eprintln!("note: TODO_STACK_* not set, real-stack tier skipped (run `cargo xtask test`)");
    }
    let for_in_process = owned.clone();
    let in_process = std::iter::once_with(move || {
        let env: Vec<(&str, &str)> = for_in_process
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Box::new(InProcess::start_with_env(&env).expect("in-process stack starts"))
            as Box<dyn Stack>
    });
    let real = real.into_iter().map(move |infra| {
        let env: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Box::new(
            crate::real_stack::RealStack::start_configured(infra, &manifest, &[], &env)
                .expect("real stack starts"),
        ) as Box<dyn Stack>
    });
    in_process.chain(real)
}
