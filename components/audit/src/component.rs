//! The WIT side: the event handler appends to the chain; the HTTP handler
//! serves queries. Both run against state backed by the host.

use crate::bindings::exports::todo::platform::event_handler::{self, HandlerError};
use crate::bindings::exports::wasi::http::incoming_handler;
use crate::bindings::todo::platform::types::CloudEvent;
use crate::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};

todo_domain::wasi_http_glue!();
todo_domain::wit_types_glue!();
todo_domain::wit_state_glue!();
todo_domain::wit_secrets_glue!();
todo_domain::wit_event_handler_glue!();

struct Component;

impl event_handler::Guest for Component {
    fn handle(topic: String, event: CloudEvent) -> Result<(), HandlerError> {
        let event = types_glue::event_from_wit(event);
        let outcome = crate::ingest::record(&state_glue::WitState, &topic, &event);
        event_handler_glue::to_wit(outcome.map(drop))
    }
}

impl incoming_handler::Guest for Component {
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
