//! The web app end to end: Chromium (Debian's, driven by playwright-core)
//! against `todo-host up` serving the static export on the API's origin,
//! and against the real stack (a `todo-host serve` + `daprd` per
//! component over Kafka, Redis, PostgreSQL and the Scheduler) behind its
//! front door, as `cargo xtask stack up` runs it. The scenarios are in
//! frontend/e2e/run.mjs; this starts the stack, runs them, and fails with
//! their report. Screenshots of each main screen go to
//! target/e2e-screenshots/ (in-process) and
//! target/e2e-screenshots-real-stack/.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use todo_tests::front_door::{Backends, FrontDoor};
use todo_tests::outside::{app_manifest, blocking, infra, start};
use todo_tests::stack::{InProcess, Stack};
use todo_tests::{build_dir, workspace_root};

/// One browser run at a time: the scenarios time what a person would
/// notice (another device's change within a second).
static BROWSER: Mutex<()> = Mutex::new(());

/// Whether the web app's export was built (`cargo xtask test` does).
fn web_app_built() -> bool {
    if std::env::var("TODO_WEB").as_deref() == Ok("0") {
        eprintln!("skipped: TODO_WEB=0 (the web app was not built)");
        return false;
    }
    let index = std::fs::read_to_string(build_dir().join("web/index.html")).expect(
        "build/web/index.html: run the tests with `cargo xtask test`, which builds the web app",
    );
    assert!(
        index.contains("/_next/"),
        "build/web holds the placeholder page, not the web app's export"
    );
    true
}

/// Runs every scenario against `base`; panics with the report on failure.
fn run_scenarios(base: &str, screenshots: &Path) {
    let _turn = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let frontend = workspace_root().join("frontend");
    let node = frontend.join("node_modules/.bin/node");
    let out = Command::new(&node)
        .arg("e2e/run.mjs")
        .current_dir(&frontend)
        .env("TODO_BASE_URL", base)
        .env("TODO_SCREENSHOTS", screenshots)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", node.display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(
        out.status.success(),
        "end-to-end scenarios failed:\n{report}"
    );
    assert!(
        report.contains(" scenarios passed, 0 problems"),
        "no summary line:\n{report}"
    );
}

#[test]
fn the_web_app_works_in_a_real_browser() {
    if !web_app_built() {
        return;
    }
    let stack = InProcess::start().expect("todo-host up");
    run_scenarios(
        &stack.url(""),
        &workspace_root().join("target/e2e-screenshots"),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_app_works_through_the_real_stacks_front_door() {
    let Some(infra) = infra("the_web_app_works_through_the_real_stacks_front_door") else {
        return;
    };
    if !web_app_built() {
        return;
    }
    let stack = start(infra, &app_manifest());
    let door = FrontDoor::start("127.0.0.1:0".parse().unwrap(), Backends::of(&stack))
        .await
        .expect("the front door listens");
    let base = door.url("");
    let screenshots = workspace_root().join("target/e2e-screenshots-real-stack");
    blocking(move || run_scenarios(&base, &screenshots)).await;
    drop(stack);
}
