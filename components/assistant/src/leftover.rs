//! Words left in a new task's title that look like a date, a time, a
//! span, a repeat or a priority. The reader placed none of them, so the
//! assistant asks about them instead of creating "Pay rent 5 days hence"
//! with no due date and saying nothing.

use serde_json::{Value, json};

use crate::dialogue::{self, Awaiting, Memory, Pending, Turn, World};
use crate::draft::{Claims, Draft};
use crate::when::weekday;
use crate::words::{Word, number};
use crate::{plan, say};

/// Day names whose word has another common meaning ("may", "march",
/// "sat", "sun", "wed") are left out: a title may hold them.
fn names_a_day(w: &str) -> bool {
    const DAYS: [&str; 11] = [
        "today",
        "tomorrow",
        "tonight",
        "tmrw",
        "tmr",
        "yesterday",
        "noon",
        "midnight",
        "weekend",
        "eod",
        "fortnight",
    ];
    const MONTHS: [&str; 10] = [
        "january",
        "february",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    DAYS.contains(&w)
        || MONTHS.contains(&w)
        || weekday(w).is_some() && !matches!(w, "sat" | "sun" | "wed")
}

/// "5pm", "5:30", "1230pm", "8/10", "2027-08-10".
fn is_clock_or_date(w: &str) -> bool {
    let starts_digit = w.starts_with(|c: char| c.is_ascii_digit());
    let tail = w.trim_start_matches(|c: char| c.is_ascii_digit() || c == ':' || c == '.');
    starts_digit
        && (matches!(tail, "am" | "pm" | "a" | "p")
            || w.contains(':')
            || w.contains('/')
                && w.split('/')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

fn is_unit(w: &str) -> bool {
    matches!(
        w,
        "minute"
            | "minutes"
            | "min"
            | "mins"
            | "hour"
            | "hours"
            | "hr"
            | "hrs"
            | "day"
            | "days"
            | "week"
            | "weeks"
            | "month"
            | "months"
            | "year"
            | "years"
            | "fortnights"
    )
}

fn is_repeat(w: &str) -> bool {
    matches!(
        w,
        "every"
            | "daily"
            | "weekly"
            | "monthly"
            | "yearly"
            | "annually"
            | "fortnightly"
            | "biweekly"
            | "hourly"
    )
}

fn is_priority(w: &str) -> bool {
    matches!(w, "p1" | "p2" | "p3" | "p4")
}

/// Indexes of the unclaimed words from `from` on that look like what the
/// reader reads; `rule_read`: a repeat was read (then "weekly" in "weekly
/// review" is the title's).
pub fn unplaced(words: &[Word], claims: &Claims, from: usize, rule_read: bool) -> Vec<usize> {
    let free = |i: usize| i >= from && claims.free(i, i + 1);
    let mut out = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if !free(i) {
            continue;
        }
        let w = word.text.as_str();
        let after_number = i > 0 && free(i - 1) && number(&words[i - 1].text).is_some();
        let next_meridiem = words
            .get(i + 1)
            .is_some_and(|n| matches!(n.text.as_str(), "am" | "pm"));
        let hit = names_a_day(w)
            || is_clock_or_date(w)
            || is_unit(w) && after_number
            || !rule_read && is_repeat(w)
            || is_priority(w)
            || w.bytes().all(|b| b.is_ascii_digit()) && next_meridiem;
        if hit {
            if is_unit(w) && after_number && out.last() != Some(&(i - 1)) {
                out.push(i - 1);
            }
            out.push(i);
            if next_meridiem && !is_clock_or_date(w) {
                out.push(i + 1);
            }
        }
    }
    out.dedup();
    out
}

/// The words at `indexes` as the user wrote them, runs joined by spaces.
pub fn phrases(original: &str, words: &[Word], indexes: &[usize]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut last: Option<usize> = None;
    for &i in indexes {
        let text = &original[words[i].start..words[i].end];
        match (last, out.last_mut()) {
            (Some(l), Some(run)) if l + 1 == i => {
                run.push(' ');
                run.push_str(text);
            }
            _ => out.push(text.to_owned()),
        }
        last = Some(i);
    }
    out
}

/// Asks about the words of a new task's title that look like a date,
/// time or repeat it could not read.
pub fn ask(draft: &Draft, arguments: Value, mut memory: Memory) -> Turn {
    let words: Vec<String> = draft.unplaced.iter().map(|w| say::quote(w)).collect();
    let reply = format!(
        "I couldn't read {} as a date, time or repeat, so I haven't added the task yet. When is it due? Or say \u{201c}keep\u{201d} to add it with those words in its title.",
        say::list(&words)
    );
    memory.pending = Some(Pending::Unplaced {
        arguments,
        without: draft.title_without_unplaced.clone(),
    });
    Turn {
        calls: Vec::new(),
        after: None,
        reply,
        awaiting: Some(Awaiting::Detail),
        options: Vec::new(),
        memory,
    }
}

/// The answer to [`ask`]: "keep" adds the task as written; a
/// date or time becomes its due, and the words asked about leave the
/// title. Anything else is a new request.
pub fn answer(
    message: &str,
    mut arguments: Value,
    without: Option<String>,
    memory: &Memory,
    world: &World,
) -> Option<Turn> {
    let memory = Memory {
        pending: None,
        ..memory.clone()
    };
    let said = message.trim().trim_end_matches(['.', '!']).to_lowercase();
    if matches!(
        said.as_str(),
        "keep" | "keep it" | "keep them" | "as is" | "keep as is" | "leave it" | "no"
    ) {
        return Some(dialogue::add_or_confirm(arguments, memory, world));
    }
    let w = crate::words::words(message);
    let found = crate::when::find(&w, 0, w.len(), &world.clock)?;
    arguments["due"] = plan::due_json(found.value.date, found.value.time, None);
    if let Some(title) = without {
        arguments["title"] = json!(title);
    }
    Some(dialogue::add_or_confirm(arguments, memory, world))
}
