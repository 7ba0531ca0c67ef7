//! How a rule ends, in the forms people write: "until June 3rd", "until
//! the end of March", "through 2027", "till next month", "for 10 days",
//! "for the next 3 weeks", "10 times", "ending after 6 occurrences".
//!
//! A month or year alone after "until" is where the rule stops (its first
//! day: "until June" ends on 1 June); after "through" it is included
//! (its last day). "For N days" on a rule of days is a count (N
//! instances); on any other rule it ends N days from today.

use chrono::{Datelike, Duration, NaiveDate};

use crate::when::{self, Clock, add_days_or_months, last_of_month, month, year};
use crate::words::{Word, number, ordinal};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The last day an instance may fall on.
    Until(NaiveDate),
    Count(u32),
    /// "for N <unit>" (unit: day, week, fortnight, month, year).
    For {
        n: u32,
        unit: &'static str,
    },
}

fn at(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

/// The end at word `i` and its length.
pub fn end_at(words: &[Word], i: usize, clock: &Clock) -> Option<(End, usize)> {
    count_at(words, i)
        .map(|(n, len)| (End::Count(n), len))
        .or_else(|| for_at(words, i))
        .or_else(|| until_at(words, i, clock).map(|(d, len)| (End::Until(d), len)))
}

/// Adds `end` to `rule` (an RRULE without DTSTART).
pub fn apply(rule: &mut String, end: End, clock: &Clock) {
    let part = match end {
        End::Until(d) => format!("UNTIL={}", d.format("%Y%m%d")),
        End::Count(n) => format!("COUNT={n}"),
        End::For { n, unit } if *rule == format!("FREQ={}", freq_of(unit)) => {
            format!("COUNT={n}")
        }
        End::For { n, unit } => {
            let last = add_days_or_months(clock.today(), unit, n, 1)
                .map_or(clock.today(), |d| d - Duration::days(1));
            format!("UNTIL={}", last.format("%Y%m%d"))
        }
    };
    rule.push(';');
    rule.push_str(&part);
}

/// Whether `rule` has an end already.
pub fn has_end(rule: &str) -> bool {
    rule.contains("COUNT=") || rule.contains("UNTIL=")
}

fn freq_of(unit: &str) -> &'static str {
    match unit {
        "day" => "DAILY",
        "week" => "WEEKLY",
        "month" => "MONTHLY",
        "year" => "YEARLY",
        // A fortnight is no frequency of its own: never a count.
        _ => "",
    }
}

fn unit_of(w: &str) -> Option<&'static str> {
    Some(match w.trim_end_matches('s') {
        "day" => "day",
        "week" => "week",
        "fortnight" => "fortnight",
        "month" => "month",
        "year" => "year",
        _ => return None,
    })
}

/// "10 times", "for 10 times", "for 6 occurrences", "ending after 6
/// times" at word `i`.
pub fn count_at(words: &[Word], i: usize) -> Option<(u32, usize)> {
    let skip = match (at(words, i), at(words, i + 1)) {
        ("ending" | "ends" | "stopping", "after") => 2,
        ("for" | "after", _) => 1,
        _ => 0,
    };
    let n = number(at(words, i + skip)).filter(|n| (1..=1000).contains(n))?;
    matches!(
        at(words, i + skip + 1),
        "times" | "occurrences" | "occurences" | "instances"
    )
    .then_some((n, skip + 2))
}

/// "for 10 days", "for a week", "for the next 3 months".
fn for_at(words: &[Word], i: usize) -> Option<(End, usize)> {
    if at(words, i) != "for" {
        return None;
    }
    let mut j = i + 1;
    if at(words, j) == "the" && at(words, j + 1) == "next" {
        j += 2;
    }
    let n = match at(words, j) {
        "a" | "an" => 1,
        w => number(w).filter(|n| (1..=1000).contains(n))?,
    };
    let unit = unit_of(at(words, j + 1))?;
    Some((End::For { n, unit }, j + 2 - i))
}

