//! What filters match: every term, combinations and the time semantics.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::eval::resolve_local;
use super::{Filter, FilterContext, parse};
use crate::due::Due;
use crate::recurrence::{Basis, Recurrence};
use crate::task::{Priority, Reminder, ReminderWhen, Status, Task};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn task() -> Task {
    Task::new("t1", "u1", "a task", "2026-11-01T00:00:00Z")
}

/// An all-day due in a zone other than the user's, with a `due_at` that
/// the filter must ignore (it is the start of the day in the due's zone).
fn all_day(date: &str) -> Task {
    let zone: Tz = "America/New_York".parse().unwrap();
    let date = day(date);
    Task {
        due: Some(Due {
            date,
            time: None,
            time_zone: zone.name().into(),
        }),
        due_at: Some(resolve_local(date.and_hms_opt(0, 0, 0).unwrap(), zone)),
        ..task()
    }
}

/// A timed due at instant `utc`, written as wall-clock time in `zone`.
fn timed(utc: &str, zone: &str) -> Task {
    let zone: Tz = zone.parse().unwrap();
    let local = at(utc).with_timezone(&zone).naive_local();
    Task {
        due: Some(Due {
            date: local.date(),
            time: Some(local.time()),
            time_zone: zone.name().into(),
        }),
        due_at: Some(at(utc)),
        ..task()
    }
}

fn completed(t: Task) -> Task {
    Task {
        status: Status::Completed,
        ..t
    }
}

/// 2026-11-27T23:30Z is Saturday 2026-11-28 12:30 in Auckland (NZDT, +13):
/// "today" there is a day ahead of UTC's.
fn auckland() -> FilterContext {
    FilterContext::new(
        at("2026-11-27T23:30:00Z"),
        "Pacific/Auckland".parse().unwrap(),
    )
}

