//! Reminders in a request: "remind me 30 minutes before", "remind me at
//! 8am", "with a reminder a day before", and "remind me to call mom
//! tomorrow at 10" (a reminder at the due; the rest is the task).

use crate::when::{self, Clock, Found, When};
use crate::words::{Word, number};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remind {
    /// Minutes before the due.
    Before(u32),
    /// At a date and time; `dated: false` means on the due's day.
    At(When),
}

fn at(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

fn minutes_per(unit: &str) -> Option<u32> {
    Some(match unit {
        "minute" | "minutes" | "min" | "mins" => 1,
        "hour" | "hours" | "hr" | "hrs" => 60,
        "day" | "days" => 24 * 60,
        "week" | "weeks" => 7 * 24 * 60,
        _ => return None,
    })
}

/// `N <unit> before|earlier|ahead` at word `i`.
fn before_at(words: &[Word], i: usize) -> Option<(u32, usize)> {
    let (n, len) = if at(words, i) == "half"
        && matches!(at(words, i + 1), "an" | "a")
        && at(words, i + 2) == "hour"
    {
        (30, 3)
    } else {
        let n = number(at(words, i))?;
        (n * minutes_per(at(words, i + 1))?, 2)
    };
    let tail = at(words, i + len);
    if matches!(tail, "before" | "earlier" | "ahead" | "prior") {
        let more = usize::from(at(words, i + len + 1) == "it");
        return Some((n, len + 1 + more));
    }
    None
}

/// The reminder request, if any: its span and meaning. `AtDue` requests
/// ("remind me to ...") are `Before(0)` and cover only "remind me to".
pub fn find(words: &[Word], clock: &Clock) -> Option<Found<Remind>> {
    let i = words.iter().position(|w| {
        matches!(
            w.text.as_str(),
            "remind" | "reminder" | "reminders" | "alert" | "notify" | "ping"
        )
    })?;
    // "... and remind me", "with a reminder", "set a reminder"
    let mut start = i;
    while start > 0 && matches!(at(words, start - 1), "a" | "with" | "and" | "set" | "add") {
        start -= 1;
    }
    let mut j = i + 1;
    if matches!(at(words, j), "me" | "us") {
        j += 1;
    }
    if matches!(at(words, j), "to" | "about" | "that") {
        return Some(Found {
            start,
            end: j + 1,
            value: Remind::Before(0),
        });
    }
    if let Some((n, len)) = before_at(words, j) {
        return Some(Found {
            start,
            end: j + len,
            value: Remind::Before(n),
        });
    }
    if at(words, j) == "when" && at(words, j + 1) == "it's" && at(words, j + 2) == "due" {
        return Some(Found {
            start,
            end: j + 3,
            value: Remind::Before(0),
        });
    }
    if matches!(
        at(words, j),
        "at" | "on" | "@" | "tomorrow" | "today" | "tonight"
    ) || at(words, j).starts_with(|c: char| c.is_ascii_digit())
    {
        let found = when::find(words, j, words.len(), clock).filter(|f| f.start == j)?;
        return Some(Found {
            start,
            end: found.end,
            value: Remind::At(found.value),
        });
    }
    // "remind me" alone: at the due.
    Some(Found {
        start,
        end: j,
        value: Remind::Before(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::when::tests::clock;
    use crate::words::{span, words};
    use chrono::NaiveTime;

    fn r(s: &str) -> Option<(String, Remind)> {
        let w = words(s);
        let f = find(&w, &clock())?;
        Some((span(s, &w, f.start, f.end).to_owned(), f.value))
    }

    #[test]
    fn reminder_phrases() {
        assert_eq!(
            r("dentist friday 3pm remind me 30 minutes before"),
            Some(("remind me 30 minutes before".into(), Remind::Before(30)))
        );
        assert_eq!(
            r("flight with a reminder a day before"),
            Some(("with a reminder a day before".into(), Remind::Before(1440)))
        );
        assert_eq!(
            r("call mom, remind me an hour before"),
            Some(("remind me an hour before".into(), Remind::Before(60)))
        );
        assert_eq!(
            r("remind me to call mom tomorrow at 10"),
            Some(("remind me to".into(), Remind::Before(0)))
        );
        let Some((text, Remind::At(w))) = r("report friday, remind me at 8am") else {
            panic!()
        };
        assert_eq!(text, "remind me at 8am");
        assert_eq!(w.time, NaiveTime::from_hms_opt(8, 0, 0));
        assert!(!w.dated);
        assert_eq!(r("buy milk"), None);
    }
}
