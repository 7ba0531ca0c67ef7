//! The WIT side: every request is answered from the files mounted at `/`.

use std::path::Path;

use todo_sdk::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use todo_sdk::exports::http::exports::wasi::http::incoming_handler;

/// Where the manifest mounts the export (`destination = "/"`).
const ROOT: &str = "/";

struct Component;

impl incoming_handler::Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        todo_sdk::http::serve(request, response_out, |req| {
            crate::serve::handle(Path::new(ROOT), &req)
        });
    }
}

todo_sdk::export!(Component: http);
