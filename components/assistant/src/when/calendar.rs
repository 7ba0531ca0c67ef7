//! Days: names of weekdays and months, day-of-month ordinals, numeric
//! dates, and the dates a phrase names ("next Friday", "May 24th",
//! "8/10", "a week after tomorrow", "end of the month").

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveTime, Weekday};

use super::{Clock, DateOrder, at};
use crate::words::{Word, number, ordinal};

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

/// The first `day` strictly after `from`.
pub fn next_weekday(from: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead =
        (7 + day.num_days_from_monday() as i64 - from.weekday().num_days_from_monday() as i64) % 7;
    from + Duration::days(if ahead == 0 { 7 } else { ahead })
}

/// `day` of the week (Monday to Sunday) that holds `date`.
fn in_week_of(date: NaiveDate, day: Weekday) -> NaiveDate {
    date - Duration::days(date.weekday().num_days_from_monday().into())
        + Duration::days(day.num_days_from_monday().into())
}

pub(crate) fn last_of_month(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("a valid month") - Duration::days(1)
}

fn first_of_next_month(d: NaiveDate) -> NaiveDate {
    last_of_month(d.year(), d.month()) + Duration::days(1)
}

/// `month`/`day` of the current year, or the next if it has passed.
fn upcoming(clock: &Clock, month: u32, day: u32, year: Option<i32>) -> Option<NaiveDate> {
    let today = clock.today();
    if let Some(y) = year {
        return NaiveDate::from_ymd_opt(y, month, day);
    }
    match NaiveDate::from_ymd_opt(today.year(), month, day) {
        Some(d) if d >= today => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
    }
}

pub(crate) fn year(word: &str) -> Option<i32> {
    word.parse().ok().filter(|y| (2000..=2200).contains(y))
}

const UNITS: [&str; 20] = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
];

/// A day of the month as an ordinal at word `i`: "3rd", "third",
/// "twenty-fourth", "twenty fourth", "thirty-first". Its value and length.
pub fn day_ordinal(words: &[Word], i: usize) -> Option<(u32, usize)> {
    let w = at(words, i);
    if let Some(n) = ordinal(w).filter(|n| (1..=31).contains(n)) {
        return Some((n, 1));
    }
    if let Some(n) = UNITS.iter().position(|u| *u == w) {
        return Some((n as u32 + 1, 1));
    }
    if w == "thirtieth" {
        return Some((30, 1));
    }
    let tens = |t: &str| match t {
        "twenty" => Some(20),
        "thirty" => Some(30),
        _ => None,
    };
    let unit = |u: &str| {
        UNITS[..9]
            .iter()
            .position(|x| *x == u)
            .map(|n| n as u32 + 1)
    };
    if let Some((t, u)) = w.split_once('-')
        && let (Some(t), Some(u)) = (tens(t), unit(u))
    {
        return Some((t + u, 1)).filter(|(n, _)| *n <= 31);
    }
    let (t, u) = (tens(w)?, unit(at(words, i + 1))?);
    Some((t + u, 2)).filter(|(n, _)| *n <= 31)
}

/// "8/10", "8/10/2027", "10.08.2027", "2027/08/10", "2027-08-10": read in
/// the user's order, or the only way that makes a date.
fn numeric_date(word: &str, clock: &Clock) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(word, "%Y-%m-%d") {
        return Some(d);
    }
    let sep = ['/', '.', '-'].into_iter().find(|c| word.contains(*c))?;
    let parts: Vec<&str> = word.split(sep).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<u32> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    // Two parts only with a slash ("12.30" is a time, "5-10" a range).
    match (parts.as_slice(), n.as_slice()) {
        ([y, ..], [yy, m, d]) if y.len() == 4 => NaiveDate::from_ymd_opt(*yy as i32, *m, *d),
        ([.., y], [a, b, yy]) if y.len() == 4 || y.len() == 2 => {
            let yy = if y.len() == 2 { 2000 + *yy } else { *yy } as i32;
            let (m, d) = month_day(*a, *b, clock.order)?;
            NaiveDate::from_ymd_opt(yy, m, d)
        }
        (_, [a, b]) if sep == '/' => {
            let (m, d) = month_day(*a, *b, clock.order)?;
            upcoming(clock, m, d, None)
        }
        _ => None,
    }
}

/// Month and day of "a/b": in the user's order, or the other way when
/// that is the only date it can be ("25/05" in the US).
fn month_day(a: u32, b: u32, order: DateOrder) -> Option<(u32, u32)> {
    let valid = |m: u32, d: u32| (1..=12).contains(&m) && (1..=31).contains(&d);
    let (first, second) = match order {
        DateOrder::Mdy | DateOrder::Ymd => ((a, b), (b, a)),
        DateOrder::Dmy => ((b, a), (a, b)),
    };
    [first, second].into_iter().find(|(m, d)| valid(*m, *d))
}

