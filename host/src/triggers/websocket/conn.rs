//! One host-held connection as components see it: the outgoing queue with
//! its budget, the ordered stream (positions delivered in order, once),
//! and an out-of-band close.
//!
//! Budget: frames sent while the stream flows count against a small live
//! budget; going over means the client is not keeping up (the component
//! closes it). Frames put in the stream before it starts (a replay of what
//! the client missed) count against a larger one instead, so a client
//! resuming after a long absence gets its backlog without being taken for
//! a slow one, and memory stays bounded either way.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::capabilities::{CapError, CapResult};

/// Live frames queued for one connection before sends report it
/// unavailable.
pub const QUEUE_FRAMES: usize = 1024;
/// Live bytes queued for one connection, whatever the frame sizes.
pub const QUEUE_BYTES: usize = 1 << 20;
/// Frames and bytes a connection's replay may queue.
pub const REPLAY_FRAMES: usize = 20_000;
pub const REPLAY_BYTES: usize = 64 << 20;

/// A close requested by the component or the host: code and reason.
pub type CloseSignal = watch::Receiver<Option<(u16, String)>>;

/// What the writer task puts on the wire.
pub enum Outgoing {
    Text { text: String, replay: bool },
    Ping,
}

/// Where the ordered stream is: not started, started but still movable
/// (held), being started (`on-start` running), or flowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Unset,
    Held { until: Instant },
    Starting,
    Flowing,
}

#[derive(Default)]
struct Budget {
    frames: usize,
    bytes: usize,
}

struct Ordered {
    phase: Phase,
    /// The next position to deliver (meaningful once started).
    next: u64,
    /// Positions waiting: ahead of `next`, or not yet flowing; with
    /// whether they were put there before the stream started.
    waiting: BTreeMap<u64, (Option<String>, bool)>,
    /// Since when the head of `waiting` has been blocked by a missing
    /// position while flowing.
    gap_since: Option<Instant>,
    live: Budget,
    replay: Budget,
}

pub struct Conn {
    component: String,
    tx: mpsc::UnboundedSender<Outgoing>,
    ordered: Mutex<Ordered>,
    close: watch::Sender<Option<(u16, String)>>,
    /// Unix ms of the last frame received (any kind, pongs included).
    pub last_inbound_ms: AtomicU64,
    /// Whether the component's `on-connect` accepted the connection: only
    /// then is it reported alive (before, the component has no record of
    /// it and would take it for one it lost).
    pub accepted: AtomicBool,
}

fn slow() -> CapError {
    CapError::Unavailable("connection is not keeping up".into())
}

