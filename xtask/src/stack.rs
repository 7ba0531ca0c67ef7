//! The shared servers of the real-stack test tier (Kafka, Redis,
//! PostgreSQL, the Dapr Scheduler), started through `xtask/stack/*.sh`
//! around the test run and described to the tests by `TODO_STACK_*`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Topics created up front so the first publish does not race the broker's
/// auto-creation.
const TOPICS: &[&str] = &[
    "task-events",
    "reminder-events",
    "recurring-events",
    "dead-letters",
];

/// Partitions per topic. Events are keyed by user, so a user's events stay
/// in order in one partition, while Dapr consumes partitions concurrently
/// (one at a time within each): with one partition every event of every
/// user would wait for the one before it.
const PARTITIONS: &str = "8";

pub struct Infra {
    scripts: PathBuf,
    /// Left running when dropped (`cargo xtask stack up`; `stop_in` stops).
    pub keep_running: bool,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

/// Runs a script of xtask/stack and returns the last line it printed.
pub fn run_script(scripts: &Path, name: &str, args: &[&str]) -> Result<String> {
    let out = Command::new("bash")
        .arg(scripts.join(name))
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {name}"))?;
    if !out.status.success() {
        bail!("{name} {args:?} failed with {}", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(stdout.lines().last().unwrap_or_default().trim().to_owned())
}

impl Infra {
    /// The servers of one test run, stopped (and their files removed)
    /// when dropped.
    pub fn start(root: &Path) -> Result<Self> {
        // Under /tmp: the PostgreSQL cluster belongs to the `postgres` user.
        let dir = PathBuf::from(format!("/tmp/todo-stack-{}", std::process::id()));
        Self::start_in(root, &dir)
    }

    pub fn start_in(root: &Path, dir: &Path) -> Result<Self> {
        let scripts = root.join("xtask/stack");
        let dir = dir.to_path_buf();
        std::fs::create_dir_all(&dir)?;
        Command::new("chmod").arg("755").arg(&dir).status()?;
        let mut infra = Infra {
            scripts: scripts.clone(),
            dir: dir.clone(),
            keep_running: false,
            env: vec![("TODO_STACK_DIR".into(), dir.display().to_string())],
        };
        let d = |name: &str| dir.join(name).display().to_string();
        eprintln!(
            "xtask: starting the real-stack servers under {}",
            dir.display()
        );
        run_script(&scripts, "build-dapr.sh", &[])?;
        let redis = run_script(&scripts, "redis.sh", &["start", &d("redis")])?;
        infra.env.push(("TODO_STACK_REDIS".into(), redis));
        let pg = run_script(&scripts, "postgres.sh", &["start", &d("pg")])?;
        infra.env.push(("TODO_STACK_POSTGRES".into(), pg));
        let kafka = run_script(&scripts, "kafka.sh", &["start", &d("kafka")])?;
        infra.env.push(("TODO_STACK_KAFKA".into(), kafka));
        let scheduler = run_script(&scripts, "scheduler.sh", &["start", &d("scheduler")])?;
        infra.env.push(("TODO_STACK_SCHEDULER".into(), scheduler));
        let partitions =
            std::env::var("TODO_STACK_PARTITIONS").unwrap_or_else(|_| PARTITIONS.into());
        for topic in TOPICS {
            run_script(
                &scripts,
                "kafka.sh",
                &[
                    "topics",
                    &d("kafka"),
                    "--create",
                    "--if-not-exists",
                    "--topic",
                    topic,
                    "--partitions",
                    &partitions,
                    "--replication-factor",
                    "1",
                ],
            )?;
        }
        Ok(infra)
    }
}

/// Stops the servers started in `dir`.
pub fn stop_in(scripts: &Path, dir: &Path) {
    let d = |name: &str| dir.join(name).display().to_string();
    for (script, sub) in [
        ("scheduler.sh", "scheduler"),
        ("kafka.sh", "kafka"),
        ("postgres.sh", "pg"),
        ("redis.sh", "redis"),
    ] {
        let _ = run_script(scripts, script, &["stop", &d(sub)]);
    }
}

impl Drop for Infra {
    fn drop(&mut self) {
        if self.keep_running {
            return;
        }
        stop_in(&self.scripts, &self.dir);
        // Each run's servers and pods leave about 1 GB (Kafka's segments,
        // PostgreSQL, logs): gone unless TODO_KEEP_STACK=1 asks to keep
        // them for a post-mortem.
        if std::env::var("TODO_KEEP_STACK").map_or(true, |v| v != "1") {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!(
                "xtask: kept the real stack's files in {}",
                self.dir.display()
            );
        }
    }
}

/// The real stacks' turns of one test run (tests/src/real_stack writes a
/// line per turn to `stack.turns`): how long they held the servers, in all
/// and per binary, for the step table.
pub struct Turns {
    pub count: usize,
    pub held: Duration,
    pub waited: Duration,
    pub starting: Duration,
    pub stopping: Duration,
    /// Per binary: (name, stacks, held), longest first.
    pub per_binary: Vec<(String, usize, Duration)>,
}

impl Turns {
    pub fn read(dir: &Path) -> Option<Turns> {
        let text = std::fs::read_to_string(dir.join("stack.turns")).ok()?;
        let secs = |v: &str| Duration::from_secs_f64(v.parse::<f64>().unwrap_or(0.0));
        let mut turns = Turns {
            count: 0,
            held: Duration::ZERO,
            waited: Duration::ZERO,
            starting: Duration::ZERO,
            stopping: Duration::ZERO,
            per_binary: Vec::new(),
        };
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let [binary, _test, waited, held, starting, stopping] = fields[..] else {
                continue;
            };
            turns.count += 1;
            turns.held += secs(held);
            turns.waited += secs(waited);
            turns.starting += secs(starting);
            turns.stopping += secs(stopping);
            match turns.per_binary.iter_mut().find(|(b, ..)| b == binary) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 += secs(held);
                }
                None => turns.per_binary.push((binary.to_owned(), 1, secs(held))),
            }
        }
        turns
            .per_binary
            .sort_by_key(|(_, _, held)| std::cmp::Reverse(*held));
        Some(turns)
    }
}