/// A date starting at word `i`: its length and value, and a time some
/// forms imply ("tonight").
pub(super) fn date_at(
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
        "tomorrow" | "tmrw" | "tmr" | "tomorow" => {
            return Some((1, today + Duration::days(1), None));
        }
        "the" if at(words, i + 1) == "day" && at(words, i + 2) == "after" => {
            return date_at(words, i + 1, clock).map(|(n, d, t)| (n + 1, d, t));
        }
        "day" if at(words, i + 1) == "after" && at(words, i + 2) == "tomorrow" => {
            return Some((3, today + Duration::days(2), None));
        }
        _ => {}
    }
    if let Some(d) = numeric_date(w, clock) {
        return Some((1, d, None));
    }
    if let Some(found) = relative(words, i, clock) {
        return Some(found);
    }
    if let Some(found) = offset(words, i, clock) {
        return Some(found);
    }
    if let Some(day) = weekday(w) {
        // "Sunday, 10 January": the explicit date wins over the weekday.
        if let Some((n, d, t)) = explicit(words, i + 1, clock) {
            return Some((n + 1, d, t));
        }
        // "Friday of next week", "friday next week", "friday this week".
        let of = usize::from(at(words, i + 1) == "of");
        match (at(words, i + 1 + of), at(words, i + 2 + of)) {
            ("next", "week") => {
                let d = in_week_of(today + Duration::days(7), day);
                return Some((3 + of, d, None));
            }
            ("this", "week") => return Some((3 + of, in_week_of(today, day), None)),
            _ => {}
        }
        return Some((1, next_weekday(today, day), None));
    }
    explicit(words, i, clock)
}

/// this / next / coming + weekday, week, month, quarter, year, weekend;
/// "this week's Friday"; end of (the|this|next) day / week / month / year.
fn relative(
    words: &[Word],
    i: usize,
    clock: &Clock,
) -> Option<(usize, NaiveDate, Option<NaiveTime>)> {
    let today = clock.today();
    let w = at(words, i);
    let n = at(words, i + 1);
    if matches!(w, "this" | "next" | "coming") {
        if let Some(day) = weekday(n) {
            let d = if w == "this" && today.weekday() == day {
                today
            } else {
                next_weekday(today, day)
            };
            return Some((2, d, None));
        }
        if matches!(n, "week's" | "weeks")
            && let Some(day) = weekday(at(words, i + 2))
        {
            let base = if w == "this" {
                today
            } else {
                today + Duration::days(7)
            };
            return Some((3, in_week_of(base, day), None));
        }
        match (w, n) {
            ("next", "week") => return Some((2, next_weekday(today, Weekday::Mon), None)),
            ("next", "month") => return Some((2, first_of_next_month(today), None)),
            ("next", "quarter") => {
                let q = (today.month0() / 3 + 1) * 3;
                let d = NaiveDate::from_ymd_opt(today.year(), 1, 1)?
                    .checked_add_months(Months::new(q))?;
                return Some((2, d, None));
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
                let later = w == "next" && !matches!(today.weekday(), Weekday::Sat | Weekday::Sun);
                return Some((2, sat + Duration::days(if later { 7 } else { 0 }), None));
            }
            _ => {}
        }
    }
    if w == "eod" {
        return Some((1, today, NaiveTime::from_hms_opt(17, 0, 0)));
    }
    if w != "end" || n != "of" {
        return None;
    }
    let mut j = i + 2;
    let mut base = today;
    match at(words, j) {
        "the" | "this" => j += 1,
        "next" => {
            j += 1;
            base = match at(words, j) {
                "week" => today + Duration::days(7),
                "month" => first_of_next_month(today),
                "year" => NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)?,
                _ => return None,
            };
        }
        _ => {}
    }
    let d = match at(words, j) {
        "day" => return Some((j + 1 - i, today, NaiveTime::from_hms_opt(17, 0, 0))),
        "week" if base == today && today.weekday() == Weekday::Fri => today,
        "week" if base == today => next_weekday(today, Weekday::Fri),
        "week" => in_week_of(base, Weekday::Fri),
        "month" => last_of_month(base.year(), base.month()),
        "year" => NaiveDate::from_ymd_opt(base.year(), 12, 31)?,
        // "the end of March"
        m => {
            let m = month(m)?;
            let y = today.year() + i32::from(m < today.month());
            last_of_month(y, m)
        }
    };
    Some((j + 1 - i, d, None))
}

