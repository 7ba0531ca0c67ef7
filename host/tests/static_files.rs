//! The web app's static files: the real `static-files` component, in the
//! real host, serving a directory mounted with a `files` mapping.

use std::path::{Path, PathBuf};

use reqwest::header::HeaderMap;
use serde_json::Value;
use todo_tests::manifest::AppManifest;
use todo_tests::{HostProcess, Scratch, run_host, wasm};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "outside the mount";

struct Site {
    scratch: Scratch,
    host: HostProcess,
    http: reqwest::Client,
}

/// A small static export under `web/`, a file beside it that must stay
/// out of reach, and the frontend component mounted on `/...`.
fn export(scratch: &Scratch) -> PathBuf {
    let web = scratch.path("web");
    for dir in ["tasks", "_next/static/chunks", "fonts"] {
        std::fs::create_dir_all(web.join(dir)).unwrap();
    }
    for (file, content) in [
        ("index.html", "<!doctype html><title>home</title>"),
        ("tasks/index.html", "<!doctype html><title>tasks</title>"),
        ("_next/static/chunks/a.js", "console.log('a');"),
        ("404.html", "<!doctype html><title>lost</title>"),
        ("fonts/x.woff2", "wOF2"),
    ] {
        std::fs::write(web.join(file), content).unwrap();
    }
    scratch.write("secret.txt", SECRET);
    web
}

fn manifest(source: &Path, files: &str) -> String {
    AppManifest::new("static-files-test")
        .http("/...", "frontend")
        .component("frontend", source, &format!("files = {files}"))
        .build()
}

impl Site {
    fn start() -> Self {
        let scratch = Scratch::new();
        export(&scratch);
        let source = scratch.install(&wasm("components/frontend.wasm"), "frontend.wasm");
        let m = scratch.write(
            "spin.toml",
            &manifest(&source, r#"[{ source = "web", destination = "/" }]"#),
        );
        let bin = Path::new(env!("CARGO_BIN_EXE_todo-host"));
        let host = HostProcess::start(bin, &m, &scratch.path("data"), &[]).expect("host starts");
        // Redirects are what is tested: never followed.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Site {
            scratch,
            host,
            http,
        }
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .http
            .request(method.parse().unwrap(), self.host.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        Reply {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[]).await
    }

    /// A request line sent as is: HTTP clients normalize `..` away.
    async fn raw_get(&self, target: &str) -> (u16, String) {
        let addr = self.host.url("").replace("http://", "");
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tcp.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        (status, text)
    }
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_assets_and_their_headers() {
    let s = Site::start();

    let home = s.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert_eq!(home.body, "<!doctype html><title>home</title>");
    assert_eq!(home.header("content-type"), "text/html; charset=utf-8");
    let csp = home.header("content-security-policy");
    for directive in [
        "default-src 'self'",
        "connect-src 'self';",
        "script-src 'self';",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(home.header("cache-control"), "no-cache");
    assert_eq!(home.header("x-content-type-options"), "nosniff");
    assert_eq!(home.header("referrer-policy"), "same-origin");

    let moved = s.get("/tasks?view=open").await;
    assert_eq!(moved.status, 308);
    assert_eq!(moved.header("location"), "/tasks/?view=open");
    let tasks = s.get("/tasks/").await;
    assert_eq!(tasks.status, 200);
    assert_eq!(tasks.body, "<!doctype html><title>tasks</title>");

    let js = s.get("/_next/static/chunks/a.js").await;
    assert_eq!(js.status, 200);
    assert!(
        ["text/javascript", "application/javascript"]
            .iter()
            .any(|t| js.header("content-type").starts_with(t)),
        "{}",
        js.header("content-type")
    );
    assert_eq!(
        js.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    let font = s.get("/fonts/x.woff2").await;
    assert_eq!(font.header("content-type"), "font/woff2");
}

#[tokio::test(flavor = "multi_thread")]
async fn revalidation_and_head() {
    let s = Site::start();
    let first = s.get("/").await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = s.send("GET", "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    let changed = s.send("GET", "/", &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(changed.status, 200);

    let head = s.send("HEAD", "/", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), first.body.len().to_string());
    assert_eq!(head.header("etag"), etag);
    assert_eq!(head.header("content-type"), "text/html; charset=utf-8");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_paths_methods_and_api_routes() {
    let s = Site::start();
    let missing = s.get("/nope").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, "<!doctype html><title>lost</title>");
    assert_eq!(missing.header("content-type"), "text/html; charset=utf-8");

    // What the host answers for an unrouted path, from the component.
    let api = s.get("/api/nope").await;
    assert_eq!(api.status, 404);
    assert_eq!(api.header("content-type"), "application/json");
    let v: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    assert_eq!(v["error"]["message"], "no route for /api/nope");
    assert_eq!(v["error"]["request_id"], api.header("x-request-id"));

    let post = s.send("POST", "/", &[]).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), "GET, HEAD");

    // The host's own routes stay the host's.
    let health = s.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&health.body).unwrap()["status"],
        "ok"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_outside_the_mount_is_reachable() {
    let s = Site::start();
    for target in [
        "/../secret.txt",
        "/../spin.toml",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2fsecret.txt",
        "/..%2fsecret.txt",
        "/tasks/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/secret.txt%00.html",
    ] {
        let (status, text) = s.raw_get(target).await;
        assert!(status == 400 || status == 404, "{target}: {text}");
        assert!(!text.contains(SECRET), "{target}: {text}");
        assert!(!text.contains("spin_manifest_version"), "{target}: {text}");
    }
    assert!(s.scratch.path("secret.txt").is_file());
}

/// `todo-host up` on a manifest mounting `files`; it must refuse to start.
fn refused(files: &str) -> String {
    let scratch = Scratch::new();
    std::fs::create_dir(scratch.path("web")).unwrap();
    let source = scratch.install(&wasm("components/frontend.wasm"), "frontend.wasm");
    let m = scratch.write("spin.toml", &manifest(&source, files));
    let bin = Path::new(env!("CARGO_BIN_EXE_todo-host"));
    let data = scratch.path("data").display().to_string();
    let args = [
        "up",
        "--manifest",
        &m.display().to_string(),
        "--data-dir",
        &data,
    ];
    let (code, out) = run_host(bin, &[&args[..], &["--listen", "127.0.0.1:0"]].concat());
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    assert!(out.starts_with("error: "), "{out}");
    out
}

#[test]
fn a_missing_files_source_names_the_field() {
    let out = refused(r#"[{ source = "no-such-dir", destination = "/" }]"#);
    assert!(
        out.contains("component `frontend`: files[0].source"),
        "{out}"
    );
    assert!(out.contains("no-such-dir does not exist"), "{out}");
}

#[test]
fn a_files_destination_must_be_absolute() {
    let out = refused(r#"[{ source = "web", destination = "web" }]"#);
    assert!(
        out.contains("component `frontend`: files[0].destination"),
        "{out}"
    );
}
