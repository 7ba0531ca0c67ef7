//! Dates and times in a request: "tomorrow at 5pm", "next Monday", "in 2
//! hours", "5 days from now", "on March 3rd", "8/10", "by Friday", "end
//! of the month", resolved in the user's zone against a given "now".
//!
//! A small grammar of our own rather than a general date parser: the
//! expression has to be found inside a sentence (and cut out of the
//! title), and the English parsers on crates.io take a whole string and
//! disagree with what a to-do list means (for `interim` 0.2, "march 3" in
//! November is last March, "next friday 8pm" on a Friday is today, and "in
//! 2 hours", "at 8am", "by friday" do not parse).
//!
//! - [`calendar`]: days (names, ordinals, numeric dates, relative days);
//! - [`clock_time`]: times of day;
//! - [`duration`]: spans from now.

mod calendar;
pub mod clock_time;
mod duration;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

pub(crate) use calendar::{add_days_or_months, last_of_month, year};
pub use calendar::{day_ordinal, month, next_weekday, weekday};

use crate::words::Word;

/// How the user writes a numeric date: "8/10" is 10 August in the US
/// (`Mdy`), 8 October in most of the world (`Dmy`); `Ymd` reads a
/// two-part one month first, as East Asia and ISO 8601 do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    Mdy,
    Dmy,
    Ymd,
}

/// Zones of the countries writing month first (the United States, and
/// a few beside it), and of those writing the year first.
const MDY_ZONES: [&str; 8] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Asia/Manila",
];
const MDY_PREFIXES: [&str; 6] = [
    "US/",
    "America/Indiana/",
    "America/Kentucky/",
    "America/North_Dakota/",
    "America/Detroit",
    "America/Boise",
];
const YMD_ZONES: [&str; 10] = [
    "UTC",
    "Etc/UTC",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Asia/Taipei",
    "Asia/Pyongyang",
    "Europe/Budapest",
    "Europe/Vilnius",
    "Asia/Tehran",
];

impl DateOrder {
    /// The order of the country a zone is in (day first when unknown).
    pub fn of_zone(tz: Tz) -> Self {
        let name = tz.name();
        if MDY_ZONES.contains(&name) || MDY_PREFIXES.iter().any(|p| name.starts_with(p)) {
            DateOrder::Mdy
        } else if YMD_ZONES.contains(&name) {
            DateOrder::Ymd
        } else {
            DateOrder::Dmy
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "mdy" => DateOrder::Mdy,
            "dmy" => DateOrder::Dmy,
            "ymd" => DateOrder::Ymd,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Mdy => "mdy",
            DateOrder::Dmy => "dmy",
            DateOrder::Ymd => "ymd",
        }
    }
}

/// "Now", the user's zone and date order: every relative expression is
/// read in them.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub order: DateOrder,
}

impl Clock {
    /// A clock with the date order of the zone's country.
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        Clock {
            now,
            tz,
            order: DateOrder::of_zone(tz),
        }
    }

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

fn at(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

/// A time of day at word `i` (see [`clock_time::read`]): its length.
pub fn time_at(words: &[Word], i: usize, after_at: bool) -> Option<(usize, NaiveTime)> {
    clock_time::read(words, i, after_at).map(|r| (r.len, r.time))
}

/// Today's part of the day that may have passed ("this evening" at 19:00):
/// the next full hour instead, while today lasts.
fn still_today(clock: &Clock, t: NaiveTime) -> NaiveTime {
    let now = clock.local_time();
    if t > now || now.hour() >= 23 {
        return t;
    }
    NaiveTime::from_hms_opt(now.hour() + 1, 0, 0).unwrap_or(t)
}

/// A date and/or time expression starting exactly at word `i`.
fn when_at(words: &[Word], i: usize, clock: &Clock) -> Option<(usize, When)> {
    if let Some(found) = duration::from_now(words, i, clock) {
        return Some(found);
    }
    if let Some((n, date)) = calendar::month_only(words, i, clock) {
        return Some((
            n,
            When {
                date,
                time: None,
                dated: true,
            },
        ));
    }
    let lead = match (at(words, i), at(words, i + 1)) {
        ("starting" | "beginning", "on" | "from") => 2,
        (
            "on" | "by" | "due" | "before" | "until" | "for" | "starting" | "beginning" | "from"
            | "after",
            _,
        ) => 1,
        _ => 0,
    };
    let j = i + lead;
    // "after Friday" is not Friday: only a time follows "after".
    let dated = if at(words, i) == "after" {
        None
    } else {
        calendar::date_at(words, j, clock)
    };
    if let Some((n, date, implied)) = dated {
        let mut len = lead + n;
        let mut time = implied;
        // "tomorrow at 5pm", "friday 3pm", "tomorrow morning", "tonight at 8"
        let k = j + n;
        let next = if matches!(at(words, k), "morning" | "afternoon" | "evening" | "night") {
            clock_time::read(words, k, false)
        } else {
            clock_time::phrase(words, k)
        };
        if let Some(r) = next {
            len += r.len;
            let evening = implied.is_some_and(|t| t.hour() >= 17);
            time = Some(if evening {
                clock_time::in_evening(r)
            } else {
                r.time
            });
        } else if let Some(t) = implied.filter(|_| date == clock.today()) {
            time = Some(still_today(clock, t));
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
    // A time: "at 5pm [tomorrow]", "by 5pm", "before 4pm", "after 6".
    if lead > 0 && !matches!(at(words, i), "by" | "before" | "until" | "after" | "due") {
        return None;
    }
    let r = clock_time::phrase(words, j).or_else(|| {
        if lead > 0 {
            clock_time::read(words, j, true)
        } else {
            None
        }
    })?;
    let k = j + r.len;
    let on = usize::from(at(words, k) == "on");
    if let Some((m, date, implied)) = calendar::date_at(words, k + on, clock) {
        let evening = implied.is_some_and(|t| t.hour() >= 17);
        let time = if evening {
            clock_time::in_evening(r)
        } else {
            r.time
        };
        return Some((
            lead + r.len + on + m,
            When {
                date,
                time: Some(time),
                dated: true,
            },
        ));
    }
    let today = clock.today();
    if r.today {
        let time = Some(still_today(clock, r.time));
        return Some((
            lead + r.len,
            When {
                date: today,
                time,
                dated: true,
            },
        ));
    }
    // A time alone: today if it is still ahead, else tomorrow.
    let date = if r.time > clock.local_time() {
        today
    } else {
        today + Duration::days(1)
    };
    Some((
        lead + r.len,
        When {
            date,
            time: Some(r.time),
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
