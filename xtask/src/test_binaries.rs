//! The test binaries of the test command: built once with `cargo test
//! --no-run` (the one selection, so the binaries and the `todo-host` the
//! scenarios run share one build of every dependency), then run by this
//! module several at a time.
//!
//! Most of a scenario's time is spent waiting (on a host starting, an
//! event arriving, a browser), so binaries run side by side; the real
//! stacks they start take turns across processes (a lock file in the
//! stack's directory, see tests/src/real_stack). Each binary's output is
//! printed whole when it ends, with its counts and time; binaries are
//! started longest-first by the times of the previous run.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::steps::{Steps, clock};

pub struct Binary {
    /// The source of the target, relative to the workspace (its name here).
    pub name: String,
    pub path: PathBuf,
    /// The package's directory: cargo runs a test binary there.
    pub dir: PathBuf,
}

/// The cargo arguments of the selection: the whole workspace but xtask, or
/// what was given after `--` (e.g. `-p todo-tests --test recurring`).
fn selection_args(selection: &[String]) -> Vec<String> {
    if selection.is_empty() {
        ["--workspace", "--exclude", "xtask"]
            .map(String::from)
            .to_vec()
    } else {
        selection.to_vec()
    }
}

/// `cargo test --no-run` of the selection; the test executables it built.
pub fn build(root: &Path, selection: &[String]) -> Result<Vec<Binary>> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "test",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ])
    .args(selection_args(selection))
    .stdout(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("running {cmd:?}"))?;
    let mut binaries = Vec::new();
    for line in BufReader::new(child.stdout.take().context("piped stdout")?).lines() {
        let message: Value = match serde_json::from_str(&line?) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
            continue;
        }
        let (Some(exe), Some(src), Some(manifest)) = (
            message["executable"].as_str(),
            message["target"]["src_path"].as_str(),
            message["manifest_path"].as_str(),
        ) else {
            continue;
        };
        let src = Path::new(src);
        binaries.push(Binary {
            name: src.strip_prefix(root).unwrap_or(src).display().to_string(),
            path: PathBuf::from(exe),
            dir: Path::new(manifest)
                .parent()
                .context("a manifest has a directory")?
                .to_path_buf(),
        });
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    binaries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(binaries)
}

/// The doc tests of the selection (cargo runs those itself).
pub fn doc_tests(selection: &[String]) -> Result<Counts> {
    // A selection naming targets (`--test x`, `--lib`, ...) has no doc
    // tests, and cargo refuses `--doc` beside those options.
    let targets = [
        "--test",
        "--tests",
        "--lib",
        "--bin",
        "--bins",
        "--bench",
        "--example",
    ];
    if selection.iter().any(|a| targets.contains(&a.as_str())) {
        return Ok(Counts::default());
    }
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["test", "--doc"]).args(selection_args(selection));
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    let counts = Counts::of(&text);
    if !output.status.success() {
        bail!("{cmd:?} failed with {}", output.status);
    }
    Ok(counts)
}

