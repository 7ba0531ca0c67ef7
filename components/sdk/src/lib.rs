//! The guest SDK of the todo platform: what a component needs to run on
//! `todo-host`, generated once from `wit/` (the way `spin-sdk` does it)
//! instead of a `wit_bindgen::generate!` and glue in every component.
//!
//! - [`bindings`]: every import of the platform (`guest` in `wit/sdk.wit`);
//!   a built component imports only what its code calls.
//! - The domain traits over them: [`state::WitState`] (`KeyValue`),
//!   [`secrets::WitSecrets`], [`invoke::WitInvoke`], [`jobs::WitJobs`],
//!   and [`types`] for events and errors.
//! - [`http::serve`]: a `wasi:http` request in, the plain `Request` /
//!   `Response` of `todo-domain` through the component's logic, out.
//! - [`export!`]: the exports a component implements, one world each
//!   (`http`, `events`, `jobs`, `websocket`), with their traits under
//!   [`exports`].
//!
//! ```text
//! struct Component;
//! impl todo_sdk::exports::Http for Component { fn handle(..) { .. } }
//! todo_sdk::export!(Component: http);
//! ```
//!
//! The component's business logic stays in plain modules over the
//! `todo-domain` traits, tested natively; only its `component.rs` (wasm
//! only) uses this crate.

// Absolute paths (`todo_sdk::...`) in the generated export macros work in
// this crate too.
extern crate self as todo_sdk;

pub mod events;
pub mod http;
pub mod invoke;
pub mod jobs;
pub mod secrets;
pub mod state;
pub mod types;

#[doc(hidden)]
pub use wit_bindgen;

/// Every import of the platform, generated once.
// Generated code: `unsafe` for the canonical ABI, and more than we use.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "guest",
        path: "../../wit",
        runtime_path: "todo_sdk::wit_bindgen::rt",
        generate_all,
    });
}

/// The exports, one world each, sharing the types of [`bindings`]. Their
/// export macros are `pub`: [`export!`] invokes them in the component.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod exports {
    /// `wasi:http/incoming-handler`.
    pub mod http {
        wit_bindgen::generate!({
            world: "http-export",
            path: "../../wit",
            runtime_path: "todo_sdk::wit_bindgen::rt",
            pub_export_macro: true,
            export_macro_name: "export_http",
            default_bindings_module: "todo_sdk::exports::http",
            with: {
                "wasi:http/types@0.2.12": todo_sdk::bindings::wasi::http::types,
                "wasi:io/streams@0.2.12": todo_sdk::bindings::wasi::io::streams,
                "wasi:io/error@0.2.12": todo_sdk::bindings::wasi::io::error,
                "wasi:io/poll@0.2.12": todo_sdk::bindings::wasi::io::poll,
                "wasi:clocks/monotonic-clock@0.2.12": todo_sdk::bindings::wasi::clocks::monotonic_clock,
            },
        });
    }

    /// `todo:platform/event-handler`.
    pub mod events {
        wit_bindgen::generate!({
            world: "event-export",
            path: "../../wit",
            runtime_path: "todo_sdk::wit_bindgen::rt",
            pub_export_macro: true,
            export_macro_name: "export_events",
            default_bindings_module: "todo_sdk::exports::events",
            with: {
                "todo:platform/types@0.1.0": todo_sdk::bindings::todo::platform::types,
            },
        });
    }

    /// `todo:platform/job-handler`.
    pub mod jobs {
        wit_bindgen::generate!({
            world: "job-export",
            path: "../../wit",
            runtime_path: "todo_sdk::wit_bindgen::rt",
            pub_export_macro: true,
            export_macro_name: "export_jobs",
            default_bindings_module: "todo_sdk::exports::jobs",
            with: {
                "todo:platform/types@0.1.0": todo_sdk::bindings::todo::platform::types,
            },
        });
    }

    /// `todo:platform/websocket-handler`.
    pub mod websocket {
        wit_bindgen::generate!({
            world: "websocket-export",
            path: "../../wit",
            runtime_path: "todo_sdk::wit_bindgen::rt",
            pub_export_macro: true,
            export_macro_name: "export_websocket",
            default_bindings_module: "todo_sdk::exports::websocket",
            with: {
                "todo:platform/types@0.1.0": todo_sdk::bindings::todo::platform::types,
            },
        });
    }

    pub use events::exports::todo::platform::event_handler::Guest as Events;
    pub use http::exports::wasi::http::incoming_handler::Guest as Http;
    pub use jobs::exports::todo::platform::job_handler::Guest as Jobs;
    pub use websocket::exports::todo::platform::websocket_handler::Guest as WebSocket;
}

/// Exports `$ty` as the component's implementation of each listed world:
/// `http` ([`exports::Http`]), `events` ([`exports::Events`]), `jobs`
/// ([`exports::Jobs`]), `websocket` ([`exports::WebSocket`]).
#[macro_export]
macro_rules! export {
    ($ty:ident: $($world:ident),+ $(,)?) => {
        // The export shims are `unsafe extern "C"` functions; components
        // deny `unsafe_code` everywhere else.
        #[allow(unsafe_code)]
        const _: () = {
            $( $crate::__export_world!($world $ty); )+
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_world {
    (http $ty:ident) => {
        $crate::exports::http::export_http!($ty);
    };
    (events $ty:ident) => {
        $crate::exports::events::export_events!($ty);
    };
    (jobs $ty:ident) => {
        $crate::exports::jobs::export_jobs!($ty);
    };
    (websocket $ty:ident) => {
        $crate::exports::websocket::export_websocket!($ty);
    };
}
