//! Service invocation in pod mode: the sidecar delivers calls from other
//! apps to the app port, and only the sidecar may.

pub use crate::capabilities::invoke::CALLER_APP_HEADER;

/// In pod mode the sidecar delivers service invocations to the app port.
/// They reach the component whatever its public routes, as a direct call
/// does in-process, but only from the sidecar: they must carry
/// `dapr-caller-app-id` and, when configured, the app API token.
pub struct Invocation {
    pub component: String,
    pub app_token: Option<String>,
}

impl Invocation {
    pub fn from_sidecar(&self, headers: &http::HeaderMap) -> bool {
        headers.contains_key(CALLER_APP_HEADER) && token_ok(self.app_token.as_deref(), headers)
    }
}

/// Whether `headers` carry the expected `dapr-api-token` (compared in
/// constant time); always true when no token is configured.
pub fn token_ok(expected: Option<&str>, headers: &http::HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let given = headers
        .get("dapr-api-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What the sidecar-facing routes (`/events`, `/job`) require: the app API
/// token, when one is configured.
#[derive(Debug, Clone)]
pub struct SidecarAuth {
    pub app_token: Option<String>,
}

impl SidecarAuth {
    pub fn allows(&self, headers: &http::HeaderMap) -> bool {
        token_ok(self.app_token.as_deref(), headers)
    }

    pub fn refusal() -> axum::response::Response {
        super::error(
            http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong dapr-api-token",
            None,
        )
    }
}
