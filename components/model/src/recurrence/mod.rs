//! Recurrence: an RFC 5545 RRULE expanded in the due's own zone.
//!
//! The rule is parsed, validated and expanded by the `rrule` crate. Two
//! things are deliberately done here rather than by the crate:
//!
//! * Expansion runs on the due's *wall clock* (the crate is handed the local
//!   date-time as if it were UTC), and each wall-clock instance is turned
//!   into an instant by [`resolve_local`]. RFC 5545 computes instances in
//!   local time, so 09:00 stays 09:00 across DST; the crate's own zone
//!   handling would otherwise decide gap/overlap times differently from
//!   [`Due::instant`].
//! * COUNT and UNTIL are applied here: COUNT because a task of a series is
//!   not the series start (instance k has COUNT - k + 1 left), UNTIL because
//!   the crate would compare it against the fake-UTC wall clock, and it
//!   insists on UTC for zoned starts while clients reasonably write
//!   `UNTIL=20270601` (taken as "through that date in the due's zone").
//!
//! The stored rule is normalized: the `RRULE:` prefix dropped, upper-cased,
//! parts trimmed and empty parts removed, in the client's own part order (so
//! what the client sent is recognizably what it gets back).

mod text;

pub use text::describe;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleError, RRuleSetIter, Unvalidated};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_domain::ApiError;

use crate::due::{Due, resolve_local};

/// Most rule instances looked at in one expansion: enough for a daily
/// series over a century or an hourly one over five years, small enough
/// that a rule matching almost nothing cannot hang a request.
const MAX_INSTANCES: u32 = 50_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    #[default]
    Schedule,
    Completion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    pub rrule: String,
    pub basis: Basis,
    /// The rule in plain English (read-only).
    pub text: String,
}

impl Recurrence {
    /// Validates client input `{"rrule": ..., "basis"?: ..., "text"?: ...}`
    /// against the task's due (the series start). `text` is accepted and
    /// ignored because clients PUT back what they GET.
    pub fn from_json(value: &Value, due: Option<&Due>) -> Result<Recurrence, ApiError> {
        let Some(object) = value.as_object() else {
            return Err(ApiError::validation(
                "recurrence",
                "must be an object such as {\"rrule\": \"FREQ=WEEKLY;BYDAY=MO\", \
                 \"basis\": \"schedule\"}, or null for a one-off task",
            ));
        };
        if let Some(key) = object
            .keys()
            .find(|k| !matches!(k.as_str(), "rrule" | "basis" | "text"))
        {
            return Err(ApiError::validation(
                &format!("recurrence.{key}"),
                "is not a field of a recurrence; it has only rrule, basis and text",
            ));
        }
        let Some(due) = due else {
            return Err(ApiError::validation(
                "recurrence",
                "a recurring task needs a due: set due (at least due.date), \
                 which is the first occurrence of the series",
            ));
        };
        let rrule = match object.get("rrule") {
            Some(Value::String(s)) => s,
            None | Some(Value::Null) => {
                return Err(ApiError::validation(
                    "recurrence.rrule",
                    "is required: an RFC 5545 rule such as FREQ=MONTHLY;BYDAY=-1FR",
                ));
            }
            Some(_) => {
                return Err(ApiError::validation(
                    "recurrence.rrule",
                    "must be a string, an RFC 5545 rule such as FREQ=MONTHLY;BYDAY=-1FR",
                ));
            }
        };
        let basis = match object.get("basis") {
            None | Some(Value::Null) => Basis::Schedule,
            Some(Value::String(s)) if s == "schedule" => Basis::Schedule,
            Some(Value::String(s)) if s == "completion" => Basis::Completion,
            Some(_) => {
                return Err(ApiError::validation(
                    "recurrence.basis",
                    "must be \"schedule\" (the next due follows the rule from this due) \
                     or \"completion\" (the next due follows the rule from when the task \
                     is completed)",
                ));
            }
        };
        let rule = Rule::parse(rrule)
            .and_then(|rule| rule.check_for(due).map(|()| rule))
            .map_err(|message| ApiError::validation("recurrence.rrule", message))?;
        Ok(Recurrence {
            text: describe(&rule.text),
            rrule: rule.text,
            basis,
        })
    }
}

