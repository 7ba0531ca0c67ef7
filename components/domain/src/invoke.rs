//! The invoke capability as a trait: WIT `invoke` in a component (a direct
//! call in-process, Dapr service invocation in pod mode), any function in
//! native tests (e.g. another component's handler).

use crate::http::{Request, Response};
use crate::kv::KvError;

/// Calls an HTTP method of another app by its app id.
pub trait Invoke {
    /// Any HTTP status is a successful call; `Err` means the app could not
    /// be reached (`NotFound`: no such app).
    fn call(&self, app_id: &str, request: &Request) -> Result<Response, KvError>;
}

/// A function as an app, for tests: `|app_id, request| response`.
impl<F> Invoke for F
where
    F: Fn(&str, &Request) -> Result<Response, KvError>,
{
    fn call(&self, app_id: &str, request: &Request) -> Result<Response, KvError> {
        self(app_id, request)
    }
}
