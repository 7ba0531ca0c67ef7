//! The job trigger: a component's named jobs fire into its `job-handler`.
//!
//! The policy is here once: which occurrence a firing stands for, and when
//! a firing is late. Delivery is per mode: [`embedded`] keeps its own timer
//! over the embedded scheduler's table; [`dapr`] answers the Dapr
//! Scheduler's callbacks.

pub mod dapr;
pub mod embedded;

use crate::capabilities::scheduler::Repeat;

/// A firing this long after its instant is late even without a restart
/// (the Scheduler, a sidecar or the broker was away, or the host is
/// overloaded): well above normal lateness, well below what a person
/// notices as "the reminder came late".
pub const LATE_AFTER_MS: u64 = 5_000;

/// Whether a job due at `occurrence` and firing at `fired_at` is late: it
/// came due before this host started at `started_at` (it was down), or it
/// fires [`LATE_AFTER_MS`] or more after its instant.
pub fn is_late(started_at: u64, occurrence: u64, fired_at: u64) -> bool {
    occurrence < started_at || fired_at.saturating_sub(occurrence) >= LATE_AFTER_MS
}

/// The occurrence a firing at `now` stands for: the first due instant, or
/// the latest repeat at or before now.
pub fn occurrence_at(due: u64, repeat: Option<&Repeat>, now: u64) -> u64 {
    match repeat {
        Some(r) if now > due => due + (now - due) / r.every_ms * r.every_ms,
        _ => due,
    }
}

/// The next occurrence of a repeat after `occurrence`, strictly after
/// `now`: missed ones are skipped, not fired in a burst.
pub fn next_occurrence(occurrence: u64, every_ms: u64, now: u64) -> u64 {
    let mut next = occurrence + every_ms;
    if next <= now {
        let behind = (now - next) / every_ms + 1;
        next += behind * every_ms;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_after_a_restart_or_five_seconds() {
        assert!(is_late(1_000, 999, 1_000));
        assert!(!is_late(1_000, 2_000, 2_000 + LATE_AFTER_MS - 1));
        assert!(is_late(1_000, 2_000, 2_000 + LATE_AFTER_MS));
    }

    #[test]
    fn a_repeat_fires_for_its_latest_instant_at_or_before_now() {
        let every = Repeat {
            every_ms: 100,
            times: None,
        };
        assert_eq!(occurrence_at(1_000, Some(&every), 900), 1_000);
        assert_eq!(occurrence_at(1_000, Some(&every), 1_250), 1_200);
        assert_eq!(occurrence_at(1_000, None, 5_000), 1_000);
    }

    #[test]
    fn missed_repeats_are_skipped() {
        assert_eq!(next_occurrence(1_000, 100, 1_050), 1_100);
        assert_eq!(next_occurrence(1_000, 100, 1_100), 1_200);
        assert_eq!(next_occurrence(1_000, 100, 1_350), 1_400);
    }
}
