//! Host capabilities, one module each. Every module holds the backend trait
//! (implemented once over Dapr's HTTP API and once embedded) and the glue
//! that exposes it to guests through the generated `Host` trait.

pub mod conversation;
mod error;
pub mod invoke;
pub mod pubsub;
pub mod realtime;
pub mod scheduler;
pub mod secrets;
pub mod state;

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
}

/// Adds every `todo:platform` import to the linker.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<crate::store::HostState>,
) -> wasmtime::Result<()> {
    use crate::bindings::todo::platform as p;
    use wasmtime::component::HasSelf;
    type D = HasSelf<crate::store::HostState>;
    p::types::add_to_linker::<_, D>(linker, |s| s)?;
    p::pubsub::add_to_linker::<_, D>(linker, |s| s)?;
    p::state::add_to_linker::<_, D>(linker, |s| s)?;
    p::scheduler::add_to_linker::<_, D>(linker, |s| s)?;
    p::invoke::add_to_linker::<_, D>(linker, |s| s)?;
    p::secrets::add_to_linker::<_, D>(linker, |s| s)?;
    p::realtime::add_to_linker::<_, D>(linker, |s| s)?;
    p::conversation::add_to_linker::<_, D>(linker, |s| s)?;
    Ok(())
}

impl crate::bindings::todo::platform::types::Host for crate::store::HostState {
    fn convert_error(&mut self, err: CapError) -> wasmtime::Result<crate::bindings::WitError> {
        if let CapError::Trap(e) = &err {
            tracing::error!(component = %self.component, "capability failed: {e:#}");
        }
        err.into_wit()
    }
}
