//! CloudEvents 1.0 JSON structured mode: one JSON object with
//! `specversion`, the attributes, extensions at the top level, and `data`
//! embedded as JSON (or a string / `data_base64` for non-JSON payloads).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::Error as _;
use serde::ser::{Error as _, SerializeMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::event::{CloudEvent, EventError, SPEC_VERSION, validate_extension_name};

impl CloudEvent {
    /// Structured-mode JSON bytes.
    pub fn to_json(&self) -> Result<Vec<u8>, EventError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Structured-mode JSON as a value, e.g. to embed in another document.
    pub fn to_json_value(&self) -> Result<Value, EventError> {
        Ok(serde_json::to_value(self)?)
    }

    /// Parses structured-mode JSON; the result is also validated.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EventError> {
        let object: Map<String, Value> = serde_json::from_slice(bytes)?;
        let event = from_object(object)?;
        event.validate()?;
        Ok(event)
    }
}

impl Serialize for CloudEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("specversion", SPEC_VERSION)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("type", &self.ty)?;
        if let Some(subject) = &self.subject {
            map.serialize_entry("subject", subject)?;
        }
        if let Some(time) = &self.time {
            map.serialize_entry("time", time)?;
        }
        if let Some(ct) = &self.datacontenttype {
            map.serialize_entry("datacontenttype", ct)?;
        }
        for (name, value) in &self.extensions {
            map.serialize_entry(name, value)?;
        }
        if !self.data.is_empty() {
            if self.data_is_json() {
                let data: Value = serde_json::from_slice(&self.data)
                    .map_err(|e| S::Error::custom(format!("data is not JSON: {e}")))?;
                map.serialize_entry("data", &data)?;
            } else if let Ok(text) = std::str::from_utf8(&self.data) {
                map.serialize_entry("data", text)?;
            } else {
                map.serialize_entry("data_base64", &BASE64.encode(&self.data))?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for CloudEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(deserializer)?;
        from_object(object).map_err(D::Error::custom)
    }
}

fn from_object(mut object: Map<String, Value>) -> Result<CloudEvent, EventError> {
    match object.remove("specversion") {
        Some(Value::String(v)) if v == SPEC_VERSION => {}
        Some(other) => {
            return Err(EventError::invalid(
                "specversion",
                format!("expected \"{SPEC_VERSION}\", got {other}"),
            ));
        }
        None => return Err(EventError::Missing("specversion")),
    }
    let id = required(&mut object, "id")?;
    let source = required(&mut object, "source")?;
    let ty = required(&mut object, "type")?;
    let subject = optional(&mut object, "subject")?;
    let time = optional(&mut object, "time")?;
    let datacontenttype = optional(&mut object, "datacontenttype")?;
    let data = object.remove("data");
    let data_base64 = object.remove("data_base64");

    let mut event = CloudEvent {
        id,
        source,
        ty,
        subject,
        time,
        datacontenttype,
        data: Vec::new(),
        extensions: Vec::new(),
    };
    event.data = match (data, data_base64) {
        (Some(_), Some(_)) => {
            return Err(EventError::invalid(
                "data",
                "`data` and `data_base64` are mutually exclusive",
            ));
        }
        (None, Some(Value::String(encoded))) => BASE64
            .decode(encoded)
            .map_err(|e| EventError::invalid("data_base64", e.to_string()))?,
        (None, Some(_)) => return Err(EventError::invalid("data_base64", "must be a string")),
        (Some(Value::Null), None) | (None, None) => Vec::new(),
        // A non-JSON payload travels as a JSON string holding the text.
        (Some(Value::String(text)), None) if !event.data_is_json() => text.into_bytes(),
        (Some(value), None) => serde_json::to_vec(&value)?,
    };

    for (name, value) in object {
        validate_extension_name(&name)?;
        let value = match value {
            // CloudEvents: a null attribute is the same as an absent one.
            Value::Null => continue,
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(EventError::invalid(&name, "extension values are scalars"));
            }
        };
        event.extensions.push((name, value));
    }
    Ok(event)
}

