//! All host-side bindings to `todo:platform`, generated in one place.
//!
//! The host links against the `platform` world (every import and export);
//! a component that uses less simply leaves the rest unused. Exports are
//! called through each interface's `GuestIndices`, so a component only needs
//! the exports its triggers use.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "todo:platform/platform",
    imports: { default: async | trappable },
    exports: { default: async },
    require_store_data_send: true,
    trappable_error_type: {
        "todo:platform/types.error" => crate::capabilities::CapError,
    },
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

pub use exports::todo::platform::{event_handler, job_handler, websocket_handler};
pub use todo::platform::types::{CloudEvent, Error as WitError};
