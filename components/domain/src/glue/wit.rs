//! `todo:platform` WIT types ⇄ domain types, and `KeyValue` over the WIT
//! `state` imports. Macros for the same reason as `wasi_http_glue!`: the
//! generated types live in each component crate.

/// Defines `mod types_glue`: conversions between the WIT `cloud-event` and
/// `error` and `CloudEvent` / `KvError`.
///
/// Needs `crate::bindings` generated from a world that uses
/// `todo:platform/types` (every world of the package does).
#[macro_export]
// `crate::bindings` deliberately names the *calling* component's bindings.
#[allow(clippy::crate_in_macro_def)]
macro_rules! wit_types_glue {
    () => {
        /// Conversions between `todo:platform/types` and the domain types.
        pub(crate) mod types_glue {
            use crate::bindings::todo::platform::types as wit;
            use $crate::{CloudEvent, KvError};

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
        }
    };
}

/// Defines `mod state_glue` with `WitState`, the `KeyValue` implementation
/// over the WIT `state` imports. Expand `wit_types_glue!()` in the same
/// module first; the world must import `todo:platform/state`.
#[macro_export]
// `crate::bindings` deliberately names the *calling* component's bindings.
#[allow(clippy::crate_in_macro_def)]
macro_rules! wit_state_glue {
    () => {
        /// `KeyValue` backed by the host's `state` capability.
        pub(crate) mod state_glue {
            use super::types_glue::{error_from_wit, event_to_wit};
            use crate::bindings::todo::platform::state as wit;
            use $crate::kv::{
                KeyValue, KvError, Op, OutboxEvent, Precondition, SetOptions, Versioned,
            };

            /// Stateless: the host scopes keys to the calling component.
            #[derive(Debug, Clone, Copy, Default)]
            pub struct WitState;

            fn options_to_wit(options: SetOptions) -> wit::SetOptions {
                wit::SetOptions {
                    precondition: options.precondition.map(|p| match p {
                        Precondition::EtagMatches(etag) => wit::Precondition::EtagMatches(etag),
                        Precondition::Absent => wit::Precondition::Absent,
                    }),
                    ttl_seconds: options.ttl_seconds,
                }
            }

            impl KeyValue for WitState {
                fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
                    wit::get(key)
                        .map(|item| item.map(|item| (item.value, item.etag)))
                        .map_err(error_from_wit)
                }

                fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Versioned>>, KvError> {
                    let items = wit::get_bulk(keys).map_err(error_from_wit)?;
                    Ok(items
                        .into_iter()
                        .map(|item| item.map(|item| (item.value, item.etag)))
                        .collect())
                }

                fn set(&self, key: &str, value: &[u8], options: SetOptions) -> Result<(), KvError> {
                    wit::set(key, value, &options_to_wit(options)).map_err(error_from_wit)
                }

                fn delete(&self, key: &str, etag: Option<&str>) -> Result<(), KvError> {
                    wit::delete(key, etag).map_err(error_from_wit)
                }

                fn transact(&self, ops: Vec<Op>, events: Vec<OutboxEvent>) -> Result<(), KvError> {
                    let ops: Vec<wit::Operation> = ops
                        .into_iter()
                        .map(|op| match op {
                            Op::Set {
                                key,
                                value,
                                options,
                            } => wit::Operation::Set((key, value, options_to_wit(options))),
                            Op::Delete { key, etag } => wit::Operation::Delete((key, etag)),
                        })
                        .collect();
                    let events: Vec<wit::OutboxEvent> = events
                        .into_iter()
                        .map(|e| wit::OutboxEvent {
                            topic: e.topic,
                            event: event_to_wit(e.event),
                        })
                        .collect();
                    wit::transact(&ops, &events).map_err(error_from_wit)
                }
            }
        }
    };
}

