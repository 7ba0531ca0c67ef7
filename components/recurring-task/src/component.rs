//! The WIT side: the event handler, over state (the outbox that publishes)
//! and invoke (chat-api) of the host.

use todo_sdk::bindings::todo::platform::types::CloudEvent;
use todo_sdk::exports::events::exports::todo::platform::event_handler::{self, HandlerError};

struct Component;

impl event_handler::Guest for Component {
    fn handle(_topic: String, event: CloudEvent) -> Result<(), HandlerError> {
        let event = todo_sdk::types::event_from_wit(event);
        let outcome = crate::series::on_event(
            &todo_sdk::state::WitState,
            &todo_sdk::invoke::WitInvoke,
            &event,
        )
        .map(|_| ());
        todo_sdk::events::to_wit(outcome)
    }
}

todo_sdk::export!(Component: events);
