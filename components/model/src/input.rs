//! Validation of what clients send to create, replace or patch a task.
//!
//! Validation is by hand over `serde_json::Value` rather than derived
//! `Deserialize`, so each error names its field as data (`due.time`,
//! `reminders[2].at`) instead of burying it in a message.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use todo_domain::ApiError;

use crate::due::Due;
use crate::recurrence::Recurrence;
use crate::task::{
    MAX_DESCRIPTION_CHARS, MAX_REMINDERS, MAX_TAG_CHARS, MAX_TAGS, MAX_TITLE_CHARS, Priority,
    Reminder, ReminderWhen, Status, Task,
};

/// Longest reminder lead time: a year.
pub const MAX_BEFORE_MINUTES: u32 = 525_600;

/// Fields the server owns. A client may send them back (a PUT of what it
/// got from a GET) and they are ignored; `status` is the exception, see
/// [`apply`].
const READ_ONLY: [&str; 9] = [
    "id",
    "user_id",
    "due_at",
    "series_id",
    "occurrence",
    "created_at",
    "updated_at",
    "completed_at",
    "version",
];

/// What the request means for fields it leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// POST: missing fields take their defaults; read-only fields refused.
    Create,
    /// PUT: the body is the whole task; missing fields take their defaults.
    Replace,
    /// PATCH (JSON merge patch): missing fields stay; `null` clears.
    Patch,
}

/// The editable fields of a task after validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Draft {
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub due: Option<Due>,
    pub reminders: Vec<Reminder>,
    pub recurrence: Option<Recurrence>,
}

impl Draft {
    pub fn of(task: &Task) -> Self {
        Draft {
            title: task.title.clone(),
            description: task.description.clone(),
            priority: task.priority,
            tags: task.tags.clone(),
            due: task.due.clone(),
            reminders: task.reminders.clone(),
            recurrence: task.recurrence.clone(),
        }
    }

    /// Names of the fields that differ between `self` and `other`.
    pub fn changed_fields(&self, other: &Draft) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |name, differs: bool| {
            if differs {
                changed.push(name);
            }
        };
        check("title", self.title != other.title);
        check("description", self.description != other.description);
        check("priority", self.priority != other.priority);
        check("tags", self.tags != other.tags);
        check("due", self.due != other.due);
        check("reminders", self.reminders != other.reminders);
        check("recurrence", self.recurrence != other.recurrence);
        changed
    }
}

/// Parses a request body into a JSON object (400 when it is not one).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::invalid_json(&e))?;
    match value {
        Value::Object(fields) => Ok(fields),
        _ => Err(ApiError::bad_request(
            "body",
            "request body must be a JSON object",
        )),
    }
}

/// Applies `fields` to `base` (the current task's draft, or the default for
/// a create) and validates the result as a whole. `current` is the task
/// being changed (for `status` and reminder ids), `user_zone` the default
/// zone of a due, `new_id` makes ids for new reminders.
pub fn apply(
    base: &Draft,
    mut fields: Map<String, Value>,
    mode: Mode,
    current: Option<&Task>,
    user_zone: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Draft, ApiError> {
    let mut draft = match mode {
        Mode::Patch => base.clone(),
        Mode::Create | Mode::Replace => Draft::default(),
    };
    let required_title = mode != Mode::Patch;
    match fields.remove("title") {
        Some(v) => draft.title = title(v)?,
        None if required_title => {
            return Err(ApiError::validation("title", "title is required"));
        }
        None => {}
    }
    if let Some(v) = fields.remove("description") {
        draft.description = description(v)?;
    }
    if let Some(v) = fields.remove("priority") {
        draft.priority = priority(v)?;
    }
    if let Some(v) = fields.remove("tags") {
        draft.tags = tags(v)?;
    }
    if let Some(v) = fields.remove("due") {
        draft.due = match v {
            Value::Null => None,
            v => Some(Due::from_json(&v, user_zone)?),
        };
    }
    let reminders = fields.remove("reminders");
    let recurrence = fields.remove("recurrence");
    if let Some(v) = fields.remove("status") {
        // Completing goes through /complete (its own event, the next
        // instance of a series); a PUT may only echo the current status.
        let now = current.map_or(Status::Open, |t| t.status);
        let sent: Option<Status> = serde_json::from_value(v).ok();
        if mode == Mode::Create || sent != Some(now) {
            return Err(ApiError::validation(
                "status",
                "status is changed with POST /api/tasks/{id}/complete or /uncomplete",
            ));
        }
    }
    for name in READ_ONLY {
        if fields.remove(name).is_some() && mode == Mode::Create {
            return Err(ApiError::validation(
                name,
                format!("`{name}` is set by the server"),
            ));
        }
    }
    if let Some(name) = fields.keys().next() {
        return Err(ApiError::validation(
            name,
            format!("unknown field `{name}`"),
        ));
    }
    if let Some(v) = reminders {
        let existing = current.map(|t| t.reminders.as_slice()).unwrap_or(&[]);
        draft.reminders = parse_reminders(v, existing, new_id)?;
    }
    match recurrence {
        Some(Value::Null) => draft.recurrence = None,
        Some(v) => draft.recurrence = Some(Recurrence::from_json(&v, draft.due.as_ref())?),
        // A kept rule must still have a due to hang on.
        None if draft.recurrence.is_some() && draft.due.is_none() => {
            return Err(ApiError::validation(
                "due",
                "a recurring task needs a due; remove the recurrence first or keep the due",
            ));
        }
        None => {}
    }
    if let Some(i) = draft
        .reminders
        .iter()
        .position(|r| matches!(r.when, ReminderWhen::Before { .. }) && draft.due.is_none())
    {
        return Err(ApiError::validation(
            &format!("reminders[{i}].before_minutes"),
            "a reminder relative to the due needs a due",
        ));
    }
    Ok(draft)
}

fn title(value: Value) -> Result<String, ApiError> {
    let Value::String(s) = value else {
        return Err(ApiError::validation("title", "title must be a string"));
    };
    let title = s.trim().to_owned();
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

fn description(value: Value) -> Result<String, ApiError> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) if s.chars().count() > MAX_DESCRIPTION_CHARS => Err(ApiError::validation(
            "description",
            format!("description exceeds {MAX_DESCRIPTION_CHARS} characters"),
        )),
        Value::String(s) => Ok(s),
        _ => Err(ApiError::validation(
            "description",
            "description must be a string",
        )),
    }
}

