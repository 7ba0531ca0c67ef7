//! Tests of recurrence input, expansion and next-instance generation.

use super::*;
use serde_json::json;

fn due(date: &str, time: Option<&str>, zone: &str) -> Due {
    serde_json::from_value(json!({"date": date, "time": time, "time_zone": zone})).unwrap()
}

fn rec(rrule: &str) -> Recurrence {
    Recurrence {
        rrule: rrule.to_owned(),
        basis: Basis::Schedule,
        text: String::new(),
    }
}

/// The `at` of the first `count` occurrences.
fn ats(rrule: &str, due: &Due, occurrence: u32, count: usize) -> Vec<String> {
    occurrences(&rec(rrule), due, occurrence, count)
        .unwrap()
        .into_iter()
        .map(|o| o.at)
        .collect()
}

fn locals(rrule: &str, due: &Due, count: usize) -> Vec<String> {
    occurrences(&rec(rrule), due, 1, count)
        .unwrap()
        .into_iter()
        .map(|o| o.local)
        .collect()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn input_error(value: Value, due: Option<&Due>) -> (String, String) {
    let e = Recurrence::from_json(&value, due).unwrap_err();
    assert_eq!(e.status, 422);
    (e.field.unwrap(), e.message)
}

#[test]
fn from_json_normalizes_and_describes() {
    let d = due("2026-12-25", Some("09:00"), "Europe/London");
    let r = Recurrence::from_json(
        &json!({"rrule": " RRULE:freq=monthly;byday=-1fr; ", "text": "stale"}),
        Some(&d),
    )
    .unwrap();
    assert_eq!(r.rrule, "FREQ=MONTHLY;BYDAY=-1FR");
    assert_eq!(r.basis, Basis::Schedule);
    assert_eq!(r.text, "every month on the last Friday");

    let r = Recurrence::from_json(
        &json!({"rrule": "FREQ=DAILY;INTERVAL=2;COUNT=10", "basis": "completion"}),
        Some(&d),
    )
    .unwrap();
    assert_eq!(r.rrule, "FREQ=DAILY;INTERVAL=2;COUNT=10");
    assert_eq!(r.basis, Basis::Completion);
    assert_eq!(r.text, "every 2 days, 10 times");

    // A date-only UNTIL is fine with a timed due (through that date).
    let r = Recurrence::from_json(&json!({"rrule": "FREQ=DAILY;UNTIL=20261231"}), Some(&d));
    assert_eq!(r.unwrap().text, "every day, until December 31, 2026");
}

#[test]
fn from_json_shape_errors() {
    let d = due("2026-12-04", Some("09:00"), "Europe/London");
    let cases = [
        (json!("FREQ=DAILY"), "recurrence"),
        (
            json!({"rrule": "FREQ=DAILY", "every": 2}),
            "recurrence.every",
        ),
        (json!({"basis": "schedule"}), "recurrence.rrule"),
        (json!({"rrule": 7}), "recurrence.rrule"),
        (
            json!({"rrule": "FREQ=DAILY", "basis": "weekly"}),
            "recurrence.basis",
        ),
        (
            json!({"rrule": "FREQ=DAILY", "basis": "Schedule"}),
            "recurrence.basis",
        ),
    ];
    for (value, field) in cases {
        assert_eq!(input_error(value.clone(), Some(&d)).0, field, "{value}");
    }
    let (field, message) = input_error(json!({"rrule": "FREQ=DAILY"}), None);
    assert_eq!(field, "recurrence");
    assert!(message.contains("needs a due"), "{message}");
}

#[test]
fn invalid_rules_name_the_problem() {
    let timed = due("2026-12-04", Some("09:00"), "Europe/London");
    let all_day = due("2026-12-04", None, "Europe/London");
    let cases = [
        ("", &timed, "empty"),
        ("FREQ=SOMETIMES", &timed, "SOMETIMES"),
        ("BYDAY=MO", &timed, "FREQ"),
        ("FREQ=WEEKLY;BYDAY=XX", &timed, "XX"),
        ("FREQ=WEEKLY;COLOUR=RED", &timed, "COLOUR"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", &timed, "BYMONTHDAY"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", &timed, "BYMONTHDAY"),
        ("FREQ=DAILY;FREQ=WEEKLY", &timed, "duplicate"),
        ("FREQ=MINUTELY", &timed, "MINUTELY"),
        ("FREQ=SECONDLY;INTERVAL=30", &timed, "SECONDLY"),
        ("FREQ=DAILY;INTERVAL=0", &timed, "INTERVAL"),
        ("FREQ=DAILY;COUNT=0", &timed, "COUNT"),
        (
            "FREQ=DAILY;COUNT=3;UNTIL=20270101",
            &timed,
            "COUNT and UNTIL",
        ),
        (
            "DTSTART:20261204T090000Z\nRRULE:FREQ=DAILY",
            &timed,
            "DTSTART",
        ),
        ("FREQ=DAILY;DTSTART=20261204", &timed, "DTSTART"),
        ("EXRULE:FREQ=DAILY", &timed, "single RRULE"),
        ("FREQ=DAILY;UNTIL=20261201", &timed, "UNTIL is before"),
        (
            "FREQ=DAILY;UNTIL=20261204T085959Z",
            &timed,
            "UNTIL is before",
        ),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            &timed,
            "matches no date",
        ),
        ("FREQ=HOURLY", &all_day, "need a due time"),
        ("FREQ=DAILY;BYHOUR=9", &all_day, "need a due time"),
    ];
    for (rule, d, needle) in cases {
        let (field, message) = input_error(json!({ "rrule": rule }), Some(d));
        assert_eq!(field, "recurrence.rrule", "{rule}");
        assert!(
            message.to_lowercase().contains(&needle.to_lowercase()),
            "{rule}: {message}"
        );
    }
}

