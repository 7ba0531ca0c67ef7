//! Dates and times in a request: "tomorrow at 5pm", "next Monday", "in 2
//! hours", "on March 3rd", "by Friday", "end of the month", resolved in
//! the user's zone against a given "now".
//!
//! A small grammar of our own rather than a general date parser: the
//! expression has to be found inside a sentence (and cut out of the
//! title), and the English parsers on crates.io take a whole string and
//! disagree with what a to-do list means (for `interim` 0.2, "march 3" in
//! November is last March, "next friday 8pm" on a Friday is today, and "in
//! 2 hours", "at 8am", "by friday" do not parse).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::words::{Word, number, ordinal};

/// "Now" and the user's zone: every relative expression is read in them.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

impl Clock {
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }

    pub fn local_time(&self) -> NaiveTime {
        self.now.with_timezone(&self.tz).time()
    }
}

/// A date, and a wall-clock time unless it is all-day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    /// The words named a day ("8am" alone does not: its date is implied).
    pub dated: bool,
}

/// An expression found at words `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<T> {
    pub start: usize,
    pub end: usize,
    pub value: T,
}

pub fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "monday" | "mon" | "mondays" => Weekday::Mon,
        "tuesday" | "tue" | "tues" | "tuesdays" => Weekday::Tue,
        "wednesday" | "wed" | "wednesdays" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" | "thursdays" => Weekday::Thu,
        "friday" | "fri" | "fridays" => Weekday::Fri,
        "saturday" | "sat" | "saturdays" => Weekday::Sat,
        "sunday" | "sun" | "sundays" => Weekday::Sun,
        _ => return None,
    })
}

pub fn month(word: &str) -> Option<u32> {
    Some(match word {
        "jan" | "january" => 1,
        "feb" | "february" => 2,
        "mar" | "march" => 3,
        "apr" | "april" => 4,
        "may" => 5,
        "jun" | "june" => 6,
        "jul" | "july" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" => 10,
        "nov" | "november" => 11,
        "dec" | "december" => 12,
        _ => return None,
    })
}

