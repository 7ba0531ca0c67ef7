//! The abuse benchmark: what one signed-in user sees while others attack
//! `todo-host up`. 16 connections of the user list and create tasks (and
//! a probe asks `/healthz`), first alone, then while 1,000 sockets sit idle
//! (reconnecting whenever the host closes them), 100 slow readers ask for
//! a 2 MB task page and never read it, and 32 clients at once sign in
//! with made-up emails. Prints each phase's p50 / p99 side by side (the
//! quiet phase is the baseline), the host's RSS before / during / after,
//! what the attackers got, and that every acknowledged create is stored.
//!
//! `cargo xtask bench --only abuse`. Options: `--seconds` (per phase),
//! `--attacks idle,slow,signin` (a subset of the attackers; all by default).

mod attack;
mod workload;

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;
use todo_tests::account::{Session, sign_up};
use todo_tests::bench::arg;
use todo_tests::stack::{InProcess, Stack};

use workload::Phase;

/// The host's resident memory in MiB.
fn rss_mib(pid: u32) -> Result<f64> {
    let status = procfs::process::Process::new(pid as i32)?.status()?;
    Ok(status.vmrss.context("no VmRSS")? as f64 / 1024.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let seconds = arg("--seconds", 10) as u64;
    let attackers = attack::Attackers::from_args()?;
    let stack = tokio::task::block_in_place(InProcess::start)?;
    let pid = stack.host.pid().context("the host runs")?;
    // One user per phase, each with the same 100 tasks: listing reads
    // the user's whole list, so a phase run after another (which created
    // thousands) would be slower for that alone.
    let quiet_user = seeded_user(&stack).await?;
    let under_user = seeded_user(&stack).await?;
    let attacker = sign_up(&stack).await;
    // The attacker's list: 200 tasks with the longest description
    // allowed, so one page of it is ~2 MB.
    let long = "x".repeat(10_000);
    for i in 0..200 {
        let resp = attacker
            .http
            .post(stack.url("/api/tasks"))
            .json(&json!({"title": format!("big {i}"), "description": long}))
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 201, "seeding: {}", resp.status());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_mib(pid)?;

    println!(
        "abuse: 16 connections of one user listing and creating (a new user with {SEEDED} tasks each phase), {seconds} s per phase"
    );
    let quiet = workload::run(&quiet_user, &stack, Duration::from_secs(seconds), pid).await?;

    let attack = attack::start(&stack, &attacker.access_token, &attackers);
    // Let every attacker get going before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let under = workload::run(&under_user, &stack, Duration::from_secs(seconds), pid).await?;
    let report = attack.stop().await;
    // Long enough for every deadline the attack ran into to pass.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let after = rss_mib(pid)?;

    print_phases(&quiet, &under);
    println!(
        "  host RSS: before {before:.0} MiB, during (max) {:.0} MiB, after {after:.0} MiB",
        under.max_rss_mib
    );
    println!("  attackers: {report}");
    let created = quiet.created + under.created;
    let stored = workload::count_tasks(&quiet_user, &stack).await?
        + workload::count_tasks(&under_user, &stack).await?
        - 2 * SEEDED;
    println!(
        "  acknowledged creates: {created}, stored: {stored} (lost {})",
        created.saturating_sub(stored)
    );
    anyhow::ensure!(stored == created, "acknowledged creates are missing");
    Ok(())
}

/// Tasks each phase's user starts with.
const SEEDED: usize = 100;

/// A new user with `SEEDED` tasks.
async fn seeded_user(stack: &InProcess) -> Result<Session> {
    let user = sign_up(stack).await;
    for i in 0..SEEDED {
        anyhow::ensure!(
            workload::create(&user, stack, &format!("seed {i}")).await?,
            "seeding"
        );
    }
    Ok(user)
}

fn print_phases(quiet: &Phase, under: &Phase) {
    println!(
        "  {:<10} {:>26} {:>26}",
        "", "alone (baseline)", "under abuse"
    );
    for (name, a, b) in [
        ("list", &quiet.list, &under.list),
        ("create", &quiet.create, &under.create),
        ("/healthz", &quiet.health, &under.health),
    ] {
        println!(
            "  {name:<10} {:>26} {:>26}   p99 ratio {:.2}x",
            a.to_string(),
            b.to_string(),
            b.p99_ms() / a.p99_ms()
        );
    }
    println!(
        "  failed requests: alone {}, under abuse {}",
        quiet.failed, under.failed
    );
}
