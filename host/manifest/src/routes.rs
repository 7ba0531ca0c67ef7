//! Which component a request path belongs to, as Spin routes: an exact
//! route wins, else the longest `/prefix/...` wildcard.

use crate::{HttpTrigger, Manifest};

impl Manifest {
    /// The component a request path belongs to: an exact route, else the
    /// longest `/prefix/...` wildcard (`/...` matches every path).
    pub fn route(&self, path: &str) -> Option<&str> {
        self.http_trigger(path).map(|t| t.component.as_str())
    }

    /// The `[[trigger.http]]` a request path belongs to, as [`Manifest::route`].
    pub fn http_trigger(&self, path: &str) -> Option<&HttpTrigger> {
        let mut best: Option<(&HttpTrigger, usize)> = None;
        for t in &self.http {
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
                best = Some((t, len));
            }
        }
        best.map(|(t, _)| t)
    }

    /// The component serving a path on its pod: a WebSocket route (exact),
    /// else [`Manifest::route`]. What a front door in front of the pods
    /// (an ingress) routes by.
    pub fn serving(&self, path: &str) -> Option<&str> {
        let path = path.split('?').next().unwrap_or(path);
        self.websockets
            .iter()
            .find(|w| w.route == path)
            .map(|w| w.component.as_str())
            .or_else(|| self.route(path))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Manifest;

    fn app(routes: &[(&str, &str)], websockets: &[(&str, &str)]) -> Manifest {
        let mut text = String::from("spin_manifest_version = 2\n[application]\nname = \"t\"\n");
        for (route, component) in routes {
            text +=
                &format!("[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n");
        }
        for (route, component) in websockets {
            text += &format!(
                "[[trigger.websocket]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n"
            );
        }
        for c in ["api", "audit", "ws", "web"] {
            text += &format!("[component.{c}]\nsource = \"{c}.wasm\"\n");
        }
        Manifest::parse(&text, Path::new("/")).unwrap()
    }

    #[test]
    fn exact_beats_wildcard_and_the_longest_prefix_wins() {
        let m = app(
            &[
                ("/api/...", "api"),
                ("/api/audit/...", "audit"),
                ("/api/health", "web"),
                ("/...", "web"),
            ],
            &[],
        );
        assert_eq!(m.route("/api/tasks/1"), Some("api"));
        assert_eq!(m.route("/api"), Some("api"));
        assert_eq!(m.route("/api/audit/x"), Some("audit"));
        assert_eq!(m.route("/api/health"), Some("web"));
        // `/apix` is not under `/api/`: the catch-all takes it.
        assert_eq!(m.route("/apix"), Some("web"));
        assert_eq!(m.route("/"), Some("web"));
    }

    #[test]
    fn no_route_is_none_and_websockets_route_exactly() {
        let m = app(&[("/api/...", "api")], &[("/ws", "ws")]);
        assert_eq!(m.route("/other"), None);
        assert_eq!(m.serving("/ws?ticket=t"), Some("ws"));
        assert_eq!(m.serving("/ws/more"), None);
        assert_eq!(m.serving("/api/tasks?limit=5"), Some("api"));
    }
}