fn at(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

/// The first `day` strictly after `from`.
pub fn next_weekday(from: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead =
        (7 + day.num_days_from_monday() as i64 - from.weekday().num_days_from_monday() as i64) % 7;
    from + Duration::days(if ahead == 0 { 7 } else { ahead })
}

fn last_of_month(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("a valid month") - Duration::days(1)
}

/// `month`/`day` of the current year, or the next if it has passed.
fn upcoming(clock: &Clock, month: u32, day: u32, year: Option<i32>) -> Option<NaiveDate> {
    let today = clock.today();
    if let Some(y) = year {
        return NaiveDate::from_ymd_opt(y, month, day);
    }
    let this = NaiveDate::from_ymd_opt(today.year(), month, day);
    match this {
        Some(d) if d >= today => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
    }
}

fn year(word: &str) -> Option<i32> {
    word.parse().ok().filter(|y| (2000..=2200).contains(y))
}

/// A date starting at word `i`: its length and value, and a time some
/// forms imply ("tonight").
fn date_at(
    words: &[Word],
    i: usize,
    clock: &Clock,
) -> Option<(usize, NaiveDate, Option<NaiveTime>)> {
    let today = clock.today();
    let w = at(words, i);
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0);
    match w {
        "today" => return Some((1, today, None)),
        "tonight" => return Some((1, today, hm(20, 0))),
        "tomorrow" | "tmrw" | "tmr" => return Some((1, today + Duration::days(1), None)),
        "day" if at(words, i + 1) == "after" && at(words, i + 2) == "tomorrow" => {
            return Some((3, today + Duration::days(2), None));
        }
        _ => {}
    }
    if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
        return Some((1, d, None));
    }
    // this / next / coming + weekday, week, month, weekend.
    if matches!(w, "this" | "next" | "coming") {
        let n = at(words, i + 1);
        if let Some(day) = weekday(n) {
            let d = if w == "this" && today.weekday() == day {
                today
            } else {
                next_weekday(today, day)
            };
            return Some((2, d, None));
        }
        match (w, n) {
            ("next", "week") => return Some((2, next_weekday(today, Weekday::Mon), None)),
            ("next", "month") => {
                let first = last_of_month(today.year(), today.month()) + Duration::days(1);
                return Some((2, first, None));
            }
            ("next", "year") => {
                return Some((2, NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)?, None));
            }
            (_, "weekend") => {
                let sat = if today.weekday() == Weekday::Sat {
                    today
                } else {
                    next_weekday(today, Weekday::Sat)
                };
                let sat = if w == "next"
                    && today.weekday() != Weekday::Sun
                    && today.weekday() != Weekday::Sat
                {
                    sat + Duration::days(7)
                } else {
                    sat
                };
                return Some((2, sat, None));
            }
            _ => {}
        }
    }
    if let Some(day) = weekday(w) {
        return Some((1, next_weekday(today, day), None));
    }
    // end of (the|this) day / week / month / year
    if w == "end" && at(words, i + 1) == "of" {
        let mut j = i + 2;
        if matches!(at(words, j), "the" | "this") {
            j += 1;
        }
        let d = match at(words, j) {
            "day" => return Some((j + 1 - i, today, hm(17, 0))),
            "week" => {
                if today.weekday() == Weekday::Fri {
                    today
                } else {
                    next_weekday(today, Weekday::Fri)
                }
            }
            "month" => last_of_month(today.year(), today.month()),
            "year" => NaiveDate::from_ymd_opt(today.year(), 12, 31)?,
            _ => return None,
        };
        return Some((j + 1 - i, d, None));
    }
    if w == "eod" {
        return Some((1, today, hm(17, 0)));
    }
    // in N days / weeks / months / years (times of day are in `instant_at`)
    if w == "in" {
        let (n, len) = amount(words, i + 1)?;
        let unit = at(words, i + 1 + len);
        let d = match unit.trim_end_matches('s') {
            "day" => today + Duration::days(n.into()),
            "week" => today + Duration::days(7 * i64::from(n)),
            "month" => today.checked_add_months(chrono::Months::new(n))?,
            "year" => today.checked_add_months(chrono::Months::new(12 * n))?,
            _ => return None,
        };
        return Some((len + 2, d, None));
    }
    // <month> <day>[,] [year]
    if let Some(m) = month(w) {
        let d = ordinal(at(words, i + 1))
            .or_else(|| number(at(words, i + 1)).filter(|n| (1..=31).contains(n)))?;
        let (len, y) = match year(at(words, i + 2)) {
            Some(y) => (3, Some(y)),
            None => (2, None),
        };
        return Some((len, upcoming(clock, m, d, y)?, None));
    }
    // [the] <day>[th] [of] <month> [year] | the <day>th (this or next month)
    let (skip, w) = if w == "the" {
        (1, at(words, i + 1))
    } else {
        (0, w)
    };
    let day = ordinal(w).or_else(|| {
        if skip == 0 {
            number(w).filter(|n| (1..=31).contains(n))
        } else {
            None
        }
    })?;
    let mut j = i + skip + 1;
    if at(words, j) == "of" {
        j += 1;
    }
    if let Some(m) = month(at(words, j)) {
        let (len, y) = match year(at(words, j + 1)) {
            Some(y) => (j + 2 - i, Some(y)),
            None => (j + 1 - i, None),
        };
        return Some((len, upcoming(clock, m, day, y)?, None));
    }
    // "the 3rd": this month's, or next month's once it has passed.
    if skip == 1 && w.starts_with(|c: char| c.is_ascii_digit()) && at(words, j - 1) != "of" {
        let this =
            NaiveDate::from_ymd_opt(today.year(), today.month(), day).filter(|d| *d >= today);
        let d = match this {
            Some(d) => d,
            None => {
                let next = last_of_month(today.year(), today.month()) + Duration::days(1);
                NaiveDate::from_ymd_opt(next.year(), next.month(), day)?
            }
        };
        return Some((skip + 1, d, None));
    }
    None
}

/// A count at word `i` ("2", "two", "an", "a couple of", "half an"):
/// its value and length. Half an hour is 30 minutes (see `instant_at`).
fn amount(words: &[Word], i: usize) -> Option<(u32, usize)> {
    let w = at(words, i);
    if w == "a" && at(words, i + 1) == "couple" && at(words, i + 2) == "of" {
        return Some((2, 3));
    }
    if w == "a" && at(words, i + 1) == "few" {
        return Some((3, 2));
    }
    Some((number(w)?, 1))
}

/// "in 2 hours", "in 30 minutes", "in half an hour": a date and a time.
fn instant_at(words: &[Word], i: usize, clock: &Clock) -> Option<(usize, When)> {
    if at(words, i) != "in" {
        return None;
    }
    let (minutes, len) = if at(words, i + 1) == "half"
        && matches!(at(words, i + 2), "an" | "a")
        && at(words, i + 3) == "hour"
    {
        (30, 3)
    } else {
        let (n, len) = amount(words, i + 1)?;
        let unit = at(words, i + 1 + len);
        let per = match unit {
            "minute" | "minutes" | "min" | "mins" => 1,
            "hour" | "hours" | "hr" | "hrs" => 60,
            _ => return None,
        };
        (i64::from(n) * per, len + 1)
    };
    let local = (clock.now + Duration::minutes(minutes)).with_timezone(&clock.tz);
    let time = NaiveTime::from_hms_opt(local.hour(), local.minute(), 0)?;
    Some((
        len + 1,
        When {
            date: local.date_naive(),
            time: Some(time),
            dated: true,
        },
    ))
}

