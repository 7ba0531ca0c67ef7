//! The WIT side: the event handler and the job handler, over state and
//! the scheduler of the host.

use todo_sdk::bindings::todo::platform::types::CloudEvent;
use todo_sdk::exports::events::exports::todo::platform::event_handler::{self, HandlerError};
use todo_sdk::exports::jobs::exports::todo::platform::job_handler;

struct Component;

impl event_handler::Guest for Component {
    fn handle(_topic: String, event: CloudEvent) -> Result<(), HandlerError> {
        let event = todo_sdk::types::event_from_wit(event);
        let outcome = crate::reminders::on_event(
            &todo_sdk::state::WitState,
            &todo_sdk::jobs::WitJobs,
            &event,
        );
        todo_sdk::events::to_wit(outcome)
    }
}

impl job_handler::Guest for Component {
    fn run(job: job_handler::FiredJob) -> Result<(), String> {
        let fired = crate::reminders::Fired {
            name: job.name,
            due: job.due,
            fired_at: job.fired_at,
            late: job.late,
        };
        crate::reminders::on_job(&todo_sdk::state::WitState, &fired)
    }
}

todo_sdk::export!(Component: events, jobs);