#[test]
fn every_weekday() {
    let d = due("2026-12-04", Some("09:00"), "Europe/London"); // a Friday
    assert_eq!(
        ats("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", &d, 1, 4),
        [
            "2026-12-04T09:00:00Z",
            "2026-12-07T09:00:00Z",
            "2026-12-08T09:00:00Z",
            "2026-12-09T09:00:00Z"
        ]
    );
}

#[test]
fn last_friday_of_the_month() {
    let d = due("2026-12-25", Some("17:00"), "UTC");
    assert_eq!(
        ats("FREQ=MONTHLY;BYDAY=-1FR", &d, 1, 4),
        [
            "2026-12-25T17:00:00Z",
            "2027-01-29T17:00:00Z",
            "2027-02-26T17:00:00Z",
            "2027-03-26T17:00:00Z"
        ]
    );
}

#[test]
fn last_day_of_the_month() {
    let d = due("2027-12-31", None, "UTC");
    assert_eq!(
        locals("FREQ=MONTHLY;BYMONTHDAY=-1", &d, 4),
        [
            "2027-12-31T00:00:00",
            "2028-01-31T00:00:00",
            "2028-02-29T00:00:00",
            "2028-03-31T00:00:00"
        ]
    );
}

#[test]
fn last_weekday_by_setpos() {
    let d = due("2027-01-29", Some("12:00"), "UTC");
    assert_eq!(
        ats("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", &d, 1, 4),
        [
            "2027-01-29T12:00:00Z",
            "2027-02-26T12:00:00Z",
            "2027-03-31T12:00:00Z",
            "2027-04-30T12:00:00Z"
        ]
    );
}

#[test]
fn own_due_comes_first_even_off_rule() {
    let d = due("2026-12-02", Some("09:00"), "UTC"); // a Wednesday
    assert_eq!(
        ats("FREQ=WEEKLY;BYDAY=MO", &d, 1, 3),
        [
            "2026-12-02T09:00:00Z",
            "2026-12-07T09:00:00Z",
            "2026-12-14T09:00:00Z"
        ]
    );
}

#[test]
fn count_counts_from_the_series_start() {
    let d = due("2026-12-04", Some("09:00"), "UTC");
    assert_eq!(ats("FREQ=DAILY;COUNT=5", &d, 1, 10).len(), 5);
    assert_eq!(
        ats("FREQ=DAILY;COUNT=5", &d, 3, 10),
        [
            "2026-12-04T09:00:00Z",
            "2026-12-05T09:00:00Z",
            "2026-12-06T09:00:00Z"
        ]
    );
    assert_eq!(ats("FREQ=DAILY;COUNT=5", &d, 5, 10).len(), 1);
    assert_eq!(ats("FREQ=DAILY;COUNT=5", &d, 9, 10).len(), 1);
    assert!(ats("FREQ=DAILY", &d, 1, 0).is_empty());
}

