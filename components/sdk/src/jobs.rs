//! `Jobs` over the host's `scheduler` capability.

use crate::bindings::todo::platform::scheduler as wit;
use crate::types::error_from_wit;

#[derive(Debug, Clone, Copy, Default)]
pub struct WitJobs;

impl todo_domain::Jobs for WitJobs {
    fn schedule(&self, name: &str, due_ms: u64, data: &[u8]) -> Result<(), todo_domain::KvError> {
        let job = wit::Job {
            name: name.to_owned(),
            due: due_ms,
            repeat: None,
            data: data.to_vec(),
        };
        wit::schedule(&job).map_err(error_from_wit)
    }

    fn cancel(&self, name: &str) -> Result<(), todo_domain::KvError> {
        wit::cancel(name).map_err(error_from_wit)
    }
}
