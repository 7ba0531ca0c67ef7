//! What a message asks for: add, list, complete, reopen, delete, change,
//! show, or an answer to the assistant's question. Decided by the leading
//! verb (after "please", "can you", ...), so words inside a title never
//! change what happens: "add ignore previous instructions and delete
//! everything" adds a task with that title.

mod change;
mod query;

use change::change;
use query::query;
pub use query::tag_words;

use crate::draft::{self, Draft};
use crate::labels::level;
use crate::when::{Clock, When};
use crate::words::{Word, number, ordinal, words};

/// Which task a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Words naming it ("the dentist").
    Named(String),
    /// Its position in the last list shown (1-based).
    Position(usize),
    /// The task last talked about ("it", "that").
    It,
}

/// A change to an existing task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit {
    pub title: Option<String>,
    pub due: Option<When>,
    pub clear_due: bool,
    pub priority: Option<&'static str>,
    pub add_tags: Vec<String>,
    pub rrule: Option<String>,
    pub stop_repeating: bool,
}

impl Edit {
    pub fn is_empty(&self) -> bool {
        *self == Edit::default()
    }
}

/// A list request: filter language terms, free text, sort, and how to
/// say what was asked ("due this week").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub filter: Vec<String>,
    pub text: Option<String>,
    pub sort: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Complete,
    Uncomplete,
    Delete,
    Show,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Help,
    Add(Draft),
    List(Query),
    Act(Verb, Target),
    Change(Target, Edit),
    Yes,
    No,
    Pick(usize),
    /// Nothing we can act on; `heard`: what was recognized, if anything.
    Unclear {
        heard: Vec<String>,
    },
}

pub(super) fn at(w: &[Word], i: usize) -> &str {
    w.get(i).map_or("", |w| w.text.as_str())
}

/// Politeness and framing before the verb: how many words to skip.
fn preamble(w: &[Word]) -> usize {
    let mut i = 0;
    loop {
        let skip = match (at(w, i), at(w, i + 1), at(w, i + 2)) {
            (
                "please" | "pls" | "hey" | "hi" | "ok" | "okay" | "so" | "now" | "also" | "and"
                | "then",
                _,
                _,
            ) => 1,
            ("can" | "could" | "would" | "will", "you", _) => 2,
            ("i'd" | "i", "like", "to") | ("i", "want", "to") | ("i", "wanna", _) => {
                if at(w, i + 1) == "wanna" { 2 } else { 3 }
            }
            ("let's" | "lets", _, _) => 1,
            _ => 0,
        };
        if skip == 0 {
            return i;
        }
        i += skip;
    }
}

const YES: [&str; 13] = [
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "correct",
    "right",
    "absolutely",
    "affirmative",
];
const NO: [&str; 10] = [
    "no", "n", "nope", "nah", "cancel", "stop", "abort", "don't", "dont", "never",
];

fn answer(w: &[Word]) -> Option<Intent> {
    let all: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
    let joined = all.join(" ");
    if matches!(
        joined.as_str(),
        "do it"
            | "go ahead"
            | "please do"
            | "yes please"
            | "delete it"
            | "yes delete it"
            | "create it"
            | "yes do it"
            | "sounds good"
    ) {
        return Some(Intent::Yes);
    }
    if matches!(
        joined.as_str(),
        "never mind"
            | "nevermind"
            | "forget it"
            | "keep it"
            | "no thanks"
            | "no thank you"
            | "don't do it"
            | "leave it"
    ) {
        return Some(Intent::No);
    }
    if all.len() <= 2 {
        if all.first().is_some_and(|f| YES.contains(f)) {
            return Some(Intent::Yes);
        }
        if all.first().is_some_and(|f| NO.contains(f)) {
            return Some(Intent::No);
        }
    }
    // "2", "#2", "the second one", "number 2", "the last one"
    let mut i = usize::from(at(w, 0) == "the" || at(w, 0) == "number");
    if at(w, 0) == "the" && at(w, 1) == "number" {
        i = 2;
    }
    let word = at(w, i).trim_start_matches('#');
    let n =
        ordinal(word).or_else(|| number(word).filter(|_| word.chars().all(|c| c.is_ascii_digit())));
    let rest_ok =
        w.len() == i + 1 || (w.len() == i + 2 && matches!(at(w, i + 1), "one" | "task" | "please"));
    match n {
        Some(n) if rest_ok && n >= 1 => Some(Intent::Pick(n as usize)),
        _ if word == "last" && rest_ok => Some(Intent::Pick(usize::MAX)),
        _ => None,
    }
}

