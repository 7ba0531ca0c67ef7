//! One request: which answer, with which headers.

use std::path::Path;

use todo_domain::http::{Request, Response};

use crate::csp;
use crate::headers::{self, COMMON, REVALIDATE};
use crate::path::{self, Resolved};

/// Served (with status 404) for paths that name no file, when present.
const NOT_FOUND_PAGE: &str = "404.html";

/// Answers `req` from the files under `root`.
pub fn handle(root: &Path, req: &Request) -> Response {
    // This component owns every route no other one claims, API paths
    // included: an unknown API route must stay a JSON error for API
    // clients, not become the web app's 404 page.
    if is_api(&req.path) {
        return api_not_found(req);
    }
    let head = req.method == "HEAD";
    let decoded = match path::decode(&req.path) {
        Ok(decoded) => decoded,
        Err(message) => return finish(Response::text(400, format!("{message}\n")), head),
    };
    let resolved = path::resolve(root, &decoded);
    if !head && req.method != "GET" {
        // A path that names nothing is a 404 whatever the method: 405
        // would tell a caller that something lives there.
        let resp = match resolved {
            Resolved::NotFound => Response::text(404, "not found\n"),
            _ => Response::text(405, format!("method {} is not allowed here\n", req.method))
                .with_header("allow", "GET, HEAD"),
        };
        return finish(resp, false);
    }
    let resp = match resolved {
        Resolved::File(file) => match std::fs::read(&file) {
            Ok(content) => file_response(req, &decoded, &file, content),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => not_found(root),
            Err(e) => Response::text(500, format!("cannot read {decoded}: {e}\n")),
        },
        Resolved::Redirect(location) => redirect(&location, &req.query),
        Resolved::NotFound => not_found(root),
    };
    finish(resp, head)
}

/// `/api` and anything under `/api/`.
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The host's own answer for an unrouted path, to the byte: the shared
/// error shape, with the request id the host put on the request.
fn api_not_found(req: &Request) -> Response {
    let mut error = serde_json::json!({
        "code": "not_found",
        "message": format!("no route for {}", req.path),
    });
    if let Some(id) = req.header("x-request-id") {
        error["request_id"] = id.into();
    }
    Response::json(404, &serde_json::json!({ "error": error }))
}

/// 200 with the file, or 304 when the client's copy is current.
fn file_response(req: &Request, url_path: &str, file: &Path, content: Vec<u8>) -> Response {
    let etag = headers::etag(&content);
    let cache = headers::cache_control(url_path);
    if req
        .header("if-none-match")
        .is_some_and(|given| headers::none_match(given, &etag))
    {
        return Response {
            status: 304,
            headers: Vec::new(),
            body: Vec::new(),
        }
        .with_header("etag", &etag)
        .with_header("cache-control", cache);
    }
    let content_type = headers::content_type(file);
    let policy = headers::is_html(&content_type).then(|| csp::policy_for(&content));
    let mut resp = Response {
        status: 200,
        headers: Vec::new(),
        body: content,
    }
    .with_header("content-type", &content_type)
    .with_header("etag", &etag)
    .with_header("cache-control", cache);
    if let Some(policy) = policy {
        resp = resp.with_header("content-security-policy", &policy);
    }
    resp
}

/// 308 keeps the method (a HEAD stays a HEAD); the query goes along.
fn redirect(location: &str, query: &str) -> Response {
    let mut target = path::encode(location);
    if !query.is_empty() {
        target.push('?');
        target.push_str(query);
    }
    Response {
        status: 308,
        headers: Vec::new(),
        body: Vec::new(),
    }
    .with_header("location", &target)
    .with_header("cache-control", REVALIDATE)
}

/// 404: the export's own page when it has one.
fn not_found(root: &Path) -> Response {
    match std::fs::read(root.join(NOT_FOUND_PAGE)) {
        Ok(page) => {
            let policy = csp::policy_for(&page);
            Response {
                status: 404,
                headers: Vec::new(),
                body: page,
            }
            .with_header("content-type", "text/html; charset=utf-8")
            .with_header("content-security-policy", &policy)
        }
        Err(_) => Response::text(404, "not found\n"),
    }
    .with_header("cache-control", REVALIDATE)
}

