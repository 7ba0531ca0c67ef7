//! The filter AST and what each term means for a task.

pub(super) use crate::due::resolve_local;
use std::cmp::Ordering;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::FilterContext;
use crate::task::{Priority, Status, Task};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    /// `a | b | ...`, kept flat so long chains do not nest.
    Any(Vec<Expr>),
    /// `a & b ...` (or juxtaposition).
    All(Vec<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Term {
    Status(Status),
    Priority(Cmp, Priority),
    /// Lower-cased, as tags are stored.
    Tag(String),
    Due(DueTerm),
    HasReminder,
    IsRecurring,
}

/// `:` is `Eq`; the rest are the comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DueTerm {
    None,
    Today,
    Tomorrow,
    ThisWeek,
    Overdue,
    /// `due:DATE` (`Eq`) and `due<DATE` etc.: the due day against DATE.
    Day(Cmp, NaiveDate),
    /// `due<7d` etc.: the due instant against now + the span.
    Within(Cmp, Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub amount: u32,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Hours,
    Days,
    Weeks,
}

/// The context with "today" worked out once per match.
pub(super) struct Clock {
    now: DateTime<Utc>,
    tz: Tz,
    today: NaiveDate,
}

impl Clock {
    pub(super) fn new(ctx: &FilterContext) -> Self {
        Clock {
            now: ctx.now,
            tz: ctx.tz,
            today: ctx.now.with_timezone(&ctx.tz).date_naive(),
        }
    }
}

impl Cmp {
    /// Whether `left <op> right` holds, given `left.cmp(right)`.
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Ge => ord != Ordering::Less,
            Cmp::Gt => ord == Ordering::Greater,
        }
    }
}

impl Expr {
    pub(super) fn matches(&self, task: &Task, clock: &Clock) -> bool {
        match self {
            Expr::Any(items) => items.iter().any(|e| e.matches(task, clock)),
            Expr::All(items) => items.iter().all(|e| e.matches(task, clock)),
            Expr::Not(inner) => !inner.matches(task, clock),
            Expr::Term(term) => term.matches(task, clock),
        }
    }

    pub(super) fn uses_relative_time(&self) -> bool {
        match self {
            Expr::Any(items) | Expr::All(items) => items.iter().any(Expr::uses_relative_time),
            Expr::Not(inner) => inner.uses_relative_time(),
            Expr::Term(Term::Due(due)) => !matches!(due, DueTerm::None | DueTerm::Day(..)),
            Expr::Term(_) => false,
        }
    }
}

impl Term {
    fn matches(&self, task: &Task, clock: &Clock) -> bool {
        match self {
            Term::Status(status) => task.status == *status,
            Term::Priority(cmp, priority) => cmp.holds(task.priority.cmp(priority)),
            Term::Tag(tag) => task.tags.iter().any(|t| t == tag),
            Term::Due(due) => due.matches(task, clock),
            Term::HasReminder => !task.reminders.is_empty(),
            Term::IsRecurring => task.recurrence.is_some(),
        }
    }
}

/// A task's due as the filter sees it.
enum TaskDue {
    AllDay(NaiveDate),
    Timed(DateTime<Utc>),
}

impl TaskDue {
    fn of(task: &Task) -> Option<Self> {
        let due = task.due.as_ref()?;
        Some(match (due.time, task.due_at) {
            (Some(_), Some(at)) => TaskDue::Timed(at),
            // `due_at` is derived from a timed due and should be present; if
            // it is not, the wall-clock date is the best day we have, which
            // beats dropping the task out of every due filter.
            _ => TaskDue::AllDay(due.date),
        })
    }

    /// The day it falls on in the user's zone.
    fn day(&self, clock: &Clock) -> NaiveDate {
        match self {
            TaskDue::AllDay(date) => *date,
            TaskDue::Timed(at) => at.with_timezone(&clock.tz).date_naive(),
        }
    }

    /// The instant compared with `now + span`: an all-day due starts at the
    /// beginning of its day in the user's zone, which keeps `due<7d` in line
    /// with `due<DATE` (a day is "before" a point once it has begun).
    fn instant(&self, clock: &Clock) -> DateTime<Utc> {
        match self {
            TaskDue::AllDay(date) => resolve_local(date.and_time(NaiveTime::MIN), clock.tz),
            TaskDue::Timed(at) => *at,
        }
    }
}

impl DueTerm {
    fn matches(&self, task: &Task, clock: &Clock) -> bool {
        if *self == DueTerm::None {
            return task.due.is_none();
        }
        let Some(due) = TaskDue::of(task) else {
            return false;
        };
        match *self {
            DueTerm::None => false,
            DueTerm::Today => due.day(clock) == clock.today,
            DueTerm::Tomorrow => Some(due.day(clock)) == clock.today.succ_opt(),
            DueTerm::ThisWeek => {
                let monday = clock.today
                    - Duration::days(i64::from(clock.today.weekday().num_days_from_monday()));
                let day = due.day(clock);
                monday <= day && day <= monday + Duration::days(6)
            }
            // An all-day due is only late once its whole day has passed.
            DueTerm::Overdue => {
                task.status == Status::Open
                    && match due {
                        TaskDue::AllDay(date) => date < clock.today,
                        TaskDue::Timed(at) => at < clock.now,
                    }
            }
            // Comparing local days is the same as comparing the instant with
            // the start/end of DATE in the user's zone, for both kinds of due.
            DueTerm::Day(cmp, date) => cmp.holds(due.day(clock).cmp(&date)),
            DueTerm::Within(cmp, span) => cmp.holds(due.instant(clock).cmp(&span.after(clock))),
        }
    }
}

impl Span {
    /// `now` plus the span: hours are exact, days and weeks keep the user's
    /// wall-clock time across DST changes ("in 1d" is this time tomorrow).
    /// The parser caps `amount` at 99999, far inside chrono's range.
    fn after(self, clock: &Clock) -> DateTime<Utc> {
        let amount = i64::from(self.amount);
        let days = match self.unit {
            Unit::Hours => return clock.now + Duration::hours(amount),
            Unit::Days => amount,
            Unit::Weeks => amount * 7,
        };
        let local = clock.now.with_timezone(&clock.tz).naive_local();
        resolve_local(local + Duration::days(days), clock.tz)
    }
}
