//! The todo platform host: loads WebAssembly components and implements the
//! `todo:platform` capabilities for them, embedded (in-process mode) or over
//! Dapr's HTTP API (pod mode).

pub mod bindings;
pub mod capabilities;
pub mod cloudevent;
pub mod components;
pub mod correlation;
pub mod dapr;
pub mod embedded;
pub mod manifest;
pub mod metrics;
pub mod publish;
pub mod runtime;
pub mod sandbox;
pub mod serve;
pub mod store;
pub mod up;
