//! What an "add" request says about the new task: title, due, priority,
//! tags, reminders and recurrence, each found as a span of words; the
//! words no span claimed are the title, in the user's own spelling.

use crate::labels::{find_priority, find_tags};
use crate::leftover;
use crate::remind::{self, Remind};
use crate::repeat;
use crate::when::{self, Clock, When};
use crate::words::Word;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    pub title: Option<String>,
    pub due: Option<When>,
    pub priority: Option<&'static str>,
    pub tags: Vec<String>,
    pub remind: Option<Remind>,
    pub rrule: Option<String>,
    /// Words left in the title that look like a date, time, span, repeat
    /// or priority the reader did not place (see [`crate::leftover`]).
    pub unplaced: Vec<String>,
    /// The title without them.
    pub title_without_unplaced: Option<String>,
}

/// Which words a span has claimed.
pub struct Claims(Vec<bool>);

impl Claims {
    pub fn new(n: usize) -> Self {
        Claims(vec![false; n])
    }

    pub fn free(&self, from: usize, to: usize) -> bool {
        let end = to.min(self.0.len());
        self.0[from.min(end)..end].iter().all(|c| !c)
    }

    pub fn take(&mut self, from: usize, to: usize) {
        let end = to.min(self.0.len());
        self.0[from.min(end)..end]
            .iter_mut()
            .for_each(|c| *c = true);
    }

    /// Runs of unclaimed words.
    pub fn runs(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, claimed) in self.0.iter().chain([&true]).enumerate() {
            match (claimed, start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    out.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }
}

/// Words around a title that are not part of it.
const LEADING: [&str; 9] = [
    "to", "a", "an", "task", "todo", "called", "named", "titled", "that",
];
const TRAILING: [&str; 10] = [
    "and", "due", "on", "at", "by", "for", "with", "to", "which", "that",
];

/// The unclaimed words from `from` on, as a title: the user's spelling,
/// without connecting words at either end or "to my list".
pub fn title_of(original: &str, words: &[Word], claims: &Claims, from: usize) -> Option<String> {
    let kept: Vec<usize> = claims
        .runs()
        .into_iter()
        .flat_map(|(a, b)| a..b)
        .filter(|i| *i >= from)
        .collect();
    let mut kept: &[usize] = &kept;
    while let Some((first, rest)) = kept.split_first() {
        if LEADING.contains(&words[*first].text.as_str()) {
            kept = rest;
        } else {
            break;
        }
    }
    let mut kept = kept.to_vec();
    // "... to my list", "... on my todo list"
    if let [.., a, b, c] = kept.as_slice()
        && matches!(words[*a].text.as_str(), "to" | "on" | "in")
        && matches!(words[*b].text.as_str(), "my" | "the")
        && matches!(words[*c].text.as_str(), "list" | "todos" | "tasks")
    {
        kept.truncate(kept.len() - 3);
    }
    if let [.., a, b, c, d] = kept.as_slice()
        && matches!(words[*a].text.as_str(), "to" | "on" | "in")
        && matches!(words[*b].text.as_str(), "my" | "the")
        && matches!(words[*c].text.as_str(), "todo" | "to-do" | "task")
        && words[*d].text == "list"
    {
        kept.truncate(kept.len() - 4);
    }
    while let Some(last) = kept.last() {
        if TRAILING.contains(&words[*last].text.as_str()) {
            kept.pop();
        } else {
            break;
        }
    }
    let parts: Vec<&str> = kept
        .iter()
        .map(|i| &original[words[*i].start..words[*i].end])
        .collect();
    let title = parts.join(" ");
    let title = title.trim_matches(|c: char| c == ',' || c == ':' || c.is_whitespace());
    (!title.is_empty()).then(|| title.to_owned())
}

/// Reads a new task from `words[from..]` of `original`.
pub fn read(original: &str, words: &[Word], from: usize, clock: &Clock) -> Draft {
    let mut claims = Claims::new(words.len());
    claims.take(0, from);
    let mut draft = Draft::default();
    if let Some(f) = repeat::find(words, clock).filter(|f| f.start >= from) {
        claims.take(f.start, f.end);
        let mut rule = f.value.rrule;
        // An end given apart from the rule, before the date reader can
        // take it for the due: "at 7am until the end of March".
        if !repeat::has_end(&rule)
            && let Some(e) = repeat::find_end(words, clock)
                .filter(|e| e.start >= from && claims.free(e.start, e.end))
        {
            claims.take(e.start, e.end);
            repeat::apply_end(&mut rule, e.value, clock);
        }
        draft.rrule = Some(rule);
    }
    if let Some(f) =
        remind::find(words, clock).filter(|f| f.start >= from && claims.free(f.start, f.end))
    {
        claims.take(f.start, f.end);
        draft.remind = Some(f.value);
    }
    for f in find_tags(words) {
        if f.start >= from && claims.free(f.start, f.end) {
            claims.take(f.start, f.end);
            draft.tags.extend(f.value);
        }
    }
    if let Some(f) = find_priority(words, from).filter(|f| claims.free(f.start, f.end)) {
        claims.take(f.start, f.end);
        draft.priority = Some(f.value);
    }
    for (a, b) in claims.runs() {
        if let Some(f) = when::find(words, a, b, clock) {
            claims.take(f.start, f.end);
            draft.due = Some(f.value);
            break;
        }
    }
    draft.title = title_of(original, words, &claims, from);
    let unplaced = leftover::unplaced(words, &claims, from, draft.rrule.is_some());
    if !unplaced.is_empty() {
        draft.unplaced = leftover::phrases(original, words, &unplaced);
        for i in unplaced {
            claims.take(i, i + 1);
        }
        draft.title_without_unplaced = title_of(original, words, &claims, from);
    }
    draft
}
