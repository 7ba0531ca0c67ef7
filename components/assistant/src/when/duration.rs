//! Spans of time from now: "in 2 hours", "in half an hour", "in 1.5
//! hours", "in 1d 2h", "within an hour", "after 3 days", "5 days from
//! now", "an hour and a half later", "next 2 weeks".

use chrono::{Duration, NaiveTime, Timelike};

use super::calendar::add_days_or_months;
use super::{Clock, When, at};
use crate::words::{Word, number};

/// A count at word `i` ("2", "1.5", "two", "an", "a couple of", "a
/// few"): its value and length.
pub fn amount(words: &[Word], i: usize) -> Option<(f64, usize)> {
    let w = at(words, i);
    if w == "a" && at(words, i + 1) == "couple" && at(words, i + 2) == "of" {
        return Some((2.0, 3));
    }
    if w == "a" && at(words, i + 1) == "few" {
        return Some((3.0, 2));
    }
    if let Some(n) = number(w) {
        return Some((f64::from(n), 1));
    }
    let decimal: f64 = w.parse().ok().filter(|_| w.contains('.') && w.len() <= 6)?;
    Some((decimal, 1)).filter(|(n, _)| *n > 0.0)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Minutes(f64),
    /// Days, weeks, months or years: a calendar unit, whole.
    Calendar(&'static str),
}

fn unit(word: &str) -> Option<Unit> {
    Some(match word {
        "minute" | "minutes" | "min" | "mins" | "m" => Unit::Minutes(1.0),
        "hour" | "hours" | "hr" | "hrs" | "h" => Unit::Minutes(60.0),
        "day" | "days" | "d" => Unit::Calendar("day"),
        "week" | "weeks" | "wk" | "wks" | "w" => Unit::Calendar("week"),
        "fortnight" | "fortnights" => Unit::Calendar("fortnight"),
        "month" | "months" | "mo" => Unit::Calendar("month"),
        "year" | "years" | "yr" | "yrs" | "y" => Unit::Calendar("year"),
        _ => return None,
    })
}

/// What a span adds up to: minutes, and whole calendar units.
#[derive(Debug, Default)]
struct Span {
    minutes: f64,
    calendar: Vec<(&'static str, u32)>,
}

impl Span {
    fn add(&mut self, n: f64, u: Unit) -> Option<()> {
        match u {
            Unit::Minutes(per) => self.minutes += n * per,
            Unit::Calendar(name) if n.fract() == 0.0 => self.calendar.push((name, n as u32)),
            // "1.5 days": as hours.
            Unit::Calendar("day") => self.minutes += n * 24.0 * 60.0,
            Unit::Calendar(_) => return None,
        }
        Some(())
    }
}

/// "1d", "2h", "30m", "1h30m", "1.5h": a compact span in one word.
fn compact(word: &str, span: &mut Span) -> Option<()> {
    let mut rest = word;
    let mut any = false;
    while !rest.is_empty() {
        let k = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..k].parse().ok()?;
        let tail = &rest[k..];
        let e = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let u = unit(&tail[..e]).filter(|_| e <= 3)?;
        span.add(n, u)?;
        any = true;
        rest = &tail[e..];
    }
    any.then_some(())
}

/// The parts of a span at word `i`: "2 hours", "2 hours and 30 minutes",
/// "an hour and a half", "half an hour", "1d 2h". Its length.
fn span_at(words: &[Word], i: usize, span: &mut Span) -> Option<usize> {
    let mut j = i;
    loop {
        let w = at(words, j);
        if w == "half" && matches!(at(words, j + 1), "an" | "a") && at(words, j + 2) == "hour" {
            span.minutes += 30.0;
            j += 3;
        } else if compact(w, span).is_some() {
            j += 1;
        } else if let Some((n, len)) = amount(words, j)
            && let Some(u) = unit(at(words, j + len))
        {
            span.add(n, u)?;
            j += len + 1;
            // "an hour and a half"
            if at(words, j) == "and"
                && at(words, j + 1) == "a"
                && at(words, j + 2) == "half"
                && let Unit::Minutes(per) = u
            {
                span.minutes += per / 2.0;
                j += 3;
            }
        } else {
            break;
        }
        // "2 hours and 30 minutes", "1d 2h"
        let and = usize::from(at(words, j) == "and");
        let mut probe = Span::default();
        if span_at_one(words, j + and, &mut probe) {
            j += and;
            continue;
        }
        break;
    }
    (j > i).then_some(j - i)
}

/// Whether another part of a span starts at `i`.
fn span_at_one(words: &[Word], i: usize, probe: &mut Span) -> bool {
    let w = at(words, i);
    compact(w, probe).is_some()
        || amount(words, i).is_some_and(|(_, len)| unit(at(words, i + len)).is_some())
        || (w == "half" && at(words, i + 2) == "hour")
}

/// A span from now at word `i`, with its lead-in or tail: when it ends.
pub(super) fn from_now(words: &[Word], i: usize, clock: &Clock) -> Option<(usize, When)> {
    let lead = match (at(words, i), at(words, i + 1)) {
        ("in" | "within" | "after", _) => 1,
        // "next 2 weeks" (not "next week": that is a date)
        ("next", w) if w.parse::<u32>().is_ok_and(|n| n > 1) => 1,
        _ => 0,
    };
    let mut span = Span::default();
    let n = span_at(words, i + lead, &mut span)?;
    let mut len = lead + n;
    if lead == 0 {
        match (at(words, i + n), at(words, i + n + 1)) {
            ("from", "now") => len += 2,
            ("later", _) => len += 1,
            _ => return None,
        }
    }
    let mut date = clock.today();
    for (name, k) in &span.calendar {
        date = add_days_or_months(date, name, *k, 1)?;
    }
    if span.minutes == 0.0 {
        return Some((
            len,
            When {
                date,
                time: None,
                dated: true,
            },
        ));
    }
    let local = clock.now.with_timezone(&clock.tz);
    let moved = local
        + Duration::days((date - clock.today()).num_days())
        + Duration::seconds((span.minutes * 60.0).round() as i64);
    Some((
        len,
        When {
            date: moved.date_naive(),
            time: NaiveTime::from_hms_opt(moved.hour(), moved.minute(), 0),
            dated: true,
        },
    ))
}
