//! Host capabilities: the generated bindings of the `todo:platform` world
//! and one folder per interface. Each folder holds the backend trait, the
//! WIT `Host` impl on a [`View`] (the calling component and its backend,
//! borrowed from the store, as wasmtime's `wasi-keyvalue` does), and its
//! two backends, `embedded.rs` and `dapr.rs`. What the backends of one
//! kind share is beside them: [`embedded_store`] (the one redb file) and
//! [`dapr_client`] (the sidecar's HTTP API).
//!
//! Nothing here imports the engine, a trigger or a mode; a backend imports
//! no other capability's backend.

pub mod bindings;
pub mod conversation;
pub mod dapr_client;
pub mod embedded_store;
mod error;
pub mod invoke;
pub mod outgoing_http;
pub mod pubsub;
pub mod realtime;
pub mod scheduler;
pub mod secrets;
pub mod state;

use std::marker::PhantomData;
use std::sync::Arc;

pub use error::{CapError, CapResult};

/// The backends one host runs with; shared by every store.
#[derive(Clone)]
pub struct Backends {
    pub state: Arc<dyn state::StateBackend>,
    pub pubsub: Arc<dyn pubsub::PubSubBackend>,
    pub scheduler: Arc<dyn scheduler::SchedulerBackend>,
    pub invoke: Arc<dyn invoke::InvokeBackend>,
    pub secrets: Arc<dyn secrets::SecretsBackend>,
    pub realtime: Arc<dyn realtime::RealtimeBackend>,
    pub conversation: Arc<dyn conversation::ConversationBackend>,
    /// The operator's rules for outgoing HTTP (`wasi:http`), both modes.
    pub egress: Arc<outgoing_http::Egress>,
}

/// What one capability call sees: the calling component (its id is the
/// namespace of its state, jobs and secrets) and that capability's
/// backend, borrowed for the call. `B` is the backend trait object.
pub struct View<'a, B: ?Sized> {
    pub component: &'a str,
    pub backend: &'a B,
}

/// The `HasData` of a capability whose backend is `B`: the linker hands
/// each call a [`View`] of the store.
pub struct Capability<B: ?Sized>(PhantomData<B>);

impl<B: ?Sized + 'static> wasmtime::component::HasData for Capability<B> {
    type Data<'a> = View<'a, B>;
}
