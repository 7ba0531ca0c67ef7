use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};

use super::*;
use crate::words::words;

/// Friday 27 November 2026, 14:30 in Paris.
pub fn clock() -> Clock {
    Clock::new(
        Utc.with_ymd_and_hms(2026, 11, 27, 13, 30, 0).unwrap(),
        chrono_tz::Europe::Paris,
    )
}

fn parse(s: &str) -> Option<(String, NaiveDate, Option<NaiveTime>)> {
    let w = words(s);
    let f = find(&w, 0, w.len(), &clock())?;
    let text = crate::words::span(s, &w, f.start, f.end).to_owned();
    Some((text, f.value.date, f.value.time))
}

fn d(m: u32, day: u32) -> NaiveDate {
    let y = if m >= 11 { 2026 } else { 2027 };
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn t(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

#[test]
fn expressions_inside_sentences() {
    let cases: &[(&str, &str, NaiveDate, Option<NaiveTime>)] = &[
        ("buy milk tomorrow", "tomorrow", d(11, 28), None),
        (
            "call mom tomorrow at 5pm",
            "tomorrow at 5pm",
            d(11, 28),
            t(17, 0),
        ),
        ("dentist next Monday", "next Monday", d(11, 30), None),
        (
            "report due monday at 9",
            "due monday at 9",
            d(11, 30),
            t(9, 0),
        ),
        ("pay rent in 2 hours", "in 2 hours", d(11, 27), t(16, 30)),
        (
            "stretch in half an hour",
            "in half an hour",
            d(11, 27),
            t(15, 0),
        ),
        ("passport on March 3rd", "on March 3rd", d(3, 3), None),
        ("taxes by Friday", "by Friday", d(12, 4), None),
        (
            "invoice end of the month",
            "end of the month",
            d(11, 30),
            None,
        ),
        (
            "party on December 31st at 8pm",
            "on December 31st at 8pm",
            d(12, 31),
            t(20, 0),
        ),
        ("call at 10", "at 10", d(11, 28), t(10, 0)),
        ("call at 4", "at 4", d(11, 27), t(16, 0)),
        (
            "standup at 17:15 tomorrow",
            "at 17:15 tomorrow",
            d(11, 28),
            t(17, 15),
        ),
        (
            "gym tomorrow morning",
            "tomorrow morning",
            d(11, 28),
            t(9, 0),
        ),
        ("read tonight", "tonight", d(11, 27), t(20, 0)),
        ("plan in 3 days", "in 3 days", d(11, 30), None),
        ("visit in 2 weeks", "in 2 weeks", d(12, 11), None),
        ("review 2026-12-03", "2026-12-03", d(12, 3), None),
        ("bills the 5th", "the 5th", d(12, 5), None),
        ("bills on the 28th", "on the 28th", d(11, 28), None),
        ("trip 3 january 2027", "3 january 2027", d(1, 3), None),
        ("clean this weekend", "this weekend", d(11, 28), None),
        ("send it next week", "next week", d(11, 30), None),
        ("ship end of week", "end of week", d(11, 27), None),
        ("call at 5:30 p.m.", "at 5:30 p.m", d(11, 27), t(17, 30)),
        (
            "lunch at noon on friday",
            "at noon on friday",
            d(12, 4),
            t(12, 0),
        ),
    ];
    for (input, text, date, time) in cases {
        let got = parse(input).unwrap_or_else(|| panic!("{input}: nothing found"));
        assert_eq!(got, ((*text).to_owned(), *date, *time), "{input}");
    }
}

#[test]
fn words_that_are_not_dates() {
    for s in [
        "buy 2 apples",
        "read chapter 5",
        "may the force",
        "the first draft",
        "at home",
    ] {
        assert_eq!(parse(s), None, "{s}");
    }
}
