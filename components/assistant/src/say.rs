//! How the assistant words tasks and changes.

use chrono::{NaiveDate, NaiveTime};
use serde_json::Value;

use crate::resolve::title;

pub fn quote(s: &str) -> String {
    format!("\u{201c}{s}\u{201d}")
}

/// "a", "a and b", "a, b and c".
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

pub fn date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

pub fn time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// "due Fri 4 Dec 2026 17:00" from a task's `due`, or "no due date".
pub fn due_of(task: &Value) -> String {
    let due = &task["due"];
    let Some(d) = due["date"]
        .as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return "no due date".into();
    };
    match due["time"].as_str() {
        Some(t) => format!("due {} {}", date(d), &t[..t.len().min(5)]),
        None => format!("due {}", date(d)),
    }
}

/// One line describing a task: title, due, priority, tags, repeat.
pub fn line(task: &Value) -> String {
    let mut parts = vec![quote(title(task))];
    if !task["due"].is_null() {
        parts.push(due_of(task));
    }
    if let Some(p) = task["priority"].as_str().filter(|p| *p != "none") {
        parts.push(format!("{p} priority"));
    }
    if let Some(tags) = task["tags"].as_array().filter(|t| !t.is_empty()) {
        let tags: Vec<String> = tags
            .iter()
            .filter_map(Value::as_str)
            .map(|t| format!("#{t}"))
            .collect();
        parts.push(tags.join(" "));
    }
    if let Some(text) = task["recurrence"]["text"].as_str() {
        parts.push(format!("repeats {}", lower_first(text)));
    }
    if task["status"] == "completed" {
        parts.push("done".into());
    }
    parts.join(", ")
}

pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A numbered list of tasks.
pub fn numbered(tasks: &[&Value]) -> String {
    tasks
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{}. {}", i + 1, line(t)))
        .collect::<Vec<_>>()
        .join("\n")
}

pub const HELP: &str = "I manage your task list. Try:\n\
    - \u{201c}add call mom tomorrow at 5pm, remind me 30 minutes before\u{201d}\n\
    - \u{201c}water the plants every 2 weeks on Tuesday #home\u{201d}\n\
    - \u{201c}what's due this week?\u{201d}, \u{201c}what's overdue?\u{201d}, \u{201c}show my high priority work tasks\u{201d}\n\
    - \u{201c}move the dentist to Thursday\u{201d}, \u{201c}make it urgent\u{201d}, \u{201c}rename X to Y\u{201d}\n\
    - \u{201c}complete the report\u{201d}, \u{201c}reopen it\u{201d}, \u{201c}delete number 2\u{201d}";
