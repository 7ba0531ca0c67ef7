//! The grammar (see the module docs) as winnow combinators over `&str`.
//!
//! Error reporting rests on two conventions:
//! - every parser that can fail at a spot a user could type something
//!   wrong carries a `StrContext::Expected`, and `FilterError` reports the
//!   innermost one;
//! - once the input is committed to a construct (a term has started, an
//!   operator or `(` was read) errors are cut, so they surface where they
//!   happen instead of backtracking into a vague "unexpected input" at the
//!   end. Only an atom that sees `&`, `|`, `)` or the end backtracks; that
//!   is what ends a juxtaposed `a b c` run.

use chrono::NaiveDate;
use winnow::combinator::{
    alt, cut_err, delimited, dispatch, eof, fail, peek, preceded, repeat, terminated,
};
use winnow::error::{ContextError, ErrMode, ParseError, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::{any, take_while};

use super::MAX_FILTER_DEPTH;
use super::eval::{Cmp, DueTerm, Expr, Span, Term, Unit};
use crate::task::{Priority, Status};

type In<'i> = &'i str;

pub(super) const TERM: &str = "a filter term";
const KEYWORD: &str = "a filter keyword (status, priority, tag, due, has, is)";
const END: &str = "an operator (&, |) or the end of the filter";
const NESTING: &str = "at most 32 levels of parentheses";
const COMPARISON: &str = "an operator (:, <, <=, >, >=)";
const STATUS: &str = "open or completed";
const PRIORITY: &str = "a priority (none, low, medium, high, urgent)";
const TAG: &str = "a tag name (no spaces or ()&|!:,\")";
const DUE_DAY: &str = "a due (today, tomorrow, this-week, overdue, none or a date YYYY-MM-DD)";
const DUE_BOUND: &str = "a date (YYYY-MM-DD) or a duration (e.g. 7d, 48h, 2w)";
const VALID_DATE: &str = "a valid date (YYYY-MM-DD)";
const REMINDER: &str = "reminder";
const RECURRING: &str = "recurring";

/// Large enough for any real "within" question, small enough that
/// `now + 99999w` cannot overflow chrono.
const MAX_AMOUNT: u32 = 99_999;

const _: () = assert!(MAX_FILTER_DEPTH == 32, "update NESTING");

pub(super) fn filter(input: &str) -> Result<Expr, ParseError<&str, ContextError>> {
    delimited(
        ws,
        |i: &mut In<'_>| or_expr(i, 0),
        (ws, eof.context(expected(END))),
    )
    .parse(input)
}

/// Characters that are syntax on their own and so end a word.
pub(super) fn is_operator(c: char) -> bool {
    matches!(c, '(' | ')' | '&' | '|' | '!')
}

/// Characters of keywords' values (and of what an error reports as found).
pub(super) fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !is_operator(c)
}

fn expected(what: &'static str) -> StrContext {
    StrContext::Expected(StrContextValue::Description(what))
}

fn literal(c: char) -> StrContext {
    StrContext::Expected(StrContextValue::CharLiteral(c))
}

fn ws<'i>(input: &mut In<'i>) -> ModalResult<&'i str> {
    take_while(0.., char::is_whitespace).parse_next(input)
}

/// `and { "|" and }`; `depth` counts the enclosing parentheses.
fn or_expr(input: &mut In<'_>, depth: usize) -> ModalResult<Expr> {
    let first = and_expr(input, depth)?;
    let rest: Vec<Expr> = repeat(
        0..,
        preceded((ws, '|', ws), cut_err(|i: &mut In<'_>| and_expr(i, depth))),
    )
    .parse_next(input)?;
    Ok(flat(first, rest, Expr::Any))
}

/// `unary { "&" unary | unary }`: after an explicit `&` a term is required;
/// a juxtaposed one ends the run quietly if the next thing is not a term.
fn and_expr(input: &mut In<'_>, depth: usize) -> ModalResult<Expr> {
    let first = unary(input, depth)?;
    let rest: Vec<Expr> = repeat(
        0..,
        alt((
            preceded((ws, '&', ws), cut_err(|i: &mut In<'_>| unary(i, depth))),
            preceded(ws, |i: &mut In<'_>| unary(i, depth)),
        )),
    )
    .parse_next(input)?;
    Ok(flat(first, rest, Expr::All))
}

fn flat(first: Expr, rest: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    if rest.is_empty() {
        first
    } else {
        join([first].into_iter().chain(rest).collect())
    }
}

/// `{ "!" } atom`. The `!`s are counted rather than parsed recursively, and
/// pairs cancel, so `!!!!…` can neither exhaust the stack nor deepen the AST.
fn unary(input: &mut In<'_>, depth: usize) -> ModalResult<Expr> {
    let bangs: usize = repeat(0.., terminated('!', ws)).parse_next(input)?;
    let operand = if bangs == 0 {
        atom(input, depth)?
    } else {
        cut_err(|i: &mut In<'_>| atom(i, depth)).parse_next(input)?
    };
    Ok(if bangs % 2 == 1 {
        Expr::Not(Box::new(operand))
    } else {
        operand
    })
}

fn atom(input: &mut In<'_>, depth: usize) -> ModalResult<Expr> {
    dispatch! {peek(any);
        '(' => |i: &mut In<'_>| group(i, depth),
        // Not a term: let the caller decide (end of a juxtaposed run).
        '&' | '|' | ')' => fail,
        _ => cut_err(term.map(Expr::Term)),
    }
    .context(expected(TERM))
    .parse_next(input)
}

fn group(input: &mut In<'_>, depth: usize) -> ModalResult<Expr> {
    if depth >= MAX_FILTER_DEPTH {
        return cut_err(fail.context(expected(NESTING))).parse_next(input);
    }
    delimited(
        ('(', ws),
        cut_err(|i: &mut In<'_>| or_expr(i, depth + 1)),
        (ws, cut_err(')'.context(literal(')')))),
    )
    .parse_next(input)
}

#[derive(Clone, Copy)]
enum Keyword {
    Status,
    Priority,
    Tag,
    Due,
    Has,
    Is,
}

const KEYWORDS: &[(&str, Keyword)] = &[
    ("status", Keyword::Status),
    ("priority", Keyword::Priority),
    ("tag", Keyword::Tag),
    ("due", Keyword::Due),
    ("has", Keyword::Has),
    ("is", Keyword::Is),
];

fn term(input: &mut In<'_>) -> ModalResult<Term> {
    let mut keyword = take_while(1.., |c: char| c.is_ascii_alphabetic())
        .verify_map(|w| lookup(KEYWORDS, w))
        .context(expected(KEYWORD));
    dispatch! {keyword;
        Keyword::Status => preceded(colon, named(STATUSES).context(expected(STATUS)))
            .map(Term::Status),
        Keyword::Priority => (comparison, priority).map(|(cmp, p)| Term::Priority(cmp, p)),
        Keyword::Tag => preceded(colon, tag).map(Term::Tag),
        Keyword::Due => due.map(Term::Due),
        Keyword::Has => preceded(colon, named(&[("reminder", ())]).context(expected(REMINDER)))
            .map(|()| Term::HasReminder),
        Keyword::Is => preceded(colon, named(&[("recurring", ())]).context(expected(RECURRING)))
            .map(|()| Term::IsRecurring),
    }
    .parse_next(input)
}

/// A term's value runs to the next space or operator, so `status:openx` is
/// reported as a bad value rather than as a missing operator after `open`.
fn word<'i>(input: &mut In<'i>) -> ModalResult<&'i str> {
    take_while(1.., is_word_char).parse_next(input)
}

fn lookup<T: Copy>(table: &[(&str, T)], word: &str) -> Option<T> {
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(word))
        .map(|(_, value)| *value)
}

/// A whole word that is one of `table`'s names, case-insensitively.
fn named<'i, T: Copy>(
    table: &'static [(&'static str, T)],
) -> impl Parser<In<'i>, T, ErrMode<ContextError>> {
    word.verify_map(move |w| lookup(table, w))
}