fn required(object: &mut Map<String, Value>, name: &'static str) -> Result<String, EventError> {
    match optional(object, name)? {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(EventError::Missing(name)),
    }
}

fn optional(object: &mut Map<String, Value>, name: &str) -> Result<Option<String>, EventError> {
    match object.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(EventError::invalid(name, "must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventOrigin;
    use serde_json::json;

    fn sample() -> CloudEvent {
        EventOrigin::new("chat-api", "alice", "c-1")
            .event("com.todo.task.created.v1")
            .subject("t-1")
            .data(&json!({"title": "milk", "n": 2}))
            .unwrap()
            .build()
    }

    #[test]
    fn structured_mode_embeds_json_data_and_flattens_extensions() {
        let event = sample();
        let value = event.to_json_value().unwrap();
        assert_eq!(value["specversion"], "1.0");
        assert_eq!(value["type"], "com.todo.task.created.v1");
        assert_eq!(value["subject"], "t-1");
        assert_eq!(value["userid"], "alice");
        assert_eq!(value["correlationid"], "c-1");
        assert_eq!(value["data"], json!({"title": "milk", "n": 2}));
        assert!(value.get("data_base64").is_none());
    }

    #[test]
    fn round_trips_through_json() {
        let event = sample();
        let parsed = CloudEvent::from_json(&event.to_json().unwrap()).unwrap();
        assert_eq!(parsed.id, event.id);
        assert_eq!(
            parsed.data_as::<Value>().unwrap(),
            json!({"title": "milk", "n": 2})
        );
        assert_eq!(parsed.user_id(), Some("alice"));
        assert_eq!(parsed.correlation_id(), Some("c-1"));
        assert_eq!(parsed.time, event.time);
    }

    #[test]
    fn binary_payloads_use_data_base64() {
        let mut event = sample();
        event.datacontenttype = Some("application/octet-stream".into());
        event.data = vec![0xff, 0x00, 0x10];
        let value = event.to_json_value().unwrap();
        assert_eq!(value["data_base64"], "/wAQ");
        let parsed = CloudEvent::from_json(&event.to_json().unwrap()).unwrap();
        assert_eq!(parsed.data, vec![0xff, 0x00, 0x10]);
    }

    #[test]
    fn text_payloads_stay_text() {
        let mut event = sample();
        event.datacontenttype = Some("text/plain".into());
        event.data = b"hello".to_vec();
        let bytes = event.to_json().unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&bytes).unwrap()["data"],
            "hello"
        );
        assert_eq!(CloudEvent::from_json(&bytes).unwrap().data, b"hello");
    }

    #[test]
    fn rejects_missing_or_wrong_required_attributes() {
        let base = json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t"});
        CloudEvent::from_json(base.to_string().as_bytes()).unwrap();

        for (field, value) in [
            ("specversion", json!("0.3")),
            ("id", json!("")),
            ("source", json!(null)),
            ("type", json!(7)),
            ("time", json!("not a time")),
            ("ext", json!({"nested": true})),
        ] {
            let mut doc = base.clone();
            doc[field] = value;
            let err = CloudEvent::from_json(doc.to_string().as_bytes());
            assert!(err.is_err(), "{field} should be rejected");
        }
        assert!(matches!(
            CloudEvent::from_json(br#"{"id":"1","source":"s","type":"t"}"#),
            Err(EventError::Missing("specversion"))
        ));
        assert!(matches!(
            CloudEvent::from_json(b"[1,2]"),
            Err(EventError::Json(_))
        ));
    }

    #[test]
    fn scalar_extensions_become_strings() {
        let doc = json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t",
                         "attempt": 3, "urgent": true, "gone": null});
        let event = CloudEvent::from_json(doc.to_string().as_bytes()).unwrap();
        assert_eq!(event.extension("attempt"), Some("3"));
        assert_eq!(event.extension("urgent"), Some("true"));
        assert_eq!(event.extension("gone"), None);
    }
}
