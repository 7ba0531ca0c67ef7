//! The date table (`dates.json`): phrases of the kinds a general English
//! date parser's test suite covers (relative, absolute, numeric, ordinal,
//! durations, parts of the day), each read alone against a fixed instant
//! and zone. A phrase must be read whole (a word left over would stay in a
//! task's title) and mean exactly the expected date and time.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;
use todo_assistant::when::{self, Clock};
use todo_assistant::words::{span, words};

#[derive(Deserialize)]
struct Table {
    now: DateTime<Utc>,
    zone: String,
    phrases: Vec<Phrase>,
}

#[derive(Deserialize)]
struct Phrase {
    phrase: String,
    date: NaiveDate,
    time: Option<String>,
}

#[test]
fn every_phrase_is_read_whole_and_right() {
    let table: Table = serde_json::from_str(include_str!("dates.json")).unwrap();
    let clock = Clock::new(table.now, table.zone.parse().unwrap());
    let mut wrong = Vec::new();
    for p in &table.phrases {
        let w = words(&p.phrase);
        let expected = (
            p.date,
            p.time
                .as_deref()
                .map(|t| NaiveTime::parse_from_str(t, "%H:%M").unwrap()),
        );
        match when::find(&w, 0, w.len(), &clock) {
            Some(f) if f.start == 0 && f.end == w.len() => {
                let got = (f.value.date, f.value.time);
                if got != expected {
                    wrong.push(format!(
                        "{:?}: read {got:?}, expected {expected:?}",
                        p.phrase
                    ));
                }
            }
            Some(f) => wrong.push(format!(
                "{:?}: read only {:?}",
                p.phrase,
                span(&p.phrase, &w, f.start, f.end)
            )),
            None => wrong.push(format!("{:?}: not read", p.phrase)),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} phrases wrong:\n{}",
        wrong.len(),
        table.phrases.len(),
        wrong.join("\n")
    );
}
