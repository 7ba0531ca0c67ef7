//! The wall clock in Unix milliseconds: the unit of job instants, TTLs and
//! WebSocket liveness. A leaf, so capabilities, the engine and triggers can
//! all read it.

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