#[test]
fn until_in_its_three_forms() {
    let d = due("2026-12-04", Some("09:00"), "America/New_York");
    // A date: through that whole day in the due's zone.
    assert_eq!(ats("FREQ=DAILY;UNTIL=20261207", &d, 1, 10).len(), 4);
    // A UTC instant: 2026-12-07 09:00 EST is 14:00Z, after the limit.
    assert_eq!(ats("FREQ=DAILY;UNTIL=20261207T120000Z", &d, 1, 10).len(), 3);
    assert_eq!(ats("FREQ=DAILY;UNTIL=20261207T140000Z", &d, 1, 10).len(), 4);
    // A floating time: the due's wall clock.
    assert_eq!(ats("FREQ=DAILY;UNTIL=20261207T090000", &d, 1, 10).len(), 4);
    assert_eq!(ats("FREQ=DAILY;UNTIL=20261207T085959", &d, 1, 10).len(), 3);
}

#[test]
fn london_weekly_keeps_nine_local_across_both_changes() {
    let spring = due("2027-03-21", Some("09:00"), "Europe/London");
    let rule = "FREQ=WEEKLY";
    assert_eq!(
        ats(rule, &spring, 1, 3),
        [
            "2027-03-21T09:00:00Z",
            "2027-03-28T08:00:00Z",
            "2027-04-04T08:00:00Z"
        ]
    );
    assert!(
        locals(rule, &spring, 3)
            .iter()
            .all(|l| l.ends_with("T09:00:00"))
    );
    let autumn = due("2027-10-24", Some("09:00"), "Europe/London");
    assert_eq!(
        ats(rule, &autumn, 1, 3),
        [
            "2027-10-24T08:00:00Z",
            "2027-10-31T09:00:00Z",
            "2027-11-07T09:00:00Z"
        ]
    );
    assert!(
        locals(rule, &autumn, 3)
            .iter()
            .all(|l| l.ends_with("T09:00:00"))
    );
}

#[test]
fn new_york_daily_half_past_two_across_the_spring_gap() {
    let d = due("2027-03-12", Some("02:30"), "America/New_York");
    let occ = occurrences(&rec("FREQ=DAILY"), &d, 1, 4).unwrap();
    let got: Vec<(&str, &str)> = occ.iter().map(|o| (&*o.local, &*o.at)).collect();
    assert_eq!(
        got,
        [
            ("2027-03-12T02:30:00", "2027-03-12T07:30:00Z"),
            ("2027-03-13T02:30:00", "2027-03-13T07:30:00Z"),
            // 02:30 does not exist: shifted by the gap, as Due::instant does.
            ("2027-03-14T03:30:00", "2027-03-14T07:30:00Z"),
            ("2027-03-15T02:30:00", "2027-03-15T06:30:00Z"),
        ]
    );
    // The generated task keeps the nominal 02:30 (completed a day late on
    // the completion basis: the next task, whatever it skipped, is the 2nd).
    let (next, index) = next_after(&rec("FREQ=DAILY"), &d, 1, utc("2027-03-13T12:00:00Z")).unwrap();
    assert_eq!(next, due("2027-03-14", Some("02:30"), "America/New_York"));
    assert_eq!(index, 2);
    assert_eq!(next.instant(), utc("2027-03-14T07:30:00Z"));
}

#[test]
fn auckland_daily_across_gap_and_overlap() {
    let spring = due("2026-09-26", Some("02:30"), "Pacific/Auckland");
    assert_eq!(
        ats("FREQ=DAILY", &spring, 1, 3),
        [
            "2026-09-25T14:30:00Z",
            "2026-09-26T14:30:00Z", // 02:30 NZST does not exist: 03:30 NZDT
            "2026-09-27T13:30:00Z"
        ]
    );
    let autumn = due("2027-04-03", Some("02:30"), "Pacific/Auckland");
    assert_eq!(
        ats("FREQ=DAILY", &autumn, 1, 3),
        [
            "2027-04-02T13:30:00Z",
            "2027-04-03T13:30:00Z", // ambiguous: the first, NZDT
            "2027-04-04T14:30:00Z"
        ]
    );
}

