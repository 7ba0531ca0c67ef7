//! Macros that generate the WIT glue inside each component crate.
//!
//! Every macro expects the component's `wit_bindgen::generate!` output at
//! `crate::bindings` (generated with `generate_all`, so the `wasi:*`
//! interfaces are there too). They expand to small modules —
//! `http_glue`, `types_glue`, `state_glue`, `event_handler_glue` — that the
//! component's `component.rs` uses.

mod http;
mod wit;
