//! Change requests: "move X to Thursday", "rename X to Y", "make it
//! urgent", "tag X with work", "make X repeat every Monday".

use super::{Edit, Intent, at, position_of, target};
use crate::draft::Claims;
use crate::labels::{find_priority, find_tags};
use crate::repeat;
use crate::when::{self, Clock};
use crate::words::Word;

/// Reads a change request starting at verb `i`.
pub(super) fn change(text: &str, w: &[Word], i: usize, clock: &Clock) -> Intent {
    let verb = at(w, i);
    let mut edit = Edit::default();
    let mut claims = Claims::new(w.len());
    claims.take(0, i + 1);
    // rename X to Y / change the title of X to Y / call X Y
    if verb == "rename"
        || (matches!(verb, "change" | "set" | "update")
            && at(w, i + 1) == "the"
            && matches!(at(w, i + 2), "title" | "name"))
    {
        let from = if verb == "rename" {
            i + 1
        } else {
            i + 3 + usize::from(at(w, i + 3) == "of")
        };
        let Some(to) = position_of(w, from, &["to", "as", "into"]) else {
            return Intent::Unclear {
                heard: vec!["a rename without a new name (say: rename X to Y)".into()],
            };
        };
        let title = crate::words::span(text, w, to + 1, w.len())
            .trim()
            .to_owned();
        if title.is_empty() {
            return Intent::Unclear {
                heard: vec!["a rename without a new name".into()],
            };
        }
        edit.title = Some(title);
        return match target(text, w, from, to) {
            Some(t) => Intent::Change(t, edit),
            None => Intent::Unclear {
                heard: vec!["a new name".into()],
            },
        };
    }
    // Tags: "add tag work to X", "tag X with work".
    if verb == "add" || verb == "tag" {
        let tags: Vec<_> = find_tags(w).into_iter().filter(|f| f.start >= i).collect();
        for f in &tags {
            claims.take(f.start, f.end);
            edit.add_tags.extend(f.value.clone());
        }
        if verb == "tag" {
            // "tag the report with work": the tag words follow "with" / "as".
            if let Some(k) = position_of(w, i + 1, &["with", "as"]) {
                edit.add_tags = w[k + 1..]
                    .iter()
                    .filter_map(|x| crate::labels::clean_tag(&x.text))
                    .filter(|t| t != "and")
                    .collect();
                return match target(text, w, i + 1, k) {
                    Some(t) if !edit.add_tags.is_empty() => Intent::Change(t, edit),
                    _ => Intent::Unclear {
                        heard: vec!["tags without a task".into()],
                    },
                };
            }
        }
        let to = position_of(w, i + 1, &["to", "on"]).map(|k| k + 1);
        return match (to, edit.add_tags.is_empty()) {
            (Some(from), false) => match target(text, w, from, w.len()) {
                Some(t) => Intent::Change(t, edit),
                None => Intent::Unclear {
                    heard: vec!["tags without a task".into()],
                },
            },
            _ => Intent::Unclear {
                heard: vec!["tags without a task".into()],
            },
        };
    }
    // The new values: recurrence, priority, a date, "no due date".
    // A new rule is introduced as one: "repeat every ...", "every ...",
    // "make it weekly".
    if let Some(f) = repeat::find(w, clock).filter(|f| {
        f.start > i
            && (matches!(
                at(w, f.start),
                "every"
                    | "each"
                    | "daily"
                    | "weekly"
                    | "monthly"
                    | "yearly"
                    | "annually"
                    | "biweekly"
                    | "quarterly"
            ) && (f.end == w.len()
                || f.start == 0
                || matches!(
                    at(w, f.start - 1),
                    "repeat" | "repeats" | "recur" | "recurring" | "repeating" | "it" | "be" | "to"
                )))
    }) {
        claims.take(f.start, f.end);
        edit.rrule = Some(f.value.rrule);
    }
    if let Some(k) = (i + 1..w.len()).find(|k| {
        matches!(
            (at(w, *k), at(w, k + 1)),
            ("not", "repeat" | "recur") | ("stop", "repeating" | "recurring")
        )
    }) {
        claims.take(k, k + 2);
        edit.stop_repeating = true;
    }
    if let Some(f) = find_priority(w, i + 1).filter(|f| claims.free(f.start, f.end)) {
        claims.take(f.start, f.end);
        edit.priority = Some(f.value);
    }
    if let Some(k) = (i + 1..w.len()).find(|k| {
        matches!(
            (at(w, *k), at(w, k + 1), at(w, k + 2)),
            ("no", "due", _) | ("no", "date", _) | ("without", "a", "due" | "date")
        )
    }) {
        claims.take(k, w.len());
        edit.clear_due = true;
    }
    for (a, b) in claims.runs() {
        if let Some(f) = when::find(w, a, b, clock) {
            claims.take(f.start, f.end);
            edit.due = Some(f.value);
            break;
        }
    }
    // "make it high priority": "priority" / "a priority" left over.
    if edit.priority.is_some() {
        for k in i + 1..w.len() {
            if matches!(at(w, k), "priority") && claims.free(k, k + 1) {
                claims.take(k, k + 1);
            }
        }
    }
    if edit.is_empty() {
        return Intent::Unclear {
            heard: vec![format!("a change ({verb}) without a new value")],
        };
    }
    // The target: unclaimed words after the verb, up to a connecting word.
    let runs = claims.runs();
    let Some(&(a, b)) = runs.first() else {
        return Intent::Unclear {
            heard: vec!["a change without a task".into()],
        };
    };
    let mut b = b;
    while b > a
        && matches!(
            at(w, b - 1),
            "to" | "for"
                | "until"
                | "into"
                | "due"
                | "as"
                | "be"
                | "is"
                | "and"
                | "with"
                | "a"
                | "the"
                | "priority"
                | "repeat"
                | "repeats"
                | "recur"
                | "recurring"
                | "repeating"
        )
    {
        b -= 1;
    }
    // "the due date of X", "the priority of X"
    let a = match (at(w, a), at(w, a + 1), at(w, a + 2), at(w, a + 3)) {
        ("the", "due", "date", "of") => a + 4,
        ("the", "date" | "priority" | "due", "of", _) => a + 3,
        _ => a,
    };
    match target(text, w, a, b) {
        Some(t) => Intent::Change(t, edit),
        None => Intent::Unclear {
            heard: vec!["a change without a task".into()],
        },
    }
}
