//! `cargo xtask <command>`: the one entry point to build, run, test and
//! benchmark (`cargo xtask --help` lists the commands). It installs what
//! it needs (the wasm target) itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Parser;

mod app;
mod chart;
mod image;
mod prefetch;
mod stack;
mod stack_up;
mod steps;
mod test;
mod test_binaries;
mod web;

const WASM_TARGET: &str = "wasm32-wasip2";

/// Arguments a command passes on as they are (after `--`, or not).
#[derive(clap::Args)]
struct PassOn {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "Build, run, test and benchmark the todo app"
)]
enum Cli {
    /// Build the components (wasm32-wasip2) into build/, the web app and the release host
    Build,
    /// Build, then run `todo-host up` in-process; arguments go to it (`-- --help` lists them)
    Up(PassOn),
    /// Build everything and run every test tier; arguments after `--` replace the
    /// workspace-wide selection (`-- -p todo-tests --test recurring`)
    Test(PassOn),
    /// The benchmarks in-process, or with `--real` on the real stack; `--only <part>`
    /// runs one part, other arguments go to the bench drivers (`--real --help` lists them)
    Bench(PassOn),
    /// The host image without a container engine, checked and run
    Image,
    /// The Helm chart against a real kube-apiserver, the workflows under actionlint
    Chart,
    /// The real topology on one machine: `up`, `status`, `kill <pod>`, `down`
    Stack(PassOn),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match cli {
        Cli::Build => {
            build_components(&root)?;
            build_web(&root)?;
            cargo(&["build", "--release", "-p", "todo-host"])
        }
        Cli::Up(PassOn { args }) => {
            build_components(&root)?;
            build_web(&root)?;
            cargo(&["build", "--release", "-p", "todo-host"])?;
            let host = target_dir()?.join("release/todo-host");
            let mut cmd = Command::new(host);
            cmd.arg("up").args(&args);
            run(&mut cmd)
        }
        Cli::Test(PassOn { args }) => test::command(&root, &args),
        Cli::Chart => chart::check(&root, &target_dir()?),
        Cli::Stack(PassOn { args }) => stack_up::command(&root, &target_dir()?, &args),
        Cli::Image => {
            build_components(&root)?;
            build_web(&root)?;
            image(&root)
        }
        // `--real` anywhere among the arguments: the drivers take the rest.
        Cli::Bench(PassOn { args }) if args.iter().any(|a| a == "--real") => {
            let rest: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .filter(|a| *a != "--real")
                .collect();
            bench_real(&root, &rest)
        }
        Cli::Bench(PassOn { args }) => {
            build_components(&root)?;
            build_fixtures(&root)?;
            let rest: Vec<&str> = args.iter().map(String::as_str).collect();
            let only = only_of(&rest);
            if !matches!(only, Some("realtime" | "abuse")) {
                let mut args = vec!["bench", "-p", "todo-host", "--bench", "todo-bench", "--"];
                args.extend(rest.iter().copied());
                cargo(&args)?;
            }
            if only.is_none() || only == Some("realtime") {
                bench_realtime(&root, &rest)?;
            }
            if only.is_none() || only == Some("abuse") {
                bench_abuse(&root, &rest)?;
            }
            Ok(())
        }
    }
}

/// `--only <part>` of a bench command line.
fn only_of<'a>(args: &[&'a str]) -> Option<&'a str> {
    args.windows(2).find(|w| w[0] == "--only").map(|w| w[1])
}

/// The arguments without `--only <part>` (the realtime bench is one part).
fn without_only<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if *a == "--only" {
            skip = true;
        } else {
            out.push(*a);
        }
    }
    out
}

/// `cargo build --release -p <package> --bin <bin>`.
fn build_release(package: &str, bin: &str) -> Result<()> {
    cargo(&["build", "--release", "-p", package, "--bin", bin])
}

/// A release bench driver, told where the release host and the built
/// components are.
fn bench_command(root: &Path, bin: &str) -> Result<Command> {
    let release = target_dir()?.join("release");
    let mut cmd = Command::new(release.join(bin));
    cmd.env("TODO_HOST_BIN", release.join("todo-host"))
        .env("TODO_BUILD_DIR", root.join("build"));
    Ok(cmd)
}

/// The real-time benchmark (tests/src/bin/todo-realtime-bench) against the
/// release `todo-host up`.
fn bench_realtime(root: &Path, args: &[&str]) -> Result<()> {
    build_release("todo-host", "todo-host")?;
    build_release("todo-tests", "todo-realtime-bench")?;
    let mut cmd = bench_command(root, "todo-realtime-bench")?;
    cmd.args(without_only(args));
    run(&mut cmd)
}

/// The abuse benchmark (tests/src/bin/todo-abuse-bench) against the
/// release `todo-host up` with the product's components and web app.
fn bench_abuse(root: &Path, args: &[&str]) -> Result<()> {
    build_web(root)?;
    build_release("todo-host", "todo-host")?;
    build_release("todo-tests", "todo-abuse-bench")?;
    let mut cmd = bench_command(root, "todo-abuse-bench")?;
    cmd.args(without_only(args));
    run(&mut cmd)
}

