//! A rule in plain English ("every month on the last Friday").
//!
//! The `rrule` crate parses the rule; the wording is ours, since the crate
//! has no English rendering. Sentences follow the shape
//! "every <period> [on/in <which days>] [at <times>][, N times | , until <date>]".

use chrono::{Month, Weekday};
use rrule::{Frequency, NWeekday, RRule, Unvalidated};

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// The rule in plain English, e.g. "every 2 weeks on Tuesday". A rule that
/// does not parse (it was validated on input, so this is stale data) is
/// returned as it is rather than failing a read.
pub fn describe(rrule: &str) -> String {
    let upper = rrule.trim().to_ascii_uppercase();
    let body = upper.strip_prefix("RRULE:").unwrap_or(&upper);
    match body.parse::<RRule<Unvalidated>>() {
        Ok(rule) => english(&rule),
        Err(_) => body.to_owned(),
    }
}

fn english(rule: &RRule<Unvalidated>) -> String {
    let freq = rule.get_freq();
    let days = rule.get_by_weekday();
    let month_days = rule.get_by_month_day();
    let months = rule.get_by_month();
    let set_pos = rule.get_by_set_pos();
    let plain_days: Option<Vec<Weekday>> = days
        .iter()
        .map(|d| match d {
            NWeekday::Every(w) => Some(*w),
            NWeekday::Nth(..) => None,
        })
        .collect();
    let only_days = month_days.is_empty()
        && set_pos.is_empty()
        && rule.get_by_year_day().is_empty()
        && rule.get_by_week_no().is_empty();

    let mut s = String::new();
    match (&plain_days, freq, rule.get_interval()) {
        // "every weekday" and "every Monday and Friday" read better than
        // "every week on Monday, Tuesday, ..." for the commonest rules.
        (Some(w), Frequency::Daily | Frequency::Weekly, 1) if only_days && is_weekdays(w) => {
            s.push_str("every weekday");
        }
        (Some(w), Frequency::Daily, 1) if only_days && !w.is_empty() => {
            s.push_str("every ");
            s.push_str(&join_and(w.iter().map(|w| day_name(*w).to_owned())));
        }
        _ => {
            s.push_str(&period(freq, rule.get_interval()));
            s.push_str(&which_days(rule, plain_days.as_deref()));
        }
    }

    if !months.is_empty() && freq != Frequency::Yearly {
        s.push_str(" in ");
        s.push_str(&month_list(months));
    }
    s.push_str(&times(rule.get_by_hour(), rule.get_by_minute()));
    if let Some(count) = rule.get_count() {
        s.push_str(match count {
            1 => ", once",
            2 => ", twice",
            _ => "",
        });
        if count > 2 {
            s.push_str(&format!(", {count} times"));
        }
    }
    if let Some(until) = rule.get_until() {
        // A `Z` value is a UTC instant; others are wall clock (the crate
        // marks them "local"): either way its date is what the user wrote.
        let date = if until.timezone().is_local() {
            until.naive_local().date()
        } else {
            until.naive_utc().date()
        };
        s.push_str(&format!(", until {}", date.format("%B %-d, %Y")));
    }
    s
}

/// "every day", "every 2 weeks", ...
fn period(freq: Frequency, interval: u16) -> String {
    let unit = match freq {
        Frequency::Yearly => "year",
        Frequency::Monthly => "month",
        Frequency::Weekly => "week",
        Frequency::Daily => "day",
        Frequency::Hourly => "hour",
        Frequency::Minutely => "minute",
        Frequency::Secondly => "second",
    };
    match interval {
        1 => format!("every {unit}"),
        n => format!("every {n} {unit}s"),
    }
}

