//! Schemathesis (PyPI), an outside client that reads our OpenAPI document
//! and attacks every route with generated requests.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The pinned major version: its checks and flags are what the test uses.
const REQUIREMENT: &str = "schemathesis>=4.3,<5";

fn cache_dir() -> PathBuf {
    std::env::var_os("TODO_STACK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/todo-stack")
        })
}

/// Runs schemathesis' CLI. Hypothesis describes filter lambdas by parsing
/// their module with `ast.parse`, which CPython before 3.11.8 can fail
/// with "AST constructor recursion depth mismatch" (a CPython bug, fixed
/// upstream) when called deep in a stack; the description only names the
/// lambda in reprs, so that failure is replaced by a placeholder.
const LAUNCHER: &str = r#"
import sys
from hypothesis.internal import lambda_sources
_describe = lambda_sources._lambda_description
def _describe_or_placeholder(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <source not parsed>"
lambda_sources._lambda_description = _describe_or_placeholder
from schemathesis.cli import schemathesis
sys.exit(schemathesis())
"#;

/// A command running schemathesis' CLI (`st`); add its arguments.
pub fn command() -> Command {
    let mut cmd = Command::new(venv().join("bin/python"));
    cmd.args(["-c", LAUNCHER]);
    cmd
}

/// The virtualenv holding schemathesis, under the stack cache (outside the
/// clone), installed on first use.
fn venv() -> PathBuf {
    let venv = cache_dir().join("schemathesis");
    let st = venv.join("bin/st");
    let works = |st: &PathBuf| {
        Command::new(st)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !works(&st) {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(status.success(), "could not create {}", venv.display());
        let status = Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                REQUIREMENT,
            ])
            .status()
            .expect("pip install schemathesis");
        assert!(status.success(), "pip install {REQUIREMENT} failed");
        assert!(works(&st), "{} does not run", st.display());
    }
    venv
}
