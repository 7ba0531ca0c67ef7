//! Correlation ids in the host's logs: one id follows a change from the
//! HTTP request that caused it through every event it published (the
//! events' `correlationid` extension), so an operator can grep one id
//! across every pod's JSON log lines.

use http::HeaderMap;

pub use todo_cloudevent::correlation::CORRELATION_HEADER as HEADER;

/// The log target of the one line per request, event delivery or job
/// firing (on by default in pod mode, off in `todo-host up`).
pub const ACCESS: &str = "todo_host::access";

/// The caller's correlation id if it is usable as one (the components'
/// rule, `todo_cloudevent::correlation::usable_correlation_id`).
pub fn of_request(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(HEADER)?.to_str().ok()?.trim();
    todo_cloudevent::correlation::usable_correlation_id(id).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_printable_ids_and_refuses_others() {
        let mut headers = HeaderMap::new();
        assert_eq!(of_request(&headers), None);
        headers.insert(HEADER, "req-42".parse().unwrap());
        assert_eq!(of_request(&headers).as_deref(), Some("req-42"));
        headers.insert(HEADER, "two words".parse().unwrap());
        assert_eq!(of_request(&headers), None);
        headers.insert(HEADER, "x".repeat(129).parse().unwrap());
        assert_eq!(of_request(&headers), None);
    }
}
