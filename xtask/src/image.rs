//! `cargo xtask image`: the host image, built without a container engine.
//!
//! One layer, from nothing: the static (musl) `todo-host`, the manifest,
//! the compiled components and the web app's export, plus the two files a
//! scratch root needs (`/etc/passwd` naming the non-root user, `/etc/hosts`
//! for `localhost`). The layer is written with fixed times, owners and
//! order, so the same sources give the same digest on every machine.
//! go-containerregistry's `crane` pushes it to a registry it serves itself
//! on loopback, sets the config (entrypoint, user 65532, workdir, port),
//! validates the image and saves it as an OCI layout under
//! `<target>/image/oci`. Then the check an engine would make: the binary
//! runs from the unpacked root as uid 65532 and `todo-host up` answers
//! `/readyz`. The Dockerfile at the root builds the same image for people
//! with an engine; `hadolint` checks it here.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::run;

/// The image's user: distroless's `nonroot`.
const UID: u64 = 65532;
const MUSL: &str = "x86_64-unknown-linux-musl";
const REPO: &str = "todo-host";

pub struct Built {
    pub digest: String,
    pub layer_bytes: u64,
    pub compressed_bytes: u64,
}

/// Builds, validates and runs the image; `version` tags it.
pub fn build(root: &Path, target: &Path, version: &str) -> Result<Built> {
    lint_dockerfile(root)?;
    let binary = static_host(root, target, &mut Command::new(env!("CARGO")))?;
    let dir = target.join("image");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let layer = dir.join("layer.tar");
    write_layer(root, &binary, &layer)?;
    let crane = tool(root, "crane")?;
    let registry = Registry::start(&crane, &dir.join("registry"))?;
    let base = format!("{}/{REPO}", registry.addr);
    let staged = format!("{base}:layer");
    run(Command::new(&crane)
        .args([
            "append",
            "--oci-empty-base",
            "--platform",
            "linux/amd64",
            "-f",
        ])
        .arg(&layer)
        .args(["-t", &staged]))?;
    let tagged = format!("{base}:{version}");
    run(Command::new(&crane).args([
        "mutate",
        &staged,
        "--set-platform",
        "linux/amd64",
        "--entrypoint",
        "/todo-host",
        "--cmd",
        "up,--listen,0.0.0.0:8080,--data-dir,/data",
        "--user",
        &format!("{UID}:{UID}"),
        "--workdir",
        "/app",
        "--exposed-ports",
        "8080/tcp",
        "-e",
        "TODO_MANIFEST=/app/spin.toml",
        "-l",
        "org.opencontainers.image.title=todo-host",
        "-t",
        &tagged,
    ]))?;
    run(Command::new(&crane).args(["validate", "--remote", &tagged]))?;
    let digest = output(Command::new(&crane).args(["digest", &tagged]))?;
    run(Command::new(&crane)
        .args(["pull", "--format", "oci", &tagged])
        .arg(dir.join("oci")))?;
    let manifest: serde_json::Value =
        serde_json::from_str(&output(Command::new(&crane).args(["manifest", &tagged]))?)?;
    let compressed_bytes = manifest["layers"]
        .as_array()
        .map(|l| l.iter().filter_map(|x| x["size"].as_u64()).sum())
        .unwrap_or(0);
    drop(registry);
    run_unpacked(&layer, &dir)?;
    Ok(Built {
        digest,
        layer_bytes: std::fs::metadata(&layer)?.len(),
        compressed_bytes,
    })
}

/// `todo-host` for musl, linked statically: it runs in an empty root.
/// `cargo` is the command that runs cargo (the test command builds it
/// under `nice` while the tests run; the image step then finds it built).
pub fn static_host(root: &Path, target: &Path, cargo: &mut Command) -> Result<PathBuf> {
    let added = Command::new("rustup")
        .args(["target", "add", MUSL])
        .status()
        .context("rustup")?;
    if !added.success() {
        bail!("rustup target add {MUSL} failed");
    }
    // zstd (inside wasmtime's cache) is C: compiled with musl's gcc wrapper.
    let cc = tool(root, "musl-gcc")?;
    // Its own target dir: cargo locks a target dir's host artifacts for a
    // whole build, and this one runs beside the test command's others.
    let own = target.join("static-host");
    let status = cargo
        .env("CC_x86_64_unknown_linux_musl", cc)
        .env("CARGO_TARGET_DIR", &own)
        .args([
            "build",
            "--release",
            "--target",
            MUSL,
            "-p",
            "todo-host",
            "--bin",
            "todo-host",
        ])
        .status()?;
    if !status.success() {
        bail!("building the static todo-host failed");
    }
    Ok(own.join(MUSL).join("release/todo-host"))
}

