//! From a parsed request to tool calls: the arguments of `add_task` and
//! `update_task` (dues, reminders and rules made concrete in the user's
//! zone), and the first dates of a rule.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use serde_json::{Map, Value, json};
use todo_model::recurrence::{Occurrence, occurrences};
use todo_model::{Basis, Due, Recurrence};

use crate::draft::Draft;
use crate::intent::Edit;
use crate::remind::Remind;
use crate::when::{Clock, When};

pub fn due_json(date: NaiveDate, time: Option<NaiveTime>, zone: Option<&str>) -> Value {
    let mut due = json!({"date": date.format("%Y-%m-%d").to_string()});
    if let Some(t) = time {
        due["time"] = json!(t.format("%H:%M").to_string());
    }
    if let Some(z) = zone {
        due["time_zone"] = json!(z);
    }
    due
}

fn instant(clock: &Clock, date: NaiveDate, time: NaiveTime) -> String {
    todo_model::due::resolve_local(date.and_time(time), clock.tz)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The rule's instances from a start `due` (the start itself first).
pub fn next_dates(rrule: &str, due: &Due, count: usize) -> Vec<Occurrence> {
    let recurrence = Recurrence {
        rrule: rrule.to_owned(),
        basis: Basis::Schedule,
        text: String::new(),
    };
    occurrences(&recurrence, due, 1, count).unwrap_or_default()
}

fn local_date(o: &Occurrence) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(o.local.get(..10)?, "%Y-%m-%d").ok()
}

/// Where a rule starts when no due was given: today for a plain
/// frequency ("every week"), else its first instance from today on (at
/// `time`, still ahead of now).
pub fn first_date(rrule: &str, time: Option<NaiveTime>, clock: &Clock) -> Option<NaiveDate> {
    let today = clock.today();
    let passed = time.is_some_and(|t| t <= clock.local_time());
    if !rrule.contains("BY") {
        return Some(if passed {
            today + Duration::days(1)
        } else {
            today
        });
    }
    let start = Due {
        date: today - Duration::days(1),
        time,
        time_zone: clock.tz.name().to_owned(),
    };
    // The first matching day, whatever the interval: "every 2 weeks on
    // Tuesday" starts next Tuesday, and the interval counts from there.
    let every: Vec<&str> = rrule
        .split(';')
        .filter(|part| !part.starts_with("INTERVAL=") && !part.starts_with("COUNT="))
        .collect();
    next_dates(&every.join(";"), &start, 40)
        .iter()
        .skip(1)
        .filter_map(local_date)
        .find(|d| *d > today || (*d == today && !passed))
}

fn remind_json(
    remind: Remind,
    due: Option<(NaiveDate, Option<NaiveTime>)>,
    clock: &Clock,
) -> Value {
    match remind {
        Remind::Before(m) => json!({"before_minutes": m}),
        Remind::At(w) => {
            let date = match due {
                Some((d, _)) if !w.dated => d,
                _ => w.date,
            };
            let time = w
                .time
                .unwrap_or_else(|| NaiveTime::from_hms_opt(9, 0, 0).expect("a time"));
            json!({"at": instant(clock, date, time)})
        }
    }
}

/// `add_task` arguments for a draft with a title. A rule without a due
/// starts at its first date.
pub fn add_arguments(draft: &Draft, title: &str, clock: &Clock) -> Value {
    let mut args = Map::new();
    args.insert("title".into(), json!(title));
    let mut due = draft.due.map(|w| (w.date, w.time));
    // A rule with no day given ("every weekday at 9am") starts on its
    // first date.
    if let Some(rule) = &draft.rrule
        && !draft.due.is_some_and(|w| w.dated)
    {
        let time = draft.due.and_then(|w| w.time);
        if let Some(first) = first_date(rule, time, clock) {
            due = Some((first, time));
        }
    }
    if let Some((d, t)) = due {
        args.insert("due".into(), due_json(d, t, None));
    }
    if let Some(p) = draft.priority {
        args.insert("priority".into(), json!(p));
    }
    if !draft.tags.is_empty() {
        let mut tags = draft.tags.clone();
        tags.dedup();
        args.insert("tags".into(), json!(tags));
    }
    if let Some(r) = draft.remind {
        args.insert("reminders".into(), json!([remind_json(r, due, clock)]));
    }
    if let Some(rule) = &draft.rrule {
        args.insert("recurrence".into(), json!({"rrule": rule}));
    }
    Value::Object(args)
}

/// A due in `args` as the model's `Due` (the user's zone by default).
pub fn due_of_args(args: &Value, clock: &Clock) -> Option<Due> {
    let date = NaiveDate::parse_from_str(args["due"]["date"].as_str()?, "%Y-%m-%d").ok()?;
    let time = args["due"]["time"]
        .as_str()
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok());
    Some(Due {
        date,
        time,
        time_zone: args["due"]["time_zone"]
            .as_str()
            .unwrap_or(clock.tz.name())
            .to_owned(),
    })
}

/// The first `n` dates of a new recurring task, for the confirmation.
pub fn preview(args: &Value, clock: &Clock, n: usize) -> Vec<String> {
    let (Some(rule), Some(due)) = (
        args["recurrence"]["rrule"].as_str(),
        due_of_args(args, clock),
    ) else {
        return Vec::new();
    };
    next_dates(rule, &due, n)
        .iter()
        .filter_map(|o| {
            let d = local_date(o)?;
            Some(match due.time {
                Some(t) => format!("{} {}", crate::say::date(d), crate::say::time(t)),
                None => crate::say::date(d),
            })
        })
        .collect()
}

/// `update_task` arguments applying `edit` to `task`.
pub fn update_arguments(task: &Value, edit: &Edit, clock: &Clock) -> Value {
    let mut args = Map::new();
    args.insert("id".into(), task["id"].clone());
    if let Some(t) = &edit.title {
        args.insert("title".into(), json!(t));
    }
    let zone = task["due"]["time_zone"].as_str();
    if let Some(When { date, time, .. }) = edit.due {
        // "move it to Thursday" keeps the time it had.
        let kept = task["due"]["time"]
            .as_str()
            .and_then(|t| NaiveTime::parse_from_str(&t[..t.len().min(5)], "%H:%M").ok());
        args.insert("due".into(), due_json(date, time.or(kept), zone));
    } else if edit.clear_due {
        args.insert("due".into(), Value::Null);
        args.insert("reminders".into(), json!([]));
        args.insert("recurrence".into(), Value::Null);
    }
    if let Some(p) = edit.priority {
        args.insert("priority".into(), json!(p));
    }
    if !edit.add_tags.is_empty() {
        let mut tags: Vec<String> = task["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for t in &edit.add_tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        args.insert("tags".into(), json!(tags));
    }
    if let Some(rule) = &edit.rrule {
        args.insert("recurrence".into(), json!({"rrule": rule}));
        if task["due"].is_null()
            && !args.contains_key("due")
            && let Some(first) = first_date(rule, None, clock)
        {
            args.insert("due".into(), due_json(first, None, None));
        }
    } else if edit.stop_repeating {
        args.insert("recurrence".into(), Value::Null);
    }
    Value::Object(args)
}

/// A year-less date is enough in replies about this year.
pub fn short_date(d: NaiveDate, clock: &Clock) -> String {
    if d.year() == clock.today().year() {
        d.format("%a %-d %b").to_string()
    } else {
        crate::say::date(d)
    }
}
