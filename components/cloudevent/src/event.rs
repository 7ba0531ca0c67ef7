//! The CloudEvent model, mirroring the WIT `cloud-event` record field for
//! field so the glue is a plain move, plus validation and a builder.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The only CloudEvents version we speak.
pub const SPEC_VERSION: &str = "1.0";
/// Default content type: the WIT record says `data` is JSON unless set.
pub const APPLICATION_JSON: &str = "application/json";
/// Extension carrying the acting user's id.
pub const EXT_USER_ID: &str = "userid";
/// Extension tying together everything one request caused.
pub const EXT_CORRELATION_ID: &str = "correlationid";

/// Attribute names with a meaning of their own in structured mode; an
/// extension may not reuse them or it would shadow the real attribute.
pub(crate) const RESERVED: [&str; 9] = [
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "data",
    "data_base64",
];

/// Why an event is not a valid CloudEvent.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("required attribute `{0}` is missing or empty")]
    Missing(&'static str),
    #[error("attribute `{name}` is invalid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("event JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
}

impl EventError {
    pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> Self {
        EventError::Invalid {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A CloudEvents 1.0 event. `data` holds the payload bytes (JSON unless
/// `datacontenttype` says otherwise); `extensions` keeps the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEvent {
    pub id: String,
    pub source: String,
    pub ty: String,
    pub subject: Option<String>,
    pub time: Option<String>,
    pub datacontenttype: Option<String>,
    pub data: Vec<u8>,
    pub extensions: Vec<(String, String)>,
}

impl CloudEvent {
    /// The value of extension `name`, if present.
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn user_id(&self) -> Option<&str> {
        self.extension(EXT_USER_ID)
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.extension(EXT_CORRELATION_ID)
    }

    /// True when `data` is JSON: no content type, `application/json`, or
    /// any `+json` / `text/json` media type.
    pub fn data_is_json(&self) -> bool {
        match &self.datacontenttype {
            None => true,
            Some(ct) => {
                let media = ct.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case(APPLICATION_JSON)
                    || media.eq_ignore_ascii_case("text/json")
                    || media.to_ascii_lowercase().ends_with("+json")
            }
        }
    }

    /// Decodes the JSON payload.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.data)
    }

    /// Checks the attributes CloudEvents 1.0 requires or constrains.
    pub fn validate(&self) -> Result<(), EventError> {
        if self.id.is_empty() {
            return Err(EventError::Missing("id"));
        }
        if self.source.is_empty() {
            return Err(EventError::Missing("source"));
        }
        if self.ty.is_empty() {
            return Err(EventError::Missing("type"));
        }
        if self.subject.as_deref() == Some("") {
            return Err(EventError::invalid(
                "subject",
                "must not be empty when present",
            ));
        }
        if let Some(time) = &self.time {
            DateTime::parse_from_rfc3339(time)
                .map_err(|e| EventError::invalid("time", format!("not RFC 3339: {e}")))?;
        }
        for (name, _) in &self.extensions {
            validate_extension_name(name)?;
        }
        if self.data_is_json() && !self.data.is_empty() {
            serde_json::from_slice::<serde::de::IgnoredAny>(&self.data)
                .map_err(|e| EventError::invalid("data", format!("not JSON: {e}")))?;
        }
        Ok(())
    }
}

/// CloudEvents: extension names are lower-case ASCII letters and digits, and
/// must not collide with the attributes structured mode already uses.
pub(crate) fn validate_extension_name(name: &str) -> Result<(), EventError> {
    let well_formed = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !well_formed {
        return Err(EventError::invalid(
            name,
            "extension names are lower-case letters and digits",
        ));
    }
    if RESERVED.contains(&name) {
        return Err(EventError::invalid(name, "reserved attribute name"));
    }
    Ok(())
}

/// RFC 3339 UTC with millisecond precision, the format of every timestamp
/// the domain writes.
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Who is emitting events: the service (`source`), the acting user and the
/// correlation id of the request that caused them. One per request; every
/// event it builds carries all three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOrigin {
    pub source: String,
    pub user_id: String,
    pub correlation_id: String,
}

impl EventOrigin {
    pub fn new(
        source: impl Into<String>,
        user_id: impl Into<String>,
        correlation_id: impl Into<String>,
    ) -> Self {
        EventOrigin {
            source: source.into(),
            user_id: user_id.into(),
            correlation_id: correlation_id.into(),
        }
    }

