//! The WIT side: event and job handlers, the WebSocket handler and the
//! HTTP routes, over the host's state, scheduler, secrets and realtime.

use crate::config::Config;
use crate::push::Push;
use crate::{now_ms, session};
use todo_domain::KvError;
use todo_sdk::bindings::todo::platform::realtime;
use todo_sdk::bindings::todo::platform::types::CloudEvent;
use todo_sdk::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use todo_sdk::exports::events::exports::todo::platform::event_handler::{self, HandlerError};
use todo_sdk::exports::http::exports::wasi::http::incoming_handler;
use todo_sdk::exports::jobs::exports::todo::platform::job_handler;
use todo_sdk::exports::websocket::exports::todo::platform::websocket_handler::{
    self, ConnectInfo, Expiry, Rejection,
};

/// `Push` over the host's `realtime` capability.
struct WitPush;

impl Push for WitPush {
    fn send(&self, connection: &str, message: &str) -> Result<(), KvError> {
        realtime::send(connection, message).map_err(todo_sdk::types::error_from_wit)
    }

    fn send_ordered(
        &self,
        connection: &str,
        seq: u64,
        message: Option<&str>,
    ) -> Result<(), KvError> {
        realtime::send_ordered(connection, seq, message).map_err(todo_sdk::types::error_from_wit)
    }

    fn start(&self, connection: &str, after: u64, hold_ms: u32) -> Result<(), KvError> {
        realtime::start(connection, after, hold_ms).map_err(todo_sdk::types::error_from_wit)
    }

    fn close(&self, connection: &str, code: u16, reason: &str) -> Result<(), KvError> {
        realtime::close(connection, code, reason).map_err(todo_sdk::types::error_from_wit)
    }
}

struct Component;

impl event_handler::Guest for Component {
    fn handle(_topic: String, event: CloudEvent) -> Result<(), HandlerError> {
        let event = todo_sdk::types::event_from_wit(event);
        let outcome = crate::fanout::on_event(
            &todo_sdk::state::WitState,
            &WitPush,
            &todo_sdk::jobs::WitJobs,
            &Config::from_env(),
            &event,
            now_ms(),
        );
        todo_sdk::events::to_wit(outcome)
    }
}

impl job_handler::Guest for Component {
    fn run(job: job_handler::FiredJob) -> Result<(), String> {
        let Some(reminder) = job.name.strip_prefix(crate::reminders::JOB_PREFIX) else {
            return Ok(());
        };
        let user = String::from_utf8_lossy(&job.data);
        crate::reminders::deadline(
            &todo_sdk::state::WitState,
            &user,
            reminder,
            Config::from_env().ack_timeout_ms,
        )
        .map(drop)
        .map_err(|e| e.to_string())
    }
}

impl websocket_handler::Guest for Component {
    fn on_connect(info: ConnectInfo) -> Result<Option<Expiry>, Rejection> {
        let connect = session::Connect {
            connection: &info.connection,
            query: &info.query,
            headers: &info.headers,
        };
        session::on_connect(
            &todo_sdk::state::WitState,
            &todo_sdk::secrets::WitSecrets,
            &WitPush,
            &Config::from_env(),
            &connect,
            now_ms(),
        )
        .map(|expiry| {
            expiry.map(|e| Expiry {
                at: e.at_ms,
                code: e.code,
                reason: e.reason,
            })
        })
        .map_err(|r| Rejection {
            status: r.status,
            reason: r.reason,
        })
    }

    fn on_message(connection: String, message: String) {
        if let Err(e) = session::on_message(
            &todo_sdk::state::WitState,
            &WitPush,
            &connection,
            &message,
            now_ms(),
        ) {
            let _ = WitPush.send(
                &connection,
                &crate::frames::error("unavailable", &format!("try again: {e}")),
            );
        }
    }

    fn on_start(connection: String, after: u64) {
        // A failure here only loses the early reminder frames of this
        // connection; they come again on its next connection.
        let _ = session::on_start(
            &todo_sdk::state::WitState,
            &WitPush,
            &connection,
            after,
            now_ms(),
        );
    }

    fn on_alive(connections: Vec<String>) {
        let _ = session::on_alive(
            &todo_sdk::state::WitState,
            &WitPush,
            &Config::from_env(),
            &connections,
            now_ms(),
        );
    }

    fn on_disconnect(connection: String) {
        let _ = session::on_disconnect(
            &todo_sdk::state::WitState,
            &Config::from_env(),
            &connection,
            now_ms(),
        );
    }
}

impl incoming_handler::Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        todo_sdk::http::serve(request, response_out, |req| {
            crate::api::handle(
                &todo_sdk::state::WitState,
                &todo_sdk::secrets::WitSecrets,
                &Config::from_env(),
                &req,
                now_ms(),
            )
        });
    }
}

todo_sdk::export!(Component: http, events, jobs, websocket);
