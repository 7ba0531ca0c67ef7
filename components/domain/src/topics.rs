//! Topic names and versioned event types (the README's "Events").
//!
//! One place for these strings so a typo is a compile error, not a silently
//! unrouted event.

/// Task lifecycle: created, updated, completed, uncompleted, deleted.
pub const TASK_EVENTS: &str = "task-events";
/// Reminder lifecycle: scheduled, triggered, delivered, failed, cancelled.
pub const REMINDER_EVENTS: &str = "reminder-events";
/// Next instances generated for recurring series.
pub const RECURRING_EVENTS: &str = "recurring-events";

/// Every topic, e.g. for a consumer (audit) that subscribes to all of them.
pub const ALL_TOPICS: [&str; 3] = [TASK_EVENTS, REMINDER_EVENTS, RECURRING_EVENTS];

/// Versioned CloudEvent `type` values. A breaking change to a payload gets a
/// new `.vN` constant; old ones stay until no producer emits them.
pub mod event_type {
    pub const TASK_CREATED: &str = "com.todo.task.created.v1";
    pub const TASK_UPDATED: &str = "com.todo.task.updated.v1";
    pub const TASK_COMPLETED: &str = "com.todo.task.completed.v1";
    pub const TASK_UNCOMPLETED: &str = "com.todo.task.uncompleted.v1";
    pub const TASK_DELETED: &str = "com.todo.task.deleted.v1";

    pub const REMINDER_SCHEDULED: &str = "com.todo.reminder.scheduled.v1";
    pub const REMINDER_TRIGGERED: &str = "com.todo.reminder.triggered.v1";
    pub const REMINDER_DELIVERED: &str = "com.todo.reminder.delivered.v1";
    pub const REMINDER_FAILED: &str = "com.todo.reminder.failed.v1";
    pub const REMINDER_CANCELLED: &str = "com.todo.reminder.cancelled.v1";

    pub const RECURRING_TASK_GENERATED: &str = "com.todo.recurring.task-generated.v1";
    /// A series generates nothing more: COUNT / UNTIL reached, or deleted.
    pub const RECURRING_SERIES_ENDED: &str = "com.todo.recurring.series-ended.v1";
}

/// The topic an event type is published on, or `None` for a type this
/// version of the domain does not know.
pub fn topic_for(event_type: &str) -> Option<&'static str> {
    use event_type::*;
    match event_type {
        TASK_CREATED | TASK_UPDATED | TASK_COMPLETED | TASK_UNCOMPLETED | TASK_DELETED => {
            Some(TASK_EVENTS)
        }
        REMINDER_SCHEDULED | REMINDER_TRIGGERED | REMINDER_DELIVERED | REMINDER_FAILED
        | REMINDER_CANCELLED => Some(REMINDER_EVENTS),
        RECURRING_TASK_GENERATED | RECURRING_SERIES_ENDED => Some(RECURRING_EVENTS),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_maps_to_its_topic() {
        assert_eq!(topic_for(event_type::TASK_COMPLETED), Some(TASK_EVENTS));
        assert_eq!(
            topic_for(event_type::REMINDER_CANCELLED),
            Some(REMINDER_EVENTS)
        );
        assert_eq!(
            topic_for(event_type::RECURRING_TASK_GENERATED),
            Some(RECURRING_EVENTS)
        );
        assert_eq!(topic_for("com.todo.task.created.v2"), None);
    }
}
