//! Reminder lateness, shared by the in-process bench and the real-stack
//! one (which includes this file): the instants, the tokio-timer baseline,
//! and the figures read from `reminder.triggered` payloads.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn ms_of(v: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// `count` instants spread evenly over `window`, the first `lead` from now.
pub fn instants(count: usize, lead: Duration, window: Duration) -> Vec<i64> {
    let start = now_ms() + lead.as_millis() as i64;
    let step = window.as_millis() as f64 / count as f64;
    (0..count)
        .map(|i| start + (i as f64 * step) as i64)
        .collect()
}

#[derive(Debug, Default)]
pub struct Figures {
    pub early: usize,
    pub missed: usize,
    pub lateness_ms: Vec<i64>,
}

impl Figures {
    /// From the `data` of every `reminder.triggered` read back, of `count`
    /// scheduled.
    pub fn of_triggered(count: usize, fired: &[Value]) -> Figures {
        let mut figures = Figures {
            missed: count.saturating_sub(fired.len()),
            ..Figures::default()
        };
        for data in fired {
            let (Some(fired_at), Some(at)) = (ms_of(&data["fired_at"]), ms_of(&data["at"])) else {
                figures.missed += 1;
                continue;
            };
            if fired_at < at {
                figures.early += 1;
            } else {
                figures.lateness_ms.push(fired_at - at);
            }
        }
        figures
    }

    pub fn print(&mut self, label: &str) {
        self.lateness_ms.sort_unstable();
        let n = self.lateness_ms.len();
        let at = |p: f64| {
            if n == 0 {
                return "n/a".to_owned();
            }
            format!(
                "{} ms",
                self.lateness_ms[((n as f64 - 1.0) * p).round() as usize]
            )
        };
        println!(
            "  {label:24} early {:5}  missed {:5}  lateness p50 {:>9}  p99 {:>9}  max {:>9}",
            self.early,
            self.missed,
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// Plain tokio timers for `count` instants over `window`, in this process.
pub async fn tokio_baseline(count: usize, window: Duration) -> Figures {
    let tasks: Vec<_> = instants(count, Duration::from_secs(2), window)
        .into_iter()
        .map(|due| {
            tokio::spawn(async move {
                let wait = Duration::from_millis(due.saturating_sub(now_ms()).max(0) as u64);
                tokio::time::sleep(wait).await;
                now_ms() - due
            })
        })
        .collect();
    let mut figures = Figures::default();
    for t in tasks {
        match t.await {
            Ok(late) if late < 0 => figures.early += 1,
            Ok(late) => figures.lateness_ms.push(late),
            Err(_) => figures.missed += 1,
        }
    }
    figures
}

/// How long the consumer took to make every job, and whether it finished
/// before the first was due (else the figures measure scheduling).
pub fn print_scheduling(count: usize, took: Duration, first_due: i64) {
    let ahead = first_due - now_ms();
    println!(
        "  notification scheduled them in {:.2} s ({:.0}/s); the first is due {} ms {}",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64(),
        ahead.abs(),
        if ahead >= 0 {
            "from now"
        } else {
            "ago: scheduling was the bottleneck"
        }
    );
}
