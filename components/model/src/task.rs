//! The task as stored, returned by the API and carried in events.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::due::Due;
use super::recurrence::Recurrence;

pub const MAX_TITLE_CHARS: usize = 500;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_REMINDERS: usize = 10;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Open,
    Completed,
}

/// Ordered from least to most pressing, so `priority>=medium` is `>=`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const NAMES: [&'static str; 5] = ["none", "low", "medium", "high", "urgent"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Priority::None),
            "low" => Some(Priority::Low),
            "medium" => Some(Priority::Medium),
            "high" => Some(Priority::High),
            "urgent" => Some(Priority::Urgent),
            _ => None,
        }
    }
}

/// When a reminder fires: relative to the due, or at a fixed instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReminderWhen {
    Before { before_minutes: u32 },
    At { at: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub id: String,
    #[serde(flatten)]
    pub when: ReminderWhen,
}

impl Reminder {
    /// The instant it fires for a task due at `due_at`; `None` for a
    /// relative reminder of a task without a due.
    pub fn instant(&self, due_at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        match &self.when {
            ReminderWhen::At { at } => Some(*at),
            ReminderWhen::Before { before_minutes } => {
                due_at.map(|d| d - Duration::minutes(i64::from(*before_minutes)))
            }
        }
    }
}

/// A stored task; also its JSON representation in the API and in events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub due: Option<Due>,
    /// Derived from `due` (read-only): the due as a UTC instant.
    #[serde(with = "rfc3339_opt")]
    pub due_at: Option<DateTime<Utc>>,
    pub reminders: Vec<Reminder>,
    pub recurrence: Option<Recurrence>,
    /// The recurring series this task belongs to and its 1-based index in it.
    pub series_id: Option<String>,
    pub occurrence: Option<u32>,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
    /// Increments on every change; the API's ETag.
    pub version: u64,
}

impl Task {
    /// A new open task of `user_id` with default fields, created at `now`.
    pub fn new(id: &str, user_id: &str, title: &str, now: &str) -> Self {
        Task {
            id: id.to_owned(),
            user_id: user_id.to_owned(),
            title: title.to_owned(),
            description: String::new(),
            status: Status::Open,
            priority: Priority::None,
            tags: Vec::new(),
            due: None,
            due_at: None,
            reminders: Vec::new(),
            recurrence: None,
            series_id: None,
            occurrence: None,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            completed_at: None,
            version: 1,
        }
    }

    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// Every reminder with the instant it fires (relative ones need a due).
    pub fn reminder_instants(&self) -> Vec<(&Reminder, DateTime<Utc>)> {
        self.reminders
            .iter()
            .filter_map(|r| r.instant(self.due_at).map(|at| (r, at)))
            .collect()
    }
}

/// RFC 3339 with second precision and `Z`, the one format of instants in
/// the API.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

mod rfc3339_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(at) => s.serialize_str(&super::format_instant(*at)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<DateTime<Utc>>::deserialize(d)
    }
}
