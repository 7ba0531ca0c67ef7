//! spin.toml text for test applications, so each test states only its
//! triggers and components.

use std::fmt::Write as _;
use std::path::Path;

pub struct AppManifest {
    text: String,
}

impl AppManifest {
    pub fn new(name: &str) -> Self {
        AppManifest {
            text: format!("spin_manifest_version = 2\n[application]\nname = \"{name}\"\n"),
        }
    }

    pub fn http(self, route: &str, component: &str) -> Self {
        self.http_with(route, component, "")
    }

    /// An HTTP route; `settings` are extra TOML lines (`max_concurrent = 1`).
    pub fn http_with(mut self, route: &str, component: &str, settings: &str) -> Self {
        let _ = write!(
            self.text,
            "\n[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n{settings}\n"
        );
        self
    }

    /// A topic subscription; `settings` are extra TOML lines
    /// (`max_attempts = 3`, ...).
    pub fn topics(mut self, component: &str, topics: &[&str], settings: &str) -> Self {
        let _ = write!(
            self.text,
            "\n[[trigger.topic]]\ncomponent = \"{component}\"\ntopics = {topics:?}\n{settings}\n"
        );
        self
    }

    pub fn job(mut self, component: &str) -> Self {
        let _ = write!(
            self.text,
            "\n[[trigger.job]]\ncomponent = \"{component}\"\n"
        );
        self
    }

    pub fn websocket(mut self, route: &str, component: &str) -> Self {
        let _ = write!(
            self.text,
            "\n[[trigger.websocket]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n"
        );
        self
    }

    /// A component; `settings` are extra TOML lines (`timeout_ms = ...`).
    pub fn component(mut self, id: &str, source: &Path, settings: &str) -> Self {
        let _ = write!(
            self.text,
            "\n[component.{id}]\nsource = \"{}\"\n{settings}\n",
            source.display()
        );
        self
    }

    pub fn build(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_manifest_toml_can_read() {
        let text = AppManifest::new("t")
            .http("/cmd", "probe")
            .topics("probe", &["a", "b"], "max_attempts = 3")
            .job("probe")
            .websocket("/ws", "probe")
            .component("probe", Path::new("/x/probe.wasm"), "timeout_ms = 1000")
            .build();
        let v: toml::Table = text.parse().unwrap();
        assert_eq!(v["trigger"]["topic"][0]["topics"][1].as_str(), Some("b"));
        assert_eq!(
            v["trigger"]["topic"][0]["max_attempts"].as_integer(),
            Some(3)
        );
        assert_eq!(
            v["component"]["probe"]["timeout_ms"].as_integer(),
            Some(1000)
        );
        assert_eq!(v["trigger"]["websocket"][0]["route"].as_str(), Some("/ws"));
    }
}
