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

#[test]
fn rules_end_in_every_common_form() {
    // Today is Friday 27 November 2026.
    let cases = [
        (
            "take vitamins every day for 10 days",
            "every day for 10 days",
            "FREQ=DAILY;COUNT=10",
        ),
        (
            "gym every monday wednesday and friday until the end of March",
            "every monday wednesday and friday until the end of March",
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20270331",
        ),
        (
            "backup every week through 2027",
            "every week through 2027",
            "FREQ=WEEKLY;UNTIL=20271231",
        ),
        (
            "piano every tuesday until June 3rd",
            "every tuesday until June 3rd",
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270603",
        ),
        (
            "standup every weekday for 2 weeks",
            "every weekday for 2 weeks",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20261210",
        ),
        (
            "stretch daily for a month",
            "daily for a month",
            "FREQ=DAILY;UNTIL=20261226",
        ),
        (
            "newsletter every month for 6 months",
            "every month for 6 months",
            "FREQ=MONTHLY;COUNT=6",
        ),
        (
            "pills every day ending after 5 times",
            "every day ending after 5 times",
            "FREQ=DAILY;COUNT=5",
        ),
        (
            "water plants every 2 days until the end of the month",
            "every 2 days until the end of the month",
            "FREQ=DAILY;INTERVAL=2;UNTIL=20261130",
        ),
        (
            "pay rent on the 1st of every month through March",
            "on the 1st of every month through March",
            "FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20270331",
        ),
        (
            "journal every day until 2027",
            "every day until 2027",
            "FREQ=DAILY;UNTIL=20261231",
        ),
        (
            "lessons every week until the end of next month",
            "every week until the end of next month",
            "FREQ=WEEKLY;UNTIL=20261231",
        ),
        (
            "call every sunday for the next 3 weeks",
            "every sunday for the next 3 weeks",
            "FREQ=WEEKLY;BYDAY=SU;UNTIL=20261217",
        ),
        ("stretch every day until 5pm", "every day", "FREQ=DAILY"),
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
fn months_and_quarters_in_rules() {
    let cases = [
        (
            "quarterly review on the 15th of jan apr jul and oct",
            "on the 15th of jan apr jul and oct",
            "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=15",
        ),
        (
            "report every quarter on the 15th",
            "every quarter on the 15th",
            "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
        ),
        (
            "board pack on the 1st of every quarter",
            "on the 1st of every quarter",
            "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1",
        ),
        (
            "taxes every jan and jul on the 1st",
            "every jan and jul on the 1st",
            "FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1",
        ),
        (
            "service the boiler every october",
            "every october",
            "FREQ=YEARLY;BYMONTH=10",
        ),
        (
            "clean the oven every fortnight",
            "every fortnight",
            "FREQ=WEEKLY;INTERVAL=2",
        ),
        (
            "review every 2 quarters",
            "every 2 quarters",
            "FREQ=MONTHLY;INTERVAL=6",
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
