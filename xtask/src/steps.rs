//! The test command's steps, each timed, and the table of their times
//! printed at the end of every run (also a failed one), so a step that
//! got slower shows in every CI log.

use std::time::{Duration, Instant};

use anyhow::Result;

pub struct Steps {
    started: Instant,
    done: Vec<Done>,
}

struct Done {
    name: String,
    took: Duration,
    outcome: &'static str,
    /// What the step says about itself (e.g. a test count).
    note: String,
}

impl Steps {
    pub fn new() -> Self {
        Steps {
            started: Instant::now(),
            done: Vec::new(),
        }
    }

    /// Runs one step and records how long it took and whether it passed.
    pub fn run<T>(&mut self, name: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        eprintln!("xtask: [{}] {name}", clock(self.started.elapsed()));
        let started = Instant::now();
        let result = step();
        self.record(
            name,
            started.elapsed(),
            if result.is_ok() { "ok" } else { "FAILED" },
            "",
        );
        result
    }

    /// Records a step timed elsewhere (a background job, a test binary).
    pub fn record(&mut self, name: &str, took: Duration, outcome: &'static str, note: &str) {
        self.done.push(Done {
            name: name.to_owned(),
            took,
            outcome,
            note: note.to_owned(),
        });
    }

    pub fn skip(&mut self, name: &str, why: &str) {
        self.record(name, Duration::ZERO, "skipped", why);
    }

    /// The table: one line per step, then the total wall time.
    pub fn summary(&self) -> String {
        let width = self.done.iter().map(|d| d.name.len()).max().unwrap_or(0);
        let mut out = String::from("xtask: step times\n");
        for d in &self.done {
            out.push_str(&format!(
                "  {:width$}  {:>8}  {:<7} {}\n",
                d.name,
                clock(d.took),
                d.outcome,
                d.note
            ));
        }
        out.push_str(&format!(
            "  {:width$}  {:>8}\n",
            "total (wall)",
            clock(self.started.elapsed())
        ));
        out
    }
}

/// `m:ss`, or `h:mm:ss` past an hour.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