fn priority(value: Value) -> Result<Priority, ApiError> {
    let expected = || Priority::NAMES.join(", ");
    match value {
        Value::Null => Ok(Priority::None),
        Value::String(s) => Priority::parse(&s).ok_or_else(|| {
            ApiError::validation(
                "priority",
                format!("priority must be one of {} (got {s:?})", expected()),
            )
        }),
        _ => Err(ApiError::validation(
            "priority",
            format!("priority must be one of {}", expected()),
        )),
    }
}

/// Tags are trimmed and lower-cased; duplicates collapse. Characters the
/// filter language uses as syntax are refused so every tag can be named in
/// `tag:<name>`.
fn tags(value: Value) -> Result<Vec<String>, ApiError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(ApiError::validation("tags", "tags must be an array")),
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let field = format!("tags[{i}]");
        let Value::String(s) = item else {
            return Err(ApiError::validation(&field, "a tag must be a string"));
        };
        let tag = s.trim().to_lowercase();
        let chars = tag.chars().count();
        if chars == 0 || chars > MAX_TAG_CHARS {
            return Err(ApiError::validation(
                &field,
                format!("a tag must be 1-{MAX_TAG_CHARS} characters after trimming"),
            ));
        }
        if let Some(c) = tag
            .chars()
            .find(|c| c.is_whitespace() || "()&|!:,\"".contains(*c))
        {
            return Err(ApiError::validation(
                &field,
                format!("a tag may not contain {c:?} (spaces and ()&|!:,\" are not allowed)"),
            ));
        }
        if seen.insert(tag.clone()) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(ApiError::validation(
            "tags",
            format!("at most {MAX_TAGS} tags (got {})", out.len()),
        ));
    }
    Ok(out)
}

