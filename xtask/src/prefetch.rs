//! One-off setup that mostly waits on the network or a package manager
//! (apt, npm, pip, Maven, the Go module proxy) or compiles another
//! language (`go build`), started when the test command starts so that it
//! runs while Rust compiles.
//!
//! Each job runs the very script (or function) a later step runs. Those
//! are idempotent and take their own locks, so the step finds the work
//! done, or waits for it; a job that failed is simply done again by its
//! step, which then reports the error where it belongs. A job's output
//! goes to its own log file, not between the steps' output.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::steps::Steps;

/// What a job does, given the log file its output goes to.
type Work = Box<dyn FnOnce(&Path) -> Result<()> + Send>;

/// A job: its name (for `wait` and the summary) and what it does, given
/// the log file its output goes to.
pub struct Job {
    pub name: &'static str,
    work: Work,
}

impl Job {
    pub fn new(
        name: &'static str,
        work: impl FnOnce(&Path) -> Result<()> + Send + 'static,
    ) -> Self {
        Job {
            name,
            work: Box::new(work),
        }
    }

    /// A command whose stdout and stderr go to the job's log.
    pub fn command(name: &'static str, mut cmd: Command) -> Self {
        Job::new(name, move |log| run_logged(&mut cmd, log))
    }
}

/// Runs `cmd` with its output appended to `log`.
pub fn run_logged(cmd: &mut Command, log: &Path) -> Result<()> {
    let out = File::options().create(true).append(true).open(log)?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .status()
        .with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

#[derive(Clone)]
enum State {
    Queued,
    Running,
    Done { took: Duration, ok: bool },
}

struct Shared {
    jobs: Mutex<Vec<(&'static str, State)>>,
    changed: Condvar,
}

pub struct Prefetch {
    shared: Arc<Shared>,
    logs: PathBuf,
}

impl Prefetch {
    /// Starts one thread per lane; a lane runs its jobs in order.
    pub fn start(logs: &Path, lanes: Vec<Vec<Job>>) -> Result<Self> {
        std::fs::create_dir_all(logs)?;
        let shared = Arc::new(Shared {
            jobs: Mutex::new(
                lanes
                    .iter()
                    .flatten()
                    .map(|j| (j.name, State::Queued))
                    .collect(),
            ),
            changed: Condvar::new(),
        });
        for lane in lanes {
            let shared = shared.clone();
            let logs = logs.to_path_buf();
            std::thread::spawn(move || {
                for job in lane {
                    shared.set(job.name, State::Running);
                    let log = logs.join(format!("{}.log", job.name));
                    let _ = std::fs::remove_file(&log);
                    let started = Instant::now();
                    let result = (job.work)(&log);
                    if let Err(e) = &result {
                        let _ = std::fs::write(
                            logs.join(format!("{}.error", job.name)),
                            format!("{e:#}\n"),
                        );
                    }
                    shared.set(
                        job.name,
                        State::Done {
                            took: started.elapsed(),
                            ok: result.is_ok(),
                        },
                    );
                }
            });
        }
        Ok(Prefetch {
            shared,
            logs: logs.to_path_buf(),
        })
    }

    /// Blocks until the named jobs are done (a name never started is
    /// done); returns how long that took. A failed job is reported; its
    /// step does the work again.
    pub fn wait(&self, names: &[&str]) -> Duration {
        let started = Instant::now();
        let mut jobs = self.shared.jobs.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let pending = jobs
                .iter()
                .any(|(n, s)| names.contains(n) && matches!(s, State::Queued | State::Running));
            if !pending {
                break;
            }
            jobs = self
                .shared
                .changed
                .wait(jobs)
                .unwrap_or_else(|e| e.into_inner());
        }
        for (name, state) in jobs.iter() {
            if names.contains(name) && matches!(state, State::Done { ok: false, .. }) {
                eprintln!(
                    "xtask: prefetch {name} failed (log: {}); its step does it again",
                    self.logs.join(format!("{name}.log")).display()
                );
            }
        }
        started.elapsed()
    }

    /// Adds a line per finished job to the step table (they overlapped the
    /// steps, so they do not add up with them).
    pub fn record(&self, steps: &mut Steps) {
        let jobs = self.shared.jobs.lock().unwrap_or_else(|e| e.into_inner());
        for (name, state) in jobs.iter() {
            match state {
                State::Done { took, ok } => steps.record(
                    &format!("  background: {name}"),
                    *took,
                    if *ok { "ok" } else { "FAILED" },
                    "",
                ),
                State::Running => steps.record(
                    &format!("  background: {name}"),
                    Duration::ZERO,
                    "running",
                    "",
                ),
                State::Queued => {}
            }
        }
    }
}

impl Shared {
    fn set(&self, name: &'static str, state: State) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = jobs.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = state;
        }
        self.changed.notify_all();
    }
}
