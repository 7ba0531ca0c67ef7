//! The WIT side: the event handler appends to the chain; the HTTP handler
//! serves queries. Both run against state backed by the host.

use todo_sdk::bindings::todo::platform::types::CloudEvent;
use todo_sdk::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use todo_sdk::exports::events::exports::todo::platform::event_handler::{self, HandlerError};
use todo_sdk::exports::http::exports::wasi::http::incoming_handler;

struct Component;

impl event_handler::Guest for Component {
    fn handle(topic: String, event: CloudEvent) -> Result<(), HandlerError> {
        let event = todo_sdk::types::event_from_wit(event);
        let outcome = crate::ingest::record(
            &todo_sdk::state::WitState,
            &todo_sdk::secrets::WitSecrets,
            &topic,
            &event,
        );
        todo_sdk::events::to_wit(outcome.map(drop))
    }
}

impl incoming_handler::Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        todo_sdk::http::serve(request, response_out, |req| {
            crate::api::handle(
                &todo_sdk::state::WitState,
                &todo_sdk::secrets::WitSecrets,
                &req,
            )
        });
    }
}

todo_sdk::export!(Component: http, events);