/// The " on ..."/" in ..." clause naming the days within each period.
fn which_days(rule: &RRule<Unvalidated>, plain_days: Option<&[Weekday]>) -> String {
    let days = rule.get_by_weekday();
    let month_days = rule.get_by_month_day();
    let months = rule.get_by_month();
    let set_pos = rule.get_by_set_pos();
    let yearly = rule.get_freq() == Frequency::Yearly;
    // BYSETPOS picking among plain weekdays has a neat phrasing ("the last
    // weekday"); over anything else it gets a generic suffix below.
    let set_pos_on_days =
        !set_pos.is_empty() && plain_days.is_some_and(|p| !p.is_empty()) && month_days.is_empty();
    let mut parts: Vec<String> = Vec::new();

    match plain_days {
        // BYSETPOS picks among the matching days: "the last weekday".
        Some(plain) if set_pos_on_days => {
            let which = join_and(set_pos.iter().map(|p| ordinal_word(i64::from(*p))));
            parts.push(format!("the {which} {}", day_set_name(plain)));
        }
        Some(plain) if !plain.is_empty() && rule.get_freq() == Frequency::Weekly => {
            parts.push(if is_weekdays(plain) {
                "weekdays".to_owned()
            } else {
                join_and(plain.iter().map(|w| day_name(*w).to_owned()))
            });
        }
        _ => {
            for day in days {
                parts.push(match day {
                    NWeekday::Every(w) => format!("every {}", day_name(*w)),
                    NWeekday::Nth(n, w) => {
                        format!("the {} {}", ordinal_word(i64::from(*n)), day_name(*w))
                    }
                });
            }
        }
    }

    // The crate sorts them numerically; "the 1st and the last day" reads
    // better than "the last day and the 1st".
    let mut month_days = month_days.to_vec();
    month_days.sort_by_key(|d| (*d < 0, *d));
    let mut s = String::new();
    if !month_days.is_empty() {
        let all_positive = month_days.iter().all(|d| *d > 0);
        let names = if yearly && months.len() == 1 && all_positive {
            // "on March 3 and 17"
            format!(
                "{} {}",
                month_name(months[0]),
                join_and(month_days.iter().map(|d| d.to_string()))
            )
        } else if all_positive {
            format!(
                "the {}",
                join_and(month_days.iter().map(|d| suffixed(i64::from(*d))))
            )
        } else {
            join_and(month_days.iter().map(|d| month_day(*d)))
        };
        if days.is_empty() {
            s.push_str(&format!(" on {names}"));
        } else {
            // Both restrict the date, e.g. Friday the 13th: BYMONTHDAY=13;BYDAY=FR.
            let days: Vec<String> = days
                .iter()
                .map(|day| match day {
                    NWeekday::Every(w) => format!("a {}", day_name(*w)),
                    NWeekday::Nth(n, w) => {
                        format!("the {} {}", ordinal_word(i64::from(*n)), day_name(*w))
                    }
                })
                .collect();
            s.push_str(&format!(" on {names} if it is {}", join_or(&days)));
        }
        if yearly && !(months.len() == 1 && all_positive) && !months.is_empty() {
            s.push_str(&format!(" of {}", month_list(months)));
        } else if yearly && months.is_empty() {
            s.push_str(" of each month");
        }
    } else if !parts.is_empty() {
        s.push_str(&format!(" on {}", join_and(parts)));
        // "the last Sunday of March", but "every Monday in March".
        let nth = days.iter().any(|d| matches!(d, NWeekday::Nth(..)));
        if yearly && !months.is_empty() {
            let word = if nth { "of" } else { "in" };
            s.push_str(&format!(" {word} {}", month_list(months)));
        } else if yearly && nth && rule.get_by_week_no().is_empty() {
            s.push_str(" of the year");
        }
    } else if yearly && !months.is_empty() {
        s.push_str(&format!(" in {}", month_list(months)));
    }

    if !rule.get_by_year_day().is_empty() {
        let days = rule.get_by_year_day().iter().map(|d| i64::from(*d));
        s.push_str(&format!(
            " on the {} day of the year",
            join_and(days.map(ordinal_word))
        ));
    }
    if !rule.get_by_week_no().is_empty() {
        let weeks = rule.get_by_week_no().iter().map(|w| w.to_string());
        let noun = if rule.get_by_week_no().len() == 1 {
            "week"
        } else {
            "weeks"
        };
        s.push_str(&format!(" in {noun} {}", join_and(weeks)));
    }
    if !set_pos.is_empty() && !set_pos_on_days {
        let which = join_and(set_pos.iter().map(|p| ordinal_word(i64::from(*p))));
        s.push_str(&format!(", only the {which} of those in each period"));
    }
    s
}