/// The image's one layer, reproducible: sorted paths, time 0, root-owned
/// except the data directory, which belongs to the image's user.
fn write_layer(root: &Path, binary: &Path, out: &Path) -> Result<()> {
    let mut files: Vec<(String, Vec<u8>, u32)> = vec![
        ("todo-host".into(), std::fs::read(binary)?, 0o755),
        ("app/spin.toml".into(), std::fs::read(root.join("spin.toml"))?, 0o644),
        (
            "etc/passwd".into(),
            format!("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{UID}:{UID}:nonroot:/home/nonroot:/sbin/nologin\n").into_bytes(),
            0o644,
        ),
        ("etc/group".into(), format!("root:x:0:\nnonroot:x:{UID}:\n").into_bytes(), 0o644),
        ("etc/hosts".into(), b"127.0.0.1 localhost\n::1 localhost\n".to_vec(), 0o644),
    ];
    for sub in ["build/components", "build/web"] {
        for file in walk(&root.join(sub))? {
            let rel = file.strip_prefix(root)?.to_string_lossy().into_owned();
            files.push((format!("app/{rel}"), std::fs::read(&file)?, 0o644));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut dirs: Vec<String> = vec!["data".into(), "tmp".into(), "home/nonroot".into()];
    for (path, _, _) in &files {
        let mut p = Path::new(path).parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.push(d.to_string_lossy().into_owned());
            p = d.parent();
        }
    }
    dirs.sort();
    dirs.dedup();
    let mut tar = tar::Builder::new(std::fs::File::create(out)?);
    for dir in &dirs {
        let owner = if matches!(dir.as_str(), "data" | "home/nonroot") {
            UID
        } else {
            0
        };
        let mode = if dir == "tmp" { 0o1777 } else { 0o755 };
        let mut h = header(tar::EntryType::Directory, mode, owner, 0);
        tar.append_data(&mut h, format!("{dir}/"), std::io::empty())?;
    }
    for (path, content, mode) in &files {
        let mut h = header(tar::EntryType::Regular, *mode, 0, content.len() as u64);
        tar.append_data(&mut h, path, content.as_slice())?;
    }
    tar.into_inner()?.flush()?;
    Ok(())
}

fn header(kind: tar::EntryType, mode: u32, owner: u64, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(owner);
    h.set_gid(owner);
    h.set_mtime(0);
    h.set_size(size);
    h
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(path);
        }
    }
    Ok(out)
}

/// Unpacks the layer and runs `todo-host up` from it as the image's user,
/// with the root read-only to it (owned by root) and only /data writable.
fn run_unpacked(layer: &Path, dir: &Path) -> Result<()> {
    // Under the temp dir: the image's user cannot reach into root's home,
    // where the target dir usually is.
    let scratch = std::env::temp_dir().join(format!("todo-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let rootfs = scratch.join("rootfs");
    std::fs::create_dir_all(&rootfs)?;
    let _cleanup = RemoveOnDrop(scratch.clone());
    tar::Archive::new(std::fs::File::open(layer)?).unpack(&rootfs)?;
    let data = rootfs.join("data");
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = format!("127.0.0.1:{port}");
    let as_root = output(Command::new("id").arg("-u"))? == "0";
    let mut cmd = if as_root {
        // The unpacked files keep the layer's owners only when root unpacks.
        chown(&data, UID)?;
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            &UID.to_string(),
            "--regid",
            &UID.to_string(),
            "--clear-groups",
        ])
        .arg(rootfs.join("todo-host"));
        c
    } else {
        Command::new(rootfs.join("todo-host"))
    };
    cmd.arg("up")
        .args(["--listen", &listen])
        .arg("--data-dir")
        .arg(&data)
        .arg("--manifest")
        .arg(rootfs.join("app/spin.toml"))
        .current_dir(rootfs.join("app"))
        .env_clear()
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("run.log"))?);
    let child = cmd
        .spawn()
        .context("starting todo-host from the unpacked image")?;
    let mut guard = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = guard.0.try_wait()? {
            let log = std::fs::read_to_string(dir.join("run.log")).unwrap_or_default();
            bail!("todo-host from the image exited ({status}):\n{log}");
        }
        if http_status(port, "/readyz")? == Some(200) {
            break;
        }
        if Instant::now() > deadline {
            bail!("todo-host from the image did not answer /readyz in 120 s");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    if http_status(port, "/")? != Some(200) {
        bail!("the image's web app did not answer / with 200");
    }
    println!(
        "image: todo-host from the unpacked root as uid {UID} answers /readyz and / on {listen}"
    );
    Ok(())
}

fn chown(path: &Path, uid: u64) -> Result<()> {
    run(Command::new("chown").arg(format!("{uid}:{uid}")).arg(path))
}

/// A bare HTTP/1.0 GET: the status, or None when nothing listens yet.
fn http_status(port: u16, path: &str) -> Result<Option<u16>> {
    use std::io::Read as _;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return Ok(None);
    };
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut head = [0u8; 12];
    if s.read_exact(&mut head).is_err() {
        return Ok(None);
    }
    Ok(std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok()))
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `crane registry serve` on loopback, for the image's configuration
/// (crane sets entrypoint and user only on an image in a registry).
struct Registry {
    addr: String,
    child: KillOnDrop,
}

impl Registry {
    fn start(crane: &Path, disk: &Path) -> Result<Registry> {
        std::fs::create_dir_all(disk)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(crane)
            .args(["registry", "serve", "--address", &addr, "--disk"])
            .arg(disk)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("crane registry serve")?;
        let child = KillOnDrop(child);
        for _ in 0..100 {
            if http_status(port, "/v2/")?.is_some() {
                return Ok(Registry { addr, child });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        drop(child);
        bail!("crane registry serve did not start on {addr}")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.0.kill();
    }
}

fn lint_dockerfile(root: &Path) -> Result<()> {
    let hadolint = tool(root, "hadolint")?;
    run(Command::new(hadolint).arg(root.join("Dockerfile")))?;
    println!("image: Dockerfile clean under hadolint");
    Ok(())
}

fn tool(root: &Path, name: &str) -> Result<PathBuf> {
    crate::stack::run_script(&root.join("xtask/stack"), "tools.sh", &[name]).map(PathBuf::from)
}

fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", out.status);
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}
