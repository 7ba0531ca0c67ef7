//! The task model: the stored and serialized task, its due (wall clock in
//! an IANA zone), reminders and recurrence, and validation of client input.

pub mod due;
pub mod filter;
pub mod input;
pub mod recurrence;
pub mod task;

pub use due::Due;
pub use recurrence::{Basis, Recurrence};
pub use task::{Priority, Reminder, ReminderWhen, Status, Task};
