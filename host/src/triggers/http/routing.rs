//! Which component a request path belongs to.

use crate::app::Manifest;

/// Finds the component for a path: exact routes, then the longest
/// `/prefix/...` wildcard.
pub fn route<'a>(manifest: &'a Manifest, path: &str) -> Option<&'a str> {
    let mut best: Option<(&str, usize)> = None;
    for t in &manifest.http {
        let matched = match t.route.strip_suffix("/...") {
            Some(prefix) => {
                let hit = path == prefix
                    || (path.starts_with(prefix) && path[prefix.len()..].starts_with('/'))
                    || prefix.is_empty();
                hit.then_some(prefix.len())
            }
            None => (path == t.route).then_some(usize::MAX),
        };
        if let Some(len) = matched
            && best.is_none_or(|(_, l)| len > l)
        {
            best = Some((t.component.as_str(), len));
        }
    }
    best.map(|(c, _)| c)
}
