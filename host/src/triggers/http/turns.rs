//! Fair shares per route: a `[[trigger.http]]` with `max_concurrent` runs
//! at most that many requests at once and lets at most `max_queued` more
//! wait for a turn; beyond that the host answers 503 at once, without
//! starting a component. Sign-in is the route this exists for: every
//! attempt is a deliberately slow password hash, and a flood of them must
//! leave the cores to signed-in users and to the host itself.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::Manifest;

/// Waiting requests per running one when `max_queued` is not set.
const DEFAULT_QUEUED_PER_TURN: u32 = 8;

/// The gates of the routes that have one, by route.
pub struct Turns {
    gates: HashMap<String, Gate>,
}

struct Gate {
    /// Running plus waiting: a request that cannot get one is refused.
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

/// A request's turn on its route; the turn ends when this is dropped.
pub struct Turn {
    _admitted: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
}

/// Every running and waiting place on the route is taken.
#[derive(Debug)]
pub struct Busy;

impl Turns {
    pub fn new(manifest: &Manifest) -> Self {
        let gates = manifest
            .http
            .iter()
            .filter_map(|t| {
                let running = t.max_concurrent? as usize;
                let queued = t
                    .max_queued
                    .unwrap_or(DEFAULT_QUEUED_PER_TURN * running as u32)
                    as usize;
                let gate = Gate {
                    admitted: Arc::new(Semaphore::new(running + queued)),
                    running: Arc::new(Semaphore::new(running)),
                };
                Some((t.route.clone(), gate))
            })
            .collect();
        Turns { gates }
    }

    /// Waits for a turn on `route` (`None`: the route has no gate).
    pub async fn take(&self, route: &str) -> Result<Option<Turn>, Busy> {
        let Some(gate) = self.gates.get(route) else {
            return Ok(None);
        };
        let admitted = gate
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        let running = gate
            .running
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        Ok(Some(Turn {
            _admitted: admitted,
            _running: running,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn turns(fields: &str) -> Turns {
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
             [[trigger.http]]\nroute = \"/slow/...\"\ncomponent = \"c\"\n{fields}\n\
             [[trigger.http]]\nroute = \"/fast\"\ncomponent = \"c\"\n\
             [component.c]\nsource = \"c.wasm\"\n"
        );
        Turns::new(&Manifest::parse(&text, Path::new("/")).unwrap())
    }

    #[tokio::test]
    async fn past_the_running_and_waiting_places_a_request_is_refused() {
        let t = Arc::new(turns("max_concurrent = 1\nmax_queued = 1"));
        let first = t.take("/slow/...").await.unwrap();
        assert!(first.is_some());
        let t2 = t.clone();
        let second = tokio::spawn(async move { t2.take("/slow/...").await.map(|x| x.is_some()) });
        // One thread: the spawned request runs up to its wait for a turn.
        tokio::task::yield_now().await;
        assert!(
            t.take("/slow/...").await.is_err(),
            "a third request is refused"
        );
        drop(first);
        assert!(
            second.await.unwrap().unwrap(),
            "the waiting one gets its turn"
        );
    }

    #[tokio::test]
    async fn routes_without_a_gate_never_wait() {
        let t = turns("max_concurrent = 1");
        let _held = t.take("/slow/...").await.unwrap();
        assert!(t.take("/fast").await.unwrap().is_none());
    }
}
