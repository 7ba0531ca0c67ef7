//! `todo:platform/types` ⇄ the domain's `CloudEvent` and `KvError`.

use crate::bindings::todo::platform::types as wit;
use todo_domain::{CloudEvent, KvError};

pub fn event_to_wit(event: CloudEvent) -> wit::CloudEvent {
    wit::CloudEvent {
        id: event.id,
        source: event.source,
        type_: event.ty,
        subject: event.subject,
        time: event.time,
        datacontenttype: event.datacontenttype,
        data: event.data,
        extensions: event.extensions,
    }
}

pub fn event_from_wit(event: wit::CloudEvent) -> CloudEvent {
    CloudEvent {
        id: event.id,
        source: event.source,
        ty: event.type_,
        subject: event.subject,
        time: event.time,
        datacontenttype: event.datacontenttype,
        data: event.data,
        extensions: event.extensions,
    }
}

pub fn error_from_wit(error: wit::Error) -> KvError {
    match error {
        wit::Error::NotFound => KvError::NotFound,
        wit::Error::Conflict(m) => KvError::Conflict(m),
        wit::Error::Invalid(m) => KvError::Invalid(m),
        wit::Error::Unavailable(m) => KvError::Unavailable(m),
        wit::Error::Denied(m) => KvError::Denied(m),
    }
}

pub fn error_to_wit(error: KvError) -> wit::Error {
    match error {
        KvError::NotFound => wit::Error::NotFound,
        KvError::Conflict(m) => wit::Error::Conflict(m),
        KvError::Invalid(m) => wit::Error::Invalid(m),
        KvError::Unavailable(m) => wit::Error::Unavailable(m),
        KvError::Denied(m) => wit::Error::Denied(m),
    }
}