#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl Counts {
    /// Adds up libtest's `test result:` lines in `output`.
    pub fn of(output: &str) -> Counts {
        let mut c = Counts::default();
        for rest in output
            .lines()
            .filter_map(|l| l.strip_prefix("test result: "))
        {
            let count = |word: &str| -> u64 {
                rest.split(';')
                    .find_map(|part| {
                        part.trim()
                            .strip_suffix(word)?
                            .trim()
                            .rsplit(' ')
                            .next()?
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0)
            };
            c.passed += count("passed");
            c.failed += count("failed");
            c.ignored += count("ignored");
        }
        c
    }

    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

/// How many binaries run at once: `TODO_TEST_JOBS`, default 3.
fn jobs() -> usize {
    std::env::var("TODO_TEST_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3)
}

/// Runs every binary with `env`, `jobs()` at a time; each binary's time
/// goes into `steps`. Fails when any binary failed (all run regardless).
pub fn run(
    binaries: &[Binary],
    env: &[(String, String)],
    logs: &Path,
    steps: &mut Steps,
) -> Result<Counts> {
    std::fs::create_dir_all(logs)?;
    let times_file = &logs.join("times.tsv");
    let previous = read_times(times_file);
    let mut order: Vec<&Binary> = binaries.iter().collect();
    // Longest first; a binary not seen before may be long, so it goes first too.
    order.sort_by_key(|b| std::cmp::Reverse(previous.get(&b.name).copied().unwrap_or(u64::MAX)));
    let queue = Mutex::new(order.into_iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs().min(binaries.len()) {
            scope.spawn(|| {
                loop {
                    let Some(binary) = queue.lock().unwrap_or_else(|e| e.into_inner()).next()
                    else {
                        break;
                    };
                    let outcome = run_one(binary, env, logs);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((binary.name.clone(), outcome));
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut total = Counts::default();
    let mut failed = Vec::new();
    let mut times = previous;
    for (name, outcome) in &results {
        match outcome {
            Ok((counts, took, ok)) => {
                total.add(*counts);
                times.insert(name.clone(), took.as_secs());
                steps.record(
                    &format!("  {name}"),
                    *took,
                    if *ok { "ok" } else { "FAILED" },
                    &format!("{} passed, {} failed", counts.passed, counts.failed),
                );
                if !ok {
                    failed.push(name.clone());
                }
            }
            Err(e) => {
                steps.record(
                    &format!("  {name}"),
                    Duration::ZERO,
                    "FAILED",
                    &format!("{e:#}"),
                );
                failed.push(name.clone());
            }
        }
    }
    write_times(times_file, &times);
    if !failed.is_empty() {
        bail!("test binaries failed: {}", failed.join(", "));
    }
    Ok(total)
}

/// One binary, its output captured and printed whole when it ends.
fn run_one(
    binary: &Binary,
    env: &[(String, String)],
    logs: &Path,
) -> Result<(Counts, Duration, bool)> {
    eprintln!("xtask: started {}", binary.name);
    let started = Instant::now();
    let mut cmd = Command::new(&binary.path);
    cmd.current_dir(&binary.dir)
        .env("CARGO_MANIFEST_DIR", &binary.dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    // One file for both streams keeps a failure's panic next to its test; a
    // file, not a pipe, so a process the tests left behind cannot hold the
    // end of the output open.
    let log = logs.join(format!("{}.log", binary.name.replace('/', "_")));
    let file = std::fs::File::create(&log)?;
    cmd.stdout(file.try_clone()?).stderr(file);
    let status = cmd
        .status()
        .with_context(|| format!("running {}", binary.path.display()))?;
    let mut output = Vec::new();
    std::fs::File::open(&log)?.read_to_end(&mut output)?;
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&output);
    let counts = Counts::of(&text);
    let ok = status.success();
    // One print per binary: the whole of its output, then one line about it.
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n==== {} ({})", binary.name, clock(took))?;
    out.write_all(text.as_bytes())?;
    writeln!(
        out,
        "==== {}: {} passed, {} failed, {} ignored in {}{}",
        binary.name,
        counts.passed,
        counts.failed,
        counts.ignored,
        clock(took),
        if ok {
            String::new()
        } else {
            format!(" — FAILED ({status})")
        }
    )?;
    Ok((counts, took, ok))
}

fn read_times(file: &Path) -> HashMap<String, u64> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (secs, name) = l.split_once('\t')?;
            Some((name.to_owned(), secs.parse().ok()?))
        })
        .collect()
}

fn write_times(file: &Path, times: &HashMap<String, u64>) {
    let mut lines: Vec<String> = times.iter().map(|(n, s)| format!("{s}\t{n}")).collect();
    lines.sort();
    let _ = std::fs::write(file, lines.join("\n") + "\n");
}