impl Conn {
    pub fn new(component: &str) -> (Self, mpsc::UnboundedReceiver<Outgoing>, CloseSignal) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (close, close_rx) = watch::channel(None);
        let conn = Conn {
            component: component.to_owned(),
            tx,
            ordered: Mutex::new(Ordered {
                phase: Phase::Unset,
                next: 0,
                waiting: BTreeMap::new(),
                gap_since: None,
                live: Budget::default(),
                replay: Budget::default(),
            }),
            close,
            last_inbound_ms: AtomicU64::new(crate::engine::now_ms()),
            accepted: AtomicBool::new(false),
        };
        (conn, rx, close_rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ordered> {
        self.ordered.lock().expect("ordered lock")
    }

    /// The writer took a frame off the queue.
    pub fn dequeued(&self, len: usize, replay: bool) {
        let mut o = self.lock();
        let budget = if replay { &mut o.replay } else { &mut o.live };
        budget.frames = budget.frames.saturating_sub(1);
        budget.bytes = budget.bytes.saturating_sub(len);
    }

    /// Reserves room for a frame of `len` bytes, or says the client is
    /// too far behind.
    fn reserve(o: &mut Ordered, len: usize, replay: bool) -> CapResult<()> {
        let (budget, frames, bytes) = if replay {
            (&mut o.replay, REPLAY_FRAMES, REPLAY_BYTES)
        } else {
            (&mut o.live, QUEUE_FRAMES, QUEUE_BYTES)
        };
        if budget.frames + 1 > frames || budget.bytes + len > bytes {
            return Err(slow());
        }
        budget.frames += 1;
        budget.bytes += len;
        Ok(())
    }

    pub fn send(&self, message: String) -> CapResult<()> {
        let mut o = self.lock();
        Self::reserve(&mut o, message.len(), false)?;
        self.tx
            .send(Outgoing::Text {
                text: message,
                replay: false,
            })
            .map_err(|_| CapError::NotFound)
    }

    /// Best effort: a client that does not read is found out by the
    /// missing pong.
    pub fn ping(&self) {
        let _ = self.tx.send(Outgoing::Ping);
    }

    pub fn send_ordered(&self, seq: u64, message: Option<String>) -> CapResult<()> {
        let mut o = self.lock();
        let started = !matches!(o.phase, Phase::Unset);
        if (started && seq < o.next) || o.waiting.contains_key(&seq) {
            return Ok(());
        }
        // A position waiting for an earlier one counts against the larger
        // budget too: then the stream is behind (a delivery being retried),
        // not the client, and the session's gap timeout bounds the wait.
        let replay = !matches!(o.phase, Phase::Flowing) || seq > o.next;
        let len = message.as_ref().map_or(0, String::len);
        Self::reserve(&mut o, len, replay)?;
        o.waiting.insert(seq, (message, replay));
        if o.phase == Phase::Flowing {
            self.flush(&mut o)?;
        }
        Ok(())
    }

    /// Moves consecutive waiting positions onto the queue.
    fn flush(&self, o: &mut Ordered) -> CapResult<()> {
        while let Some(entry) = o.waiting.first_entry() {
            let seq = *entry.key();
            if seq > o.next {
                o.gap_since.get_or_insert_with(Instant::now);
                return Ok(());
            }
            let (_, (message, replay)) = entry.remove_entry();
            let deliver = seq == o.next;
            if deliver {
                o.next += 1;
            }
            match message {
                Some(text) if deliver => self
                    .tx
                    .send(Outgoing::Text { text, replay })
                    .map_err(|_| CapError::NotFound)?,
                // Dropped (behind the start) or empty: release its room.
                other => {
                    let budget = if replay { &mut o.replay } else { &mut o.live };
                    budget.frames = budget.frames.saturating_sub(1);
                    budget.bytes = budget.bytes.saturating_sub(other.map_or(0, |m| m.len()));
                }
            }
        }
        o.gap_since = None;
        Ok(())
    }

    pub fn start(&self, after: u64, hold: Duration) -> CapResult<()> {
        let mut o = self.lock();
        match o.phase {
            Phase::Starting | Phase::Flowing => {
                return Err(CapError::Conflict(
                    "the ordered stream has already started".into(),
                ));
            }
            Phase::Unset => {
                o.phase = Phase::Held {
                    until: Instant::now() + hold,
                };
            }
            // A later start moves the position, not the deadline.
            Phase::Held { .. } => {}
        }
        o.next = after.saturating_add(1);
        Ok(())
    }

    pub fn phase(&self) -> Phase {
        self.lock().phase
    }

    /// Ends the hold: the start position for `on-start`, or None if the
    /// stream was never started or already is.
    pub fn begin_start(&self) -> Option<u64> {
        let mut o = self.lock();
        match o.phase {
            Phase::Held { .. } => {
                o.phase = Phase::Starting;
                Some(o.next - 1)
            }
            _ => None,
        }
    }

    /// After `on-start`: the waiting positions flow.
    pub fn finish_start(&self) -> CapResult<()> {
        let mut o = self.lock();
        o.phase = Phase::Flowing;
        self.flush(&mut o)
    }

    /// How long the stream has been blocked by a missing position.
    pub fn gap_age(&self) -> Option<Duration> {
        self.lock().gap_since.map(|t| t.elapsed())
    }

    /// Requests the close (the first request wins) and counts it.
    pub fn close(&self, code: u16, reason: String) {
        let first = self.close.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some((code, reason));
            true
        });
        if first {
            crate::ops::metrics::METRICS
                .ws_closed
                .with_label_values(&[self.component.as_str(), &code.to_string()])
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(o) = rx.try_recv() {
            if let Outgoing::Text { text, .. } = o {
                out.push(text);
            }
        }
        out
    }

