//! `Invoke` over the host's `invoke` capability.

use crate::bindings::todo::platform::invoke as wit;
use crate::types::error_from_wit;

#[derive(Debug, Clone, Copy, Default)]
pub struct WitInvoke;

impl todo_domain::invoke::Invoke for WitInvoke {
    fn call(
        &self,
        app_id: &str,
        request: &todo_domain::Request,
    ) -> Result<todo_domain::Response, todo_domain::KvError> {
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
        Ok(todo_domain::Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }
}