const STATUSES: &[(&str, Status)] = &[("open", Status::Open), ("completed", Status::Completed)];

const DUE_NAMES: &[(&str, DueTerm)] = &[
    ("today", DueTerm::Today),
    ("tomorrow", DueTerm::Tomorrow),
    ("this-week", DueTerm::ThisWeek),
    ("overdue", DueTerm::Overdue),
    ("none", DueTerm::None),
];

fn colon(input: &mut In<'_>) -> ModalResult<char> {
    ':'.context(literal(':')).parse_next(input)
}

fn comparison(input: &mut In<'_>) -> ModalResult<Cmp> {
    alt((
        ">=".value(Cmp::Ge),
        "<=".value(Cmp::Le),
        '>'.value(Cmp::Gt),
        '<'.value(Cmp::Lt),
        ':'.value(Cmp::Eq),
    ))
    .context(expected(COMPARISON))
    .parse_next(input)
}

fn priority(input: &mut In<'_>) -> ModalResult<Priority> {
    word.verify_map(|w| Priority::parse(&w.to_ascii_lowercase()))
        .context(expected(PRIORITY))
        .parse_next(input)
}

/// Tags are stored trimmed and lower-cased (Unicode-aware) and may not
/// contain the characters refused here, so `tag:` can name every tag.
fn tag(input: &mut In<'_>) -> ModalResult<String> {
    word.verify(|w: &str| !w.contains([':', ',', '"']))
        .map(str::to_lowercase)
        .context(expected(TAG))
        .parse_next(input)
}

/// The value is taken as a whole word first and then parsed on its own
/// (`and_then`), so errors point at the value's start and quote all of it.
fn due(input: &mut In<'_>) -> ModalResult<DueTerm> {
    dispatch! {comparison;
        Cmp::Eq => word
            .and_then(alt((named(DUE_NAMES), terminated(date, eof).map(|d| DueTerm::Day(Cmp::Eq, d)))))
            .context(expected(DUE_DAY)),
        cmp => word
            .and_then(alt((
                terminated(date, eof).map(move |d| DueTerm::Day(cmp, d)),
                terminated(duration, eof).map(move |s| DueTerm::Within(cmp, s)),
            )))
            .context(expected(DUE_BOUND)),
    }
    .parse_next(input)
}

/// `YYYY-MM-DD`; once it starts like a date it must be a valid one, so
/// `2026-02-30` is not reported as a malformed duration.
fn date(input: &mut In<'_>) -> ModalResult<NaiveDate> {
    let digits = |n: usize| take_while(n, |c: char| c.is_ascii_digit());
    preceded(
        peek((digits(4), '-')),
        cut_err(
            (digits(4), '-', digits(2), '-', digits(2), eof)
                .take()
                .verify_map(|s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .context(expected(VALID_DATE)),
        ),
    )
    .parse_next(input)
}

fn duration(input: &mut In<'_>) -> ModalResult<Span> {
    let amount = take_while(1..=5, |c: char| c.is_ascii_digit())
        .verify_map(|s: &str| s.parse::<u32>().ok().filter(|n| *n <= MAX_AMOUNT));
    let unit = any.verify_map(|c: char| match c.to_ascii_lowercase() {
        'h' => Some(Unit::Hours),
        'd' => Some(Unit::Days),
        'w' => Some(Unit::Weeks),
        _ => None,
    });
    (amount, unit)
        .map(|(amount, unit)| Span { amount, unit })
        .parse_next(input)
}