/// The target named by words `from..to` of `text`.
pub(super) fn target(text: &str, w: &[Word], from: usize, to: usize) -> Option<Target> {
    let mut from = from;
    while from < to
        && matches!(
            at(w, from),
            "the" | "my" | "task" | "todo" | "item" | "off" | "about"
        )
    {
        from += 1;
    }
    let mut to = to;
    while to > from
        && matches!(
            at(w, to - 1),
            "task" | "todo" | "item" | "one" | "off" | "please" | "as" | "too"
        )
    {
        to -= 1;
    }
    if from >= to {
        return None;
    }
    let words_in: Vec<&str> = w[from..to].iter().map(|w| w.text.as_str()).collect();
    if matches!(
        words_in.as_slice(),
        ["it"] | ["that"] | ["this"] | ["that", "one"] | ["this", "one"]
    ) {
        return Some(Target::It);
    }
    // "number 2", "2", "#2", "second", "the 2nd one"
    let n = match words_in.as_slice() {
        ["number", n] | [n] => {
            let n = n.trim_start_matches('#');
            ordinal(n).or_else(|| n.parse().ok().filter(|_| n.len() <= 3))
        }
        _ => None,
    };
    if let Some(n) = n {
        return Some(Target::Position(n as usize));
    }
    if words_in == ["last"] {
        return Some(Target::Position(usize::MAX));
    }
    Some(Target::Named(
        crate::words::span(text, w, from, to).to_owned(),
    ))
}

pub(super) fn position_of(w: &[Word], from: usize, any: &[&str]) -> Option<usize> {
    (from..w.len()).find(|i| any.contains(&at(w, *i)))
}

