//! Schemathesis (PyPI), an outside client that reads our OpenAPI document
//! and attacks every route with generated requests.

use std::path::PathBuf;
use std::process::Command;

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

/// The virtualenv holding schemathesis (`xtask/stack/python.sh` pins
/// its version and installs it once, outside the clone).
fn venv() -> PathBuf {
    crate::python::python_package("schemathesis")
}