/// " at 09:00 and 17:30", or " at 15 and 45 minutes past the hour".
fn times(hours: &[u8], minutes: &[u8]) -> String {
    if hours.is_empty() && minutes.is_empty() {
        return String::new();
    }
    if hours.is_empty() {
        let list = join_and(minutes.iter().map(|m| m.to_string()));
        return format!(" at {list} minutes past the hour");
    }
    let minutes = if minutes.is_empty() {
        &[0][..]
    } else {
        minutes
    };
    let list = hours
        .iter()
        .flat_map(|h| minutes.iter().map(move |m| format!("{h:02}:{m:02}")));
    format!(" at {}", join_and(list))
}

fn is_weekdays(days: &[Weekday]) -> bool {
    days.len() == 5 && WEEKDAYS.iter().all(|w| days.contains(w))
}

/// The days BYSETPOS chooses among: "weekday", "day", "Tuesday or Thursday".
fn day_set_name(days: &[Weekday]) -> String {
    if is_weekdays(days) {
        return "weekday".to_owned();
    }
    let weekend = [Weekday::Sat, Weekday::Sun];
    if days.len() == 2 && weekend.iter().all(|w| days.contains(w)) {
        return "weekend day".to_owned();
    }
    if days.len() == 7 {
        return "day".to_owned();
    }
    let names: Vec<String> = days.iter().map(|w| day_name(*w).to_owned()).collect();
    join_or(&names)
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn month_name(month: u8) -> &'static str {
    Month::try_from(month).map_or("?", |m| m.name())
}

fn month_list(months: &[u8]) -> String {
    join_and(months.iter().map(|m| month_name(*m).to_owned()))
}

/// A BYMONTHDAY item with its article: "the 1st", "the last day".
fn month_day(day: i8) -> String {
    if day > 0 {
        format!("the {}", suffixed(i64::from(day)))
    } else {
        format!("the {} day", ordinal_word(i64::from(day)))
    }
}

/// 1 → "first", -1 → "last", -2 → "second-to-last", 7 → "7th".
fn ordinal_word(n: i64) -> String {
    let word = |n: i64| match n {
        1 => "first".to_owned(),
        2 => "second".to_owned(),
        3 => "third".to_owned(),
        4 => "fourth".to_owned(),
        5 => "fifth".to_owned(),
        n => suffixed(n),
    };
    match n {
        -1 => "last".to_owned(),
        n if n < 0 => format!("{}-to-last", word(-n)),
        n => word(n),
    }
}

