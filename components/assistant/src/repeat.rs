//! Recurrence in a request, as an RFC 5545 RRULE: "every weekday", "every
//! 2 weeks on Tuesday", "on the 1st of every month", "last Friday of every
//! month", "daily", with "until June" (a month alone means its first day)
//! and "10 times".

use chrono::{Datelike, NaiveDate, Weekday};

use crate::when::{self, Clock, Found, month, weekday};
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

fn unit(w: &str) -> Option<&'static str> {
    Some(match w.trim_end_matches('s') {
        "day" => "DAILY",
        "week" => "WEEKLY",
        "month" => "MONTHLY",
        "year" => "YEARLY",
        _ => return None,
    })
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
    if at(words, j) != "of"
        || !matches!(at(words, j + 1), "every" | "each")
        || at(words, j + 2) != "month"
    {
        return None;
    }
    Some((format!("FREQ=MONTHLY;BYMONTHDAY={day}"), j + 3 - i))
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
    let freq = unit(at(words, j))?;
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

/// "until <date>" / "until June" at word `i`: the last day as `YYYYMMDD`.
fn until_at(words: &[Word], i: usize, clock: &Clock) -> Option<(String, usize)> {
    if !matches!(at(words, i), "until" | "till" | "through") {
        return None;
    }
    if let Some(m) = month(at(words, i + 1)) {
        let plain = ordinal(at(words, i + 2)).is_none() && number(at(words, i + 2)).is_none();
        if plain {
            let today = clock.today();
            let first = NaiveDate::from_ymd_opt(today.year(), m, 1)?;
            let first = if first < today {
                NaiveDate::from_ymd_opt(first.year() + 1, m, 1)?
            } else {
                first
            };
            return Some((first.format("%Y%m%d").to_string(), 2));
        }
    }
    let w: Vec<Word> = words[i + 1..].to_vec();
    let found = when::find(&w, 0, w.len().min(4), clock).filter(|f| f.start == 0)?;
    Some((found.value.date.format("%Y%m%d").to_string(), found.end + 1))
}

/// "10 times", "for 10 times", "for 6 occurrences" at word `i`.
fn count_at(words: &[Word], i: usize) -> Option<(u32, usize)> {
    let skip = usize::from(at(words, i) == "for");
    let n = number(at(words, i + skip)).filter(|n| (1..=1000).contains(n))?;
    matches!(
        at(words, i + skip + 1),
        "times" | "occurrences" | "occurences"
    )
    .then_some((n, skip + 2))
}

/// The first recurrence in `words`, with any end ("until", "N times")
/// right after it. The found span covers them all.
pub fn find(words: &[Word], clock: &Clock) -> Option<Found<Repeat>> {
    let (start, (mut rule, len)) = (0..words.len()).find_map(|i| Some((i, rule_at(words, i)?)))?;
    let mut end = start + len;
    for _ in 0..2 {
        if let Some((until, n)) = until_at(words, end, clock) {
            rule.push_str(&format!(";UNTIL={until}"));
            end += n;
        } else if let Some((count, n)) = count_at(words, end) {
            rule.push_str(&format!(";COUNT={count}"));
            end += n;
        }
    }
    Some(Found {
        start,
        end,
        value: Repeat { rrule: rule },
    })
}

/// An end given apart from the rule ("10 times" before "every day").
pub fn find_count(words: &[Word]) -> Option<Found<u32>> {
    (0..words.len()).find_map(|i| {
        let (n, len) = count_at(words, i)?;
        Some(Found {
            start: i,
            end: i + len,
            value: n,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::when::tests::clock;
    use crate::words::words;

    fn rule(s: &str) -> Option<(String, String)> {
        let w = words(s);
        let f = find(&w, &clock())?;
        Some((
            crate::words::span(s, &w, f.start, f.end).to_owned(),
            f.value.rrule,
        ))
    }

    #[test]
    fn phrases_become_rules() {
        let cases = [
            (
                "standup every weekday at 9",
                "every weekday",
                "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            ),
            (
                "water plants every 2 weeks on Tuesday",
                "every 2 weeks on Tuesday",
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
            ),
            (
                "pay rent on the 1st of every month at 9am",
                "on the 1st of every month",
                "FREQ=MONTHLY;BYMONTHDAY=1",
            ),
            (
                "review last Friday of every month",
                "last Friday of every month",
                "FREQ=MONTHLY;BYDAY=-1FR",
            ),
            (
                "gym every monday and thursday",
                "every monday and thursday",
                "FREQ=WEEKLY;BYDAY=MO,TH",
            ),
            ("vitamins daily", "daily", "FREQ=DAILY"),
            (
                "trash every other day",
                "every other day",
                "FREQ=DAILY;INTERVAL=2",
            ),
            (
                "lessons every week until June",
                "every week until June",
                "FREQ=WEEKLY;UNTIL=20270601",
            ),
            (
                "pills every day 10 times",
                "every day 10 times",
                "FREQ=DAILY;COUNT=10",
            ),
            (
                "backup every month on the 15th",
                "every month on the 15th",
                "FREQ=MONTHLY;BYMONTHDAY=15",
            ),
            ("taxes every year", "every year", "FREQ=YEARLY"),
            (
                "call grandma on sundays",
                "on sundays",
                "FREQ=WEEKLY;BYDAY=SU",
            ),
            (
                "budget the first monday of each month",
                "the first monday of each month",
                "FREQ=MONTHLY;BYDAY=1MO",
            ),
            (
                "invoice on the last day of every month",
                "on the last day of every month",
                "FREQ=MONTHLY;BYMONTHDAY=-1",
            ),
            (
                "yoga every 3 days until december 20",
                "every 3 days until december 20",
                "FREQ=DAILY;INTERVAL=3;UNTIL=20261220",
            ),
        ];
        for (input, text, rrule) in cases {
            assert_eq!(
                rule(input),
                Some((text.to_owned(), rrule.to_owned())),
                "{input}"
            );
        }
    }

    #[test]
    fn one_off_requests_have_no_rule() {
        for s in [
            "buy milk tomorrow",
            "every little thing",
            "read the first chapter",
            "monday meeting",
        ] {
            assert_eq!(rule(s), None, "{s}");
        }
    }
}
