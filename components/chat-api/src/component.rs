//! The WIT side: exports `wasi:http/incoming-handler` and hands each
//! request to `api::handle` with state backed by the host.

use crate::bindings::exports::wasi::http::incoming_handler::Guest;
use crate::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};

todo_domain::wasi_http_glue!();
todo_domain::wit_types_glue!();
todo_domain::wit_state_glue!();
todo_domain::wit_secrets_glue!();

struct Component;

impl Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        http_glue::serve(request, response_out, |req| {
            crate::api::handle(&state_glue::WitState, &secrets_glue::WitSecrets, &req)
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
