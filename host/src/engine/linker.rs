//! Links every `todo:platform` import: each capability's `Host` impl gets
//! a [`View`] of the store (the calling component and that capability's
//! backend), so a capability sees nothing else of the host.

use wasmtime::component::{HasSelf, Linker};

use super::store::HostState;
use crate::capabilities::bindings::todo::platform as p;
use crate::capabilities::{Capability, View, conversation, invoke, pubsub, realtime};
use crate::capabilities::{scheduler, secrets, state};

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    p::types::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    p::state::add_to_linker::<_, Capability<dyn state::StateBackend>>(linker, |s| View {
        component: &s.component,
        backend: &*s.backends.state,
    })?;
    p::pubsub::add_to_linker::<_, Capability<dyn pubsub::PubSubBackend>>(linker, |s| View {
        component: &s.component,
        backend: &*s.backends.pubsub,
    })?;
    p::scheduler::add_to_linker::<_, Capability<dyn scheduler::SchedulerBackend>>(linker, |s| {
        View {
            component: &s.component,
            backend: &*s.backends.scheduler,
        }
    })?;
    p::invoke::add_to_linker::<_, Capability<dyn invoke::InvokeBackend>>(linker, |s| View {
        component: &s.component,
        backend: &*s.backends.invoke,
    })?;
    p::secrets::add_to_linker::<_, Capability<dyn secrets::SecretsBackend>>(linker, |s| View {
        component: &s.component,
        backend: &*s.backends.secrets,
    })?;
    p::realtime::add_to_linker::<_, Capability<dyn realtime::RealtimeBackend>>(linker, |s| View {
        component: &s.component,
        backend: &*s.backends.realtime,
    })?;
    p::conversation::add_to_linker::<_, Capability<dyn conversation::ConversationBackend>>(
        linker,
        |s| View {
            component: &s.component,
            backend: &*s.backends.conversation,
        },
    )?;
    Ok(())
}

/// `types` declares only records, resources and the error; linked with the
/// whole store as its view.
impl p::types::Host for HostState {
    fn convert_error(
        &mut self,
        err: crate::capabilities::CapError,
    ) -> wasmtime::Result<crate::capabilities::bindings::WitError> {
        View {
            component: &self.component,
            backend: &(),
        }
        .convert_error(err)
    }
}
