//! Embedded backends for in-process mode: everything durable lives in one
//! redb file under the data directory.

pub mod conversation;
pub mod db;
pub mod invoke;
pub mod log;
pub mod pubsub;
pub mod scheduler;
pub mod secrets;
pub mod state;

pub use db::Db;
