//! The Content-Security-Policy of one page: only this origin, and of
//! inline scripts only the ones the page was built with.
//!
//! Next.js's static export inlines its bootstrap and its server-component
//! payload as `<script>` elements without `src`. Rather than allow every
//! inline script (`'unsafe-inline'`, which lets an injected one run too),
//! each page's own are allowed by their SHA-256 (CSP Level 2 hash
//! sources): the pages are files, so the hashes are fixed by the build,
//! and a script an attacker manages to insert has none of them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Everything but `script-src`. Inline styles stay allowed: React's
/// `style` attributes need them and styles cannot run code. The app's
/// WebSocket is same-origin, which `'self'` covers (CSP Level 3).
const REST: &str = "style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; \
    font-src 'self'; \
    connect-src 'self'; \
    object-src 'none'; \
    base-uri 'self'; \
    form-action 'self'; \
    frame-ancestors 'none'";

/// The policy for an HTML page with content `html`.
pub fn policy_for(html: &[u8]) -> String {
    let mut script_src = String::from("script-src 'self'");
    for script in inline_scripts(html) {
        script_src.push_str(" 'sha256-");
        script_src.push_str(&STANDARD.encode(Sha256::digest(script)));
        script_src.push('\'');
    }
    format!("default-src 'self'; {script_src}; {REST}")
}

/// The text of every `<script>` element without a `src` attribute, in
/// order, exactly as a browser hashes it. A script's text is raw: it ends
/// at the first `</script` whatever it holds (HTML's script data state;
/// Next.js escapes `<` inside its payloads, so none holds that sequence).
fn inline_scripts(html: &[u8]) -> Vec<&[u8]> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = find_tag(rest, b"<script") {
        let after_name = &rest[open + b"<script".len()..];
        // `<scripts>` or `<script-x>` is another element.
        if !after_name
            .first()
            .is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/'))
        {
            rest = after_name;
            continue;
        }
        let Some(tag_end) = end_of_start_tag(after_name) else {
            break;
        };
        let attributes = &after_name[..tag_end];
        let body = &after_name[tag_end + 1..];
        let close = find_tag(body, b"</script").unwrap_or(body.len());
        if !has_src(attributes) {
            found.push(&body[..close]);
        }
        rest = &body[close..];
    }
    found
}

/// The offset of `tag` in `haystack`, ASCII case-insensitively.
fn find_tag(haystack: &[u8], tag: &[u8]) -> Option<usize> {
    haystack
        .windows(tag.len())
        .position(|w| w.eq_ignore_ascii_case(tag))
}

/// The offset of the `>` ending a start tag, skipping quoted values.
fn end_of_start_tag(tag: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &c) in tag.iter().enumerate() {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Whether a start tag's attributes include `src` (as a name, not inside
/// a value).
fn has_src(attributes: &[u8]) -> bool {
    let mut quote = None;
    let mut name_start = None;
    for (i, &c) in attributes.iter().enumerate() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'"' | b'\'' => quote = Some(c),
            c if c.is_ascii_whitespace() || c == b'=' || c == b'/' => {
                if let Some(start) = name_start.take()
                    && attributes[start..i].eq_ignore_ascii_case(b"src")
                {
                    return true;
                }
            }
            _ if name_start.is_none() && (i == 0 || is_separator(attributes[i - 1])) => {
                name_start = Some(i);
            }
            _ => {}
        }
    }
    name_start.is_some_and(|start| attributes[start..].eq_ignore_ascii_case(b"src"))
}

fn is_separator(c: u8) -> bool {
    c.is_ascii_whitespace() || c == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
        policy
            .split("; ")
            .find(|d| d.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
    }

    #[test]
    fn only_the_pages_own_inline_scripts_are_allowed() {
        let page = br#"<html><head><script src="/_next/a.js" async=""></script>
            <script>self.__next_f=self.__next_f||[]</script></head>
            <body><SCRIPT type="text/javascript">alert(1)</SCRIPT>
            <scripts>not a script</scripts><script data-src="x">b()</script></body></html>"#;
        let policy = policy_for(page);
        let scripts = directive(&policy, "script-src");
        // The SHA-256 of each text, computed by `printf %s '<text>' |
        // openssl dgst -sha256 -binary | base64`.
        assert_eq!(
            scripts,
            "script-src 'self' \
             'sha256-sXjGqJ00dxxEvsgy0wz4SHVW5xv3gsSh03kmxXNPOKo=' \
             'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=' \
             'sha256-cf242PFc/kb7xD0Qzhsmd9vvRkc+cWFmbi+k+YvtdKc='"
        );
        assert!(!scripts.contains("unsafe-inline"), "{policy}");
    }

    #[test]
    fn the_rest_of_the_policy_is_this_origin_only() {
        let policy = policy_for(b"<!doctype html><title>x</title>");
        assert_eq!(directive(&policy, "script-src"), "script-src 'self'");
        for expected in [
            "default-src 'self'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                policy.split("; ").any(|d| d == expected),
                "{expected}: {policy}"
            );
        }
        assert!(
            !policy.contains("ws:") && !policy.contains("wss:"),
            "{policy}"
        );
    }

    #[test]
    fn an_unterminated_tag_or_script_is_not_a_crash() {
        assert_eq!(inline_scripts(b"<script"), Vec::<&[u8]>::new());
        assert_eq!(inline_scripts(b"<script>tail"), vec![&b"tail"[..]]);
        assert_eq!(inline_scripts(b"<script a='>'>x</script>"), vec![&b"x"[..]]);
        assert!(has_src(b" src=x"));
        assert!(has_src(b" async src"));
        assert!(!has_src(b" data-src=x"));
        assert!(!has_src(b" title=\"src\""));
    }
}
