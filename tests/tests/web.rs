//! The web app end to end: Chromium (Debian's, driven by playwright-core)
//! against `todo-host up` serving the static export on the API's origin.
//! The scenarios are in frontend/e2e/run.mjs; this starts the host, runs
//! them, and fails with their report. Screenshots of each main screen go
//! to target/e2e-screenshots/.

use std::process::Command;

use todo_tests::stack::{InProcess, Stack};
use todo_tests::{build_dir, workspace_root};

#[test]
fn the_web_app_works_in_a_real_browser() {
    if std::env::var("TODO_WEB").as_deref() == Ok("0") {
        eprintln!("skipped: TODO_WEB=0 (the web app was not built)");
        return;
    }
    let index = std::fs::read_to_string(build_dir().join("web/index.html")).expect(
        "build/web/index.html: run the tests with `cargo xtask test`, which builds the web app",
    );
    assert!(
        index.contains("/_next/"),
        "build/web holds the placeholder page, not the web app's export"
    );
    let stack = InProcess::start().expect("todo-host up");
    let base = stack.url("");
    let frontend = workspace_root().join("frontend");
    // The lock file's Node (22): playwright-core and vitest want it.
    let node = frontend.join("node_modules/.bin/node");
    let out = Command::new(&node)
        .arg("e2e/run.mjs")
        .current_dir(&frontend)
        .env("TODO_BASE_URL", &base)
        .env(
            "TODO_SCREENSHOTS",
            workspace_root().join("target/e2e-screenshots"),
        )
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