    /// Starts an event of type `ty` from this origin.
    pub fn event(&self, ty: &str) -> EventBuilder {
        EventBuilder {
            origin: self.clone(),
            ty: ty.to_owned(),
            subject: None,
            data: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

/// Fills the attributes a producer should never hand-write: a fresh
/// time-ordered id (UUID v7), the current time, the source and the
/// `userid` / `correlationid` extensions.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    origin: EventOrigin,
    ty: String,
    subject: Option<String>,
    data: Vec<u8>,
    extensions: Vec<(String, String)>,
}

impl EventBuilder {
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Serializes `data` as the JSON payload.
    pub fn data(mut self, data: &impl Serialize) -> Result<Self, EventError> {
        self.data = serde_json::to_vec(data)?;
        Ok(self)
    }

    /// Adds another extension (e.g. `traceparent`).
    pub fn extension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extensions.push((name.into(), value.into()));
        self
    }

    pub fn build(self) -> CloudEvent {
        let mut extensions = vec![
            (EXT_USER_ID.to_owned(), self.origin.user_id),
            (EXT_CORRELATION_ID.to_owned(), self.origin.correlation_id),
        ];
        extensions.extend(self.extensions);
        CloudEvent {
            id: Uuid::now_v7().to_string(),
            source: self.origin.source,
            ty: self.ty,
            subject: self.subject,
            time: Some(now_rfc3339()),
            datacontenttype: Some(APPLICATION_JSON.to_owned()),
            data: self.data,
            extensions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> EventOrigin {
        EventOrigin::new("chat-api", "alice", "corr-1")
    }

    #[test]
    fn builder_fills_generated_attributes() {
        let event = origin()
            .event("com.todo.task.created.v1")
            .subject("t1")
            .data(&serde_json::json!({"title": "x"}))
            .unwrap()
            .build();
        assert_eq!(Uuid::parse_str(&event.id).unwrap().get_version_num(), 7);
        assert_eq!(event.source, "chat-api");
        assert_eq!(event.user_id(), Some("alice"));
        assert_eq!(event.correlation_id(), Some("corr-1"));
        assert!(event.time.as_deref().unwrap().ends_with('Z'));
        assert_eq!(event.data, br#"{"title":"x"}"#);
        event.validate().unwrap();
    }

    #[test]
    fn ids_are_unique_and_time_ordered() {
        let a = origin().event("com.todo.task.created.v1").build();
        let b = origin().event("com.todo.task.created.v1").build();
        assert_ne!(a.id, b.id);
        assert!(a.id < b.id, "v7 ids sort by creation time");
    }

    #[test]
    fn validation_names_the_offending_attribute() {
        let good = origin().event("com.todo.task.deleted.v1").build();

        let mut e = good.clone();
        e.id.clear();
        assert!(matches!(e.validate(), Err(EventError::Missing("id"))));

        let mut e = good.clone();
        e.ty.clear();
        assert!(matches!(e.validate(), Err(EventError::Missing("type"))));

        let mut e = good.clone();
        e.time = Some("yesterday".into());
        assert!(matches!(e.validate(), Err(EventError::Invalid { name, .. }) if name == "time"));

        let mut e = good.clone();
        e.extensions.push(("TraceParent".into(), "x".into()));
        assert!(e.validate().is_err());

        let mut e = good.clone();
        e.extensions.push(("subject".into(), "x".into()));
        assert!(e.validate().is_err());

        let mut e = good;
        e.data = b"{not json".to_vec();
        assert!(matches!(e.validate(), Err(EventError::Invalid { name, .. }) if name == "data"));
    }

    #[test]
    fn non_json_content_type_allows_any_bytes() {
        let mut e = origin().event("com.todo.task.updated.v1").build();
        e.datacontenttype = Some("text/plain; charset=utf-8".into());
        e.data = b"{not json".to_vec();
        assert!(!e.data_is_json());
        e.validate().unwrap();
        e.datacontenttype = Some("application/cloudevents+json".into());
        assert!(e.data_is_json());
    }
}
