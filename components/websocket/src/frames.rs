//! The wire protocol: JSON text frames (README, "Real-time protocol").
//!
//! Server -> client: `hello`, `event` (with its cursor), `reminder` (one
//! this device has not acknowledged, from before the point its stream
//! starts), `acked`, `resync`, `error`. Client -> server: `resume`, `ack`.

use serde::Deserialize;
use serde_json::{Value, json};

/// Close code: the access token behind the connection expired.
pub const CLOSE_TOKEN_EXPIRED: u16 = 4001;
/// Close code: the stream cannot be kept (the client fell too far behind,
/// or it lapsed while its host stalled); it resumes on reconnect.
pub const CLOSE_TOO_SLOW: u16 = 4008;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Replay everything after `cursor`, then go on live. No cursor: start
    /// live from the moment of connecting.
    Resume {
        #[serde(default)]
        cursor: Option<String>,
    },
    /// This device has seen the reminder (its event id).
    Ack { reminder: String },
}

/// The frame, or a message saying what is wrong with it.
pub fn parse(text: &str) -> Result<ClientFrame, String> {
    serde_json::from_str(text).map_err(|e| {
        format!("expected {{\"type\": \"resume\", \"cursor\": ...}} or {{\"type\": \"ack\", \"reminder\": ...}}: {e}")
    })
}

/// Cursors are opaque to clients; they are the decimal position in the
/// user's feed.
pub fn cursor(seq: u64) -> String {
    seq.to_string()
}

pub fn parse_cursor(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

pub fn hello(cursor_at: u64, connection: &str, device: &str) -> String {
    json!({
        "type": "hello",
        "cursor": cursor(cursor_at),
        "connection": connection,
        "device": device,
    })
    .to_string()
}

pub fn event(seq: u64, event: &Value) -> String {
    json!({"type": "event", "cursor": cursor(seq), "event": event}).to_string()
}

pub fn reminder(event: &Value) -> String {
    json!({"type": "reminder", "event": event}).to_string()
}

/// Reload the list; the stream goes on after `cursor_at`.
pub fn resync(cursor_at: u64) -> String {
    json!({"type": "resync", "cursor": cursor(cursor_at)}).to_string()
}

/// The server recorded an `ack`; `first`: this device's first for that
/// reminder (`reminder.delivered` was published), else nothing was.
pub fn acked(reminder: &str, first: bool) -> String {
    json!({"type": "acked", "reminder": reminder, "first": first}).to_string()
}

pub fn error(code: &str, message: &str) -> String {
    json!({"type": "error", "error": {"code": code, "message": message}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!(
            parse(r#"{"type":"resume","cursor":"12"}"#).unwrap(),
            ClientFrame::Resume {
                cursor: Some("12".into())
            }
        );
        assert_eq!(
            parse(r#"{"type":"resume"}"#).unwrap(),
            ClientFrame::Resume { cursor: None }
        );
        assert_eq!(
            parse(r#"{"type":"ack","reminder":"r1"}"#).unwrap(),
            ClientFrame::Ack {
                reminder: "r1".into()
            }
        );
        for bad in [
            "",
            "nope",
            r#"{"type":"resume","cursor":1,"x":2}"#,
            r#"{"type":"subscribe"}"#,
        ] {
            assert!(parse(bad).unwrap_err().contains("expected"), "{bad}");
        }
    }

    #[test]
    fn cursors_are_decimal_positions() {
        assert_eq!(parse_cursor(&cursor(42)), Some(42));
        for bad in ["", "-1", "1.5", "abc", "99999999999999999999999"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
