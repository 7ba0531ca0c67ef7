//! Recurrence in a request, as an RFC 5545 RRULE: "every weekday", "every
//! 2 weeks on Tuesday", "on the 1st of every month", "last Friday of every
//! month", "daily", with "until June" (a month alone means its first day)
//! and "10 times".

use chrono::Weekday;

use crate::when::{Clock, Found, month, weekday};
use crate::words::{Word, number, ordinal};

/// A rule found in the words: the RRULE (no DTSTART: the due is the start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    pub rrule: String,
}

fn at(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

fn code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// Weekdays listed from word `i` ("monday, wednesday and friday"): codes
/// and length.
fn weekdays(words: &[Word], i: usize) -> Option<(Vec<&'static str>, usize)> {
    let mut days = Vec::new();
    let mut j = i;
    loop {
        let w = at(words, j);
        if let Some(d) = weekday(w) {
            days.push(code(d));
            j += 1;
        } else if matches!(w, "weekday" | "weekdays" | "workday" | "workdays") {
            days.extend(["MO", "TU", "WE", "TH", "FR"]);
            j += 1;
        } else if matches!(w, "weekend" | "weekends") {
            days.extend(["SA", "SU"]);
            j += 1;
        } else {
            break;
        }
        if matches!(at(words, j), "and" | "&" | "or") && weekday(at(words, j + 1)).is_some() {
            j += 1;
        }
    }
    (!days.is_empty()).then_some((days, j - i))
}

fn every(w: &str) -> bool {
    matches!(w, "every" | "each")
}

/// A rule's unit: its frequency and how many of it one unit is ("every
/// quarter": 3 months).
fn unit(w: &str) -> Option<(&'static str, u32)> {
    Some(match w.trim_end_matches('s') {
        "day" => ("DAILY", 1),
        "week" => ("WEEKLY", 1),
        "fortnight" => ("WEEKLY", 2),
        "month" => ("MONTHLY", 1),
        "quarter" => ("MONTHLY", 3),
        "year" => ("YEARLY", 1),
        _ => return None,
    })
}

/// Months listed from word `i` ("jan apr jul and oct", "january and
/// july"): numbers and length. "may" and "march" count only inside a
/// list of two or more.
fn months(words: &[Word], i: usize) -> Option<(Vec<u32>, usize)> {
    let mut list = Vec::new();
    let mut j = i;
    while let Some(m) = month(at(words, j)) {
        list.push(m);
        j += 1;
        if matches!(at(words, j), "and" | "&") && month(at(words, j + 1)).is_some() {
            j += 1;
        }
    }
    (!list.is_empty()).then_some((list, j - i))
}

fn by_month(list: &[u32]) -> String {
    let parts: Vec<String> = list.iter().map(u32::to_string).collect();
    parts.join(",")
}

/// `<ordinal|last> <weekday> of (every|each|the) month`, at word `i`.
fn nth_weekday_of_month(words: &[Word], i: usize) -> Option<(String, usize)> {
    let (skip, w) = if at(words, i) == "the" {
        (1, at(words, i + 1))
    } else {
        (0, at(words, i))
    };
    let n: i32 = match w {
        "last" => -1,
        "second-to-last" => -2,
        _ => i32::try_from(ordinal(w).filter(|n| *n <= 5)?).ok()?,
    };
    let day = weekday(at(words, i + skip + 1))?;
    let j = i + skip + 2;
    if at(words, j) != "of"
        || !matches!(at(words, j + 1), "every" | "each" | "the")
        || at(words, j + 2) != "month"
    {
        return None;
    }
    Some((format!("FREQ=MONTHLY;BYDAY={n}{}", code(day)), j + 3 - i))
}

/// `[on] the <nth> [day] of (every|each) month` / `the last day of every month`.
fn day_of_month(words: &[Word], i: usize) -> Option<(String, usize)> {
    let skip = usize::from(at(words, i) == "on");
    let mut j = i + skip;
    if at(words, j) == "the" {
        j += 1;
    }
    let w = at(words, j);
    let day: i32 = if w == "last" && at(words, j + 1) == "day" {
        j += 1;
        -1
    } else {
        i32::try_from(ordinal(w)?).ok()?
    };
    j += 1;
    if at(words, j) == "day" {
        j += 1;
    }
    if at(words, j) != "of" {
        return None;
    }
    // "of jan, apr, jul and oct": one rule over those months.
    if let Some((list, n)) = months(words, j + 1).filter(|(l, _)| l.len() >= 2) {
        let rule = format!("FREQ=YEARLY;BYMONTH={};BYMONTHDAY={day}", by_month(&list));
        return Some((rule, j + 1 + n - i));
    }
    if !matches!(at(words, j + 1), "every" | "each") {
        return None;
    }
    let rule = match at(words, j + 2) {
        "month" => format!("FREQ=MONTHLY;BYMONTHDAY={day}"),
        "quarter" => format!("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY={day}"),
        _ => return None,
    };
    Some((rule, j + 3 - i))
}

/// The rule's core starting at word `i`.
fn rule_at(words: &[Word], i: usize) -> Option<(String, usize)> {
    let w = at(words, i);
    // "weekly", "quarterly": only as an adverb (last, or before what
    // qualifies the rule), not as in "the quarterly report".
    let then = at(words, i + 1);
    let adverb = then.is_empty()
        || then.starts_with('#')
        || matches!(
            then,
            "at" | "on"
                | "from"
                | "starting"
                | "until"
                | "till"
                | "through"
                | "thru"
                | "ending"
                | "up"
                | "for"
                | "and"
                | "with"
                | "remind"
                | "by"
                | "due"
                | "in"
                | "every"
                | "beginning"
                | "tomorrow"
                | "today"
        )
        || weekday(then).is_some()
        || then.starts_with(|c: char| c.is_ascii_digit());
    if !adverb
        && matches!(
            w,
            "daily"
                | "weekly"
                | "biweekly"
                | "fortnightly"
                | "monthly"
                | "quarterly"
                | "yearly"
                | "annually"
        )
    {
        return None;
    }
    match w {
        "daily" => return Some(("FREQ=DAILY".into(), 1)),
        "weekly" => return Some(("FREQ=WEEKLY".into(), 1)),
        "biweekly" | "fortnightly" => return Some(("FREQ=WEEKLY;INTERVAL=2".into(), 1)),
        "monthly" => return Some(("FREQ=MONTHLY".into(), 1)),
        "quarterly" => return Some(("FREQ=MONTHLY;INTERVAL=3".into(), 1)),
        "yearly" | "annually" => return Some(("FREQ=YEARLY".into(), 1)),
        _ => {}
    }
    if let Some(found) = nth_weekday_of_month(words, i).or_else(|| day_of_month(words, i)) {
        return Some(found);
    }
    // "every last friday of the month"
    if every(w)
        && let Some((rule, n)) = nth_weekday_of_month(words, i + 1)
    {
        return Some((rule, n + 1));
    }
    // "on weekdays", "on mondays and thursdays"
    if w == "on"
        && at(words, i + 1).ends_with('s')
        && let Some((days, n)) = weekdays(words, i + 1)
    {
        return Some((format!("FREQ=WEEKLY;BYDAY={}", days.join(",")), n + 1));
    }
    if !every(w) {
        return None;
    }
    let mut j = i + 1;
    // every other / every 2 / every second
    let interval = match at(words, j) {
        "other" | "second" => {
            j += 1;
            2
        }
        "third" => {
            j += 1;
            3
        }
        n => match number(n).filter(|n| (2..=365).contains(n)) {
            Some(n) => {
                j += 1;
                n
            }
            None => 1,
        },
    };
    if let Some((days, n)) = weekdays(words, j) {
        let mut rule = "FREQ=WEEKLY".to_owned();
        if interval > 1 {
            rule.push_str(&format!(";INTERVAL={interval}"));
        }
        rule.push_str(&format!(";BYDAY={}", days.join(",")));
        return Some((rule, j + n - i));
    }
    // "every jan and jul [on the 1st]"
    if interval == 1
        && let Some((list, n)) = months(words, j)
    {
        let mut rule = format!("FREQ=YEARLY;BYMONTH={}", by_month(&list));
        j += n;
        let k = j + usize::from(at(words, j) == "on");
        let k = k + usize::from(at(words, k) == "the");
        if let Some(day) = ordinal(at(words, k)).filter(|d| (1..=31).contains(d)) {
            rule.push_str(&format!(";BYMONTHDAY={day}"));
            j = k + 1;
        }
        return Some((rule, j - i));
    }
    let (freq, per_unit) = unit(at(words, j))?;
    let interval = interval * per_unit;
    j += 1;
    let mut rule = format!("FREQ={freq}");
    if interval > 1 {
        rule.push_str(&format!(";INTERVAL={interval}"));
    }
    // "every 2 weeks on tuesday", "every month on the 15th"
    if at(words, j) == "on" {
        if freq == "WEEKLY"
            && let Some((days, n)) = weekdays(words, j + 1)
        {
            rule.push_str(&format!(";BYDAY={}", days.join(",")));
            j += 1 + n;
        } else if freq == "MONTHLY" {
            let k = j + 1 + usize::from(at(words, j + 1) == "the");
            if let Some(day) = ordinal(at(words, k)) {
                rule.push_str(&format!(";BYMONTHDAY={day}"));
                j = k + 1;
            }
        }
    }
    Some((rule, j - i))
}

/// The first recurrence in `words`, with any end ("until", "for 10
/// days", "N times") right after it. The found span covers them all.
pub fn find(words: &[Word], clock: &Clock) -> Option<Found<Repeat>> {
    let (start, (mut rule, len)) = (0..words.len()).find_map(|i| Some((i, rule_at(words, i)?)))?;
    let mut end = start + len;
    // At most one count and one date: "every day for 10 days until May".
    for _ in 0..2 {
        let Some((found, n)) = end::end_at(words, end, clock) else {
            break;
        };
        end::apply(&mut rule, found, clock);
        end += n;
    }
    Some(Found {
        start,
        end,
        value: Repeat { rrule: rule },
    })
}

/// An end given apart from the rule ("10 times" before "every day",
/// "until the end of March" after a time).
pub fn find_end(words: &[Word], clock: &Clock) -> Option<Found<End>> {
    (0..words.len()).find_map(|i| {
        let (value, len) = end::end_at(words, i, clock)?;
        Some(Found {
            start: i,
            end: i + len,
            value,
        })
    })
}

mod end;
#[cfg(test)]
mod tests;

pub use end::{End, apply as apply_end, has_end};