/// "until ...", "till ...", "through ...", "ending (on) ...": the last day.
fn until_at(words: &[Word], i: usize, clock: &Clock) -> Option<(NaiveDate, usize)> {
    let mut j = i + 1;
    let through = match (at(words, i), at(words, j)) {
        ("until" | "till" | "til" | "untill", _) => false,
        ("up", "to") => {
            j += 1;
            false
        }
        ("through" | "thru", _) => true,
        ("ending" | "ends", next) => {
            if next == "on" {
                j += 1;
            }
            false
        }
        _ => return None,
    };
    let (date, len) = the_end_of(words, j, clock)
        .or_else(|| month_or_year(words, j, clock, through))
        .or_else(|| {
            let w: Vec<Word> = words[j.min(words.len())..].to_vec();
            // A date, not a time alone ("until 5pm" is no end of a rule).
            let f = when::find(&w, 0, w.len().min(5), clock)
                .filter(|f| f.start == 0 && f.value.dated)?;
            Some((f.value.date, f.end))
        })?;
    Some((date, j - i + len))
}

/// "[the] end of <March | the month | next month | the year | 2027 | the week>".
fn the_end_of(words: &[Word], i: usize, clock: &Clock) -> Option<(NaiveDate, usize)> {
    let skip = usize::from(at(words, i) == "the");
    if at(words, i + skip) != "end" || at(words, i + skip + 1) != "of" {
        return None;
    }
    let j = i + skip + 2;
    let today = clock.today();
    let (date, n) = match (at(words, j), at(words, j + 1)) {
        ("the" | "this", "month") => (last_of_month(today.year(), today.month()), 2),
        ("next", "month") => {
            let next = today.checked_add_months(chrono::Months::new(1))?;
            (last_of_month(next.year(), next.month()), 2)
        }
        ("the" | "this", "year") => (last_of_month(today.year(), 12), 2),
        ("next", "year") => (last_of_month(today.year() + 1, 12), 2),
        ("the" | "this", "week") => (
            today + Duration::days(6 - i64::from(today.weekday().num_days_from_monday())),
            2,
        ),
        (w, next) => {
            if let Some(y) = year(w) {
                (last_of_month(y, 12), 1)
            } else {
                let m = month(w)?;
                match year(next) {
                    Some(y) => (last_of_month(y, m), 2),
                    None => (upcoming_month(today, m, true), 1),
                }
            }
        }
    };
    Some((date, j + n - i))
}

/// The day a month ("June") or a year ("2027") alone ends a rule on: its
/// first day (`through`: its last).
fn month_or_year(
    words: &[Word],
    i: usize,
    clock: &Clock,
    through: bool,
) -> Option<(NaiveDate, usize)> {
    let w = at(words, i);
    if let Some(y) = year(w) {
        let d = if through {
            last_of_month(y, 12)
        } else {
            last_of_month(y - 1, 12)
        };
        return Some((d, 1));
    }
    let m = month(w)?;
    let next = at(words, i + 1);
    // "June 3", "June 3rd": a date, read by the date reader.
    if ordinal(next).is_some() || number(next).is_some() && year(next).is_none() {
        return None;
    }
    let first = match year(next) {
        Some(y) => NaiveDate::from_ymd_opt(y, m, 1)?,
        None => upcoming_month(clock.today(), m, false),
    };
    let len = 1 + usize::from(year(next).is_some());
    let d = if through {
        last_of_month(first.year(), m)
    } else {
        first
    };
    Some((d, len))
}

/// The first day of month `m` (its last with `last`) from today on.
fn upcoming_month(today: NaiveDate, m: u32, last: bool) -> NaiveDate {
    let on = |y: i32| {
        if last {
            last_of_month(y, m)
        } else {
            NaiveDate::from_ymd_opt(y, m, 1).expect("a month's first day")
        }
    };
    match on(today.year()) {
        d if d >= today => d,
        _ => on(today.year() + 1),
    }
}
