//! The realtime capability as a trait: WIT `realtime` in the component, a
//! recorder in native tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use todo_domain::KvError;

/// Connections the host holds (see `wit/realtime.wit`).
pub trait Push {
    fn send(&self, connection: &str, message: &str) -> Result<(), KvError>;
    fn send_ordered(
        &self,
        connection: &str,
        seq: u64,
        message: Option<&str>,
    ) -> Result<(), KvError>;
    fn start(&self, connection: &str, after: u64, hold_ms: u32) -> Result<(), KvError>;
    fn close(&self, connection: &str, code: u16, reason: &str) -> Result<(), KvError>;
}

/// What a test connection received.
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    pub plain: Vec<String>,
    pub ordered: BTreeMap<u64, Option<String>>,
    pub started_after: Option<u64>,
    pub closed: Option<(u16, String)>,
}

/// Connections in memory, for tests. Sending to one never opened is
/// `NotFound`, as for a connection another replica holds.
#[derive(Debug, Default)]
pub struct MemoryPush(Mutex<BTreeMap<String, Recorded>>);

impl MemoryPush {
    pub fn open(&self, connection: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(connection.to_owned(), Recorded::default());
    }

    pub fn of(&self, connection: &str) -> Recorded {
        self.0
            .lock()
            .unwrap()
            .get(connection)
            .cloned()
            .unwrap_or_default()
    }

    fn with<T>(&self, connection: &str, f: impl FnOnce(&mut Recorded) -> T) -> Result<T, KvError> {
        self.0
            .lock()
            .unwrap()
            .get_mut(connection)
            .map(f)
            .ok_or(KvError::NotFound)
    }
}

impl Push for MemoryPush {
    fn send(&self, connection: &str, message: &str) -> Result<(), KvError> {
        self.with(connection, |r| r.plain.push(message.to_owned()))
    }

    fn send_ordered(
        &self,
        connection: &str,
        seq: u64,
        message: Option<&str>,
    ) -> Result<(), KvError> {
        self.with(connection, |r| {
            r.ordered.insert(seq, message.map(str::to_owned));
        })
    }

    fn start(&self, connection: &str, after: u64, _hold_ms: u32) -> Result<(), KvError> {
        self.with(connection, |r| r.started_after = Some(after))
    }

    fn close(&self, connection: &str, code: u16, reason: &str) -> Result<(), KvError> {
        self.with(connection, |r| r.closed = Some((code, reason.to_owned())))
    }
}
