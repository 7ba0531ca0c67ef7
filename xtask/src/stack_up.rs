//! `cargo xtask stack up|status|kill|down`: the pod-mode topology on one
//! machine, like Dapr's multi-app run. `up` starts Kafka, Redis,
//! PostgreSQL and the Scheduler (xtask/stack/*.sh), then `todo-stack`
//! (tests/src/bin/todo-stack.rs) in the background: a `todo-host serve` +
//! `daprd` per component from the same Dapr files the chart renders, and a
//! front door serving the app on one port as `todo-host up` does. `kill
//! <pod>` kills a pod's host and sidecar (`-9`) and waits until the
//! supervisor has it back; `down` stops everything.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::stack::{Infra, run_script, stop_in};

const USAGE: &str = "usage: cargo xtask stack up [--port N] | status | kill <pod> | down";

/// Where the running stack keeps its servers, pods and state.
fn state_dir() -> PathBuf {
    std::env::var("TODO_STACK_UP_DIR")
        .map(PathBuf::from)
        // Under /tmp: the PostgreSQL cluster belongs to the `postgres` user.
        .unwrap_or_else(|_| PathBuf::from("/tmp/todo-stack-up"))
}

pub fn command(root: &Path, target: &Path, args: &[String]) -> Result<()> {
    let dir = state_dir();
    match args.first().map(String::as_str) {
        Some("up") => {
            let port = match args.get(1..) {
                Some([flag, port]) if flag == "--port" => port.parse().context("--port N")?,
                Some([]) => 8080,
                _ => bail!(USAGE),
            };
            up(root, target, &dir, port)
        }
        Some("status") => status(root, &dir),
        Some("kill") => kill(&dir, args.get(1).context(USAGE)?),
        Some("down") => down(root, &dir),
        _ => bail!(USAGE),
    }
}

