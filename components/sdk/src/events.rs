//! The event handler's outcome in WIT terms.

use crate::exports::events::exports::todo::platform::event_handler::HandlerError;

pub fn to_wit(result: Result<(), todo_domain::HandlerError>) -> Result<(), HandlerError> {
    result.map_err(|e| match e {
        todo_domain::HandlerError::Retry(m) => HandlerError::Retry(m),
        todo_domain::HandlerError::Drop(m) => HandlerError::Drop(m),
    })
}
