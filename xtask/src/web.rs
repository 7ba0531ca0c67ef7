//! The web app (`frontend/`): dependencies from the committed lock file
//! (`npm ci`), the Next.js static export, copied to `build/web` where the
//! `frontend` component's files mapping serves it; and its unit tests.
//! Node.js 20+ and npm are the one thing these need from the machine;
//! `TODO_WEB=0` skips the web app (the host then serves a page saying it
//! is not built).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result};

use crate::run;

const MIN_NODE_MAJOR: u32 = 20;

pub fn enabled() -> bool {
    std::env::var("TODO_WEB").map_or(true, |v| v != "0")
}

/// The installed Node.js major version, if any.
fn node_major() -> Option<u32> {
    let out = Command::new("node").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// Why the web app cannot be built here, or None when it can.
pub fn missing_node() -> Option<String> {
    match node_major() {
        Some(v) if v >= MIN_NODE_MAJOR => {
            if Command::new("npm").arg("--version").output().is_ok() {
                None
            } else {
                Some("npm is not installed (it comes with Node.js)".into())
            }
        }
        Some(v) => Some(format!(
            "Node.js {v} is too old: the web app needs {MIN_NODE_MAJOR} or newer"
        )),
        None => Some(format!(
            "Node.js is not installed: the web app needs Node.js {MIN_NODE_MAJOR} or newer and npm (https://nodejs.org, or your system's `nodejs` and `npm` packages)"
        )),
    }
}

/// Builds the export into build/web unless it is newer than every source.
pub fn build(root: &Path) -> Result<()> {
    let app = root.join("frontend");
    install(&app)?;
    let web = root.join("build/web");
    let stamp = web.join(".built");
    if newest(&sources(&app)) <= modified(&stamp) {
        println!("web app: up to date");
        return Ok(());
    }
    run(npm(&app)
        .args(["run", "build"])
        .env("NEXT_TELEMETRY_DISABLED", "1"))?;
    // Copy then swap, so build/web is never half written.
    let fresh = root.join("build/web.new");
    let _ = std::fs::remove_dir_all(&fresh);
    copy_dir(&app.join("out"), &fresh)?;
    std::fs::write(fresh.join(".built"), "")?;
    let old = root.join("build/web.old");
    let _ = std::fs::remove_dir_all(&old);
    if web.exists() {
        std::fs::rename(&web, &old)?;
    }
    std::fs::rename(&fresh, &web)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The unit and component tests (Vitest).
pub fn unit_tests(root: &Path) -> Result<()> {
    let app = root.join("frontend");
    install(&app)?;
    run(npm(&app).args(["test"]))
}

/// `npm ci` when the lock file changed since the last install.
fn install(app: &Path) -> Result<()> {
    install_with(app, run)
}

/// [`install`] with npm's output in `log` (the test command runs it in
/// the background).
pub fn install_logged(app: &Path, log: &Path) -> Result<()> {
    install_with(app, |cmd| crate::prefetch::run_logged(cmd, log))
}

fn install_with(app: &Path, run: impl FnOnce(&mut Command) -> Result<()>) -> Result<()> {
    let lock = app.join("package-lock.json");
    let stamp = app.join("node_modules/.installed");
    if modified(&stamp) >= modified(&lock) && modified(&stamp) > SystemTime::UNIX_EPOCH {
        return Ok(());
    }
    run(npm(app).args(["ci", "--no-audit", "--no-fund"]))?;
    std::fs::write(&stamp, "")?;
    Ok(())
}

fn npm(app: &Path) -> Command {
    let mut cmd = Command::new("npm");
    cmd.current_dir(app);
    cmd
}

/// What the export is made from.
fn sources(app: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["app", "components", "lib", "public"] {
        walk(&app.join(dir), &mut files);
    }
    for file in ["package-lock.json", "next.config.mjs", "tsconfig.json"] {
        files.push(app.join(file));
    }
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn newest(paths: &[PathBuf]) -> SystemTime {
    paths
        .iter()
        .map(|p| modified(p))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The browser of the end-to-end tests (Debian's Chromium, installed by
/// the script when missing).
pub fn chromium(root: &Path) -> Result<String> {
    crate::stack::run_script(&root.join("xtask/stack"), "chromium.sh", &[])
}
