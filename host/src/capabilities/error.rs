//! The one place where capability failures become WIT errors or traps.

use crate::capabilities::bindings::WitError;

/// A failure a guest can act on. Anything else (a host bug, a poisoned
/// database) is `Trap` and aborts the guest call.
#[derive(Debug, thiserror::Error)]
pub enum CapError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("denied: {0}")]
    Denied(String),
    #[error("host error: {0:#}")]
    Trap(anyhow::Error),
}

impl CapError {
    pub fn trap(err: impl Into<anyhow::Error>) -> Self {
        CapError::Trap(err.into())
    }

    /// Converts into what the guest sees: a WIT error, or a trap.
    pub fn into_wit(self) -> wasmtime::Result<WitError> {
        Ok(match self {
            CapError::NotFound => WitError::NotFound,
            CapError::Conflict(m) => WitError::Conflict(m),
            CapError::Invalid(m) => WitError::Invalid(m),
            CapError::Unavailable(m) => WitError::Unavailable(m),
            CapError::Denied(m) => WitError::Denied(m),
            CapError::Trap(e) => return Err(wasmtime::Error::from_anyhow(e)),
        })
    }
}

impl From<redb::Error> for CapError {
    fn from(e: redb::Error) -> Self {
        CapError::Unavailable(format!("embedded store: {e}"))
    }
}

pub type CapResult<T> = Result<T, CapError>;

/// Every capability's errors are `todo:platform/types.error`; a trap is
/// logged with the component that caused it.
impl<B: ?Sized + Sync> crate::capabilities::bindings::todo::platform::types::Host
    for super::View<'_, B>
{
    fn convert_error(&mut self, err: CapError) -> wasmtime::Result<WitError> {
        if let CapError::Trap(e) = &err {
            tracing::error!(component = %self.component, "capability failed: {e:#}");
        }
        err.into_wit()
    }
}
