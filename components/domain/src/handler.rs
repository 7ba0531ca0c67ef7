//! The outcome of handling a delivered event, mirroring the WIT
//! `handler-error` (Dapr's RETRY / DROP).

/// Why an event was not handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Transient: redeliver later (with backoff; dead-lettered eventually).
    #[error("retry: {0}")]
    Retry(String),
    /// Permanent: redelivery cannot help, dead-letter it now.
    #[error("drop: {0}")]
    Drop(String),
}
