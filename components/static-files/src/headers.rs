//! The headers of a served file: its type, validator and caching (the
//! pages' security policy is [`crate::csp`]'s).

use std::path::Path;

use sha2::{Digest, Sha256};

/// Next.js puts a content hash in every name under `/_next/static/`: a
/// new build means new names, so these may be kept for good.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else keeps its name across builds: the browser may store
/// it but must revalidate (cheap, thanks to the ETag).
pub const REVALIDATE: &str = "no-cache";

/// Headers every answer carries.
pub const COMMON: [(&str, &str); 2] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
];

/// The content type of `file` from its extension; text types say UTF-8
/// (a static export is UTF-8, and without it browsers guess).
pub fn content_type(file: &Path) -> String {
    let mime = mime_guess::from_path(file).first_or_octet_stream();
    let essence = mime.essence_str();
    if is_text(essence) {
        format!("{essence}; charset=utf-8")
    } else {
        essence.to_owned()
    }
}

fn is_text(essence: &str) -> bool {
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence,
            "application/javascript" | "application/json" | "application/xml"
        )
}

pub fn is_html(content_type: &str) -> bool {
    content_type.starts_with("text/html")
}

/// Caching for the URL path (decoded) a file was requested by.
pub fn cache_control(path: &str) -> &'static str {
    if path.starts_with("/_next/static/") {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// A strong validator: the SHA-256 of the content, quoted.
pub fn etag(content: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Sha256::digest(content)))
}

/// Whether an `If-None-Match` value matches `etag`. The comparison is the
/// weak one RFC 9110 prescribes for this header: `W/` is ignored.
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_of_a_static_export() {
        let ct = |name: &str| content_type(Path::new(name));
        assert_eq!(ct("index.html"), "text/html; charset=utf-8");
        assert!(
            [
                "text/javascript; charset=utf-8",
                "application/javascript; charset=utf-8"
            ]
            .contains(&ct("_next/static/chunks/a.js").as_str()),
            "{}",
            ct("a.js")
        );
        assert_eq!(ct("a.css"), "text/css; charset=utf-8");
        assert_eq!(ct("a.json"), "application/json; charset=utf-8");
        assert_eq!(ct("icon.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(ct("x.woff2"), "font/woff2");
        assert_eq!(ct("x.png"), "image/png");
        assert!(ct("favicon.ico").contains("icon"), "{}", ct("favicon.ico"));
        assert_eq!(ct("index.txt"), "text/plain; charset=utf-8");
        assert_eq!(ct("blob"), "application/octet-stream");
    }

    #[test]
    fn hashed_assets_are_immutable_and_the_rest_revalidates() {
        assert_eq!(cache_control("/_next/static/chunks/a.js"), IMMUTABLE);
        assert_eq!(cache_control("/"), REVALIDATE);
        assert_eq!(cache_control("/_next/data/x.json"), REVALIDATE);
        assert_eq!(cache_control("/favicon.ico"), REVALIDATE);
    }

    #[test]
    fn etags_are_strong_content_hashes_and_match_lists() {
        let tag = etag(b"hello");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 66);
        assert_eq!(tag, etag(b"hello"));
        assert_ne!(tag, etag(b"hello!"));
        assert!(none_match(&tag, &tag));
        assert!(none_match(&format!("\"x\", W/{tag}"), &tag));
        assert!(none_match("*", &tag));
        assert!(!none_match("\"x\"", &tag));
    }
}
