//! Calling a component's exports: a fresh store and instance per call, on
//! the version that is current when the call starts.

use std::sync::Arc;

use wasmtime::Store;

use super::Runtime;
use crate::capabilities::bindings::event_handler::HandlerError;
use crate::capabilities::bindings::job_handler::FiredJob;
use crate::capabilities::bindings::websocket_handler::{self, ConnectInfo, Expiry, Rejection};
use crate::cloudevent::Event;
use crate::engine::registry::{Loaded, Slot};
use crate::engine::store::HostState;

/// Why a call into a component failed (not a handler's own answer).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no component `{0}`")]
    NoComponent(String),
    #[error("component `{0}` does not export `{1}`")]
    NoExport(String, &'static str),
    #[error("component `{component}` exceeded its {limit_ms} ms deadline")]
    Deadline { component: String, limit_ms: u128 },
    #[error("component `{component}` exceeded its memory limit of {limit_mb} MiB: {message}")]
    Memory {
        component: String,
        limit_mb: usize,
        message: String,
    },
    #[error("component `{component}` trapped: {message}")]
    Trap { component: String, message: String },
    #[error("component `{component}`: a `files` mount is unavailable: {message}")]
    Files { component: String, message: String },
}

/// The outcome of delivering one event.
#[derive(Debug)]
pub enum Delivery {
    Success,
    Retry(String),
    Drop(String),
}

