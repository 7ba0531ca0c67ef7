//! Settings, from the component's variables (spin.toml; the host lets
//! `TODO_VARIABLE_<NAME>` override them).

/// What the service is told at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// A reminder no device acknowledged this long after it fired is
    /// reported as failed (`reminder_ack_timeout_seconds`, default 300).
    pub ack_timeout_ms: u64,
    /// A connection not heard from (keep-alive) for this long is taken as
    /// gone (`connection_ttl_seconds`, default 90: several keep-alive
    /// intervals of the host).
    pub connection_ttl_seconds: u32,
    /// How long a new connection's stream waits for a `resume` before it
    /// starts live from the moment of connecting (`resume_wait_ms`,
    /// default 1000).
    pub resume_wait_ms: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ack_timeout_ms: 300_000,
            connection_ttl_seconds: 90,
            resume_wait_ms: 1_000,
        }
    }
}

impl Config {
    pub fn from_env() -> Self {
        let d = Config::default();
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        Config {
            ack_timeout_ms: var("REMINDER_ACK_TIMEOUT_SECONDS")
                .map_or(d.ack_timeout_ms, |s| s.saturating_mul(1000)),
            connection_ttl_seconds: var("CONNECTION_TTL_SECONDS")
                .and_then(|s| u32::try_from(s).ok())
                .filter(|s| *s > 0)
                .unwrap_or(d.connection_ttl_seconds),
            resume_wait_ms: var("RESUME_WAIT_MS")
                .and_then(|s| u32::try_from(s).ok())
                .unwrap_or(d.resume_wait_ms),
        }
    }

    pub fn connection_ttl_ms(&self) -> u64 {
        u64::from(self.connection_ttl_seconds) * 1000
    }
}
