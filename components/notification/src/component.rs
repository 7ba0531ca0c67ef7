//! The WIT side: the event handler and the job handler, over state and
//! the scheduler of the host.

use crate::bindings::exports::todo::platform::event_handler::{self, HandlerError};
use crate::bindings::exports::todo::platform::job_handler;
use crate::bindings::todo::platform::types::CloudEvent;

todo_domain::wit_types_glue!();
todo_domain::wit_state_glue!();
todo_domain::wit_event_handler_glue!();
todo_domain::wit_jobs_glue!();

struct Component;

impl event_handler::Guest for Component {
    fn handle(_topic: String, event: CloudEvent) -> Result<(), HandlerError> {
        let event = types_glue::event_from_wit(event);
        let outcome =
            crate::reminders::on_event(&state_glue::WitState, &jobs_glue::WitJobs, &event);
        event_handler_glue::to_wit(outcome)
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
        crate::reminders::on_job(&state_glue::WitState, &fired)
    }
}

// The generated export shims are `unsafe extern "C"` functions; the
// workspace denies `unsafe_code` everywhere else.
#[allow(unsafe_code)]
mod export {
    use super::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}