/// Adds the headers every answer carries and `Content-Length`; a HEAD
/// answer then drops its body, keeping the length of the one it stands for.
fn finish(mut resp: Response, head: bool) -> Response {
    for (name, value) in COMMON {
        resp = resp.with_header(name, value);
    }
    // A 304 has no body of its own; a length there would describe the
    // stored one, so it is left out.
    if resp.status != 304 {
        let length = resp.body.len().to_string();
        resp = resp.with_header("content-length", &length);
    }
    if head {
        resp.body.clear();
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::IMMUTABLE;

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("tasks")).unwrap();
        std::fs::create_dir_all(root.join("_next/static/chunks")).unwrap();
        std::fs::write(root.join("index.html"), "<p>home</p>").unwrap();
        std::fs::write(root.join("tasks/index.html"), "<p>tasks</p>").unwrap();
        std::fs::write(root.join("_next/static/chunks/a.js"), "let a;").unwrap();
        std::fs::write(root.join("404.html"), "<p>lost</p>").unwrap();
        dir
    }

    fn get(root: &Path, path: &str) -> Response {
        handle(root, &Request::new("GET", path))
    }

    #[test]
    fn pages_carry_the_policy_and_revalidate() {
        let s = site();
        let resp = get(s.path(), "/");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, b"<p>home</p>");
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let policy = resp.header("content-security-policy").unwrap();
        assert!(policy.contains("script-src 'self';"), "{policy}");
        assert_eq!(resp.header("cache-control"), Some("no-cache"));
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("referrer-policy"), Some("same-origin"));
        assert_eq!(resp.header("content-length"), Some("11"));
    }

    #[test]
    fn hashed_assets_are_immutable_and_have_no_page_policy() {
        let s = site();
        let resp = get(s.path(), "/_next/static/chunks/a.js");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("cache-control"), Some(IMMUTABLE));
        assert!(resp.header("content-type").unwrap().contains("javascript"));
        assert_eq!(resp.header("content-security-policy"), None);
    }

    #[test]
    fn a_current_copy_is_a_304_without_body() {
        let s = site();
        let etag = get(s.path(), "/tasks/").header("etag").unwrap().to_owned();
        let req = Request::new("GET", "/tasks/").with_header("If-None-Match", &etag);
        let resp = handle(s.path(), &req);
        assert_eq!(resp.status, 304);
        assert!(resp.body.is_empty());
        assert_eq!(resp.header("etag"), Some(etag.as_str()));
        assert_eq!(resp.header("content-length"), None);
        let stale = Request::new("GET", "/tasks/").with_header("if-none-match", "\"old\"");
        assert_eq!(handle(s.path(), &stale).status, 200);
    }

    #[test]
    fn head_has_the_headers_of_get_and_no_body() {
        let s = site();
        let got = get(s.path(), "/");
        let head = handle(s.path(), &Request::new("HEAD", "/"));
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(head.headers, got.headers);
        let missing = handle(s.path(), &Request::new("HEAD", "/nope"));
        assert_eq!(missing.status, 404);
        assert!(missing.body.is_empty());
        assert_eq!(missing.header("content-length"), Some("11"));
    }

    #[test]
    fn directories_redirect_keeping_the_query() {
        let s = site();
        let resp = get(s.path(), "/tasks?filter=open");
        assert_eq!(resp.status, 308);
        assert_eq!(resp.header("location"), Some("/tasks/?filter=open"));
        assert!(resp.body.is_empty());
        assert_eq!(get(s.path(), "/tasks").header("location"), Some("/tasks/"));
    }

    #[test]
    fn unknown_paths_get_the_404_page_or_plain_text() {
        let s = site();
        let resp = get(s.path(), "/nope");
        assert_eq!(resp.status, 404);
        assert_eq!(resp.body, b"<p>lost</p>");
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        std::fs::remove_file(s.path().join("404.html")).unwrap();
        let resp = get(s.path(), "/nope");
        assert_eq!(resp.status, 404);
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn unknown_api_routes_are_json_404s_whatever_the_method() {
        let s = site();
        for (method, path) in [
            ("GET", "/api/nope"),
            ("POST", "/api"),
            ("DELETE", "/api/x/y"),
        ] {
            let req = Request::new(method, path).with_header("x-request-id", "r-1");
            let resp = handle(s.path(), &req);
            assert_eq!(resp.status, 404, "{method} {path}");
            assert_eq!(resp.header("content-type"), Some("application/json"));
            let body = resp.json_body().unwrap();
            assert_eq!(body["error"]["code"], "not_found");
            assert_eq!(body["error"]["message"], format!("no route for {path}"));
            assert_eq!(body["error"]["request_id"], "r-1");
        }
        // Only the `/api` segment itself, not names that start with it.
        assert_eq!(
            get(s.path(), "/apiary").header("content-type"),
            Some("text/html; charset=utf-8")
        );
    }

    #[test]
    fn other_methods_are_refused() {
        let s = site();
        let resp = handle(s.path(), &Request::new("POST", "/"));
        assert_eq!(resp.status, 405);
        assert_eq!(resp.header("allow"), Some("GET, HEAD"));
        // Where nothing is, nothing is said to be: 404, as the host answers
        // an unrouted path (e.g. an internal route probed from outside).
        let resp = handle(
            s.path(),
            &Request::new("POST", "/internal/series/instances"),
        );
        assert_eq!(resp.status, 404);
        assert_eq!(resp.header("allow"), None);
    }

    #[test]
    fn escapes_are_refused_before_touching_the_filesystem() {
        let s = site();
        // Served from `tasks/`, the home page is outside the root.
        let root = s.path().join("tasks");
        for path in [
            "/../index.html",
            "/%2e%2e/index.html",
            "/..%2findex.html",
            "/a%5c..%5cindex.html",
        ] {
            let resp = get(&root, path);
            assert_eq!(resp.status, 400, "{path}");
            assert!(
                !String::from_utf8_lossy(&resp.body).contains("home"),
                "{path}"
            );
        }
        assert_eq!(get(&root, "/").body, b"<p>tasks</p>");
    }
}
