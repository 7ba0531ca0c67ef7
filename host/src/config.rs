//! Every choice the host takes from its environment, read in one place
//! (the command line's own flags and their variables are in `main.rs`).
//! A leaf: it imports nothing of the host, and the parts it configures are
//! handed their settings by the mode that assembles them.

use std::time::Duration;

/// The environment of one host process, read once at start-up.
#[derive(Debug, Clone)]
pub struct HostEnv {
    /// `TODO_WS_PING_INTERVAL_MS` (at least 10, default 20 s: below the
    /// idle timeouts of common proxies and load balancers): how often a
    /// WebSocket is pinged; one silent for two intervals is closed.
    pub ws_ping_interval: Duration,
    /// `TODO_LLM_URL` and `TODO_LLM_MODEL` (default `gpt-4o-mini`): the
    /// OpenAI-compatible endpoint of in-process mode, if any.
    pub llm: Option<LlmEndpoint>,
    /// `TODO_DAPR_*`: the names of the Dapr components a pod talks to.
    pub dapr: DaprNames,
    /// `TODO_DAPR_CONVERSATION`: the Dapr Conversation component, if any.
    pub dapr_conversation: Option<String>,
    /// `TODO_OUTBOX_LANE`: a pod's outbox lane, when the operator names
    /// it; otherwise `<component>-<hostname>` (see [`HostEnv::outbox_lane`]).
    outbox_lane: Option<String>,
    /// `TODO_OUTBOUND_ALLOW_PRIVATE` (`1` or `true`): components' outgoing
    /// HTTP may reach private, loopback and link-local addresses (a
    /// webhook receiver on the operator's own network). Off by default.
    pub outbound_allow_private: bool,
    /// `HOSTNAME`, else `/etc/hostname`.
    hostname: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LlmEndpoint {
    /// Without a trailing `/`.
    pub url: String,
    pub model: String,
}

/// Names of the Dapr components this host talks to (dapr/components/*.yaml).
#[derive(Debug, Clone)]
pub struct DaprNames {
    pub pubsub: String,
    /// The pub/sub component whose consumer group is per pod (`{podName}`),
    /// for `broadcast` subscriptions.
    pub broadcast_pubsub: String,
    pub state: String,
    pub secrets: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.trim().is_empty())
}

impl HostEnv {
    pub fn read() -> Self {
        let or = |k: &str, d: &str| var(k).unwrap_or_else(|| d.to_owned());
        HostEnv {
            ws_ping_interval: Duration::from_millis(
                var("TODO_WS_PING_INTERVAL_MS")
                    .and_then(|v| v.parse::<u64>().ok())
                    .filter(|ms| *ms >= 10)
                    .unwrap_or(20_000),
            ),
            llm: non_empty(var("TODO_LLM_URL")).map(|url| LlmEndpoint {
                url: url.trim().trim_end_matches('/').to_owned(),
                model: or("TODO_LLM_MODEL", "gpt-4o-mini"),
            }),
            dapr: DaprNames {
                pubsub: or("TODO_DAPR_PUBSUB", "pubsub"),
                broadcast_pubsub: or("TODO_DAPR_PUBSUB_BROADCAST", "pubsub-broadcast"),
                state: or("TODO_DAPR_STATESTORE", "statestore"),
                secrets: or("TODO_DAPR_SECRETSTORE", "secretstore"),
            },
            dapr_conversation: non_empty(var("TODO_DAPR_CONVERSATION")),
            outbox_lane: var("TODO_OUTBOX_LANE"),
            outbound_allow_private: var("TODO_OUTBOUND_ALLOW_PRIVATE")
                .is_some_and(|v| matches!(v.trim(), "1" | "true")),
            hostname: var("HOSTNAME").or_else(|| std::fs::read_to_string("/etc/hostname").ok()),
        }
    }

    /// The outbox lane of `component` in this pod: one per replica, so
    /// that a restarted pod (same name in a StatefulSet, or the operator's
    /// `TODO_OUTBOX_LANE`) recovers what its predecessor left behind.
    pub fn outbox_lane(&self, component: &str) -> String {
        self.outbox_lane.clone().unwrap_or_else(|| {
            let host = self.hostname.as_deref().unwrap_or("local");
            format!("{component}-{}", host.trim())
        })
    }
}

/// `TODO_VARIABLE_<NAME>` replaces the manifest's value of variable
/// `<name>` (operators tune a deployment, and tests shorten timeouts,
/// without another manifest). Read when a component is loaded, so a hot
/// swap sees the same value.
pub fn variable_override(name: &str) -> Option<String> {
    var(&format!("TODO_VARIABLE_{name}"))
}

/// `TODO_SECRET_<NAME>` (upper case, `-` and `.` as `_`): an in-process
/// secret from the environment, which wins over the secrets files. Read on
/// every lookup, as the files are.
pub fn secret_from_env(name: &str) -> Option<String> {
    var(&secret_variable(name))
}

fn secret_variable(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("TODO_SECRET_{upper}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_are_upper_snake_case() {
        assert_eq!(
            secret_variable("jwt-signing.key"),
            "TODO_SECRET_JWT_SIGNING_KEY"
        );
    }

    #[test]
    fn outbox_lane_defaults_to_component_and_host() {
        let mut env = HostEnv::read();
        env.outbox_lane = None;
        env.hostname = Some("todo-api-0\n".into());
        assert_eq!(env.outbox_lane("todo-api"), "todo-api-todo-api-0");
        env.outbox_lane = Some("lane-7".into());
        assert_eq!(env.outbox_lane("todo-api"), "lane-7");
    }
}