fn f(input: &str) -> Filter {
    parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

fn hits(filter: &str, t: &Task) -> bool {
    f(filter).matches(t, &auckland())
}

#[test]
fn filter_status() {
    let done = completed(task());
    assert!(hits("status:open", &task()) && !hits("status:open", &done));
    assert!(hits("status:completed", &done) && !hits("status:completed", &task()));
}

#[test]
fn filter_priority_equality_and_comparisons() {
    let with = |priority| Task { priority, ..task() };
    let (none, low, medium, high, urgent) = (
        with(Priority::None),
        with(Priority::Low),
        with(Priority::Medium),
        with(Priority::High),
        with(Priority::Urgent),
    );
    assert!(hits("priority:high", &high) && !hits("priority:high", &urgent));
    assert!(hits("priority:none", &none) && !hits("priority:none", &low));
    assert!(hits("priority>=medium", &medium) && hits("priority>=medium", &urgent));
    assert!(!hits("priority>=medium", &low));
    assert!(hits("priority>medium", &high) && !hits("priority>medium", &medium));
    assert!(hits("priority<=low", &none) && hits("priority<=low", &low));
    assert!(!hits("priority<=low", &medium));
    assert!(hits("priority<high", &medium) && !hits("priority<high", &high));
}

#[test]
fn filter_tag_is_case_insensitive() {
    let t = Task {
        tags: vec!["work".into(), "été".into()],
        ..task()
    };
    assert!(hits("tag:work", &t) && hits("tag:WORK", &t) && hits("tag:ÉTÉ", &t));
    assert!(!hits("tag:home", &t) && !hits("tag:wor", &t));
}

#[test]
fn filter_has_reminder_and_is_recurring() {
    let reminded = Task {
        reminders: vec![Reminder {
            id: "r1".into(),
            when: ReminderWhen::At {
                at: at("2026-12-01T09:00:00Z"),
            },
        }],
        ..task()
    };
    let recurring = Task {
        recurrence: Some(Recurrence {
            rrule: "FREQ=DAILY".into(),
            basis: Basis::Schedule,
            text: "every day".into(),
        }),
        ..task()
    };
    assert!(hits("has:reminder", &reminded) && !hits("has:reminder", &task()));
    assert!(hits("is:recurring", &recurring) && !hits("is:recurring", &task()));
}

#[test]
fn filter_due_none_and_tasks_without_due() {
    assert!(hits("due:none", &task()) && !hits("due:none", &all_day("2026-11-28")));
    for term in [
        "due:today",
        "due:tomorrow",
        "due:this-week",
        "due:overdue",
        "due:2026-11-28",
        "due<2030-01-01",
        "due>2000-01-01",
        "due<=9999w",
        "due>=0h",
    ] {
        assert!(!hits(term, &task()), "{term}");
        assert!(hits(&format!("!{term}"), &task()), "!{term}");
    }
}

#[test]
fn filter_today_and_tomorrow_are_the_users_days() {
    // UTC says Nov 27; Auckland says Nov 28.
    assert!(hits("due:today", &all_day("2026-11-28")));
    assert!(!hits("due:today", &all_day("2026-11-27")));
    assert!(hits("due:tomorrow", &all_day("2026-11-29")));
    assert!(!hits("due:tomorrow", &all_day("2026-11-28")));
    // Timed dues fall on their local date in the user's zone, whatever the
    // due's own zone: 20:00Z Nov 27 is 09:00 Nov 28 in Auckland.
    assert!(hits(
        "due:today",
        &timed("2026-11-27T20:00:00Z", "Europe/London")
    ));
    // 10:59Z Nov 27 is 23:59 Nov 27 in Auckland, 11:00Z is midnight Nov 28.
    assert!(!hits("due:today", &timed("2026-11-27T10:59:00Z", "UTC")));
    assert!(hits("due:today", &timed("2026-11-27T11:00:00Z", "UTC")));
    assert!(hits("due:tomorrow", &timed("2026-11-28T11:00:00Z", "UTC")));
    assert!(!hits("due:tomorrow", &timed("2026-11-29T11:00:00Z", "UTC")));
}

#[test]
fn filter_this_week_is_monday_to_sunday_around_today() {
    use chrono::{Datelike, Weekday};
    assert_eq!(day("2026-11-28").weekday(), Weekday::Sat);
    assert!(hits("due:this-week", &all_day("2026-11-23")));
    assert!(hits("due:this-week", &all_day("2026-11-29")));
    assert!(!hits("due:this-week", &all_day("2026-11-22")));
    assert!(!hits("due:this-week", &all_day("2026-11-30")));
    // Sunday 23:59 and Monday 00:00 in Auckland (10:59Z / 11:00Z Nov 29).
    assert!(hits("due:this-week", &timed("2026-11-29T10:59:00Z", "UTC")));
    assert!(!hits(
        "due:this-week",
        &timed("2026-11-29T11:00:00Z", "UTC")
    ));
    // Monday 00:00 Auckland is still Sunday Nov 22 in UTC.
    assert!(hits("due:this-week", &timed("2026-11-22T11:00:00Z", "UTC")));
    assert!(!hits(
        "due:this-week",
        &timed("2026-11-22T10:59:00Z", "UTC")
    ));
    // On a Sunday the week is the one ending today; on Monday a new one.
    let sunday = FilterContext::new(at("2026-11-29T12:00:00Z"), Tz::UTC);
    let monday = FilterContext::new(at("2026-11-30T00:00:00Z"), Tz::UTC);
    let t = all_day("2026-11-23");
    assert!(f("due:this-week").matches(&t, &sunday));
    assert!(!f("due:this-week").matches(&t, &monday));
}

#[test]
fn filter_overdue() {
    // now is 23:30Z Nov 27.
    assert!(hits("due:overdue", &timed("2026-11-27T23:29:00Z", "UTC")));
    assert!(!hits("due:overdue", &timed("2026-11-27T23:31:00Z", "UTC")));
    assert!(!hits(
        "due:overdue",
        &completed(timed("2026-11-01T00:00:00Z", "UTC"))
    ));
    // An all-day due is late only once its day (in the user's zone) is over.
    assert!(!hits("due:overdue", &all_day("2026-11-28")));
    assert!(hits("due:overdue", &all_day("2026-11-27")));
    assert!(!hits("due:overdue", &completed(all_day("2026-11-27"))));
    assert!(!hits("due:overdue", &all_day("2026-12-01")));
}

#[test]
fn filter_absolute_dates_with_all_day_dues() {
    let (nov30, dec1, dec2) = (
        all_day("2026-11-30"),
        all_day("2026-12-01"),
        all_day("2026-12-02"),
    );
    let cases = [
        ("due<2026-12-01", [true, false, false]),
        ("due<=2026-12-01", [true, true, false]),
        ("due:2026-12-01", [false, true, false]),
        ("due>=2026-12-01", [false, true, true]),
        ("due>2026-12-01", [false, false, true]),
    ];
    for (filter, expected) in cases {
        let got = [
            hits(filter, &nov30),
            hits(filter, &dec1),
            hits(filter, &dec2),
        ];
        assert_eq!(got, expected, "{filter}");
    }
}

#[test]
fn filter_absolute_dates_with_timed_dues_use_the_users_zone() {
    // Dec 1 starts at 11:00Z Nov 30 in Auckland and ends at 11:00Z Dec 1.
    let before = timed("2026-11-30T10:59:59Z", "UTC");
    let first = timed("2026-11-30T11:00:00Z", "America/Los_Angeles");
    let last = timed("2026-12-01T10:59:59Z", "UTC");
    let after = timed("2026-12-01T11:00:00Z", "UTC");
    let cases = [
        ("due<2026-12-01", [true, false, false, false]),
        ("due<=2026-12-01", [true, true, true, false]),
        ("due:2026-12-01", [false, true, true, false]),
        ("due>=2026-12-01", [false, true, true, true]),
        ("due>2026-12-01", [false, false, false, true]),
    ];
    for (filter, expected) in cases {
        let got = [&before, &first, &last, &after].map(|t| hits(filter, t));
        assert_eq!(got, expected, "{filter}");
    }
}

#[test]
fn filter_relative_durations() {
    // now + 48h = 23:30Z Nov 29.
    let edge = timed("2026-11-29T23:30:00Z", "UTC");
    assert!(hits("due<48h", &timed("2026-11-29T23:29:00Z", "UTC")));
    assert!(!hits("due<48h", &edge) && hits("due<=48h", &edge));
    assert!(hits("due>=48h", &edge) && !hits("due>48h", &edge));
    assert!(hits("due<2d", &timed("2026-11-29T23:29:00Z", "UTC")));
    assert!(hits("due<7d", &timed("2026-12-04T23:29:00Z", "UTC")));
    assert!(!hits("due<7d", &timed("2026-12-04T23:30:00Z", "UTC")));
    assert!(hits("due>=2w", &timed("2026-12-11T23:30:00Z", "UTC")));
    assert!(!hits("due>=2w", &timed("2026-12-11T23:29:00Z", "UTC")));
    // Past dues are "before now + 7d" too: `due<7d` includes overdue tasks.
    assert!(hits("due<7d", &timed("2026-01-01T00:00:00Z", "UTC")));
    // An all-day due counts from the start of its day in the user's zone:
    // now + 1d is Nov 29 12:30 in Auckland, after Nov 29 began there.
    assert!(hits("due<1d", &all_day("2026-11-29")));
    assert!(!hits("due<1d", &all_day("2026-11-30")));
    assert!(hits("due<0h", &all_day("2026-11-28")) && !hits("due:overdue", &all_day("2026-11-28")));
}

#[test]
fn filter_days_keep_the_users_wall_clock_across_dst() {
    // London springs forward on 2026-03-29: 12:00Z on Mar 28 is 12:00 GMT,
    // and "1d later" is 12:00 BST on Mar 29 = 11:00Z (only 23h later).
    let ctx = FilterContext::new(at("2026-03-28T12:00:00Z"), "Europe/London".parse().unwrap());
    let t = timed("2026-03-29T11:30:00Z", "UTC");
    assert!(!f("due<1d").matches(&t, &ctx));
    assert!(f("due<24h").matches(&t, &ctx));
}

#[test]
fn filter_start_of_day_inside_a_dst_gap() {
    // Chile skips Sunday 2026-09-06 00:00-01:00; the day starts at the
    // change, 01:00 -03 = 04:00Z.
    let santiago: Tz = "America/Santiago".parse().unwrap();
    let midnight = |d: &str| -> NaiveDateTime { day(d).and_hms_opt(0, 0, 0).unwrap() };
    assert_eq!(
        resolve_local(midnight("2026-09-06"), santiago),
        at("2026-09-06T04:00:00Z")
    );
    assert_eq!(
        resolve_local(midnight("2026-09-05"), santiago),
        at("2026-09-05T04:00:00Z")
    );
    // Ambiguous (London falls back on Oct 25): the earlier instant.
    let london: Tz = "Europe/London".parse().unwrap();
    let one_thirty = day("2026-10-25").and_hms_opt(1, 30, 0).unwrap();
    assert_eq!(
        resolve_local(one_thirty, london),
        at("2026-10-25T00:30:00Z")
    );
}

#[test]
fn filter_timed_due_without_due_at_falls_back_to_its_date() {
    let t = Task {
        due_at: None,
        ..timed("2026-11-28T01:00:00Z", "UTC")
    };
    assert!(hits("due:2026-11-28", &t) && !hits("due:none", &t));
}

#[test]
fn filter_combinations_and_precedence() {
    let work_high = Task {
        tags: vec!["work".into()],
        priority: Priority::High,
        ..task()
    };
    let home = Task {
        tags: vec!["home".into()],
        ..task()
    };
    let done_home = completed(home.clone());
    // `a | b c` is `a | (b & c)`, not `(a | b) & c`.
    let filter = "tag:work | tag:home status:completed";
    assert!(hits(filter, &work_high) && hits(filter, &done_home) && !hits(filter, &home));
    assert!(!hits("(tag:work | tag:home) status:completed", &work_high));
    assert!(hits("tag:work & priority>=high | is:recurring", &work_high));
    assert!(!hits("tag:work & !priority>=high", &work_high));
    assert!(hits("!tag:work", &home) && !hits("!tag:work", &work_high));
    assert!(hits(
        "!(tag:work | tag:home) | status:completed",
        &done_home
    ));
    assert!(!hits("!(tag:work | tag:home)", &home));
    assert!(hits("!!tag:home", &home) && !hits("!!!tag:home", &home));
    assert!(hits("STATUS:Open PRIORITY>=HIGH Tag:WORK", &work_high));
    assert!(hits(
        "Due:NONE & Has:Reminder | IS:recurring | status:OPEN",
        &home
    ));
}

#[test]
fn filter_uses_relative_time() {
    for relative in [
        "due:today",
        "due:tomorrow",
        "due:this-week",
        "due:overdue",
        "due<7d",
    ] {
        assert!(f(relative).uses_relative_time(), "{relative}");
        assert!(f(&format!("tag:x | !({relative})")).uses_relative_time());
    }
    for fixed in [
        "due:none",
        "due<2026-12-01",
        "status:open tag:x",
        "priority>low | is:recurring",
    ] {
        assert!(!f(fixed).uses_relative_time(), "{fixed}");
    }
}