/// Defines `mod event_handler_glue` with `to_wit`, mapping the domain
/// `HandlerError` to the WIT `handler-error`. The world must export
/// `todo:platform/event-handler`.
#[macro_export]
// `crate::bindings` deliberately names the *calling* component's bindings.
#[allow(clippy::crate_in_macro_def)]
macro_rules! wit_event_handler_glue {
    () => {
        /// The event handler's outcome in WIT terms.
        pub(crate) mod event_handler_glue {
            use crate::bindings::exports::todo::platform::event_handler::HandlerError;

            pub fn to_wit(result: Result<(), $crate::HandlerError>) -> Result<(), HandlerError> {
                result.map_err(|e| match e {
                    $crate::HandlerError::Retry(m) => HandlerError::Retry(m),
                    $crate::HandlerError::Drop(m) => HandlerError::Drop(m),
                })
            }
        }
    };
}

/// Defines `mod secrets_glue` with `WitSecrets`, the `Secrets`
/// implementation over the WIT `secrets` import. Expand `wit_types_glue!()`
/// first; the world must import `todo:platform/secrets`.
#[macro_export]
// `crate::bindings` deliberately names the *calling* component's bindings.
#[allow(clippy::crate_in_macro_def)]
macro_rules! wit_secrets_glue {
    () => {
        /// `Secrets` backed by the host's `secrets` capability.
        pub(crate) mod secrets_glue {
            use super::types_glue::error_from_wit;
            use crate::bindings::todo::platform::secrets as wit;

            #[derive(Debug, Clone, Copy, Default)]
            pub struct WitSecrets;

            impl $crate::Secrets for WitSecrets {
                fn get(&self, name: &str) -> Result<String, $crate::KvError> {
                    wit::get(name).map_err(error_from_wit)
                }
            }
        }
    };
}

/// Defines `mod invoke_glue` with `WitInvoke`, the `Invoke` implementation
/// over the WIT `invoke` import. Expand `wit_types_glue!()` first; the
/// world must import `todo:platform/invoke`.
#[macro_export]
// `crate::bindings` deliberately names the *calling* component's bindings.
#[allow(clippy::crate_in_macro_def)]
macro_rules! wit_invoke_glue {
    () => {
        /// `Invoke` backed by the host's `invoke` capability.
        pub(crate) mod invoke_glue {
            use super::types_glue::error_from_wit;
            use crate::bindings::todo::platform::invoke as wit;

            #[derive(Debug, Clone, Copy, Default)]
            pub struct WitInvoke;

            impl $crate::invoke::Invoke for WitInvoke {
                fn call(
                    &self,
                    app_id: &str,
                    request: &$crate::Request,
                ) -> Result<$crate::Response, $crate::KvError> {
                    let path = if request.query.is_empty() {
                        request.path.clone()
                    } else {
                        format!("{}?{}", request.path, request.query)
                    };
                    let request = wit::Request {
                        method: request.method.clone(),
                        path,
                        headers: request.headers.clone(),
                        body: request.body.clone(),
                    };
                    let response = wit::call(app_id, &request).map_err(error_from_wit)?;
                    Ok($crate::Response {
                        status: response.status,
                        headers: response.headers,
                        body: response.body,
                    })
                }
            }
        }
    };
}

/// Defines `mod jobs_glue` with `WitJobs`, the `Jobs` implementation over
/// the WIT `scheduler` import. Expand `wit_types_glue!()` first; the world
/// must import `todo:platform/scheduler`.
#[macro_export]
// `crate::bindings` deliberately names the *calling* component's bindings.
#[allow(clippy::crate_in_macro_def)]
macro_rules! wit_jobs_glue {
    () => {
        /// `Jobs` backed by the host's `scheduler` capability.
        pub(crate) mod jobs_glue {
            use super::types_glue::error_from_wit;
            use crate::bindings::todo::platform::scheduler as wit;

            #[derive(Debug, Clone, Copy, Default)]
            pub struct WitJobs;

            impl $crate::Jobs for WitJobs {
                fn schedule(
                    &self,
                    name: &str,
                    due_ms: u64,
                    data: &[u8],
                ) -> Result<(), $crate::KvError> {
                    let job = wit::Job {
                        name: name.to_owned(),
                        due: due_ms,
                        repeat: None,
                        data: data.to_vec(),
                    };
                    wit::schedule(&job).map_err(error_from_wit)
                }

                fn cancel(&self, name: &str) -> Result<(), $crate::KvError> {
                    wit::cancel(name).map_err(error_from_wit)
                }
            }
        }
    };
}
