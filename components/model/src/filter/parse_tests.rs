//! The syntax: what parses to what, and the errors for what does not.

use chrono::NaiveDate;

use super::eval::{Cmp, DueTerm, Expr, Span, Term, Unit};
use super::{Filter, FilterError, MAX_FILTER_CHARS, parse};
use crate::task::{Priority, Status};

fn f(input: &str) -> Filter {
    parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

fn term(input: &str) -> Term {
    match f(input).expr {
        Expr::Term(t) => t,
        other => panic!("{input:?} is not a single term: {other:?}"),
    }
}

fn err(input: &str) -> FilterError {
    match parse(input) {
        Ok(filter) => panic!("{input:?} parsed: {filter:?}"),
        Err(e) => e,
    }
}

/// Position, expected and found of the error for `input`.
fn error_at(input: &str) -> (usize, String, Option<String>) {
    let e = err(input);
    (e.position, e.expected, e.found)
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn filter_parses_every_term() {
    use Term::*;
    let due = |d| Due(d);
    let cases = [
        ("status:open", Status(crate::task::Status::Open)),
        ("status:completed", Status(crate::task::Status::Completed)),
        (
            "priority:high",
            Priority(Cmp::Eq, crate::task::Priority::High),
        ),
        (
            "priority:none",
            Priority(Cmp::Eq, crate::task::Priority::None),
        ),
        (
            "priority>=medium",
            Priority(Cmp::Ge, crate::task::Priority::Medium),
        ),
        (
            "priority>medium",
            Priority(Cmp::Gt, crate::task::Priority::Medium),
        ),
        (
            "priority<=low",
            Priority(Cmp::Le, crate::task::Priority::Low),
        ),
        (
            "priority<urgent",
            Priority(Cmp::Lt, crate::task::Priority::Urgent),
        ),
        ("tag:work", Tag("work".into())),
        ("tag:Été-2026", Tag("été-2026".into())),
        ("due:today", due(DueTerm::Today)),
        ("due:tomorrow", due(DueTerm::Tomorrow)),
        ("due:this-week", due(DueTerm::ThisWeek)),
        ("due:overdue", due(DueTerm::Overdue)),
        ("due:none", due(DueTerm::None)),
        (
            "due:2026-12-01",
            due(DueTerm::Day(Cmp::Eq, date("2026-12-01"))),
        ),
        (
            "due<2026-12-01",
            due(DueTerm::Day(Cmp::Lt, date("2026-12-01"))),
        ),
        (
            "due<=2026-12-01",
            due(DueTerm::Day(Cmp::Le, date("2026-12-01"))),
        ),
        (
            "due>2026-12-01",
            due(DueTerm::Day(Cmp::Gt, date("2026-12-01"))),
        ),
        (
            "due>=2026-12-01",
            due(DueTerm::Day(Cmp::Ge, date("2026-12-01"))),
        ),
        ("has:reminder", HasReminder),
        ("is:recurring", IsRecurring),
    ];
    for (input, expected) in cases {
        assert_eq!(term(input), expected, "{input}");
    }
    let within = |cmp, amount, unit| Due(DueTerm::Within(cmp, Span { amount, unit }));
    assert_eq!(term("due<7d"), within(Cmp::Lt, 7, Unit::Days));
    assert_eq!(term("due<48h"), within(Cmp::Lt, 48, Unit::Hours));
    assert_eq!(term("due>=2w"), within(Cmp::Ge, 2, Unit::Weeks));
    assert_eq!(term("due<=0h"), within(Cmp::Le, 0, Unit::Hours));
    assert_eq!(term("due>99999d"), within(Cmp::Gt, 99_999, Unit::Days));
}

#[test]
fn filter_keywords_and_values_are_case_insensitive() {
    assert_eq!(f("STATUS:Open"), f("status:open"));
    assert_eq!(f("Priority>=HIGH"), f("priority>=high"));
    assert_eq!(f("TAG:Work"), f("tag:work"));
    assert_eq!(f("DUE:This-Week"), f("due:this-week"));
    assert_eq!(f("due<7D"), f("due<7d"));
    assert_eq!(
        f("HAS:Reminder IS:RECURRING"),
        f("has:reminder is:recurring")
    );
    assert_eq!(term("status:COMPLETED"), Term::Status(Status::Completed));
    assert_eq!(
        term("priority:Urgent"),
        Term::Priority(Cmp::Eq, Priority::Urgent)
    );
}

#[test]
fn filter_precedence_not_and_or() {
    let t = |name: &str| Expr::Term(Term::Tag(name.into()));
    let (a, b, c) = (t("a"), t("b"), t("c"));
    let or = |v: Vec<Expr>| Expr::Any(v);
    let and = |v: Vec<Expr>| Expr::All(v);
    let not = |e: Expr| Expr::Not(Box::new(e));

    let a_or_bc = or(vec![a.clone(), and(vec![b.clone(), c.clone()])]);
    assert_eq!(f("tag:a | tag:b tag:c").expr, a_or_bc);
    assert_eq!(f("tag:a | tag:b & tag:c").expr, a_or_bc);
    assert_eq!(f("tag:a | (tag:b & tag:c)"), f("tag:a | tag:b tag:c"));
    assert_eq!(
        f("tag:a tag:b | tag:c").expr,
        or(vec![and(vec![a.clone(), b.clone()]), c.clone()])
    );
    assert_eq!(
        f("(tag:a | tag:b) tag:c").expr,
        and(vec![or(vec![a.clone(), b.clone()]), c.clone()])
    );
    // `!` binds tighter than `&` and `|`.
    assert_eq!(f("!tag:a tag:b").expr, and(vec![not(a.clone()), b.clone()]));
    assert_eq!(
        f("!(tag:a | tag:b)").expr,
        not(or(vec![a.clone(), b.clone()]))
    );
    // Chains stay flat; pairs of `!` cancel.
    assert_eq!(
        f("tag:a & tag:b tag:c").expr,
        and(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(f("!!tag:a").expr, a);
    assert_eq!(f("! ! ! tag:a").expr, not(a.clone()));
    assert_eq!(f("((tag:a))").expr, a);
}

#[test]
fn filter_whitespace_around_operators_is_optional() {
    let spaced = f("status:open & ( tag:a | !tag:b ) due<7d");
    for input in [
        "status:open&(tag:a|!tag:b)&due<7d",
        "status:open (tag:a|! tag:b) due<7d",
        "  status:open\t&\n(tag:a |!tag:b)due<7d  ",
        "status:open(tag:a|!tag:b)due<7d",
    ] {
        assert_eq!(f(input), spaced, "{input}");
    }
}

#[test]
fn filter_error_messages_name_position_expected_and_found() {
    let e = err("priority:hgh");
    assert_eq!(e.position, 9);
    assert_eq!(e.expected, "a priority (none, low, medium, high, urgent)");
    assert_eq!(e.found.as_deref(), Some("hgh"));
    assert_eq!(
        e.message,
        "at position 9: expected a priority (none, low, medium, high, urgent), found \"hgh\""
    );
    assert_eq!(e.to_string(), e.message);

    let e = err("status:");
    assert_eq!(
        (e.position, e.expected.as_str(), e.found),
        (7, "open or completed", None)
    );
    assert_eq!(
        e.message,
        "at position 7: expected open or completed, found the end of the filter"
    );
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        error_at("status:closed"),
        (7, "open or completed".into(), s("closed"))
    );
    assert_eq!(
        error_at("status:openx"),
        (7, "open or completed".into(), s("openx"))
    );
    assert_eq!(
        error_at("status: open"),
        (7, "open or completed".into(), s(" "))
    );
    assert_eq!(error_at("status=open"), (6, "\":\"".into(), s("=open")));
    let keyword = "a filter keyword (status, priority, tag, due, has, is)";
    assert_eq!(error_at("foo:bar"), (0, keyword.into(), s("foo:bar")));
    assert_eq!(error_at("tag:a foo:bar"), (6, keyword.into(), s("foo:bar")));
    assert_eq!(error_at("tag:a #x"), (6, keyword.into(), s("#x")));
    let operator = "an operator (:, <, <=, >, >=)";
    assert_eq!(error_at("priority=high"), (8, operator.into(), s("=high")));
    assert_eq!(error_at("due=today"), (3, operator.into(), s("=today")));
    assert_eq!(error_at("has:reminders").1, "reminder");
    assert_eq!(error_at("is:daily").1, "recurring");
    assert_eq!(error_at("tag:a:b").0, 4);
}

#[test]
fn filter_due_value_errors() {
    let s = |v: &str| Some(v.to_owned());
    let day = "a due (today, tomorrow, this-week, overdue, none or a date YYYY-MM-DD)";
    let bound = "a date (YYYY-MM-DD) or a duration (e.g. 7d, 48h, 2w)";
    let valid = "a valid date (YYYY-MM-DD)";
    assert_eq!(error_at("due:someday"), (4, day.into(), s("someday")));
    assert_eq!(error_at("due:7d"), (4, day.into(), s("7d")));
    assert_eq!(error_at("due<today"), (4, bound.into(), s("today")));
    assert_eq!(error_at("due<7x"), (4, bound.into(), s("7x")));
    assert_eq!(error_at("due<7"), (4, bound.into(), s("7")));
    assert_eq!(error_at("due<100000d"), (4, bound.into(), s("100000d")));
    assert_eq!(error_at("due<"), (4, bound.into(), None));
    assert_eq!(
        error_at("due<2026-13-01"),
        (4, valid.into(), s("2026-13-01"))
    );
    assert_eq!(
        error_at("due:2026-02-30"),
        (4, valid.into(), s("2026-02-30"))
    );
    assert_eq!(error_at("due>=2026-1-5"), (5, valid.into(), s("2026-1-5")));
    assert_eq!(
        error_at("due<2026-12-01x"),
        (4, valid.into(), s("2026-12-01x"))
    );
}

#[test]
fn filter_structure_errors() {
    let s = |v: &str| Some(v.to_owned());
    let term = "a filter term";
    let end = "an operator (&, |) or the end of the filter";
    assert_eq!(error_at("(status:open"), (12, "\")\"".into(), None));
    assert_eq!(error_at("((tag:a) | tag:b"), (16, "\")\"".into(), None));
    assert_eq!(error_at("status:open &"), (13, term.into(), None));
    assert_eq!(error_at("status:open & "), (14, term.into(), None));
    assert_eq!(error_at("status:open & | tag:x"), (14, term.into(), s("|")));
    assert_eq!(error_at("status:open |"), (13, term.into(), None));
    assert_eq!(error_at("status:open & & tag:x"), (14, term.into(), s("&")));
    assert_eq!(error_at("| tag:x"), (0, term.into(), s("|")));
    assert_eq!(error_at("tag:x !"), (7, term.into(), None));
    assert_eq!(error_at("()"), (1, term.into(), s(")")));
    assert_eq!(error_at("status:open )"), (12, end.into(), s(")")));
    assert_eq!(error_at("(tag:a))"), (7, end.into(), s(")")));
    assert_eq!(
        err("(status:open").message,
        "at position 12: expected \")\", found the end of the filter"
    );
}

#[test]
fn filter_empty_input_is_an_error() {
    assert_eq!(error_at(""), (0, "a filter term".into(), None));
    assert_eq!(error_at("   "), (3, "a filter term".into(), None));
}

#[test]
fn filter_positions_count_characters_not_bytes() {
    assert_eq!(error_at("tag:café foo:x").0, 9);
    assert_eq!(error_at("tag:😀😀 & |").0, 9);
}

#[test]
fn filter_nesting_and_length_limits() {
    let nested = |n: usize| format!("{}tag:a{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(f(&nested(32)), f("tag:a"));
    let e = err(&nested(33));
    assert_eq!(
        (e.position, e.expected.as_str(), e.found.as_deref()),
        (32, "at most 32 levels of parentheses", Some("("))
    );
    // Deep `!` runs and long chains are neither nesting nor recursion.
    assert_eq!(f(&format!("{}tag:a", "!".repeat(900))), f("tag:a"));
    let chain = vec!["tag:a"; 160].join(" ");
    match f(&chain).expr {
        Expr::All(items) => assert_eq!(items.len(), 160),
        other => panic!("{other:?}"),
    }

    let longest = format!("{}status:open", " ".repeat(MAX_FILTER_CHARS - 11));
    assert_eq!(longest.chars().count(), MAX_FILTER_CHARS);
    assert!(parse(&longest).is_ok());
    let e = err(&format!("{longest} "));
    assert_eq!(
        (e.position, e.expected.as_str()),
        (1000, "at most 1000 characters")
    );
    assert_eq!(
        e.message,
        "at position 1000: the filter is longer than 1000 characters"
    );
    // Characters, not bytes: 1000 two-byte characters are fine.
    assert!(parse(&format!("tag:{}", "é".repeat(MAX_FILTER_CHARS - 4))).is_ok());
}

#[test]
fn filter_error_becomes_a_422_naming_the_field() {
    let api = err("priority:hgh").into_api_error("filter");
    assert_eq!(api.status, 422);
    assert_eq!(api.field.as_deref(), Some("filter"));
    assert_eq!(
        api.message,
        "filter: at position 9: expected a priority (none, low, medium, high, urgent), found \"hgh\""
    );
}

#[test]
fn filter_from_str() {
    let parsed: Filter = "tag:a | tag:b".parse().unwrap();
    assert_eq!(parsed, f("tag:a|tag:b"));
    assert!("tag:".parse::<Filter>().is_err());
}
