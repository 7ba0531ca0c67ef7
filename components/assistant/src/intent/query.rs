//! List requests: filter language terms, free text and sort from "what's
//! due this week?", "show my high priority work tasks", "find dentist".

use super::{Query, at, position_of};
use crate::labels::{find_tags, level};
use crate::words::{Word, words};

/// Reads a list request from words `i..`.
pub(super) fn query(text: &str, w: &[Word], i: usize) -> Query {
    let mut q = Query::default();
    let all: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
    let has = |s: &str| all.contains(&s);
    let pair = |a: &str, b: &str| all.windows(2).any(|p| p[0] == a && p[1] == b);
    // Free text: "find X", "search for X", "about X", "called X".
    let text_from = match (at(w, i), at(w, i + 1)) {
        ("find" | "search", "for") => Some(i + 2),
        ("find" | "search", "tasks" | "task")
            if matches!(at(w, i + 2), "about" | "with" | "mentioning" | "containing") =>
        {
            Some(i + 3)
        }
        ("find" | "search", _) => Some(i + 1),
        _ => position_of(
            w,
            i,
            &[
                "about",
                "mentioning",
                "containing",
                "called",
                "named",
                "matching",
            ],
        )
        .map(|k| k + 1),
    };
    if let Some(from) = text_from {
        let t = crate::words::span(text, w, from, w.len()).trim().to_owned();
        if !t.is_empty() {
            q.text = Some(t);
        }
        return q;
    }
    let completed = has("completed") || has("done") || has("finished");
    if completed {
        q.filter.push("status:completed".into());
    } else if !(has("all") || has("everything")) || has("due") || has("overdue") {
        q.filter.push("status:open".into());
    }
    let due = if has("overdue") || has("late") || pair("past", "due") {
        Some("due:overdue")
    } else if has("today") || has("tonight") {
        Some("due:today")
    } else if has("tomorrow") {
        Some("due:tomorrow")
    } else if pair("this", "week") {
        Some("due:this-week")
    } else if pair("next", "week") || pair("7", "days") || pair("seven", "days") {
        Some("due<7d")
    } else if pair("no", "due") || pair("no", "date") || pair("without", "a") {
        Some("due:none")
    } else {
        None
    };
    if let Some(d) = due {
        q.filter.push(d.into());
        q.sort = Some("due");
    }
    for (k, word) in all.iter().enumerate().skip(i) {
        if let Some(p) = level(word).filter(|_| {
            matches!(*word, "urgent" | "important" | "p1" | "p2" | "p3" | "p4")
                || matches!(all.get(k + 1), Some(&"priority") | Some(&"prio"))
        }) {
            q.filter.push(format!("priority:{p}"));
            break;
        }
    }
    for f in find_tags(w) {
        for t in f.value {
            q.filter.push(format!("tag:{t}"));
        }
    }
    if has("recurring") || has("repeating") {
        q.filter.push("is:recurring".into());
    }
    if pair("with", "reminders") || pair("with", "a") && has("reminder") {
        q.filter.push("has:reminder".into());
    }
    if pair("by", "priority") {
        q.sort = Some("-priority");
    } else if pair("by", "date") || pair("by", "due") {
        q.sort = Some("due");
    }
    q
}

/// Words of a list request that may name a tag the user has ("work" in
/// "show my work tasks"): those not known to the grammar.
pub fn tag_words(text: &str) -> Vec<String> {
    const KNOWN: [&str; 40] = [
        "show",
        "list",
        "what",
        "what's",
        "whats",
        "which",
        "my",
        "me",
        "the",
        "all",
        "tasks",
        "task",
        "todos",
        "is",
        "are",
        "due",
        "this",
        "week",
        "today",
        "tomorrow",
        "overdue",
        "high",
        "low",
        "medium",
        "urgent",
        "priority",
        "open",
        "completed",
        "done",
        "do",
        "i",
        "have",
        "any",
        "anything",
        "everything",
        "for",
        "with",
        "and",
        "of",
        "important",
    ];
    words(text)
        .into_iter()
        .map(|w| w.text)
        .filter(|t| !KNOWN.contains(&t.as_str()) && !t.starts_with('#'))
        .collect()
}
