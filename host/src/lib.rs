//! The todo platform host: loads WebAssembly components and implements the
//! `todo:platform` capabilities for them, embedded (in-process mode) or over
//! Dapr's HTTP API (pod mode).
//!
//! The map (see `host/README.md`): [`app`] reads the manifest; [`engine`]
//! compiles, instantiates and calls components; [`capabilities`] holds the
//! generated bindings and one folder per WIT interface (its trait, its
//! `Host` impl and its two backends); [`triggers`] one folder per way a component
//! is called (HTTP, topics, jobs, WebSockets); [`modes`] assembles them
//! into `todo-host up` or `todo-host serve`; [`ops`] metrics, correlation
//! ids and shutdown; [`config`] every environment choice.

/// The manifest (its own crate, shared with the test harness and xtask).
pub use todo_manifest as app;
pub mod capabilities;
pub mod clock;
pub mod cloudevent;
pub mod config;
pub mod engine;
pub mod modes;
pub mod ops;
pub mod triggers;
