//! `GET /api/tasks`: search (`q`), the filter language (`filter`), sort,
//! and keyset paging with an opaque cursor.
//!
//! The cursor carries the sort key of the last task returned, so a page
//! continues after that position even when tasks were added or removed
//! meanwhile (no duplicates, no skips of tasks that did not move).

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todo_domain::ApiError;
use todo_domain::http::bounded_param;
use todo_model::Task;
use todo_model::filter::{self, Filter, FilterContext};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
const MAX_Q_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortField {
    Due,
    Priority,
    Created,
    Updated,
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

/// A parsed list request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub q: Option<String>,
    pub filter: Option<Filter>,
    pub sort: Vec<SortKey>,
    pub limit: usize,
    pub after: Option<Cursor>,
}

/// Where the previous page ended: the last task's sort values and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    values: Vec<Value>,
    id: String,
}

/// One sort value; `Missing` (a task without a due) sorts last whatever
/// the direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Value {
    Int(i64),
    Text(String),
    Missing,
}

pub fn parse_sort(spec: &str) -> Result<Vec<SortKey>, ApiError> {
    let mut keys = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let (descending, name) = match part.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let field = match name {
            "due" => SortField::Due,
            "priority" => SortField::Priority,
            "created" => SortField::Created,
            "updated" => SortField::Updated,
            "title" => SortField::Title,
            _ => {
                return Err(ApiError::bad_request(
                    "sort",
                    format!(
                        "cannot sort by {part:?}: use a comma list of due, priority, created, \
                         updated, title, each optionally prefixed with - for descending"
                    ),
                ));
            }
        };
        if keys.iter().any(|k: &SortKey| k.field == field) {
            return Err(ApiError::bad_request(
                "sort",
                format!("{name} appears twice in sort"),
            ));
        }
        keys.push(SortKey { field, descending });
    }
    Ok(keys)
}

impl ListQuery {
    /// Parses the decoded query pairs. Unknown parameters are refused so a
    /// typo is not silently an unfiltered list.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut query = ListQuery {
            q: None,
            filter: None,
            sort: vec![SortKey {
                field: SortField::Created,
                descending: false,
            }],
            limit: DEFAULT_LIMIT,
            after: None,
        };
        for (name, value) in pairs {
            match name.as_str() {
                "q" => {
                    if value.chars().count() > MAX_Q_CHARS {
                        return Err(ApiError::bad_request(
                            "q",
                            format!("q is longer than {MAX_Q_CHARS} characters"),
                        ));
                    }
                    let q = value.trim().to_lowercase();
                    query.q = (!q.is_empty()).then_some(q);
                }
                "filter" if value.trim().is_empty() => query.filter = None,
                "filter" => {
                    query.filter =
                        Some(filter::parse(value).map_err(|e| e.into_api_error("filter"))?);
                }
                "sort" => query.sort = parse_sort(value)?,
                "limit" => query.limit = bounded_param("limit", value, 1, MAX_LIMIT)?,
                "cursor" => query.after = Some(Cursor::decode(value)?),
                other => {
                    return Err(ApiError::bad_request(
                        other,
                        format!("unknown query parameter `{other}`"),
                    ));
                }
            }
        }
        Ok(query)
    }
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursors serialize"))
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "cursor",
                    "cursor is not one this API returned (pass next_cursor back unchanged)",
                )
            })
    }
}

fn instant_millis(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text).map_or(0, |t| t.timestamp_millis())
}

fn value_of(task: &Task, field: SortField) -> Value {
    match field {
        SortField::Due => task
            .due_at
            .map_or(Value::Missing, |d| Value::Int(d.timestamp_millis())),
        SortField::Priority => Value::Int(task.priority as i64),
        SortField::Created => Value::Int(instant_millis(&task.created_at)),
        SortField::Updated => Value::Int(instant_millis(&task.updated_at)),
        SortField::Title => Value::Text(task.title.to_lowercase()),
    }
}

fn key_of(task: &Task, sort: &[SortKey]) -> Vec<Value> {
    sort.iter().map(|k| value_of(task, k.field)).collect()
}

