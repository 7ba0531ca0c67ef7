//! The task model and validation of what clients send.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use todo_domain::ApiError;

pub const MAX_TITLE_CHARS: usize = 500;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Priority::Low),
            "medium" => Some(Priority::Medium),
            "high" => Some(Priority::High),
            _ => None,
        }
    }
}

/// A stored task; also its JSON representation in the API and in events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub completed: bool,
    pub created_at: String,
    pub updated_at: String,
    pub user_id: String,
}

/// A validated `POST /api/tasks` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
}

impl NewTask {
    /// Parses and validates a create request. Malformed JSON is a 400 that
    /// quotes the parser; a well-formed body with a bad field is a 422 that
    /// names the field.
    ///
    /// Validation is by hand rather than `#[derive(Deserialize)]` so each
    /// error carries the field name as data, not buried in a message.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::invalid_json(&e))?;
        let Value::Object(mut fields) = value else {
            return Err(ApiError::bad_request(
                "body",
                "request body must be a JSON object",
            ));
        };
        let title = title(fields.remove("title"))?;
        let description = description(fields.remove("description"))?;
        let priority = priority(fields.remove("priority"))?;
        reject_unknown(&fields)?;
        Ok(NewTask {
            title,
            description,
            priority,
        })
    }
}

fn title(value: Option<Value>) -> Result<String, ApiError> {
    let title = match value {
        None | Some(Value::Null) => {
            return Err(ApiError::validation("title", "title is required"));
        }
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => return Err(ApiError::validation("title", "title must be a string")),
    };
    let chars = title.chars().count();
    if chars == 0 {
        return Err(ApiError::validation("title", "title must not be blank"));
    }
    if chars > MAX_TITLE_CHARS {
        return Err(ApiError::validation(
            "title",
            format!("title is {chars} characters; the limit is {MAX_TITLE_CHARS}"),
        ));
    }
    Ok(title)
}

fn description(value: Option<Value>) -> Result<Option<String>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_DESCRIPTION_CHARS => {
            Err(ApiError::validation(
                "description",
                format!("description exceeds {MAX_DESCRIPTION_CHARS} characters"),
            ))
        }
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::validation(
            "description",
            "description must be a string",
        )),
    }
}

fn priority(value: Option<Value>) -> Result<Priority, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(Priority::default()),
        Some(Value::String(s)) => Priority::parse(&s).ok_or_else(|| {
            ApiError::validation(
                "priority",
                format!("priority must be one of low, medium, high (got {s:?})"),
            )
        }),
        Some(_) => Err(ApiError::validation(
            "priority",
            "priority must be one of low, medium, high",
        )),
    }
}

/// Unknown fields are refused so a misspelt field is not silently dropped.
fn reject_unknown(rest: &Map<String, Value>) -> Result<(), ApiError> {
    match rest.keys().next() {
        Some(name) => Err(ApiError::validation(
            name,
            format!("unknown field `{name}`"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<NewTask, ApiError> {
        NewTask::from_json(v.to_string().as_bytes())
    }

    fn field_of(v: Value) -> (u16, String) {
        let err = parse(v).unwrap_err();
        (err.status, err.field.unwrap_or_default())
    }

    #[test]
    fn minimal_body_gets_defaults_and_a_trimmed_title() {
        let task = parse(json!({"title": "  buy milk \n"})).unwrap();
        assert_eq!(task.title, "buy milk");
        assert_eq!(task.description, None);
        assert_eq!(task.priority, Priority::Medium);
    }

    #[test]
    fn full_body_is_accepted() {
        let task = parse(json!({"title": "t", "description": "d", "priority": "high"})).unwrap();
        assert_eq!(task.description.as_deref(), Some("d"));
        assert_eq!(task.priority, Priority::High);
    }

    #[test]
    fn title_is_validated() {
        assert_eq!(field_of(json!({})), (422, "title".into()));
        assert_eq!(field_of(json!({"title": null})), (422, "title".into()));
        assert_eq!(field_of(json!({"title": 5})), (422, "title".into()));
        assert_eq!(field_of(json!({"title": " \t "})), (422, "title".into()));
        assert_eq!(
            field_of(json!({"title": "é".repeat(501)})),
            (422, "title".into())
        );
        // The limit is in characters, not bytes.
        assert!(parse(json!({"title": "é".repeat(500)})).is_ok());
    }

    #[test]
    fn other_fields_are_validated() {
        assert_eq!(
            field_of(json!({"title": "t", "priority": "urgent"})),
            (422, "priority".into())
        );
        assert_eq!(
            field_of(json!({"title": "t", "priority": 1})),
            (422, "priority".into())
        );
        assert_eq!(
            field_of(json!({"title": "t", "description": []})),
            (422, "description".into())
        );
        assert_eq!(
            field_of(json!({"title": "t", "tags": ["x"]})),
            (422, "tags".into())
        );
    }

    #[test]
    fn malformed_json_is_a_400_quoting_the_parser() {
        let err = NewTask::from_json(b"{\"title\": \"x\",}").unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.code, "invalid_json");
        assert!(err.message.contains("line 1"), "{}", err.message);

        let err = NewTask::from_json(b"[\"title\"]").unwrap_err();
        assert_eq!((err.status, err.field.as_deref()), (400, Some("body")));
    }

    #[test]
    fn task_json_has_the_documented_fields() {
        let task = Task {
            id: "i".into(),
            title: "t".into(),
            description: None,
            priority: Priority::Low,
            completed: false,
            created_at: "c".into(),
            updated_at: "u".into(),
            user_id: "local".into(),
        };
        assert_eq!(
            serde_json::to_value(&task).unwrap(),
            json!({"id": "i", "title": "t", "description": null, "priority": "low",
                   "completed": false, "created_at": "c", "updated_at": "u", "user_id": "local"})
        );
    }
}