/// One upcoming due of a series, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    /// The wall clock in the due's zone at `at`, `2026-12-04T09:00:00`
    /// (`T00:00:00` for all-day dues).
    pub local: String,
    /// The instant, RFC 3339 UTC to the second, `2026-12-04T09:00:00Z`.
    pub at: String,
}

impl Occurrence {
    fn new(local: NaiveDateTime, at: DateTime<Utc>, due: &Due) -> Occurrence {
        // A non-existent time (02:30 in a spring gap) is shown as what the
        // clock will read at that instant (03:30), so `local` and `at` agree.
        // All-day dues stay at 00:00: they are days, not instants.
        let local = if due.is_all_day() {
            local
        } else {
            at.with_timezone(&due.tz()).naive_local()
        };
        Occurrence {
            local: local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            at: at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }
}

/// The next `count` dues of the series from this task on: its own due
/// first (even if the rule would not produce it), then the rule's instances
/// strictly after it, until COUNT or UNTIL ends the series. `occurrence` is
/// this task's 1-based index in the series. Errors only if the stored rule
/// no longer parses.
pub fn occurrences(
    recurrence: &Recurrence,
    due: &Due,
    occurrence: u32,
    count: usize,
) -> Result<Vec<Occurrence>, String> {
    let rule = Rule::parse(&recurrence.rrule)?;
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut out = vec![Occurrence::new(due.local(), due.instant(), due)];
    out.extend(
        rule.instances(due, occurrence)?
            .take(count - 1)
            .map(|i| Occurrence::new(i.local, i.at, due)),
    );
    Ok(out)
}

/// The due of the series' next instance strictly after `after` (and after
/// this task's own due), with its 1-based index in the series: always
/// `occurrence + 1`, because the series counts its tasks. A task completed
/// late on the completion basis skips the rule's instances it missed, and
/// those are not counted: COUNT=10 means ten tasks, however late each was
/// done. `None` when COUNT or UNTIL has ended the series, the rule no longer
/// parses, or nothing is found within the expansion bound. The new due
/// keeps the zone and all-day-ness, and the rule's nominal wall-clock time
/// (02:30 stays 02:30 even on a day when that time does not exist).
pub fn next_after(
    recurrence: &Recurrence,
    due: &Due,
    occurrence: u32,
    after: DateTime<Utc>,
) -> Option<(Due, u32)> {
    let rule = Rule::parse(&recurrence.rrule).ok()?;
    let index = occurrence.max(1).checked_add(1)?;
    if rule.parsed.get_count().is_some_and(|count| index > count) {
        return None;
    }
    let mut instances = rule.instances(due, occurrence).ok()?;
    // COUNT was checked above on the task count; the rule's own index
    // would also count the instances a late completion skipped.
    instances.count = None;
    let next = instances.find(|i| i.at > after)?;
    Some((
        Due {
            date: next.local.date(),
            time: due.time.map(|_| next.local.time()),
            time_zone: due.time_zone.clone(),
        },
        index,
    ))
}

/// Where UNTIL ends the series, by the form it was written in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Until {
    /// `...T...Z`: an instant, compared with each instance's instant.
    Instant(DateTime<Utc>),
    /// `...T...` without `Z`: a wall-clock time in the due's zone.
    Local(NaiveDateTime),
    /// `YYYYMMDD`: through the end of that date in the due's zone.
    Date(NaiveDate),
}

