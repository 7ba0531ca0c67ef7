//! The engine: the one set of host bindings, compiled components and their
//! hot swap, the sandbox every guest runs in, per-call stores, and the
//! calls into guest exports. It knows the manifest and the capabilities'
//! backends, never a trigger or a mode.

mod cached_artifact;
pub mod calls;
pub mod incoming_http;
pub mod linker;
pub mod registry;
pub mod sandbox;
pub mod store;
pub mod streamed;

use std::sync::Arc;

use crate::app::Manifest;
use crate::capabilities::Backends;
use registry::Registry;

pub struct Runtime {
    pub manifest: Manifest,
    pub registry: Arc<Registry>,
    pub backends: Backends,
    /// Unix ms when this host started: jobs due before it fire "late".
    pub started_at: u64,
}

pub use crate::clock::now_ms;
