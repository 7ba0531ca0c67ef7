//! The WIT side: every request is answered from the files mounted at `/`.

use std::path::Path;

use crate::bindings::exports::wasi::http::incoming_handler;
use crate::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};

todo_domain::wasi_http_glue!();

/// Where the manifest mounts the export (`destination = "/"`).
const ROOT: &str = "/";

struct Component;

impl incoming_handler::Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        http_glue::serve(request, response_out, |req| {
            crate::serve::handle(Path::new(ROOT), &req)
        });
    }
}

// The generated export shims are `unsafe extern "C"` functions; the
// workspace denies `unsafe_code` everywhere else.
#[allow(unsafe_code)]
mod export {
    use super::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}
