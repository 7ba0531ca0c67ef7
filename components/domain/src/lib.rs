//! Domain code shared by the Todo components: the CloudEvent model and its
//! JSON form, topic and event-type names, plain HTTP types with the shared
//! error shape, the state capability as a trait (with an in-memory
//! implementation for tests). The WIT side of these traits is the guest
//! SDK's (`components/sdk`).

/// The event model is the platform's (`todo-cloudevent`), shared with the host.
pub use todo_cloudevent::event;
pub mod handler;
pub mod http;
pub mod invoke;
pub mod jobs;
pub mod kv;
pub mod memory_kv;
pub mod secrets;
pub mod topics;

pub use event::{CloudEvent, EventBuilder, EventError, EventOrigin};
pub use handler::HandlerError;
pub use http::{ApiError, Request, Response};
pub use invoke::Invoke;
pub use jobs::{Jobs, MemoryJobs};
pub use kv::{KeyValue, KvError, Op, OutboxEvent, Precondition, SetOptions, Versioned};
pub use memory_kv::MemoryKv;
pub use secrets::{Secrets, StaticSecrets};
