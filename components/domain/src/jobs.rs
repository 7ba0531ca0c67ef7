//! The scheduler capability as a trait: WIT `scheduler` in a component,
//! an in-memory map in native tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::kv::KvError;

/// Durable named jobs that fire back into this component.
pub trait Jobs {
    /// Creates or replaces job `name`, due at `due_ms` (Unix ms).
    fn schedule(&self, name: &str, due_ms: u64, data: &[u8]) -> Result<(), KvError>;
    /// A cancelled job never fires; `NotFound` if there is none.
    fn cancel(&self, name: &str) -> Result<(), KvError>;
}

/// Jobs kept in memory, for tests: name -> (due, data).
#[derive(Debug, Default)]
pub struct MemoryJobs(Mutex<BTreeMap<String, (u64, Vec<u8>)>>);

impl MemoryJobs {
    pub fn scheduled(&self) -> BTreeMap<String, (u64, Vec<u8>)> {
        self.0.lock().unwrap().clone()
    }
}

impl Jobs for MemoryJobs {
    fn schedule(&self, name: &str, due_ms: u64, data: &[u8]) -> Result<(), KvError> {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), (due_ms, data.to_vec()));
        Ok(())
    }

    fn cancel(&self, name: &str) -> Result<(), KvError> {
        match self.0.lock().unwrap().remove(name) {
            Some(_) => Ok(()),
            None => Err(KvError::NotFound),
        }
    }
}
