//! `cargo xtask test`: every tier, in the order that lets one-off setup
//! overlap compiling and testing. The Rust builds come first (components,
//! then the test binaries with the `todo-host` they run); meanwhile the
//! background lanes (see prefetch.rs) install Debian's packages, the web
//! app's and Python's packages, Kafka's jars, and build the Go tools, Dapr
//! first (the tests need it; the chart check, after them, the others).
//! The image's static host compiles at the lowest priority from as soon as
//! musl's compiler is installed, and the image and chart steps come after
//! the tests. Every step is
//! timed and the table printed at the end, failed or not.
//!
//! `TODO_WEB=0`, `TODO_IMAGE=0`, `TODO_CHART=0` and `TODO_REAL_STACK=0`
//! skip a tier; arguments after `--` replace the workspace-wide selection,
//! e.g. `cargo xtask test -- -p todo-tests --test recurring`.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::prefetch::{Job, Prefetch};
use crate::steps::{Steps, clock};
use crate::{stack, stack_up, test_binaries, web};

/// The tiers this run includes.
struct Tiers {
    web: bool,
    image: bool,
    chart: bool,
    real: bool,
}

impl Tiers {
    fn from_env() -> Self {
        let on = |var: &str| std::env::var(var).map_or(true, |v| v != "0");
        Tiers {
            web: web::enabled(),
            image: on("TODO_IMAGE"),
            chart: on("TODO_CHART"),
            real: on("TODO_REAL_STACK"),
        }
    }
}

pub fn command(root: &Path, selection: &[String]) -> Result<()> {
    let mut steps = Steps::new();
    let result = tiers(root, selection, &mut steps);
    println!("{}", steps.summary());
    result
}

fn tiers(root: &Path, selection: &[String], steps: &mut Steps) -> Result<()> {
    let tiers = Tiers::from_env();
    if tiers.web
        && let Some(why) = web::missing_node()
    {
        bail!(
            "{why}. The test command runs the web app's tests; `TODO_WEB=0 cargo xtask test` skips them."
        );
    }
    let target = crate::target_dir()?;
    let prefetch = Prefetch::start(&target.join("test-setup"), lanes(root, &target, &tiers))?;
    let result = run_steps(root, selection, &tiers, &prefetch, steps);
    prefetch.record(steps);
    result
}

fn run_steps(
    root: &Path,
    selection: &[String],
    tiers: &Tiers,
    prefetch: &Prefetch,
    steps: &mut Steps,
) -> Result<()> {
    steps.run("components and fixtures (wasm)", || {
        crate::build_components(root)?;
        crate::build_fixtures(root)
    })?;
    let binaries = steps.run("test binaries and todo-host (build)", || {
        test_binaries::build(root, selection)
    })?;
    let counts = tests(root, selection, tiers, prefetch, &binaries, steps)?;
    println!(
        "tests: {} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.ignored
    );
    if tiers.image {
        waited(
            steps,
            prefetch,
            &["static host (musl, niced)", "crane", "hadolint"],
        );
        steps.run("image (static host, layer, checks)", || crate::image(root))?;
    } else {
        steps.skip("image", "TODO_IMAGE=0");
    }
    let target = crate::target_dir()?;
    if tiers.chart {
        waited(
            steps,
            prefetch,
            &[
                "debian packages",
                "helm",
                "actionlint",
                "etcd",
                "kube-apiserver",
            ],
        );
        steps.run("chart and workflows", || crate::chart::check(root, &target))?;
    } else {
        steps.skip("chart", "TODO_CHART=0");
    }
    // `cargo xtask stack up` itself, with the binaries just tested: up, the
    // deployment smoke test through its front door, a pod killed and back,
    // down. Only on a full run (a selection may not have built todo-stack).
    if tiers.real && selection.is_empty() {
        steps.run("cargo xtask stack up (check)", || {
            stack_up::check(
                root,
                &target.join("debug/todo-host"),
                &target.join("debug/todo-stack"),
            )
        })?;
    }
    Ok(())
}

/// The static host of the image, built at the lowest priority.
fn static_host_job(root: &Path, target: &Path) -> Job {
    let (root, target) = (root.to_path_buf(), target.to_path_buf());
    Job::new("static host (musl, niced)", move |log| {
        let out = std::fs::File::create(log)?;
        let mut cargo = Command::new("nice");
        cargo
            .args(["-n", "19"])
            .arg(env!("CARGO"))
            .stdout(out.try_clone()?)
            .stderr(out);
        crate::image::static_host(&root, &target, &mut cargo).map(|_| ())
    })
}

