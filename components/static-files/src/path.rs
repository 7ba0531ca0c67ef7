//! From a request path to a file under the root: decoding, refusing paths
//! that could leave the root, and the static-export conventions
//! (`/x/` is `x/index.html`, `/x` may be `x.html`).

use std::path::{Path, PathBuf};

/// What a (decoded, checked) path stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Serve this file.
    File(PathBuf),
    /// `/x` is a directory: its page lives at `/x/`. The location is a
    /// path (the caller adds the query string).
    Redirect(String),
    NotFound,
}

/// Percent-decodes `raw` and refuses what could address anything outside
/// the root or confuse the path handling: `..` segments (also when
/// encoded, `%2e%2e`), backslashes (a separator on some systems) and NUL.
/// The filesystem mount is the real boundary; this keeps such requests
/// from reaching it at all and answers them with a clear 400.
pub fn decode(raw: &str) -> Result<String, String> {
    if !raw.starts_with('/') {
        return Err("the path must start with `/`".into());
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| "the path is not UTF-8 once percent-decoded".to_owned())?
        .into_owned();
    if decoded.contains('\\') {
        return Err("the path must not contain a backslash".into());
    }
    if decoded.contains('\0') {
        return Err("the path must not contain NUL".into());
    }
    if decoded.split('/').any(|segment| segment == "..") {
        return Err("the path must not contain `..` segments".into());
    }
    Ok(decoded)
}

/// Finds what `path` (from [`decode`]) names under `root`. An exact file
/// wins; then `x.html` (a static export without trailing slashes writes
/// `tasks.html` beside a `tasks/` folder of nested pages, and the page is
/// what `/tasks` means); then a directory redirects to its slash form.
pub fn resolve(root: &Path, path: &str) -> Resolved {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let base = segments
        .iter()
        .fold(root.to_path_buf(), |dir, segment| dir.join(segment));
    if path.ends_with('/') {
        let index = base.join("index.html");
        return if index.is_file() {
            Resolved::File(index)
        } else {
            Resolved::NotFound
        };
    }
    if base.is_file() {
        return Resolved::File(base);
    }
    if let Some(last) = segments.last() {
        let page = base.with_file_name(format!("{last}.html"));
        if page.is_file() {
            return Resolved::File(page);
        }
    }
    if base.is_dir() {
        return Resolved::Redirect(format!("{}/", collapse_slashes(path)));
    }
    Resolved::NotFound
}

/// `//evil.example` as a `Location` would be another host
/// (scheme-relative); runs of slashes become one.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// Re-encodes a decoded path for a `Location` header: header values must
/// be visible ASCII, and the client should get back what it can request.
pub fn encode(path: &str) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    // Everything a path segment may not carry literally; `/` stays.
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    utf8_percent_encode(path, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("tasks")).unwrap();
        std::fs::create_dir_all(root.join("about")).unwrap();
        std::fs::create_dir_all(root.join("settings/profile")).unwrap();
        for file in [
            "index.html",
            "tasks/index.html",
            "about.html",
            "about/team.html",
            "a b.txt",
        ] {
            std::fs::write(root.join(file), file).unwrap();
        }
        dir
    }

    #[test]
    fn decoding_refuses_escapes_backslashes_and_nul() {
        assert_eq!(decode("/a%20b.txt").unwrap(), "/a b.txt");
        assert_eq!(decode("/").unwrap(), "/");
        for bad in [
            "/../Cargo.toml",
            "/a/../../etc/passwd",
            "/%2e%2e/Cargo.toml",
            "/%2E%2e%2fCargo.toml",
            "/..",
            "/a%5c..%5cb",
            "/a\\b",
            "/a%00.html",
            "/%ff",
            "relative",
        ] {
            assert!(decode(bad).is_err(), "{bad} was accepted");
        }
        // Dots inside a name are fine.
        assert_eq!(decode("/a..b/c.d").unwrap(), "/a..b/c.d");
    }

    #[test]
    fn slash_paths_are_index_pages() {
        let s = site();
        let root = s.path();
        assert_eq!(resolve(root, "/"), Resolved::File(root.join("index.html")));
        assert_eq!(
            resolve(root, "/tasks/"),
            Resolved::File(root.join("tasks/index.html"))
        );
        assert_eq!(resolve(root, "/settings/"), Resolved::NotFound);
        assert_eq!(resolve(root, "/index.html/"), Resolved::NotFound);
    }

    #[test]
    fn a_directory_without_its_slash_redirects() {
        let s = site();
        assert_eq!(
            resolve(s.path(), "/tasks"),
            Resolved::Redirect("/tasks/".into())
        );
        assert_eq!(
            resolve(s.path(), "//settings//profile"),
            Resolved::Redirect("/settings/profile/".into())
        );
    }

    #[test]
    fn exact_files_then_html_pages() {
        let s = site();
        let root = s.path();
        assert_eq!(
            resolve(root, "/index.html"),
            Resolved::File(root.join("index.html"))
        );
        // `about.html` beside an `about/` folder: the page, not a redirect.
        assert_eq!(
            resolve(root, "/about"),
            Resolved::File(root.join("about.html"))
        );
        assert_eq!(
            resolve(root, "/about/team"),
            Resolved::File(root.join("about/team.html"))
        );
        assert_eq!(
            resolve(root, "/a b.txt"),
            Resolved::File(root.join("a b.txt"))
        );
        assert_eq!(resolve(root, "/nope"), Resolved::NotFound);
        assert_eq!(resolve(root, "/tasks/nope.js"), Resolved::NotFound);
    }

    #[test]
    fn locations_are_encoded() {
        assert_eq!(encode("/a b/"), "/a%20b/");
        assert_eq!(encode("/tâches/"), "/t%C3%A2ches/");
        assert_eq!(encode("/x?y#z/"), "/x%3Fy%23z/");
    }
}