/// 1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd".
fn suffixed(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "A", "A and B", "A, B and C".
fn join_and(items: impl IntoIterator<Item = String>) -> String {
    join_with(&items.into_iter().collect::<Vec<_>>(), "and")
}

fn join_or(items: &[String]) -> String {
    join_with(items, "or")
}

fn join_with(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_rules() {
        let cases = [
            ("FREQ=DAILY", "every day"),
            ("FREQ=DAILY;INTERVAL=3", "every 3 days"),
            ("FREQ=WEEKLY", "every week"),
            ("FREQ=MONTHLY", "every month"),
            ("FREQ=YEARLY", "every year"),
            ("FREQ=HOURLY;INTERVAL=4", "every 4 hours"),
            ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
            ("FREQ=DAILY;BYDAY=FR,MO,TU,WE,TH", "every weekday"),
            (
                "FREQ=DAILY;BYDAY=MO,WE,FR",
                "every Monday, Wednesday and Friday",
            ),
            (
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
                "every 2 weeks on Tuesday",
            ),
            (
                "FREQ=WEEKLY;BYDAY=MO,TH",
                "every week on Monday and Thursday",
            ),
            (
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR",
                "every 2 weeks on weekdays",
            ),
            ("FREQ=MONTHLY;BYDAY=-1FR", "every month on the last Friday"),
            ("FREQ=MONTHLY;BYDAY=2MO", "every month on the second Monday"),
            (
                "FREQ=MONTHLY;BYDAY=1MO,3WE",
                "every month on the first Monday and the third Wednesday",
            ),
            (
                "FREQ=MONTHLY;BYDAY=-2SU",
                "every month on the second-to-last Sunday",
            ),
            ("FREQ=MONTHLY;BYMONTHDAY=1", "every month on the 1st"),
            (
                "FREQ=MONTHLY;BYMONTHDAY=1,15",
                "every month on the 1st and 15th",
            ),
            ("FREQ=MONTHLY;BYMONTHDAY=-1", "every month on the last day"),
            (
                "FREQ=MONTHLY;BYMONTHDAY=1,-1",
                "every month on the 1st and the last day",
            ),
            (
                "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=22",
                "every 3 months on the 22nd",
            ),
            (
                "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
                "every month on the last weekday",
            ),
            (
                "FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=1",
                "every month on the first weekend day",
            ),
            (
                "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
                "every month on the 13th if it is a Friday",
            ),
            (
                "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3",
                "every year on March 3",
            ),
            (
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1",
                "every year on the last day of February",
            ),
            (
                "FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=1",
                "every year on the 1st of March and September",
            ),
            (
                "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
                "every year on the last Sunday of March",
            ),
            ("FREQ=YEARLY;BYMONTH=6", "every year in June"),
            (
                "FREQ=YEARLY;BYDAY=20MO",
                "every year on the 20th Monday of the year",
            ),
            (
                "FREQ=YEARLY;BYYEARDAY=100",
                "every year on the 100th day of the year",
            ),
            (
                "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
                "every year on every Monday in week 20",
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=-1",
                "every month on the 1st and 15th, only the last of those in each period",
            ),
            ("FREQ=DAILY;BYMONTH=12", "every day in December"),
            (
                "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYMONTH=12",
                "every weekday in December",
            ),
            ("FREQ=DAILY;BYHOUR=9,17", "every day at 09:00 and 17:00"),
            (
                "FREQ=HOURLY;BYMINUTE=15,45",
                "every hour at 15 and 45 minutes past the hour",
            ),
        ];
        for (rule, want) in cases {
            assert_eq!(describe(rule), want, "{rule}");
        }
    }

    #[test]
    fn count_and_until() {
        assert_eq!(describe("FREQ=DAILY;COUNT=10"), "every day, 10 times");
        assert_eq!(describe("FREQ=DAILY;COUNT=1"), "every day, once");
        assert_eq!(describe("FREQ=WEEKLY;COUNT=2"), "every week, twice");
        assert_eq!(
            describe("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270601T000000Z"),
            "every month on the last Friday, until June 1, 2027"
        );
        assert_eq!(
            describe("FREQ=DAILY;UNTIL=20270601"),
            "every day, until June 1, 2027"
        );
        assert_eq!(
            describe("FREQ=DAILY;UNTIL=20271231T235959"),
            "every day, until December 31, 2027"
        );
    }

    #[test]
    fn prefix_case_and_unparsable() {
        assert_eq!(
            describe("RRULE:freq=weekly;byday=tu"),
            "every week on Tuesday"
        );
        assert_eq!(describe("FREQ=SOMETIMES"), "FREQ=SOMETIMES");
    }
}