/// A parsed and checked rule.
#[derive(Debug, Clone)]
struct Rule {
    /// The normalized rule text (what is stored).
    text: String,
    /// The whole rule as parsed by the crate.
    parsed: RRule<Unvalidated>,
    /// The rule without COUNT and UNTIL, which this module applies itself.
    expand: RRule<Unvalidated>,
    until: Option<Until>,
}

/// Turns the crate's error into its explanation, without the crate's
/// "RRule parsing error:" prefix that means nothing to a client.
fn explain(err: RRuleError) -> String {
    match err {
        RRuleError::ParserError(e) => e.to_string(),
        RRuleError::ValidationError(e) => e.to_string(),
        RRuleError::IterError(e) => e,
    }
}

impl Rule {
    /// Parses and normalizes a rule; the error is a message for the field
    /// `recurrence.rrule`. Checks that need the due are in [`Rule::check_for`].
    fn parse(input: &str) -> Result<Rule, String> {
        let upper = input.trim().to_ascii_uppercase();
        let body = upper.strip_prefix("RRULE:").unwrap_or(&upper);
        if body.contains("DTSTART") {
            return Err(
                "must not contain DTSTART: the task's due is the start of the series".to_owned(),
            );
        }
        // Anything else with a colon or line break is another iCalendar
        // property (EXRULE:, RDATE:, a second line), which the crate would
        // otherwise quietly read as a plain RRULE.
        if body.contains([':', '\n', '\r']) {
            return Err("must be a single RRULE: rule parts only, such as \
                        FREQ=WEEKLY;BYDAY=MO,TH"
                .to_owned());
        }
        let parts: Vec<&str> = body
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err("is empty; expected an RFC 5545 rule such as FREQ=DAILY".to_owned());
        }
        let text = parts.join(";");
        let invalid = |e| format!("is not a valid RRULE: {}", explain(e));
        let parsed: RRule<Unvalidated> = text.parse().map_err(invalid)?;

        if matches!(parsed.get_freq(), Frequency::Secondly | Frequency::Minutely) {
            return Err(format!(
                "FREQ={} is not supported: a task cannot sensibly repeat that often; \
                 use HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY",
                parsed.get_freq()
            ));
        }
        if parsed.get_interval() == 0 {
            return Err("INTERVAL must be at least 1".to_owned());
        }
        if parsed.get_count() == Some(0) {
            return Err("COUNT must be at least 1 (it counts the due itself)".to_owned());
        }
        if parsed.get_count().is_some() && parsed.get_until().is_some() {
            return Err("COUNT and UNTIL cannot both be used (RFC 5545); \
                        end the series with one of them"
                .to_owned());
        }
        let key = |part: &str| part.split('=').next().unwrap_or("").trim().to_owned();
        let until = parsed.get_until().map(|until| {
            if !until.timezone().is_local() {
                // The crate only leaves a value non-local when it had a `Z`.
                Until::Instant(until.with_timezone(&Utc))
            } else if parts
                .iter()
                .find(|p| key(p) == "UNTIL")
                .and_then(|p| p.split_once('='))
                .is_some_and(|(_, value)| !value.contains('T'))
            {
                Until::Date(until.naive_local().date())
            } else {
                Until::Local(until.naive_local())
            }
        });
        let expand_text = parts
            .iter()
            .filter(|p| !matches!(key(p).as_str(), "COUNT" | "UNTIL"))
            .copied()
            .collect::<Vec<_>>()
            .join(";");
        let expand = expand_text.parse().map_err(invalid)?;
        Ok(Rule {
            text,
            parsed,
            expand,
            until,
        })
    }

    /// Checks that need the series start: the crate's validation against
    /// it, time-of-day parts on an all-day due, an UNTIL before the start,
    /// and a rule that matches no date at all.
    fn check_for(&self, due: &Due) -> Result<(), String> {
        self.expand
            .clone()
            .validate(wall_clock_start(due))
            .map_err(|e| format!("is not a valid RRULE: {}", explain(e)))?;
        if due.is_all_day()
            && (self.parsed.get_freq() == Frequency::Hourly
                || !self.parsed.get_by_hour().is_empty()
                || !self.parsed.get_by_minute().is_empty()
                || !self.parsed.get_by_second().is_empty())
        {
            return Err(
                "FREQ=HOURLY, BYHOUR, BYMINUTE and BYSECOND need a due time; \
                        an all-day due repeats on whole days"
                    .to_owned(),
            );
        }
        let before_start = match self.until {
            Some(Until::Instant(until)) => until < due.instant(),
            Some(Until::Local(until)) => until < due.local(),
            Some(Until::Date(until)) => until < due.date,
            None => false,
        };
        if before_start {
            return Err(
                "UNTIL is before the due, which is the first occurrence of the series".to_owned(),
            );
        }
        // With COUNT=1 or an UNTIL at the due, the series is the due alone,
        // which is fine; otherwise a rule that never matches again (such as
        // BYMONTH=2;BYMONTHDAY=30) is almost certainly a mistake.
        let ends_at_once = self.parsed.get_count() == Some(1) || self.until.is_some();
        if !ends_at_once && self.instances(due, 1)?.next().is_none() {
            return Err(
                "matches no date after the due; check BYMONTH, BYMONTHDAY and \
                        BYDAY against each other"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// The rule's instances strictly after `due` (which has index
    /// `occurrence`), in order, honoring COUNT and UNTIL.
    fn instances(&self, due: &Due, occurrence: u32) -> Result<Instances, String> {
        let set = self
            .expand
            .clone()
            .build(wall_clock_start(due))
            .map_err(explain)?
            // The crate's own loop limit, for rules that match almost never.
            .limit();
        let start = due.local();
        Ok(Instances {
            iter: (&set).into_iter(),
            tz: due.tz(),
            all_day: due.is_all_day(),
            last_local: start,
            last_at: due.instant(),
            index: occurrence.max(1),
            count: self.parsed.get_count(),
            until: self.until,
            seen: 0,
        })
    }
}

/// The due's wall clock dressed as UTC, the start the crate expands from.
fn wall_clock_start(due: &Due) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&due.local())
}

