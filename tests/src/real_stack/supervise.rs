//! What a supervisor of a long-running real stack needs (`todo-stack`,
//! behind `cargo xtask stack up`): whether a pod still runs, and the
//! processes to kill when a person asks to kill one.

use std::path::{Path, PathBuf};

use super::RealStack;

impl RealStack {
    /// Whether pod `i`'s host and sidecar both still run. A supervisor
    /// restarts a pod for which this is false, as a Deployment would.
    pub fn pod_running(&mut self, i: usize) -> bool {
        let host = self.pods[i]
            .host
            .as_mut()
            .is_some_and(|h| matches!(h.try_wait(), Ok(None)));
        let daprd = std::fs::read_to_string(self.daprd_pid_file(i))
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            .is_some_and(process_runs);
        host && daprd
    }

    /// The pid of pod `i`'s host, while it runs.
    pub fn host_pid(&self, i: usize) -> Option<u32> {
        self.pods[i].host.as_ref().map(std::process::Child::id)
    }

    /// The file holding the pid of pod `i`'s sidecar.
    pub fn daprd_pid_file(&self, i: usize) -> PathBuf {
        self.pods[i].dir.join("daprd/daprd.pid")
    }

    /// The folder of pod `i` (its logs, resources, compiled components).
    pub fn pod_dir(&self, i: usize) -> &Path {
        &self.pods[i].dir
    }
}

/// Whether `pid` is a live process (a zombie, killed but not yet reaped,
/// is not).
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .is_ok_and(|stat| !matches!(stat.state(), Ok(procfs::process::ProcState::Zombie)))
}
