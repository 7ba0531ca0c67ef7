//! Python packages from PyPI that tests drive as clients no one here
//! wrote. `xtask/stack/python.sh` is the one list of them: it installs
//! each once under the stack cache (outside the clone) and says where.

use std::path::PathBuf;
use std::process::Command;

use crate::outside::run;
use crate::workspace_root;

/// The directory (or virtualenv) `xtask/stack/python.sh <package>` gives.
pub fn python_package(package: &str) -> PathBuf {
    let out = run(Command::new("bash")
        .arg(workspace_root().join("xtask/stack/python.sh"))
        .arg(package));
    let dir = PathBuf::from(out.lines().last().unwrap_or_default().trim());
    assert!(dir.is_dir(), "python.sh {package} gave {}", dir.display());
    dir
}

/// Where Python's `cloudevents` package is installed.
pub fn python_sdk() -> PathBuf {
    python_package("cloudevents")
}

/// Where Python's `websockets` package is installed.
pub fn python_websockets() -> PathBuf {
    python_package("websockets")
}

/// Where the official MCP Python SDK (`mcp`) is installed.
pub fn python_mcp() -> PathBuf {
    python_package("mcp")
}