/// `<amount> <unit>` then "from now" / "from today" / "later", or after /
/// before / from a date: "5 days from now", "a week after tomorrow", "2
/// days before Friday".
fn offset(
    words: &[Word],
    i: usize,
    clock: &Clock,
) -> Option<(usize, NaiveDate, Option<NaiveTime>)> {
    let (n, len) = super::duration::amount(words, i)?;
    let n = n.fract().eq(&0.0).then_some(n as u32)?;
    let unit = at(words, i + len);
    let j = i + len + 1;
    let shift = |from: NaiveDate, sign: i64| add_days_or_months(from, unit, n, sign);
    match (at(words, j), at(words, j + 1)) {
        ("from", "now" | "today") => Some((len + 3, shift(clock.today(), 1)?, None)),
        ("later", _) => Some((len + 2, shift(clock.today(), 1)?, None)),
        ("after" | "from" | "before", _) => {
            let sign = if at(words, j) == "before" { -1 } else { 1 };
            let (m, base, t) = date_at(words, j + 1, clock)?;
            Some((len + 2 + m, shift(base, sign)?, t))
        }
        _ => None,
    }
}

/// `from` moved by `n` days / weeks / fortnights / months / years.
pub(crate) fn add_days_or_months(
    from: NaiveDate,
    unit: &str,
    n: u32,
    sign: i64,
) -> Option<NaiveDate> {
    let days = |k: i64| Some(from + Duration::days(sign * k * i64::from(n)));
    let months = |k: u32| {
        if sign > 0 {
            from.checked_add_months(Months::new(k * n))
        } else {
            from.checked_sub_months(Months::new(k * n))
        }
    };
    match unit.trim_end_matches('s') {
        "day" | "d" => days(1),
        "week" | "wk" | "w" => days(7),
        "fortnight" => days(14),
        "month" | "mo" => months(1),
        "year" | "yr" | "y" => months(12),
        _ => None,
    }
}

/// A date that names its day: `<month> <day>[,] [year]`, `[the] <day>
/// [of] <month> [year]`, `<month> [year]` after "in", "the 3rd".
fn explicit(
    words: &[Word],
    i: usize,
    clock: &Clock,
) -> Option<(usize, NaiveDate, Option<NaiveTime>)> {
    let today = clock.today();
    let w = at(words, i);
    if let Some(d) = numeric_date(w, clock).filter(|_| w.contains(['/', '-', '.'])) {
        return Some((1, d, None));
    }
    if let Some(m) = month(w) {
        let the = usize::from(at(words, i + 1) == "the");
        let (day, n) = day_ordinal(words, i + 1 + the).or_else(|| {
            let n = number(at(words, i + 1 + the)).filter(|n| (1..=31).contains(n))?;
            Some((n, 1))
        })?;
        let k = i + 1 + the + n;
        return match year(at(words, k)) {
            Some(y) => Some((k + 1 - i, upcoming(clock, m, day, Some(y))?, None)),
            None => Some((k - i, upcoming(clock, m, day, None)?, None)),
        };
    }
    let (skip, lead) = if w == "the" { (1, true) } else { (0, false) };
    let (day, n) = day_ordinal(words, i + skip).or_else(|| {
        if lead {
            return None;
        }
        let n = number(at(words, i)).filter(|n| (1..=31).contains(n))?;
        Some((n, 1)).filter(|_| at(words, i).bytes().all(|b| b.is_ascii_digit()))
    })?;
    let mut j = i + skip + n;
    if at(words, j) == "of" {
        j += 1;
    }
    if let Some(m) = month(at(words, j)) {
        return match year(at(words, j + 1)) {
            Some(y) => Some((j + 2 - i, upcoming(clock, m, day, Some(y))?, None)),
            None => Some((j + 1 - i, upcoming(clock, m, day, None)?, None)),
        };
    }
    // "the 3rd" (in digits: "the first draft" is no date): this month's,
    // or next month's once it has passed.
    let digits = at(words, i + skip).starts_with(|c: char| c.is_ascii_digit());
    if lead && digits && at(words, j - 1) != "of" {
        let this =
            NaiveDate::from_ymd_opt(today.year(), today.month(), day).filter(|d| *d >= today);
        let d = match this {
            Some(d) => d,
            None => {
                let next = first_of_next_month(today);
                NaiveDate::from_ymd_opt(next.year(), next.month(), day)?
            }
        };
        return Some((skip + n, d, None));
    }
    None
}

/// "in August", "in August 2027", "August 2027": the first of that month
/// (this month's first is today).
pub(super) fn month_only(words: &[Word], i: usize, clock: &Clock) -> Option<(usize, NaiveDate)> {
    let today = clock.today();
    let lead = usize::from(at(words, i) == "in");
    let m = month(at(words, i + lead))?;
    if let Some(y) = year(at(words, i + lead + 1)) {
        let d = NaiveDate::from_ymd_opt(y, m, 1)?;
        return Some((lead + 2, d.max(today)));
    }
    if lead == 0 {
        return None;
    }
    let d = if m == today.month() {
        today
    } else {
        upcoming(clock, m, 1, None)?
    };
    Some((2, d))
}