/// Reminders keep their id when the client sends back one the task has;
/// new ones get a fresh id. Two reminders with the same timing are one.
fn parse_reminders(
    value: Value,
    existing: &[Reminder],
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<Reminder>, ApiError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(ApiError::validation(
                "reminders",
                "reminders must be an array",
            ));
        }
    };
    if items.len() > MAX_REMINDERS {
        return Err(ApiError::validation(
            "reminders",
            format!("at most {MAX_REMINDERS} reminders (got {})", items.len()),
        ));
    }
    let mut out: Vec<Reminder> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let field = |name: &str| format!("reminders[{i}]{name}");
        let Value::Object(mut obj) = item else {
            return Err(ApiError::validation(
                &field(""),
                "a reminder is {\"before_minutes\": N} or {\"at\": RFC 3339 instant}",
            ));
        };
        let id = obj.remove("id");
        let when = match (obj.remove("before_minutes"), obj.remove("at")) {
            (Some(m), None) => {
                let minutes = m
                    .as_u64()
                    .filter(|m| *m <= u64::from(MAX_BEFORE_MINUTES))
                    .ok_or_else(|| {
                        ApiError::validation(
                            &field(".before_minutes"),
                            format!("before_minutes must be an integer 0-{MAX_BEFORE_MINUTES}"),
                        )
                    })?;
                ReminderWhen::Before {
                    before_minutes: minutes as u32,
                }
            }
            (None, Some(Value::String(at))) => {
                let at = DateTime::parse_from_rfc3339(&at).map_err(|e| {
                    ApiError::validation(
                        &field(".at"),
                        format!("at must be an RFC 3339 instant with an offset: {e}"),
                    )
                })?;
                ReminderWhen::At {
                    at: at.with_timezone(&Utc),
                }
            }
            (None, Some(_)) => {
                return Err(ApiError::validation(
                    &field(".at"),
                    "at must be an RFC 3339 string",
                ));
            }
            _ => {
                return Err(ApiError::validation(
                    &field(""),
                    "a reminder needs exactly one of before_minutes and at",
                ));
            }
        };
        if let Some(name) = obj.keys().next() {
            return Err(ApiError::validation(
                &field(&format!(".{name}")),
                format!("unknown field `{name}`"),
            ));
        }
        if out.iter().any(|r| r.when == when) {
            continue;
        }
        let kept = id
            .as_ref()
            .and_then(Value::as_str)
            .filter(|id| existing.iter().any(|r| r.id == *id && r.when == when));
        let id = kept.map_or_else(&mut *new_id, str::to_owned);
        out.push(Reminder { id, when });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("r{n}")
        }
    }

    fn create(v: Value) -> Result<Draft, ApiError> {
        let Value::Object(fields) = v else { panic!() };
        apply(
            &Draft::default(),
            fields,
            Mode::Create,
            None,
            "UTC",
            &mut ids(),
        )
    }

    fn field_of(v: Value) -> String {
        create(v).unwrap_err().field.unwrap_or_default()
    }

    #[test]
    fn minimal_create_gets_defaults_and_a_trimmed_title() {
        let d = create(json!({"title": "  buy milk \n"})).unwrap();
        assert_eq!(d.title, "buy milk");
        assert_eq!(d.description, "");
        assert_eq!(d.priority, Priority::None);
        assert!(d.tags.is_empty() && d.reminders.is_empty());
    }

    #[test]
    fn tags_are_normalized_and_limited() {
        let d = create(json!({"title": "t", "tags": [" Work", "work", "HOME"]})).unwrap();
        assert_eq!(d.tags, ["work", "home"]);
        assert_eq!(field_of(json!({"title": "t", "tags": ["a b"]})), "tags[0]");
        assert_eq!(field_of(json!({"title": "t", "tags": [""]})), "tags[0]");
        assert_eq!(
            field_of(json!({"title": "t", "tags": ["x".repeat(51)]})),
            "tags[0]"
        );
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(field_of(json!({"title": "t", "tags": many})), "tags");
    }

    #[test]
    fn field_errors_name_the_field() {
        assert_eq!(field_of(json!({})), "title");
        assert_eq!(field_of(json!({"title": " "})), "title");
        assert_eq!(
            field_of(json!({"title": "t", "priority": "p9"})),
            "priority"
        );
        assert_eq!(field_of(json!({"title": "t", "colour": 1})), "colour");
        assert_eq!(field_of(json!({"title": "t", "version": 3})), "version");
        assert_eq!(field_of(json!({"title": "t", "status": "open"})), "status");
        assert_eq!(
            field_of(json!({"title": "t", "description": "x".repeat(10_001)})),
            "description"
        );
    }

    #[test]
    fn reminders_are_validated_and_deduplicated() {
        let d = create(json!({"title": "t",
            "reminders": [{"at": "2026-12-01T08:00:00+01:00"}, {"at": "2026-12-01T07:00:00Z"}]}))
        .unwrap();
        assert_eq!(d.reminders.len(), 1);
        assert_eq!(d.reminders[0].id, "r1");
        assert_eq!(
            field_of(json!({"title": "t", "reminders": [{"before_minutes": 30}]})),
            "reminders[0].before_minutes"
        );
        assert_eq!(
            field_of(json!({"title": "t", "reminders": [{"at": "tomorrow"}]})),
            "reminders[0].at"
        );
        assert_eq!(
            field_of(
                json!({"title": "t", "reminders": [{"at": "2026-12-01T07:00:00Z", "before_minutes": 1}]})
            ),
            "reminders[0]"
        );
        assert_eq!(
            field_of(json!({"title": "t", "reminders": [{"at": "2026-12-01T07:00:00Z", "x": 1}]})),
            "reminders[0].x"
        );
        let eleven: Vec<Value> = (0..11).map(|i| json!({"before_minutes": i})).collect();
        assert_eq!(
            field_of(json!({"title": "t", "reminders": eleven})),
            "reminders"
        );
    }

    #[test]
    fn patch_keeps_what_it_does_not_mention_and_null_clears() {
        let base = create(json!({"title": "t", "priority": "high", "description": "d"})).unwrap();
        let Value::Object(fields) = json!({"description": null, "tags": ["x"]}) else {
            panic!()
        };
        let d = apply(&base, fields, Mode::Patch, None, "UTC", &mut ids()).unwrap();
        assert_eq!(d.title, "t");
        assert_eq!(d.priority, Priority::High);
        assert_eq!(d.description, "");
        assert_eq!(base.changed_fields(&d), ["description", "tags"]);
    }
}
