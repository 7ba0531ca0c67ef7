//! Python packages from PyPI that tests drive as clients no one here
//! wrote, installed once under the stack cache (outside the clone).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::outside::run;

/// Where Python's `cloudevents` package is installed (outside the clone).
pub fn python_sdk() -> PathBuf {
    python_package("py", "cloudevents>=2,<3", "cloudevents.core.bindings.kafka")
}

/// Where Python's `websockets` package is installed (outside the clone).
pub fn python_websockets() -> PathBuf {
    python_package(
        "py-websockets",
        "websockets>=13,<17",
        "websockets.asyncio.client",
    )
}

/// A directory under the stack cache (`dir`) from which `module` imports,
/// installing `spec` from PyPI there on first use.
pub fn python_package(dir: &str, spec: &str, module: &str) -> PathBuf {
    let cache = std::env::var_os("TODO_STACK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/todo-stack")
        });
    let dir = cache.join(dir);
    let importable = |dir: &Path| {
        Command::new("python3")
            .env("PYTHONPATH", dir)
            .args(["-c", &format!("import {module}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !importable(&dir) {
        run(Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--upgrade",
                "--target",
            ])
            .arg(&dir)
            .arg(spec));
        assert!(
            importable(&dir),
            "{module} is not importable from {}",
            dir.display()
        );
    }
    dir
}

/// Where the official MCP Python SDK (`mcp`) is installed.
pub fn python_mcp() -> PathBuf {
    python_package("py-mcp", "mcp>=1.20,<2", "mcp.client.streamable_http")
}
