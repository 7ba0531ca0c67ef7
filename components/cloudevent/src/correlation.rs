//! Correlation ids: one id follows a change from the request that caused
//! it through every event it published (the `correlationid` extension).

/// The header carrying the correlation id across services.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Whether a caller's correlation id can be kept as it is (logged, sent on
/// as a header, put on events): short, printable, no spaces. An unusable
/// one is replaced, never refused: a bad tracing header fails no request.
pub fn usable_correlation_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_short_ids_are_kept() {
        assert!(usable_correlation_id("req-42"));
        assert!(!usable_correlation_id(""));
        assert!(!usable_correlation_id("two words"));
        assert!(!usable_correlation_id(&"x".repeat(129)));
        assert!(usable_correlation_id(&"x".repeat(128)));
    }
}