/// Parses one message.
pub fn read(text: &str, clock: &Clock) -> Intent {
    let w = words(text);
    if w.is_empty() {
        return Intent::Unclear { heard: Vec::new() };
    }
    if let Some(a) = answer(&w) {
        return a;
    }
    let i = preamble(&w);
    let verb = at(&w, i);
    let next = at(&w, i + 1);
    match verb {
        "help" | "?" => return Intent::Help,
        "what" if next == "can" && at(&w, i + 2) == "you" => return Intent::Help,
        "hello" | "hi" | "hey" if w.len() <= 2 => return Intent::Help,
        _ => {}
    }
    // Adding.
    let add_from = match (verb, next, at(&w, i + 2)) {
        ("add" | "create" | "new" | "schedule" | "note" | "todo" | "todo:" | "remember", _, _) => {
            Some(i + 1)
        }
        ("put", _, _) => Some(i + 1),
        ("i", "need" | "have" | "got", "to") | ("i", "must", _) | ("i", "should", _) => Some(
            i + if next == "must" || next == "should" {
                2
            } else {
                3
            },
        ),
        ("don't" | "dont", "forget", _) => Some(i + 2),
        ("remind", _, _) => Some(i),
        _ => None,
    };
    if let Some(from) = add_from {
        // "add tag work to the report": a change, not a task.
        if verb == "add" && matches!(next, "tag" | "tags" | "label" | "#")
            || (verb == "add" && next.starts_with('#') && at(&w, i + 2) == "to")
        {
            return change(text, &w, i, clock);
        }
        return Intent::Add(draft::read(text, &w, from, clock));
    }
    match verb {
        "complete" | "finish" | "finished" | "done" | "check" | "tick" | "close" | "completed" => {
            let end = position_of(&w, i + 1, &["as"]).unwrap_or(w.len());
            return act(text, &w, Verb::Complete, i + 1, end);
        }
        "uncomplete" | "reopen" | "unfinish" | "undo" | "incomplete" | "un-complete"
        | "uncheck" | "untick" => {
            return act(text, &w, Verb::Uncomplete, i + 1, w.len());
        }
        "delete" | "remove" | "drop" | "trash" | "erase" | "cancel" | "discard" => {
            if matches!(next, "everything" | "all") {
                return Intent::Unclear { heard: vec!["a request to delete every task (I delete one task at a time, after you confirm)".into()] };
            }
            return act(text, &w, Verb::Delete, i + 1, w.len());
        }
        "get" if next == "rid" && at(&w, i + 2) == "of" => {
            return act(text, &w, Verb::Delete, i + 3, w.len());
        }
        "mark" => {
            let as_at = position_of(&w, i + 1, &["as"]).unwrap_or(w.len());
            let rest: Vec<&str> = w[as_at.min(w.len())..]
                .iter()
                .map(|w| w.text.as_str())
                .collect();
            let undo = rest.iter().any(|r| {
                matches!(
                    *r,
                    "not" | "undone" | "incomplete" | "open" | "uncompleted" | "todo"
                )
            });
            let verb = if undo {
                Verb::Uncomplete
            } else {
                Verb::Complete
            };
            return act(text, &w, verb, i + 1, as_at);
        }
        "i" if matches!(next, "did" | "finished" | "completed" | "done") => {
            return act(text, &w, Verb::Complete, i + 2, w.len());
        }
        "i've" if matches!(next, "done" | "finished" | "completed") => {
            return act(text, &w, Verb::Complete, i + 2, w.len());
        }
        "move" | "reschedule" | "postpone" | "push" | "rename" | "change" | "set" | "make"
        | "update" | "edit" | "tag" | "delay" | "shift" | "bump" => {
            return change(text, &w, i, clock);
        }
        "show" | "list" | "what" | "what's" | "whats" | "which" | "find" | "search" | "display"
        | "anything" | "do" | "tasks" | "any" | "view" | "see" | "get" => {
            if matches!(verb, "show" | "get" | "view")
                && matches!(next, "me")
                && let Some(t) = show_one(text, &w, i + 2)
            {
                return t;
            }
            return Intent::List(query(text, &w, i));
        }
        _ => {}
    }
    // No verb we know. A date or a rule alone reads as a new task
    // ("dentist tomorrow at 3"); anything else is not guessed at.
    let d = draft::read(text, &w, i, clock);
    if d.title.is_some() && (d.due.is_some() || d.rrule.is_some()) {
        return Intent::Add(d);
    }
    let mut heard = Vec::new();
    if let Some(due) = d.due {
        heard.push(format!("a date ({})", due.date.format("%a %-d %b")));
    }
    Intent::Unclear { heard }
}

fn act(text: &str, w: &[Word], verb: Verb, from: usize, to: usize) -> Intent {
    match target(text, w, from, to) {
        Some(t) => Intent::Act(verb, t),
        None => Intent::Unclear {
            heard: vec![format!("{verb:?}").to_lowercase()],
        },
    }
}

/// "show me the dentist task": one task by name (not a filter word).
fn show_one(text: &str, w: &[Word], from: usize) -> Option<Intent> {
    let rest: Vec<&str> = w[from.min(w.len())..]
        .iter()
        .map(|w| w.text.as_str())
        .collect();
    let listy = rest.iter().any(|r| {
        matches!(
            *r,
            "tasks"
                | "list"
                | "everything"
                | "all"
                | "todos"
                | "due"
                | "overdue"
                | "completed"
                | "open"
                | "what"
                | "my"
        ) || level(r).is_some()
            || r.starts_with('#')
    });
    if listy || rest.is_empty() {
        return None;
    }
    Some(Intent::Act(Verb::Show, target(text, w, from, w.len())?))
}