/// The web app's tests, the real-stack servers, and then every test
/// binary side by side.
fn tests(
    root: &Path,
    selection: &[String],
    tiers: &Tiers,
    prefetch: &Prefetch,
    binaries: &[test_binaries::Binary],
    steps: &mut Steps,
) -> Result<test_binaries::Counts> {
    let chromium = if tiers.web {
        waited(steps, prefetch, &["npm ci"]);
        steps.run("web app: build and unit tests", || {
            web::build(root)?;
            web::unit_tests(root)
        })?;
        waited(steps, prefetch, &["debian packages"]);
        Some(steps.run("chromium", || web::chromium(root))?)
    } else {
        steps.skip("web app", "TODO_WEB=0");
        None
    };
    let target = crate::target_dir()?;
    let infra = if tiers.real {
        waited(steps, prefetch, &["debian packages", "kafka jars", "dapr"]);
        Some(steps.run("real-stack servers (start)", || stack::Infra::start(root))?)
    } else {
        steps.skip("real stack", "TODO_REAL_STACK=0");
        None
    };
    waited(steps, prefetch, &["python packages"]);
    // One cache of compiled components for every host the tests start:
    // compiling the application costs ~10 s of CPU, and the tests start
    // hosts a few hundred times. Emptied per run.
    let compiled = target.join("test-compiled");
    let _ = std::fs::remove_dir_all(&compiled);
    let mut env = vec![
        ("TODO_CACHE_DIR".to_owned(), compiled.display().to_string()),
        (
            "TODO_HOST_BIN".to_owned(),
            target.join("debug/todo-host").display().to_string(),
        ),
        (
            "TODO_BUILD_DIR".to_owned(),
            root.join("build").display().to_string(),
        ),
        (
            "TODO_WEB".to_owned(),
            if tiers.web { "1" } else { "0" }.to_owned(),
        ),
    ];
    if let Some(browser) = chromium {
        env.push(("TODO_CHROMIUM".into(), browser));
    }
    env.extend(infra.iter().flat_map(|i| i.env.iter().cloned()));
    let logs = target.join("test-output");
    eprintln!("xtask: running {} test binaries", binaries.len());
    let started = std::time::Instant::now();
    let ran = test_binaries::run(binaries, &env, &logs, steps).and_then(|mut counts| {
        counts.add(test_binaries::doc_tests(selection)?);
        Ok(counts)
    });
    steps.record(
        "tests (every binary above, side by side)",
        started.elapsed(),
        if ran.is_ok() { "ok" } else { "FAILED" },
        &format!("output per binary in {}", logs.display()),
    );
    if let Some(turns) = infra.as_ref().and_then(|i| stack::Turns::read(&i.dir)) {
        record_turns(steps, &turns);
    }
    ran
}

/// The real stacks' share of the tests' time: they take turns on the
/// shared servers, so their held time adds up across binaries.
fn record_turns(steps: &mut Steps, turns: &stack::Turns) {
    steps.record(
        "  real stacks (turns, one at a time)",
        turns.held,
        "ok",
        &format!(
            "{} stacks; of that starting pods {}, stopping them {}; waiting for a turn {} in all",
            turns.count,
            clock(turns.starting),
            clock(turns.stopping),
            clock(turns.waited)
        ),
    );
    for (binary, count, held) in &turns.per_binary {
        steps.record(
            &format!("    {binary}"),
            *held,
            "ok",
            &format!("{count} stacks"),
        );
    }
}

/// Waits for background jobs a step needs, noting the wait when it was
/// more than a moment.
fn waited(steps: &mut Steps, prefetch: &Prefetch, jobs: &[&str]) {
    let took = prefetch.wait(jobs);
    if took.as_secs() >= 1 {
        steps.record(
            &format!("  waiting for {}", jobs.join(", ")),
            took,
            "ok",
            "",
        );
    }
}

/// The background lanes: each runs its jobs in order, the lanes side by
/// side. Go builds run at a lower priority, so the Rust builds in front
/// (what the next steps wait for) keep the cores first.
fn lanes(root: &Path, target: &Path, tiers: &Tiers) -> Vec<Vec<Job>> {
    let scripts = root.join("xtask/stack");
    let script = |name: &'static str, file: &str, args: &[&str]| {
        let mut cmd = Command::new("bash");
        cmd.arg(scripts.join(file)).args(args);
        Job::command(name, cmd)
    };
    let go = |name: &'static str, file: &str, args: &[&str]| {
        let mut cmd = Command::new("nice");
        cmd.args(["-n", "10", "bash"])
            .arg(scripts.join(file))
            .args(args);
        Job::command(name, cmd)
    };

    let mut packages: Vec<&str> = Vec::new();
    if tiers.image {
        packages.push("musl-tools");
    }
    if tiers.chart {
        packages.push("shellcheck");
    }
    if tiers.web && std::env::var_os("TODO_CHROMIUM").is_none() {
        packages.extend(["chromium", "fonts-dejavu-core"]);
    }
    if tiers.real {
        packages.extend([
            "redis-server",
            "redis-tools",
            "postgresql",
            "postgresql-client",
        ]);
    }
    let mut system = Vec::new();
    if !packages.is_empty() {
        system.push(script("debian packages", "packages.sh", &packages));
    }
    if tiers.real {
        system.push(script("kafka jars", "kafka.sh", &["fetch"]));
    }
    // The image's static host is the last heavy build: it needs musl-gcc
    // (a Debian package, above) and compiles at the lowest priority from
    // then on, so it fills whatever the builds and tests in front leave
    // idle, and the image step after the tests finds it built.
    if tiers.image {
        system.push(static_host_job(root, target));
    }

    let mut registries = Vec::new();
    if tiers.web {
        let app = root.join("frontend");
        registries.push(Job::new("npm ci", move |log| {
            web::install_logged(&app, log)
        }));
    }
    registries.push(script("python packages", "python.sh", &["all"]));
    if tiers.image {
        registries.push(script("hadolint", "tools.sh", &["hadolint"]));
    }

    // Dapr first: the real-stack servers (before the tests) need it; the
    // others are needed only after the tests.
    let mut builds = Vec::new();
    if tiers.real {
        builds.push(go("dapr", "build-dapr.sh", &[]));
    }
    if tiers.image {
        builds.push(go("crane", "tools.sh", &["crane"]));
    }
    if tiers.chart {
        builds.push(go("helm", "tools.sh", &["helm"]));
        builds.push(go("actionlint", "tools.sh", &["actionlint"]));
        builds.push(go("etcd", "tools.sh", &["etcd"]));
        builds.push(go("kube-apiserver", "tools.sh", &["kube-apiserver"]));
    }
    vec![system, registries, builds]
}
