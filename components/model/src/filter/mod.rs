//! The filter language shared by the web app, the API and the chat agent,
//! e.g. `status:open (priority>=high | due<7d) !tag:someday`.
//!
//! Grammar (keywords and named values are case-insensitive; whitespace
//! around operators is optional):
//!
//! ```text
//! filter   = ws or ws EOF                  (at most 1000 characters)
//! or       = and { ws "|" ws and }
//! and      = unary { ws "&" ws unary | ws unary }   (juxtaposition is "&":
//!                                      "a b", also "a(b)" and "a!b")
//! unary    = { "!" ws } atom
//! atom     = "(" ws or ws ")"              (at most 32 levels deep)
//!          | term
//! term     = "status:" ( "open" | "completed" )
//!          | "priority" cmp priority
//!          | "tag:" tag
//!          | "due:" ( "today" | "tomorrow" | "this-week" | "overdue" | "none" | date )
//!          | "due" ord ( date | duration )
//!          | "has:reminder"
//!          | "is:recurring"
//! cmp      = ":" | ord
//! ord      = "<" | "<=" | ">" | ">="
//! priority = "none" | "low" | "medium" | "high" | "urgent"
//! date     = YYYY "-" MM "-" DD            (a valid calendar date)
//! duration = 1*5DIGIT ( "h" | "d" | "w" )  (hours, days, weeks from now)
//! tag      = 1*( any char but whitespace, ( ) & | ! : , " )   (lower-cased)
//! ws       = *whitespace
//! ```
//!
//! `!` binds tightest, then `&` (or plain juxtaposition), then `|`.
//!
//! Dates are read in the *user's* zone ([`FilterContext::tz`]): a task's due
//! day is its date for an all-day due and the local date of `due_at` for a
//! timed one, and `due<DATE` etc. compare that day with DATE. Durations are
//! measured from [`FilterContext::now`]; days and weeks are calendar days
//! in the user's zone, and an all-day due counts from the start of its day
//! there. `due:overdue` is an open task whose due has passed: a timed due
//! before now, an all-day due before today. A task without a due matches
//! no `due` term but `due:none`.

mod eval;
mod parse;

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod parse_tests;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use todo_domain::ApiError;
use winnow::error::{ContextError, ParseError, StrContext, StrContextValue};

use crate::task::Task;
use eval::Expr;

/// Longest filter accepted, in characters; also bounds the work of a match.
pub const MAX_FILTER_CHARS: usize = 1000;
/// Deepest parenthesis nesting accepted, so evaluation stays shallow.
pub const MAX_FILTER_DEPTH: usize = 32;

/// A parsed filter; build it with [`parse`] (or `str::parse`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Expr,
}

/// What relative terms are resolved against: the current instant and the
/// user's zone (which decides what "today" is).
#[derive(Debug, Clone, Copy)]
pub struct FilterContext {
    pub now: DateTime<Utc>,
    pub tz: chrono_tz::Tz,
}

/// A syntax error: where (0-based character offset), what the parser
/// expected there and what it found (`None` at the end of the filter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    pub position: usize,
    pub expected: String,
    pub found: Option<String>,
    /// The whole explanation, e.g. `at position 9: expected a priority
    /// (none, low, medium, high, urgent), found "hgh"`.
    pub message: String,
}

/// Parses a filter. The caller skips empty filters; an empty one is still
/// an error here ("expected a filter term") so the language has no
/// match-everything term.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    if let Some((byte, _)) = input.char_indices().nth(MAX_FILTER_CHARS) {
        return Err(FilterError {
            position: MAX_FILTER_CHARS,
            expected: format!("at most {MAX_FILTER_CHARS} characters"),
            found: token_at(&input[byte..]),
            message: format!(
                "at position {MAX_FILTER_CHARS}: the filter is longer than \
                 {MAX_FILTER_CHARS} characters"
            ),
        });
    }
    parse::filter(input)
        .map(|expr| Filter { expr })
        .map_err(|err| FilterError::from_winnow(input, &err))
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl Filter {
    pub fn matches(&self, task: &Task, ctx: &FilterContext) -> bool {
        self.expr.matches(task, &eval::Clock::new(ctx))
    }

    /// Whether the result for a task can change as time passes (`today`,
    /// `overdue`, `due<7d`, ...), so a cached result must be recomputed.
    /// Absolute dates depend on the user's zone but not on the clock.
    pub fn uses_relative_time(&self) -> bool {
        self.expr.uses_relative_time()
    }
}

impl FilterContext {
    pub fn new(now: DateTime<Utc>, tz: chrono_tz::Tz) -> Self {
        FilterContext { now, tz }
    }
}

impl FilterError {
    fn new(position: usize, expected: String, found: Option<String>) -> Self {
        let message = match &found {
            Some(found) => format!("at position {position}: expected {expected}, found {found:?}"),
            None => {
                format!("at position {position}: expected {expected}, found the end of the filter")
            }
        };
        FilterError {
            position,
            expected,
            found,
            message,
        }
    }

    /// The innermost `Expected` context is the most specific (contexts are
    /// pushed while unwinding), and the grammar gives every failing leaf
    /// one; winnow's byte offset becomes a character offset for clients.
    fn from_winnow(input: &str, err: &ParseError<&str, ContextError>) -> Self {
        let byte = err.offset();
        let expected = err
            .inner()
            .context()
            .find_map(|c| match c {
                StrContext::Expected(StrContextValue::CharLiteral(c)) => Some(format!("\"{c}\"")),
                StrContext::Expected(StrContextValue::StringLiteral(s)) => Some(format!("\"{s}\"")),
                StrContext::Expected(v) => Some(v.to_string()),
                _ => None,
            })
            .unwrap_or_else(|| parse::TERM.to_owned());
        let position = input[..byte].chars().count();
        FilterError::new(position, expected, token_at(&input[byte..]))
    }

    /// A 422 naming `field`, e.g. `filter: at position 9: expected ...`.
    pub fn into_api_error(self, field: &str) -> ApiError {
        ApiError::validation(field, format!("{field}: {}", self.message))
    }
}

/// The offending text at an error: an operator character, or the word that
/// starts there (shortened, since it is echoed back in the message).
fn token_at(rest: &str) -> Option<String> {
    const MAX_FOUND_CHARS: usize = 40;
    let first = rest.chars().next()?;
    if parse::is_operator(first) || first.is_whitespace() {
        return Some(first.to_string());
    }
    let word: String = rest
        .chars()
        .take_while(|c| parse::is_word_char(*c))
        .collect();
    Some(if word.chars().count() > MAX_FOUND_CHARS {
        word.chars().take(MAX_FOUND_CHARS).chain(['…']).collect()
    } else {
        word
    })
}