impl CallError {
    pub fn from_trap(slot: &Slot, err: wasmtime::Error) -> Self {
        let component = slot.def.id.clone();
        if matches!(
            err.downcast_ref::<wasmtime::Trap>(),
            Some(wasmtime::Trap::Interrupt)
        ) {
            return CallError::Deadline {
                component,
                limit_ms: slot.def.limits.timeout.as_millis(),
            };
        }
        let message = format!("{err:?}");
        let oom = message.contains("forcing trap when growing memory")
            || message.contains("memory allocation")
            || message.contains("out of memory");
        if oom {
            return CallError::Memory {
                component,
                limit_mb: slot.def.limits.memory_bytes >> 20,
                message: first_line(&message),
            };
        }
        CallError::Trap {
            component,
            message: first_line(&message),
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().take(6).collect::<Vec<_>>().join(" | ")
}

impl Runtime {
    pub fn slot(&self, id: &str) -> Result<Arc<Slot>, CallError> {
        self.registry
            .get(id)
            .cloned()
            .ok_or_else(|| CallError::NoComponent(id.to_owned()))
    }

    pub fn new_store(&self, slot: &Slot) -> Result<Store<HostState>, CallError> {
        HostState::new_store(
            &self.registry.engine,
            &slot.def,
            self.backends.clone(),
            &slot.env,
        )
        .map_err(|e| CallError::Files {
            component: slot.def.id.clone(),
            message: format!("{e:#}"),
        })
    }

    /// Instantiates the current version in a fresh store.
    pub async fn instantiate(
        &self,
        slot: &Slot,
    ) -> Result<(Arc<Loaded>, Store<HostState>, wasmtime::component::Instance), CallError> {
        let loaded = slot.current();
        let mut store = self.new_store(slot)?;
        let instance = loaded
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| CallError::from_trap(slot, e))?;
        Ok((loaded, store, instance))
    }

    pub async fn deliver_event(
        &self,
        component: &str,
        topic: &str,
        event: Event,
    ) -> Result<Delivery, CallError> {
        let started = std::time::Instant::now();
        let time = event.time.clone();
        let outcome = self.handle_event(component, topic, event).await;
        let m = &crate::ops::metrics::METRICS;
        m.observe_handler(component, "event", started.elapsed());
        let label = match &outcome {
            Ok(Delivery::Success) => {
                m.observe_delivery(component, topic, time.as_deref());
                "success"
            }
            Ok(Delivery::Retry(_)) => "retry",
            Ok(Delivery::Drop(_)) => "drop",
            Err(_) => "error",
        };
        m.events_in
            .with_label_values(&[component, topic, label])
            .inc();
        outcome
    }

    async fn handle_event(
        &self,
        component: &str,
        topic: &str,
        event: Event,
    ) -> Result<Delivery, CallError> {
        let slot = self.slot(component)?;
        let (loaded, mut store, instance) = self.instantiate(&slot).await?;
        let indices = loaded
            .events
            .as_ref()
            .ok_or(CallError::NoExport(slot.def.id.clone(), "event-handler"))?;
        let guest = indices
            .load(&mut store, &instance)
            .map_err(|e| CallError::from_trap(&slot, e))?;
        let result = guest
            .call_handle(&mut store, topic, &event.into())
            .await
            .map_err(|e| CallError::from_trap(&slot, e))?;
        Ok(match result {
            Ok(()) => Delivery::Success,
            Err(HandlerError::Retry(why)) => Delivery::Retry(why),
            Err(HandlerError::Drop(why)) => Delivery::Drop(why),
        })
    }

    pub async fn run_job(
        &self,
        component: &str,
        job: FiredJob,
    ) -> Result<Result<(), String>, CallError> {
        let started = std::time::Instant::now();
        let outcome = self.handle_job(component, job).await;
        crate::ops::metrics::METRICS.observe_handler(component, "job", started.elapsed());
        outcome
    }

    async fn handle_job(
        &self,
        component: &str,
        job: FiredJob,
    ) -> Result<Result<(), String>, CallError> {
        let slot = self.slot(component)?;
        let (loaded, mut store, instance) = self.instantiate(&slot).await?;
        let indices = loaded
            .jobs
            .as_ref()
            .ok_or(CallError::NoExport(slot.def.id.clone(), "job-handler"))?;
        let guest = indices
            .load(&mut store, &instance)
            .map_err(|e| CallError::from_trap(&slot, e))?;
        guest
            .call_run(&mut store, &job)
            .await
            .map_err(|e| CallError::from_trap(&slot, e))
    }

    /// A fresh instance's `websocket-handler`, with its store.
    async fn websocket_guest(
        &self,
        component: &str,
    ) -> Result<(Arc<Slot>, Store<HostState>, websocket_handler::Guest), CallError> {
        let slot = self.slot(component)?;
        let (loaded, mut store, instance) = self.instantiate(&slot).await?;
        let guest = loaded
            .websocket
            .as_ref()
            .ok_or(CallError::NoExport(
                slot.def.id.clone(),
                "websocket-handler",
            ))?
            .load(&mut store, &instance)
            .map_err(|e| CallError::from_trap(&slot, e))?;
        Ok((slot, store, guest))
    }

    pub async fn ws_connect(
        &self,
        component: &str,
        info: ConnectInfo,
    ) -> Result<Result<Option<Expiry>, Rejection>, CallError> {
        let (slot, mut store, guest) = self.websocket_guest(component).await?;
        guest
            .call_on_connect(&mut store, &info)
            .await
            .map_err(|e| CallError::from_trap(&slot, e))
    }

    pub async fn ws_message(
        &self,
        component: &str,
        connection: &str,
        message: &str,
    ) -> Result<(), CallError> {
        let (slot, mut store, guest) = self.websocket_guest(component).await?;
        guest
            .call_on_message(&mut store, connection, message)
            .await
            .map_err(|e| CallError::from_trap(&slot, e))
    }

    pub async fn ws_start(
        &self,
        component: &str,
        connection: &str,
        after: u64,
    ) -> Result<(), CallError> {
        let (slot, mut store, guest) = self.websocket_guest(component).await?;
        guest
            .call_on_start(&mut store, connection, after)
            .await
            .map_err(|e| CallError::from_trap(&slot, e))
    }

    pub async fn ws_alive(
        &self,
        component: &str,
        connections: Vec<String>,
    ) -> Result<(), CallError> {
        let (slot, mut store, guest) = self.websocket_guest(component).await?;
        guest
            .call_on_alive(&mut store, &connections)
            .await
            .map_err(|e| CallError::from_trap(&slot, e))
    }

    pub async fn ws_disconnect(&self, component: &str, connection: &str) -> Result<(), CallError> {
        let (slot, mut store, guest) = self.websocket_guest(component).await?;
        guest
            .call_on_disconnect(&mut store, connection)
            .await
            .map_err(|e| CallError::from_trap(&slot, e))
    }
}
