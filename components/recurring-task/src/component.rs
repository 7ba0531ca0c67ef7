//! The WIT side: the event handler, over state (the outbox that publishes)
//! and invoke (chat-api) of the host.

use crate::bindings::exports::todo::platform::event_handler::{self, HandlerError};
use crate::bindings::todo::platform::types::CloudEvent;

todo_domain::wit_types_glue!();
todo_domain::wit_state_glue!();
todo_domain::wit_event_handler_glue!();
todo_domain::wit_invoke_glue!();

struct Component;

impl event_handler::Guest for Component {
    fn handle(_topic: String, event: CloudEvent) -> Result<(), HandlerError> {
        let event = types_glue::event_from_wit(event);
        let outcome =
            crate::series::on_event(&state_glue::WitState, &invoke_glue::WitInvoke, &event)
                .map(|_| ());
        event_handler_glue::to_wit(outcome)
    }
}

// The generated export shims are `unsafe extern "C"` functions; the
// workspace denies `unsafe_code` everywhere else.
#[allow(unsafe_code)]
mod export {
    use super::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}