#[test]
fn all_day_series_are_days() {
    let d = due("2027-03-21", None, "Europe/London");
    let occ = occurrences(&rec("FREQ=WEEKLY"), &d, 1, 3).unwrap();
    let got: Vec<(&str, &str)> = occ.iter().map(|o| (&*o.local, &*o.at)).collect();
    assert_eq!(
        got,
        [
            ("2027-03-21T00:00:00", "2027-03-21T00:00:00Z"),
            ("2027-03-28T00:00:00", "2027-03-28T00:00:00Z"),
            ("2027-04-04T00:00:00", "2027-04-03T23:00:00Z"),
        ]
    );
    let (next, index) = next_after(&rec("FREQ=WEEKLY"), &d, 1, d.instant()).unwrap();
    assert_eq!(next, due("2027-03-28", None, "Europe/London"));
    assert_eq!(index, 2);
}

#[test]
fn next_after_on_schedule_and_count() {
    let d = due("2026-12-04", Some("09:00"), "UTC");
    let r = rec("FREQ=WEEKLY;COUNT=3");
    let (next, index) = next_after(&r, &d, 2, d.instant()).unwrap();
    assert_eq!(next, due("2026-12-11", Some("09:00"), "UTC"));
    assert_eq!(index, 3);
    assert_eq!(next_after(&r, &d, 3, d.instant()), None);
    // Completing early still yields the instance after this task's own due.
    let (next, index) = next_after(&r, &d, 1, utc("2026-11-01T00:00:00Z")).unwrap();
    assert_eq!((next.date.to_string(), index), ("2026-12-11".to_owned(), 2));
}

#[test]
fn next_after_completion_skips_missed_instances_without_counting_them() {
    let d = due("2026-12-04", Some("09:00"), "Europe/London");
    let done = utc("2026-12-10T12:00:00Z");
    let (next, index) = next_after(&rec("FREQ=DAILY"), &d, 1, done).unwrap();
    assert_eq!(next, due("2026-12-11", Some("09:00"), "Europe/London"));
    assert_eq!(index, 2);
    // UNTIL already passed by the completion: the series is over.
    assert_eq!(
        next_after(&rec("FREQ=DAILY;UNTIL=20261208"), &d, 1, done),
        None
    );
    // COUNT counts tasks: the second of two is still to come, a third not.
    let (_, index) = next_after(&rec("FREQ=DAILY;COUNT=2"), &d, 1, done).unwrap();
    assert_eq!(index, 2);
    assert_eq!(next_after(&rec("FREQ=DAILY;COUNT=2"), &d, 2, done), None);
}

#[test]
fn pathological_and_stale_rules_are_bounded() {
    let d = due("2026-12-04", Some("09:00"), "UTC");
    // Never matches again: only the task itself, and quickly.
    assert_eq!(
        ats("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", &d, 1, 5).len(),
        1
    );
    assert_eq!(
        next_after(
            &rec("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
            &d,
            1,
            d.instant()
        ),
        None
    );
    // Far past the expansion bound of a daily series.
    assert_eq!(
        next_after(&rec("FREQ=HOURLY"), &d, 1, utc("2040-01-01T00:00:00Z")),
        None
    );
    assert!(occurrences(&rec("FREQ=NEVER"), &d, 1, 3).is_err());
    assert_eq!(next_after(&rec("FREQ=NEVER"), &d, 1, d.instant()), None);
}

#[test]
fn hourly_gap_duplicates_collapse() {
    // 01:30, 02:30 (-> 03:30 EDT), 03:30: one task at 03:30, not two.
    let d = due("2027-03-14", Some("01:30"), "America/New_York");
    assert_eq!(
        ats("FREQ=HOURLY", &d, 1, 3),
        [
            "2027-03-14T06:30:00Z",
            "2027-03-14T07:30:00Z",
            "2027-03-14T08:30:00Z"
        ]
    );
}
