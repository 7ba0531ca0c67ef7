//! CloudEvents 1.0: the model, validation and JSON structured mode are the
//! ones the components use (the `todo-cloudevent` crate), so the schema lives
//! in one place. This module adds what only the host needs: infallible wire
//! helpers for validated events (the WIT record conversions are beside the
//! bindings).

use serde_json::Value;
pub use todo_cloudevent::CloudEvent as Event;

/// Structured-mode JSON bytes of an event that passed validation.
pub fn to_bytes(event: &Event) -> Vec<u8> {
    event
        .to_json()
        .expect("a validated event always serializes")
}

/// Structured-mode JSON value of an event that passed validation.
pub fn to_value(event: &Event) -> Value {
    event
        .to_json_value()
        .expect("a validated event always serializes")
}

/// Parses (and validates) structured-mode JSON.
pub fn from_bytes(bytes: &[u8]) -> Result<Event, String> {
    Event::from_json(bytes).map_err(|e| e.to_string())
}

pub fn from_value(value: &Value) -> Result<Event, String> {
    from_bytes(&serde_json::to_vec(value).map_err(|e| e.to_string())?)
}

pub fn validate(event: &Event) -> Result<(), String> {
    event.validate().map_err(|e| e.to_string())
}

/// Sets (or replaces) an extension attribute.
pub fn set_extension(event: &mut Event, name: &str, value: String) {
    event.extensions.retain(|(k, _)| k != name);
    event.extensions.push((name.to_owned(), value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event {
            id: "e1".into(),
            source: "chat-api".into(),
            ty: "com.todo.task.created.v1".into(),
            subject: Some("t1".into()),
            time: Some("2026-01-01T00:00:00Z".into()),
            datacontenttype: None,
            data: br#"{"title":"x"}"#.to_vec(),
            extensions: vec![("userid".into(), "u1".into())],
        }
    }

    #[test]
    fn wire_round_trip_keeps_every_attribute() {
        let e = sample();
        let json = to_value(&e);
        assert_eq!(json["data"]["title"], "x");
        assert_eq!(json["userid"], "u1");
        let back = from_bytes(&to_bytes(&e)).unwrap();
        assert_eq!(back, e);
        assert_eq!(from_value(&json).unwrap(), e);
    }

    #[test]
    fn dead_letter_extensions_replace_earlier_values() {
        let mut e = sample();
        set_extension(&mut e, "subscriber", "a".into());
        set_extension(&mut e, "subscriber", "b".into());
        assert_eq!(e.extension("subscriber"), Some("b"));
        validate(&e).unwrap();
    }

    #[test]
    fn invalid_events_are_refused_with_the_reason() {
        let mut e = sample();
        e.id.clear();
        assert!(validate(&e).unwrap_err().contains("id"));
        assert!(from_value(&serde_json::json!({"id": "x"})).is_err());
    }
}