/// A time of day starting at word `i`; `after_at`: the word before was
/// "at", so a bare hour counts ("at 10").
pub fn time_at(words: &[Word], i: usize, after_at: bool) -> Option<(usize, NaiveTime)> {
    let w = at(words, i);
    let hm = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0);
    let named = match w {
        "noon" | "midday" => hm(12, 0),
        "midnight" => hm(23, 59),
        "morning" => hm(9, 0),
        "afternoon" => hm(14, 0),
        "evening" => hm(18, 0),
        "night" => hm(20, 0),
        _ => None,
    };
    if let Some(t) = named {
        return Some((1, t));
    }
    // 5pm, 5:30pm, 17:00, 5 pm, 5:30 p.m.
    let (digits, suffix) = match w.find(|c: char| c.is_ascii_alphabetic()) {
        Some(k) => (&w[..k], Some(&w[k..])),
        None => (w, None),
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (
            h.parse::<u32>().ok()?,
            m.parse::<u32>().ok().filter(|_| m.len() == 2)?,
        ),
        None => (
            digits
                .parse::<u32>()
                .ok()
                .filter(|_| !digits.is_empty() && digits.len() <= 2)?,
            0,
        ),
    };
    let (meridiem, len) = match suffix {
        Some(s) => (Some(s), 1),
        None => match at(words, i + 1) {
            s @ ("am" | "pm") => (Some(s), 2),
            "o'clock" => (None, 2),
            _ => (None, 1),
        },
    };
    let h = match meridiem {
        Some("am") if (1..=12).contains(&h) => h % 12,
        Some("pm") if (1..=12).contains(&h) => h % 12 + 12,
        Some(_) => return None,
        // 17:00, or "at 10": a bare hour reads as a waking hour.
        None if digits.contains(':') || len == 2 || after_at => match h {
            _ if digits.contains(':') => h,
            1..=6 => h + 12,
            7..=23 => h,
            _ => return None,
        },
        None => return None,
    };
    Some((len, hm(h, m)?))
}

/// `at 5pm`, `5pm`, `in the morning`: a time at word `i` with its lead-in.
fn time_phrase(words: &[Word], i: usize) -> Option<(usize, NaiveTime)> {
    let w = at(words, i);
    if w == "at" || w == "@" {
        return time_at(words, i + 1, true).map(|(n, t)| (n + 1, t));
    }
    if w == "in"
        && at(words, i + 1) == "the"
        && matches!(at(words, i + 2), "morning" | "afternoon" | "evening")
        && let Some((n, t)) = time_at(words, i + 2, false)
    {
        return Some((n + 2, t));
    }
    if w == "this" && matches!(at(words, i + 1), "morning" | "afternoon" | "evening") {
        return time_at(words, i + 1, false).map(|(n, t)| (n + 1, t));
    }
    match w {
        "morning" | "afternoon" | "evening" | "night" => None,
        _ => time_at(words, i, false),
    }
}

/// A date and/or time expression starting exactly at word `i`.
fn when_at(words: &[Word], i: usize, clock: &Clock) -> Option<(usize, When)> {
    if let Some(found) = instant_at(words, i, clock) {
        return Some(found);
    }
    let lead = match (at(words, i), at(words, i + 1)) {
        ("starting" | "beginning", "on" | "from") => 2,
        (
            "on" | "by" | "due" | "before" | "until" | "for" | "starting" | "beginning" | "from",
            _,
        ) => 1,
        _ => 0,
    };
    let j = i + lead;
    if let Some((n, date, implied)) = date_at(words, j, clock) {
        let mut len = lead + n;
        let mut time = implied;
        // "tomorrow at 5pm", "friday 3pm", "tomorrow morning"
        let k = j + n;
        let next = if matches!(at(words, k), "morning" | "afternoon" | "evening" | "night") {
            time_at(words, k, false)
        } else {
            time_phrase(words, k)
        };
        if let Some((m, t)) = next {
            len += m;
            time = Some(t);
        }
        return Some((
            len,
            When {
                date,
                time,
                dated: true,
            },
        ));
    }
    if lead > 0 && at(words, i) != "by" {
        return None;
    }
    // "at 5pm [tomorrow]", "by 5pm"
    let (n, t) = time_phrase(words, j).or_else(|| {
        if lead > 0 {
            time_at(words, j, true)
        } else {
            None
        }
    })?;
    let k = j + n;
    let on = usize::from(at(words, k) == "on");
    if let Some((m, date, _)) = date_at(words, k + on, clock) {
        return Some((
            lead + n + on + m,
            When {
                date,
                time: Some(t),
                dated: true,
            },
        ));
    }
    // A time alone: today if it is still ahead, else tomorrow.
    let today = clock.today();
    let date = if t > clock.local_time() {
        today
    } else {
        today + Duration::days(1)
    };
    Some((
        lead + n,
        When {
            date,
            time: Some(t),
            dated: false,
        },
    ))
}

/// The first date / time expression in `words[from..to]`.
pub fn find(words: &[Word], from: usize, to: usize, clock: &Clock) -> Option<Found<When>> {
    (from..to).find_map(|i| {
        let (len, value) = when_at(&words[..to], i, clock)?;
        Some(Found {
            start: i,
            end: i + len,
            value,
        })
    })
}

#[cfg(test)]
pub(crate) mod tests;