/// One instance of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Instance {
    /// 1-based index in the series.
    index: u32,
    /// The nominal wall clock the rule produced (00:00 for all-day).
    local: NaiveDateTime,
    at: DateTime<Utc>,
}

struct Instances {
    iter: RRuleSetIter,
    tz: Tz,
    all_day: bool,
    last_local: NaiveDateTime,
    last_at: DateTime<Utc>,
    index: u32,
    count: Option<u32>,
    until: Option<Until>,
    seen: u32,
}

impl Iterator for Instances {
    type Item = Instance;

    fn next(&mut self) -> Option<Instance> {
        loop {
            if self.seen >= MAX_INSTANCES {
                return None;
            }
            self.seen += 1;
            let mut local = self.iter.next()?.naive_utc();
            if self.all_day {
                local = local.date().and_time(NaiveTime::MIN);
            }
            // The crate yields the start itself when it matches: that is
            // this task, already counted in `occurrence`.
            if local <= self.last_local {
                continue;
            }
            self.last_local = local;
            self.index = self.index.checked_add(1)?;
            if self.count.is_some_and(|count| self.index > count) {
                return None;
            }
            let at = resolve_local(local, self.tz);
            let past_until = match self.until {
                Some(Until::Instant(until)) => at > until,
                Some(Until::Local(until)) => local > until,
                Some(Until::Date(until)) => local.date() > until,
                None => false,
            };
            if past_until {
                return None;
            }
            // Two wall-clock instances can resolve to one instant (an hourly
            // 02:30 pushed by a spring gap onto 03:30): keep one task.
            if at <= self.last_at {
                continue;
            }
            self.last_at = at;
            return Some(Instance {
                index: self.index,
                local,
                at,
            });
        }
    }
}

#[cfg(test)]
mod tests;