/// Orders by the sort keys in turn, then by id (a stable tiebreak).
fn compare(a: (&[Value], &str), b: (&[Value], &str), sort: &[SortKey]) -> Ordering {
    for ((x, y), key) in a.0.iter().zip(b.0).zip(sort) {
        let ord = match (x, y) {
            (Value::Missing, Value::Missing) => Ordering::Equal,
            (Value::Missing, _) => Ordering::Greater,
            (_, Value::Missing) => Ordering::Less,
            _ if key.descending => y.cmp(x),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.1.cmp(b.1)
}

fn matches_q(task: &Task, q: &str) -> bool {
    task.title.to_lowercase().contains(q)
        || task.description.to_lowercase().contains(q)
        || task.tags.iter().any(|t| t.contains(q))
}

/// A page of the list.
#[derive(Debug, Serialize)]
pub struct Page {
    pub tasks: Vec<Task>,
    pub next_cursor: Option<String>,
}

/// Filters, sorts and pages `tasks` (all of one user).
pub fn page(tasks: Vec<Task>, query: &ListQuery, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Page {
    let ctx = FilterContext { now, tz };
    let mut rows: Vec<(Vec<Value>, Task)> = tasks
        .into_iter()
        .filter(|t| query.q.as_deref().is_none_or(|q| matches_q(t, q)))
        .filter(|t| query.filter.as_ref().is_none_or(|f| f.matches(t, &ctx)))
        .map(|t| (key_of(&t, &query.sort), t))
        .filter(|(key, t)| {
            query.after.as_ref().is_none_or(|c| {
                c.values.len() == query.sort.len()
                    && compare((key, &t.id), (&c.values, &c.id), &query.sort) == Ordering::Greater
            })
        })
        .collect();
    rows.sort_by(|a, b| compare((&a.0, &a.1.id), (&b.0, &b.1.id), &query.sort));
    let more = rows.len() > query.limit;
    rows.truncate(query.limit);
    let next_cursor = match rows.last() {
        Some((values, task)) if more => Some(
            Cursor {
                values: values.clone(),
                id: task.id.clone(),
            }
            .encode(),
        ),
        _ => None,
    };
    Page {
        tasks: rows.into_iter().map(|(_, t)| t).collect(),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(id: &str, title: &str, priority: &str, due_at: Option<&str>) -> Task {
        serde_json::from_value(json!({
            "id": id, "user_id": "u", "title": title, "description": "", "status": "open",
            "priority": priority, "tags": ["work"], "due": null, "due_at": due_at,
            "reminders": [], "recurrence": null, "series_id": null, "occurrence": null,
            "created_at": format!("2026-11-0{}T00:00:00Z", id.len()), "updated_at": "2026-11-01T00:00:00Z",
            "completed_at": null, "version": 1
        }))
        .unwrap()
    }

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListQuery::parse(&pairs).unwrap()
    }

    fn ids(page: &Page) -> Vec<&str> {
        page.tasks.iter().map(|t| t.id.as_str()).collect()
    }

    fn sample() -> Vec<Task> {
        vec![
            task("a", "Banana", "low", Some("2026-12-02T00:00:00Z")),
            task("b", "apple", "urgent", None),
            task("c", "cherry", "low", Some("2026-12-01T00:00:00Z")),
            task("d", "date", "high", None),
        ]
    }

    fn now() -> DateTime<Utc> {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn sorts_with_missing_dues_last_both_ways_and_ties_by_id() {
        let by = |s: &str| {
            let p = page(sample(), &query(&[("sort", s)]), now(), chrono_tz::UTC);
            ids(&p).join("")
        };
        assert_eq!(by("due"), "cabd");
        assert_eq!(by("-due"), "acbd");
        assert_eq!(by("-priority,due"), "bdca");
        assert_eq!(by("title"), "bacd");
        assert_eq!(by("-title"), "dcab");
    }

    #[test]
    fn pages_continue_after_the_cursor_even_when_tasks_change() {
        let q = query(&[("sort", "-priority"), ("limit", "2")]);
        let first = page(sample(), &q, now(), chrono_tz::UTC);
        assert_eq!(ids(&first), ["b", "d"]);
        let cursor = first.next_cursor.clone().unwrap();
        let mut tasks = sample();
        tasks.retain(|t| t.id != "d");
        let q2 = query(&[("sort", "-priority"), ("limit", "2"), ("cursor", &cursor)]);
        let second = page(tasks, &q2, now(), chrono_tz::UTC);
        assert_eq!(ids(&second), ["a", "c"]);
        assert_eq!(second.next_cursor, None);
    }

    #[test]
    fn q_searches_title_description_and_tags_case_insensitively() {
        let p = page(sample(), &query(&[("q", "APP")]), now(), chrono_tz::UTC);
        assert_eq!(ids(&p), ["b"]);
        let p = page(sample(), &query(&[("q", "wor")]), now(), chrono_tz::UTC);
        assert_eq!(p.tasks.len(), 4);
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let err = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let e = ListQuery::parse(&pairs).unwrap_err();
            (e.status, e.field.unwrap_or_default())
        };
        assert_eq!(err(&[("limit", "0")]), (400, "limit".into()));
        assert_eq!(err(&[("limit", "201")]), (400, "limit".into()));
        assert_eq!(err(&[("sort", "colour")]), (400, "sort".into()));
        assert_eq!(err(&[("sort", "due,-due")]), (400, "sort".into()));
        assert_eq!(err(&[("cursor", "zzz")]), (400, "cursor".into()));
        assert_eq!(err(&[("colour", "x")]), (400, "colour".into()));
        assert_eq!(err(&[("filter", "status:")]).0, 422);
    }
}
