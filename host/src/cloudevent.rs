//! CloudEvents 1.0 in JSON structured mode: the host's own event type and
//! its wire form (the embedded log, Dapr, Kafka all carry this JSON).

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::bindings::CloudEvent as WitEvent;

const CORE: &[&str] = &[
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "data",
    "data_base64",
    "dataschema",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub source: String,
    pub ty: String,
    pub subject: Option<String>,
    pub time: Option<String>,
    pub datacontenttype: Option<String>,
    pub data: Vec<u8>,
    pub extensions: Vec<(String, String)>,
}

impl Event {
    /// Rejects events missing a required attribute, so nothing malformed
    /// reaches a log that other services trust.
    pub fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() {
            return Err("event id is empty".into());
        }
        if self.source.is_empty() {
            return Err("event source is empty".into());
        }
        if self.ty.is_empty() {
            return Err("event type is empty".into());
        }
        for (name, _) in &self.extensions {
            let valid = !name.is_empty()
                && name.len() <= 20
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if !valid || CORE.contains(&name.as_str()) {
                return Err(format!("invalid extension attribute name {name:?}"));
            }
        }
        Ok(())
    }

    fn is_json(&self) -> bool {
        match &self.datacontenttype {
            None => true,
            Some(ct) => ct.starts_with("application/json") || ct.ends_with("+json"),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("specversion".into(), "1.0".into());
        m.insert("id".into(), self.id.clone().into());
        m.insert("source".into(), self.source.clone().into());
        m.insert("type".into(), self.ty.clone().into());
        if let Some(s) = &self.subject {
            m.insert("subject".into(), s.clone().into());
        }
        if let Some(t) = &self.time {
            m.insert("time".into(), t.clone().into());
        }
        let ct = self
            .datacontenttype
            .clone()
            .unwrap_or_else(|| "application/json".into());
        m.insert("datacontenttype".into(), ct.into());
        if !self.data.is_empty() {
            match serde_json::from_slice::<Value>(&self.data) {
                Ok(v) if self.is_json() => {
                    m.insert("data".into(), v);
                }
                _ => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(&self.data);
                    m.insert("data_base64".into(), b64.into());
                }
            }
        }
        for (k, v) in &self.extensions {
            m.insert(k.clone(), v.clone().into());
        }
        Value::Object(m)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("a JSON value always serializes")
    }

    pub fn from_json(v: &Value) -> Result<Self, String> {
        let m = v.as_object().ok_or("a CloudEvent must be a JSON object")?;
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
        let required = |k: &str| text(k).ok_or_else(|| format!("missing attribute `{k}`"));
        if text("specversion").as_deref() != Some("1.0") {
            return Err("`specversion` must be \"1.0\"".into());
        }
        let data = if let Some(b64) = text("data_base64") {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("`data_base64`: {e}"))?
        } else {
            match m.get("data") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(s)) if !is_json_ct(text("datacontenttype")) => {
                    s.clone().into_bytes()
                }
                Some(other) => serde_json::to_vec(other).expect("JSON value"),
            }
        };
        let extensions = m
            .iter()
            .filter(|(k, _)| !CORE.contains(&k.as_str()))
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                Value::Number(n) => Some((k.clone(), n.to_string())),
                Value::Bool(b) => Some((k.clone(), b.to_string())),
                _ => None,
            })
            .collect();
        Ok(Event {
            id: required("id")?,
            source: required("source")?,
            ty: required("type")?,
            subject: text("subject"),
            time: text("time"),
            datacontenttype: text("datacontenttype"),
            data,
            extensions,
        })
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        Self::from_json(&v)
    }

    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_extension(&mut self, name: &str, value: String) {
        self.extensions.retain(|(k, _)| k != name);
        self.extensions.push((name.to_owned(), value));
    }
}

fn is_json_ct(ct: Option<String>) -> bool {
    ct.is_none_or(|c| c.starts_with("application/json") || c.ends_with("+json"))
}

impl From<WitEvent> for Event {
    fn from(e: WitEvent) -> Self {
        Event {
            id: e.id,
            source: e.source,
            ty: e.type_,
            subject: e.subject,
            time: e.time,
            datacontenttype: e.datacontenttype,
            data: e.data,
            extensions: e.extensions,
        }
    }
}

impl From<Event> for WitEvent {
    fn from(e: Event) -> Self {
        WitEvent {
            id: e.id,
            source: e.source,
            type_: e.ty,
            subject: e.subject,
            time: e.time,
            datacontenttype: e.datacontenttype,
            data: e.data,
            extensions: e.extensions,
        }
    }
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
    fn json_round_trip_keeps_every_attribute() {
        let e = sample();
        let json = e.to_json();
        assert_eq!(json["data"]["title"], "x");
        assert_eq!(json["userid"], "u1");
        let back = Event::from_json(&json).unwrap();
        assert_eq!(back.data, e.data);
        assert_eq!(back.extension("userid"), Some("u1"));
        assert_eq!(back.subject.as_deref(), Some("t1"));
    }

    #[test]
    fn binary_data_travels_as_base64() {
        let mut e = sample();
        e.datacontenttype = Some("application/octet-stream".into());
        e.data = vec![0, 159, 146, 150];
        let json = e.to_json();
        assert!(json.get("data").is_none());
        assert_eq!(Event::from_json(&json).unwrap().data, e.data);
    }

    #[test]
    fn validation_names_the_problem() {
        let mut e = sample();
        e.id.clear();
        assert!(e.validate().unwrap_err().contains("id"));
        let mut e = sample();
        e.extensions.push(("Bad-Name".into(), "v".into()));
        assert!(e.validate().unwrap_err().contains("Bad-Name"));
        assert!(Event::from_json(&serde_json::json!({"id": "x"})).is_err());
    }
}
