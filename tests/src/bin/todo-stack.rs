//! `todo-stack`: keeps the pod-mode topology running on one machine, as
//! `cargo xtask stack up` starts it (see xtask/src/stack_up.rs).
//!
//! Given the shared servers (`TODO_STACK_*`, started by xtask), it starts
//! a `todo-host serve` + `daprd` per component (two websocket replicas)
//! from the same Dapr resources the Helm chart renders, and the front door
//! on `--listen`. It restarts any pod whose host or sidecar dies, as a
//! Deployment would, and writes where everything is to `<state>/pods.json`
//! after each change. SIGTERM or SIGINT stops the pods and exits.
//!
//!   todo-stack --listen 127.0.0.1:8080 --state <dir>

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;
use todo_tests::front_door::{Backends, FrontDoor};
use todo_tests::real_stack::{Infra, RealStack};
use todo_tests::workspace_root;

struct Args {
    listen: SocketAddr,
    state: PathBuf,
}

fn args() -> Result<Args> {
    let mut listen = None;
    let mut state = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" => listen = Some(it.next().context("--listen <addr>")?.parse()?),
            "--state" => state = it.next().map(PathBuf::from),
            other => {
                bail!("unknown argument {other}; usage: todo-stack --listen <addr> --state <dir>")
            }
        }
    }
    Ok(Args {
        listen: listen.context("--listen <addr> is required")?,
        state: state.context("--state <dir> is required")?,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let infra =
        Infra::from_env().context("TODO_STACK_* are not set (run `cargo xtask stack up`)")?;
    let manifest = workspace_root().join("spin.toml");
    let started = Instant::now();
    let mut stack = tokio::task::block_in_place(|| RealStack::start(infra, &manifest))?;
    let door = FrontDoor::start(args.listen, Backends::of(&stack)).await?;
    write_state(&args.state, &stack, &door, 0)?;
    println!(
        "todo-stack: {} pods up in {:.1}s; the app at {}",
        stack.pods.len(),
        started.elapsed().as_secs_f64(),
        door.url("/")
    );

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut generation = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        for i in 0..stack.pods.len() {
            if stack.pod_running(i) {
                continue;
            }
            let name = stack.pods[i].name.clone();
            let since = Instant::now();
            eprintln!("todo-stack: pod {name} is down; restarting it");
            match tokio::task::block_in_place(|| stack.restart_pod(i)) {
                Ok(()) => eprintln!(
                    "todo-stack: pod {name} back in {:.1}s",
                    since.elapsed().as_secs_f64()
                ),
                Err(e) => eprintln!("todo-stack: restarting {name} failed (tried again): {e:#}"),
            }
            *door.backends.write().expect("backends lock") = Backends::of(&stack);
            generation += 1;
            write_state(&args.state, &stack, &door, generation)?;
        }
    }
    eprintln!("todo-stack: stopping");
    drop(door);
    tokio::task::block_in_place(|| drop(stack));
    let _ = std::fs::remove_file(args.state.join("pods.json"));
    Ok(())
}

/// `<state>/pods.json`: the front door and every pod (ports, pids, logs),
/// for `cargo xtask stack status|kill`.
fn write_state(state: &Path, stack: &RealStack, door: &FrontDoor, generation: u64) -> Result<()> {
    let pods: Vec<_> = stack
        .pods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "name": p.name,
                "component": p.component,
                "app_port": p.app_port,
                "metrics_port": p.metrics_port,
                "dapr_http_port": p.dapr_http_port,
                "host_pid": stack.host_pid(i),
                "daprd_pid_file": stack.daprd_pid_file(i),
                "dir": stack.pod_dir(i),
            })
        })
        .collect();
    let doc = json!({
        "url": door.url("/"),
        "generation": generation,
        "pods": pods,
    });
    let tmp = state.join("pods.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc)?)?;
    std::fs::rename(tmp, state.join("pods.json"))?;
    Ok(())
}