/// Starts the servers and the supervisor; returns once the app answers.
/// `host` is the todo-host binary the pods run.
pub fn up_with(
    root: &Path,
    dir: &Path,
    port: u16,
    host: &Path,
    supervisor: &Path,
) -> Result<String> {
    if let Some(url) = running(dir) {
        bail!("a stack already runs at {url} (`cargo xtask stack down` stops it)");
    }
    let _ = std::fs::remove_dir_all(dir);
    let mut infra = Infra::start_in(root, dir)?;
    let log = std::fs::File::create(dir.join("stack.log"))?;
    let mut child = Command::new("setsid")
        .arg(supervisor)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--state"])
        .arg(dir)
        .envs(infra.env.iter().map(|(k, v)| (k, v)))
        .env("TODO_HOST_BIN", host)
        .env("TODO_BUILD_DIR", root.join("build"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting todo-stack")?;
    std::fs::write(dir.join("supervisor.pid"), child.id().to_string())?;
    let started = Instant::now();
    let url = loop {
        if let Some(url) = running(dir).filter(|url| http_status(url, "/readyz") == Some(200)) {
            break url;
        }
        let exited = child.try_wait()?.is_some();
        if exited || started.elapsed() > Duration::from_secs(300) {
            let log = std::fs::read_to_string(dir.join("stack.log")).unwrap_or_default();
            down(root, dir)?;
            bail!("the stack did not come up:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // From here on the servers outlive this command.
    infra.keep_running = true;
    Ok(url)
}

fn up(root: &Path, target: &Path, dir: &Path, port: u16) -> Result<()> {
    crate::build_components(root)?;
    crate::build_web(root)?;
    crate::cargo(&[
        "build",
        "--release",
        "-p",
        "todo-host",
        "--bin",
        "todo-host",
    ])?;
    crate::cargo(&["build", "-p", "todo-tests", "--bin", "todo-stack"])?;
    let host = target.join("release/todo-host");
    let supervisor = target.join("debug/todo-stack");
    let started = Instant::now();
    let url = up_with(root, dir, port, &host, &supervisor)?;
    println!(
        "stack: up in {:.1}s; the app at {url}\n\
         \x20 cargo xtask stack status       pods, consumer lag per service\n\
         \x20 cargo xtask stack kill <pod>   kill -9 a pod's host and sidecar; it is restarted\n\
         \x20 cargo xtask stack down         stop everything\n\
         \x20 logs: {}/<pod>/host.log, <pod>/daprd/daprd.log",
        started.elapsed().as_secs_f64(),
        dir.join("stack-*").display()
    );
    Ok(())
}

/// The front door's URL when a supervisor runs in `dir`.
fn running(dir: &Path) -> Option<String> {
    let pid: u32 = std::fs::read_to_string(dir.join("supervisor.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if !alive(pid) {
        return None;
    }
    let state = pods(dir).ok()?;
    state["url"]
        .as_str()
        .map(|u| u.trim_end_matches('/').to_owned())
}

fn pods(dir: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(dir.join("pods.json"))
        .context("no stack runs here (`cargo xtask stack up` starts one)")?;
    Ok(serde_json::from_str(&text)?)
}

fn status(root: &Path, dir: &Path) -> Result<()> {
    let Some(url) = running(dir) else {
        bail!("no stack runs (`cargo xtask stack up` starts one)");
    };
    println!(
        "front door: {url} (readyz {:?})",
        http_status(&url, "/readyz")
    );
    let state = pods(dir)?;
    for pod in state["pods"].as_array().into_iter().flatten() {
        let app = format!("http://127.0.0.1:{}", pod["app_port"]);
        println!(
            "  {:<18} app :{} readyz {:?}  dapr :{}",
            pod["name"].as_str().unwrap_or_default(),
            pod["app_port"],
            http_status(&app, "/readyz"),
            pod["dapr_http_port"]
        );
    }
    println!("consumer lag per group (events not yet handled, from kafka-consumer-groups):");
    for (group, lag) in consumer_groups(root, dir)? {
        println!("  {group:<18} {lag}");
    }
    Ok(())
}

/// Kafka's own view: each subscribing service is a consumer group (each
/// websocket pod too), with how many events it has yet to handle.
fn consumer_groups(root: &Path, dir: &Path) -> Result<std::collections::BTreeMap<String, u64>> {
    let scripts = root.join("xtask/stack");
    let kafka = dir.join("kafka").display().to_string();
    let out = Command::new("bash")
        .arg(scripts.join("kafka.sh"))
        .args(["groups", &kafka, "--describe", "--all-groups"])
        .stderr(Stdio::null())
        .output()?;
    Ok(lag_per_group(&String::from_utf8_lossy(&out.stdout)))
}

/// Sums `kafka-consumer-groups --describe` rows per group. A partition
/// without a committed offset is behind by all it holds (the groups start
/// from the oldest record).
fn lag_per_group(describe: &str) -> std::collections::BTreeMap<String, u64> {
    let mut lag = std::collections::BTreeMap::new();
    for row in describe.lines() {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let [group, _topic, partition, current, end, ..] = cols[..] else {
            continue;
        };
        if partition.parse::<u32>().is_err() {
            continue; // a header
        }
        let end: u64 = end.parse().unwrap_or(0);
        let behind = current
            .parse::<u64>()
            .map_or(end, |c| end.saturating_sub(c));
        *lag.entry(group.to_owned()).or_insert(0) += behind;
    }
    lag
}

fn kill(dir: &Path, name: &str) -> Result<()> {
    let state = pods(dir)?;
    let pod = state["pods"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .with_context(|| format!("no pod {name} (`cargo xtask stack status` lists them)"))?;
    let generation = state["generation"].as_u64().unwrap_or(0);
    let mut pids = Vec::new();
    if let Some(pid) = pod["host_pid"].as_u64() {
        pids.push(pid.to_string());
    }
    if let Some(file) = pod["daprd_pid_file"].as_str()
        && let Ok(pid) = std::fs::read_to_string(file)
    {
        pids.push(pid.trim().to_owned());
    }
    let killed = Instant::now();
    Command::new("kill").arg("-9").args(&pids).status()?;
    println!("stack: killed {name} (host and daprd: {})", pids.join(", "));
    loop {
        if let Ok(state) = pods(dir)
            && state["generation"].as_u64().unwrap_or(0) > generation
            && let Some(pod) = state["pods"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == name)
        {
            let app = format!("http://127.0.0.1:{}", pod["app_port"]);
            if http_status(&app, "/readyz") == Some(200) {
                println!(
                    "stack: {name} is back and ready {:.1}s after the kill",
                    killed.elapsed().as_secs_f64()
                );
                return Ok(());
            }
        }
        if killed.elapsed() > Duration::from_secs(120) {
            bail!(
                "{name} is not back after 120 s (see {})",
                dir.join("stack.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn down(root: &Path, dir: &Path) -> Result<()> {
    if let Ok(pid) = std::fs::read_to_string(dir.join("supervisor.pid")) {
        let pid: u32 = pid.trim().parse().unwrap_or(0);
        if pid > 0 && alive(pid) {
            Command::new("kill").arg(pid.to_string()).status()?;
            let since = Instant::now();
            while alive(pid) && since.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    stop_in(&root.join("xtask/stack"), dir);
    let _ = std::fs::remove_dir_all(dir);
    println!("stack: down");
    Ok(())
}

fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // A zombie, killed but not yet reaped, is not alive.
    procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .is_ok_and(|stat| !matches!(stat.state(), Ok(procfs::process::ProcState::Zombie)))
}

/// The status of `GET <base><path>` (plain HTTP on loopback), if any.
pub fn http_status(base: &str, path: &str) -> Option<u16> {
    let authority = base.strip_prefix("http://")?.trim_end_matches('/');
    let mut tcp = TcpStream::connect(authority).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 32];
    let n = tcp.read(&mut head).ok()?;
    std::str::from_utf8(&head[..n])
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The stack's own check, run by the test command: up, the smoke test
/// through the front door, a pod killed and back, the smoke test again,
/// down.
pub fn check(root: &Path, host: &Path, supervisor: &Path) -> Result<()> {
    let dir = PathBuf::from(format!("/tmp/todo-stack-check-{}", std::process::id()));
    let started = Instant::now();
    let url = up_with(root, &dir, free_port()?, host, supervisor)?;
    println!(
        "stack: up in {:.1}s at {url}",
        started.elapsed().as_secs_f64()
    );
    let result = (|| -> Result<()> {
        run_script(&root.join("xtask/stack"), "smoke-app.sh", &[&url])
            .context("the smoke test through the front door")?;
        // Kafka shows every subscribing service's progress: a consumer
        // group per service of spin.toml's topic triggers, one per pod of a
        // broadcast one (the stack runs those as two replicas).
        let groups = consumer_groups(root, &dir)?;
        let mut expected = Vec::new();
        for s in crate::app::subscribers(root)? {
            if s.broadcast {
                expected.extend((0..2).map(|i| format!("{}-{i}", s.component)));
            } else {
                expected.push(s.component);
            }
        }
        for group in &expected {
            if !groups.contains_key(group) {
                bail!("no consumer group {group} in Kafka (groups: {groups:?})");
            }
        }
        println!("stack: consumer lag per group {groups:?}");
        kill(&dir, "chat-api-0")?;
        run_script(&root.join("xtask/stack"), "smoke-app.sh", &[&url])
            .context("the smoke test after chat-api's pod was killed")?;
        Ok(())
    })();
    down(root, &dir)?;
    result
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
