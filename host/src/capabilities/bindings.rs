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

use crate::cloudevent::Event;

/// The WIT record and the host's event model are the same fields.
impl From<CloudEvent> for Event {
    fn from(e: CloudEvent) -> Self {
        Event {
            id: e.id,
            source: e.source,
            ty: e.type_,
            subject: e.subject,
            time: e.time,
            datacontenttype: e.datacontenttype,
            data: e.data,
            extensions: e.extensions,
        }
    }
}

impl From<Event> for CloudEvent {
    fn from(e: Event) -> Self {
        CloudEvent {
            id: e.id,
            source: e.source,
            type_: e.ty,
            subject: e.subject,
            time: e.time,
            datacontenttype: e.datacontenttype,
            data: e.data,
            extensions: e.extensions,
        }
    }
}
