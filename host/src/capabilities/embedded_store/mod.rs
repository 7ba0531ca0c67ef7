//! What every embedded backend shares, the durable store: one redb file holding state, the event log,
//! subscriber cursors and jobs. Keeping them in one file is what makes the
//! outbox atomic: a state change and the events it implies commit together.
//!
//! Writes go through a single committer thread that groups whatever is queued
//! into one transaction (group commit): one fsync acknowledges many writers,
//! which is where in-process throughput comes from. Each queued write must
//! check its preconditions before it writes anything, so a failed check
//! leaves no trace while its neighbours in the same group still commit.

pub mod log;

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use tokio::sync::{Notify, oneshot, watch};

use crate::capabilities::{CapError, CapResult};

/// `<component>\0<key>` -> encoded [`crate::capabilities::state::embedded::Stored`].
pub const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
/// `(topic, seq)` -> CloudEvent JSON.
pub const LOG: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("log");
/// topic -> last seq written.
pub const LOG_HEAD: TableDefinition<&str, u64> = TableDefinition::new("log_head");
/// `(subscriber, topic)` -> last seq acknowledged.
pub const CURSORS: TableDefinition<(&str, &str), u64> = TableDefinition::new("cursors");
/// `(component, name)` -> encoded job.
pub const JOBS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("jobs");
/// `(next fire ms, component, name)`: the timer's ordering index.
pub const JOB_DUE: TableDefinition<(u64, &str, &str), ()> = TableDefinition::new("job_due");
/// Counters, e.g. the ETag sequence.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// What a write touched, so the committer wakes the right waiters.
#[derive(Default)]
pub struct Touched {
    pub log: bool,
    pub jobs: bool,
}

/// A queued write: runs inside the group transaction, returns a completion
/// that is told whether the group committed.
type Completion = Box<dyn FnOnce(Result<(), CapError>) + Send>;
type QueuedWrite = Box<dyn FnOnce(&WriteTransaction, &mut Touched) -> Completion + Send>;

/// Most writes grouped into one commit.
const MAX_GROUP: usize = 512;

#[derive(Clone)]
pub struct Db {
    db: Arc<Database>,
    writes: std_mpsc::Sender<QueuedWrite>,
    log_changed: watch::Sender<u64>,
    jobs_changed: Arc<Notify>,
}

impl Db {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        use crate::ops::private_fs::{OthersWriting, ensure_dir, ensure_file};
        ensure_dir(dir, OthersWriting::Revoke)?;
        let path = dir.join("todo.redb");
        ensure_file(&path)?;
        let db = Database::create(&path)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
        let txn = db.begin_write()?;
        {
            txn.open_table(STATE)?;
            txn.open_table(LOG)?;
            txn.open_table(LOG_HEAD)?;
            txn.open_table(CURSORS)?;
            txn.open_table(JOBS)?;
            txn.open_table(JOB_DUE)?;
            txn.open_table(META)?;
        }
        txn.commit()?;
        let db = Arc::new(db);
        let (writes, queue) = std_mpsc::channel::<QueuedWrite>();
        let (log_changed, _) = watch::channel(0u64);
        let jobs_changed = Arc::new(Notify::new());
        let committer = Committer {
            db: db.clone(),
            log_changed: log_changed.clone(),
            jobs_changed: jobs_changed.clone(),
        };
        std::thread::Builder::new()
            .name("todo-committer".into())
            .spawn(move || committer.run(queue))?;
        Ok(Self {
            db,
            writes,
            log_changed,
            jobs_changed,
        })
    }

    /// Runs `f` inside the next group commit; resolves once it is durable.
    pub async fn write<T, F>(&self, f: F) -> CapResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction, &mut Touched) -> CapResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let queued: QueuedWrite = Box::new(move |txn, touched| {
            let outcome = f(txn, touched);
            Box::new(move |committed: Result<(), CapError>| {
                let _ = tx.send(committed.and(outcome));
            })
        });
        self.writes
            .send(queued)
            .map_err(|_| CapError::Unavailable("embedded store is shut down".into()))?;
        rx.await
            .map_err(|_| CapError::Unavailable("embedded store dropped the write".into()))?
    }

    /// Runs a read on a blocking thread against a consistent snapshot.
    pub async fn read<T, F>(&self, f: F) -> CapResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> CapResult<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read().map_err(redb::Error::from)?;
            f(&txn)
        })
        .await
        .map_err(CapError::trap)?
    }

    /// Bumped after every commit that appended to the event log.
    pub fn log_changes(&self) -> watch::Receiver<u64> {
        self.log_changed.subscribe()
    }

    /// Notified after every commit that touched jobs.
    pub fn job_changes(&self) -> Arc<Notify> {
        self.jobs_changed.clone()
    }
}

struct Committer {
    db: Arc<Database>,
    log_changed: watch::Sender<u64>,
    jobs_changed: Arc<Notify>,
}

impl Committer {
    fn run(self, queue: std_mpsc::Receiver<QueuedWrite>) {
        while let Ok(first) = queue.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
    }

    fn commit_group(&self, group: Vec<QueuedWrite>) {
        let mut touched = Touched::default();
        let txn = match self.db.begin_write() {
            Ok(txn) => txn,
            Err(e) => {
                // Nothing ran: dropping the writes fails every waiter with
                // `unavailable`, and no data was touched.
                tracing::error!("embedded store cannot begin a write: {e}");
                drop(group);
                return;
            }
        };
        let completions: Vec<Completion> = group
            .into_iter()
            .map(|write| write(&txn, &mut touched))
            .collect();
        let committed = txn
            .commit()
            .map_err(|e| CapError::Unavailable(format!("embedded store commit: {e}")));
        let ok = committed.is_ok();
        for done in completions {
            done(match &committed {
                Ok(()) => Ok(()),
                Err(e) => Err(CapError::Unavailable(e.to_string())),
            });
        }
        if ok && touched.log {
            self.log_changed.send_modify(|v| *v += 1);
        }
        if ok && touched.jobs {
            self.jobs_changed.notify_one();
        }
    }
}

/// Next value of a named counter (inside a write transaction).
pub fn next_counter(txn: &WriteTransaction, name: &str) -> CapResult<u64> {
    let mut meta = txn.open_table(META).map_err(redb::Error::from)?;
    let next = meta
        .get(name)
        .map_err(redb::Error::from)?
        .map(|v| v.value())
        .unwrap_or(0)
        + 1;
    meta.insert(name, next).map_err(redb::Error::from)?;
    Ok(next)
}
