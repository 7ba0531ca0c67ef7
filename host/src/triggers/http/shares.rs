//! Fair shares per caller: at most `running` component calls of one
//! caller at once, at most `waiting` more of theirs waiting for a place
//! (each for at most `wait`), beyond that 503 at once. A caller is their
//! credential (the `Authorization` header) or, without one, their address:
//! one client opening a hundred requests (slow readers that hold each
//! response, a script in a loop) queues behind itself and leaves the
//! cores to everyone else, without knowing who anyone is.
//!
//! Service invocations from the sidecar are not a caller: they are the
//! application's own calls and pass without a share.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::request::Parts;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::client::CLIENT_ADDR_HEADER;

/// The settings (`--max-running-per-caller`, `--max-waiting-per-caller`).
#[derive(Debug, Clone, Copy)]
pub struct ShareLimits {
    pub running: usize,
    pub waiting: usize,
    /// How long a call waits for a place before it is refused.
    pub wait: Duration,
}

impl Default for ShareLimits {
    fn default() -> Self {
        ShareLimits {
            running: 8,
            waiting: 256,
            wait: Duration::from_secs(10),
        }
    }
}

/// Who a request counts against: a keyed digest (never the credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caller(u64);

pub struct Shares {
    limits: ShareLimits,
    keys: RandomState,
    callers: Mutex<HashMap<Caller, Share>>,
}

#[derive(Clone)]
struct Share {
    /// Running plus waiting: a call that cannot get one is refused.
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

/// A caller's place; given back when this is dropped.
pub struct Place {
    caller: Caller,
    shares: Arc<Shares>,
    permits: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
}

/// Why a call got no place.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every running and waiting place of the caller is taken.
    Full,
    /// It waited `wait` without a place freeing up.
    Waited,
}

impl Shares {
    pub fn new(limits: ShareLimits) -> Arc<Self> {
        Arc::new(Shares {
            limits: ShareLimits {
                running: limits.running.max(1),
                ..limits
            },
            keys: RandomState::new(),
            callers: Mutex::new(HashMap::new()),
        })
    }

    /// The caller of a request: its credential if it has one, else the
    /// address the host stamped (`spin-client-addr`, without the port).
    pub fn caller_of(&self, parts: &Parts) -> Caller {
        let key = match parts.headers.get(http::header::AUTHORIZATION) {
            Some(credential) => self.keys.hash_one((0u8, credential.as_bytes())),
            None => {
                let addr = parts
                    .headers
                    .get(CLIENT_ADDR_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let ip = addr
                    .parse::<std::net::SocketAddr>()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_else(|_| addr.to_owned());
                self.keys.hash_one((1u8, ip))
            }
        };
        Caller(key)
    }

    /// Waits for a place of `caller`.
    pub async fn take(self: &Arc<Self>, caller: Caller) -> Result<Place, Refused> {
        // Declared first, so dropped last: when a refusal below returns,
        // the share's handles are gone by the time the place forgets an
        // idle caller.
        let mut place = Place {
            caller,
            shares: self.clone(),
            permits: None,
        };
        let share = {
            let mut callers = self.callers.lock().expect("shares lock");
            callers
                .entry(caller)
                .or_insert_with(|| Share {
                    admitted: Arc::new(Semaphore::new(self.limits.running + self.limits.waiting)),
                    running: Arc::new(Semaphore::new(self.limits.running)),
                })
                .clone()
        };
        let admitted = share
            .admitted
            .try_acquire_owned()
            .map_err(|_| Refused::Full)?;
        let running = tokio::time::timeout(self.limits.wait, share.running.acquire_owned())
            .await
            .map_err(|_| Refused::Waited)?
            .expect("the semaphore is never closed");
        place.permits = Some((admitted, running));
        Ok(place)
    }

    /// Callers with a place or waiting for one.
    pub fn callers(&self) -> usize {
        self.callers.lock().expect("shares lock").len()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        drop(self.permits.take());
        let mut callers = self.shares.callers.lock().expect("shares lock");
        // Forgotten once no call of theirs holds or waits for a place:
        // the map holds only callers with calls in flight.
        let idle = callers.get(&self.caller).is_some_and(|s| {
            s.admitted.available_permits()
                == self.shares.limits.running + self.shares.limits.waiting
                && Arc::strong_count(&s.admitted) == 1
        });
        if idle {
            callers.remove(&self.caller);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(auth: Option<&str>, addr: &str) -> Parts {
        let mut b = http::Request::builder().header(CLIENT_ADDR_HEADER, addr);
        if let Some(a) = auth {
            b = b.header(http::header::AUTHORIZATION, a);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn limits(running: usize, waiting: usize, wait_ms: u64) -> ShareLimits {
        ShareLimits {
            running,
            waiting,
            wait: Duration::from_millis(wait_ms),
        }
    }

    #[test]
    fn a_caller_is_the_credential_or_else_the_address_without_its_port() {
        let s = Shares::new(ShareLimits::default());
        let a = s.caller_of(&parts(Some("Bearer a"), "127.0.0.1:1000"));
        assert_eq!(a, s.caller_of(&parts(Some("Bearer a"), "127.0.0.9:2000")));
        assert_ne!(a, s.caller_of(&parts(Some("Bearer b"), "127.0.0.1:1000")));
        let anon = s.caller_of(&parts(None, "127.0.0.1:1000"));
        assert_eq!(anon, s.caller_of(&parts(None, "127.0.0.1:1001")));
        assert_ne!(anon, s.caller_of(&parts(None, "127.0.0.2:1000")));
        assert_ne!(anon, a);
    }

    #[tokio::test]
    async fn one_caller_past_their_places_waits_then_is_refused_while_others_pass() {
        let s = Shares::new(limits(2, 1, 50));
        let (greedy, other) = (Caller(1), Caller(2));
        let _a = s.take(greedy).await.unwrap();
        let _b = s.take(greedy).await.unwrap();
        // The third waits for a place and gives up after `wait`.
        let waited = s.take(greedy).await.err();
        assert_eq!(waited, Some(Refused::Waited));
        // Another caller is not behind them.
        let _c = s.take(other).await.unwrap();
        // With one waiting, a fourth has no place at all.
        let s2 = s.clone();
        let waiting = tokio::spawn(async move { s2.take(greedy).await.is_ok() });
        tokio::task::yield_now().await;
        assert_eq!(s.take(greedy).await.err(), Some(Refused::Full));
        drop(_a);
        assert!(
            waiting.await.unwrap(),
            "the waiting call gets the freed place"
        );
    }

    #[tokio::test]
    async fn a_caller_with_nothing_in_flight_is_forgotten() {
        let s = Shares::new(limits(1, 0, 10));
        let place = s.take(Caller(7)).await.unwrap();
        assert_eq!(s.callers(), 1);
        assert_eq!(s.take(Caller(7)).await.err(), Some(Refused::Full));
        assert_eq!(s.callers(), 1, "still held by the running call");
        drop(place);
        assert_eq!(s.callers(), 0);
    }
}