    fn s(n: u64) -> Option<String> {
        Some(format!("f{n}"))
    }

    #[test]
    fn ordered_frames_wait_for_the_start_then_flow_in_order_once() {
        let (conn, mut rx, _close) = Conn::new("test");
        // Live pushes before the start wait, out of order.
        conn.send_ordered(12, s(12)).unwrap();
        conn.send_ordered(11, s(11)).unwrap();
        conn.start(10, Duration::from_secs(60)).unwrap();
        // A resume moves the start back; the replay fills in.
        conn.start(8, Duration::ZERO).unwrap();
        for n in 9..=12 {
            conn.send_ordered(n, s(n)).unwrap();
        }
        conn.send("plain".into()).unwrap();
        assert_eq!(texts(&mut rx), ["plain"]);
        assert_eq!(conn.begin_start(), Some(8));
        assert!(matches!(
            conn.start(1, Duration::ZERO),
            Err(CapError::Conflict(_))
        ));
        conn.finish_start().unwrap();
        assert_eq!(texts(&mut rx), ["f9", "f10", "f11", "f12"]);
        // Repeats are dropped; a gap waits; an empty position moves on.
        conn.send_ordered(12, s(12)).unwrap();
        conn.send_ordered(15, s(15)).unwrap();
        conn.send_ordered(13, s(13)).unwrap();
        assert_eq!(texts(&mut rx), ["f13"]);
        assert!(conn.gap_age().is_some());
        conn.send_ordered(14, None).unwrap();
        assert_eq!(texts(&mut rx), ["f15"]);
        assert!(conn.gap_age().is_none());
    }

    #[test]
    fn a_client_not_keeping_up_is_reported_while_a_replay_has_more_room() {
        let (conn, mut rx, _close) = Conn::new("test");
        conn.start(0, Duration::from_secs(60)).unwrap();
        // A replay larger than the live budget is taken.
        let big = "x".repeat(QUEUE_BYTES / 4);
        for n in 1..=8 {
            conn.send_ordered(n, Some(big.clone())).unwrap();
        }
        assert_eq!(conn.begin_start(), Some(0));
        conn.finish_start().unwrap();
        // Live frames while nothing is read: the live budget runs out.
        let mut refused = None;
        for n in 9..=20 {
            if let Err(e) = conn.send_ordered(n, Some(big.clone())) {
                refused = Some((n, e));
                break;
            }
        }
        let (n, e) = refused.expect("the live budget is bounded");
        assert_eq!(n, 13, "four live frames of a quarter budget fit");
        assert!(matches!(e, CapError::Unavailable(_)));
        // The writer takes frames off: room again.
        let mut taken = 0;
        while let Ok(Outgoing::Text { text, replay }) = rx.try_recv() {
            conn.dequeued(text.len(), replay);
            taken += 1;
        }
        assert_eq!(taken, 12);
        conn.send_ordered(13, Some(big)).unwrap();
    }

    #[test]
    fn frames_behind_a_missing_position_are_not_taken_for_a_slow_client() {
        let (conn, mut rx, _close) = Conn::new("test");
        conn.start(0, Duration::ZERO).unwrap();
        conn.begin_start();
        conn.finish_start().unwrap();
        // Position 1 is late; more than the live budget piles up behind it.
        let big = "x".repeat(QUEUE_BYTES / 4);
        for n in 2..=12 {
            conn.send_ordered(n, Some(big.clone())).unwrap();
        }
        assert!(rx.try_recv().is_err());
        conn.send_ordered(1, Some("first".into())).unwrap();
        let mut order = Vec::new();
        while let Ok(Outgoing::Text { text, replay }) = rx.try_recv() {
            conn.dequeued(text.len(), replay);
            order.push(text.len());
        }
        assert_eq!(order.len(), 12);
        assert_eq!(order[0], "first".len());
        // Read in time, the live budget is whole again.
        for n in 13..=16 {
            conn.send_ordered(n, Some(big.clone())).unwrap();
        }
    }

    #[test]
    fn close_is_signalled_at_once() {
        let (conn, _rx, close) = Conn::new("test");
        conn.close(4008, "too slow".into());
        assert_eq!(*close.borrow(), Some((4008, "too slow".to_owned())));
    }
}