/// The real-stack benchmark: the release host and bench driver are built
/// before the shared servers start, so compiling does not compete with
/// them; the driver (tests/src/bin/todo-real-bench) starts the pods.
fn bench_real(root: &Path, args: &[&str]) -> Result<()> {
    build_fixtures(root)?;
    build_release("todo-host", "todo-host")?;
    build_release("todo-tests", "todo-real-bench")?;
    let release = target_dir()?.join("release");
    if args.iter().any(|a| *a == "--help" || *a == "-h") {
        return run(Command::new(release.join("todo-real-bench")).args(args));
    }
    let only = only_of(args);
    if only.is_none() || only == Some("realtime") {
        // The realtime part runs the product's own components.
        build_components(root)?;
        build_release("todo-tests", "todo-realtime-bench")?;
    }
    let started = std::time::Instant::now();
    let infra = stack::Infra::start(root)?;
    let mut result = Ok(());
    if only != Some("realtime") {
        let mut cmd = bench_command(root, "todo-real-bench")?;
        cmd.args(args);
        for (k, v) in &infra.env {
            cmd.env(k, v);
        }
        result = run(&mut cmd);
    }
    if result.is_ok() && (only.is_none() || only == Some("realtime")) {
        let mut cmd = bench_command(root, "todo-realtime-bench")?;
        cmd.args(without_only(args)).arg("--real");
        for (k, v) in &infra.env {
            cmd.env(k, v);
        }
        result = run(&mut cmd);
    }
    drop(infra);
    eprintln!(
        "xtask: real-stack bench took {:.0} s (servers included)",
        started.elapsed().as_secs_f64()
    );
    result
}

/// Builds the service components and copies each to build/components/<id>.wasm.
fn build_components(root: &Path) -> Result<()> {
    ensure_wasm_target(root)?;
    let components = app::components(root)?;
    let mut args = vec!["build", "--release", "--target", WASM_TARGET];
    for c in &components {
        args.extend(["-p", &c.package]);
    }
    cargo(&args)?;
    let out = root.join("build/components");
    std::fs::create_dir_all(&out)?;
    for c in &components {
        copy_wasm(&c.package, &out.join(format!("{}.wasm", c.id)))?;
    }
    ensure_web_dir(root)
}

/// build/web is the frontend component's `files` mount, which must exist
/// for the host to start. Until the web app has been built there, it
/// holds a page saying so.
fn ensure_web_dir(root: &Path) -> Result<()> {
    let web = root.join("build/web");
    std::fs::create_dir_all(&web)?;
    let index = web.join("index.html");
    if !index.exists() {
        std::fs::write(&index, PLACEHOLDER_PAGE)
            .with_context(|| format!("writing {}", index.display()))?;
    }
    Ok(())
}

const PLACEHOLDER_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>todo</title>
</head>
<body>
<main>
<h1>todo</h1>
<p>The web app has not been built yet.</p>
<p><code>cargo xtask up</code> builds it when Node.js 20 or newer and npm are installed.
The API is served meanwhile.</p>
</main>
</body>
</html>
"#;

/// The host image, built without an engine, validated and run (see
/// image.rs); prints its digest and size.
fn image(root: &Path) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let built = image::build(root, &target_dir()?, version)?;
    println!(
        "image: todo-host:{version} {} ({:.1} MB layer, {:.1} MB compressed)",
        built.digest,
        built.layer_bytes as f64 / 1e6,
        built.compressed_bytes as f64 / 1e6
    );
    Ok(())
}

/// The web app into build/web, when Node.js is here; otherwise says what
/// to install and leaves the placeholder page (the API works without it).
fn build_web(root: &Path) -> Result<()> {
    if !web::enabled() {
        return Ok(());
    }
    match web::missing_node() {
        None => web::build(root),
        Some(why) => {
            eprintln!("note: the web app is not built: {why}. The API is served without it.");
            Ok(())
        }
    }
}

/// Test fixtures: the probe component in two versions (for hot swap).
fn build_fixtures(root: &Path) -> Result<()> {
    let out = root.join("build/fixtures");
    std::fs::create_dir_all(&out)?;
    cargo(&["build", "--release", "--target", WASM_TARGET, "-p", "probe"])?;
    copy_wasm("probe", &out.join("probe.wasm"))?;
    cargo(&[
        "build",
        "--release",
        "--target",
        WASM_TARGET,
        "-p",
        "probe",
        "--features",
        "v2",
    ])?;
    copy_wasm("probe", &out.join("probe-v2.wasm"))?;
    // Rebuild v1 last so the target dir's probe.wasm is v1 again.
    cargo(&["build", "--release", "--target", WASM_TARGET, "-p", "probe"])?;
    Ok(())
}

fn copy_wasm(package: &str, dest: &Path) -> Result<()> {
    let built = target_dir()?
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    // Copy then rename: a running host watching `dest` never sees half a file.
    let tmp = dest.with_extension("wasm.tmp");
    std::fs::copy(&built, &tmp).with_context(|| format!("copying {}", built.display()))?;
    std::fs::rename(&tmp, dest)?;
    Ok(())
}

/// `rustup target add`, falling back to the toolchain copy beside the clone
/// where rustup cannot reach its server. The shared script does both, with
/// a time limit on rustup, so it is preferred when present.
fn ensure_wasm_target(root: &Path) -> Result<()> {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&libdir.stdout).trim());
    let installed = std::fs::read_dir(&libdir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
        })
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    let shared = root.join("../shared/toolchain/ensure-wasm-target");
    if shared.is_file() {
        return run(Command::new("bash").arg(&shared));
    }
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

fn cargo(args: &[&str]) -> Result<()> {
    run(Command::new(env!("CARGO")).args(args))
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .parent()
        .context("xtask has a parent")?
        .to_path_buf())
}

fn target_dir() -> Result<PathBuf> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let dir = meta["target_directory"]
        .as_str()
        .context("cargo metadata has no target_directory")?;
    Ok(PathBuf::from(dir))
}
