//! The WIT side: exports `wasi:http/incoming-handler` and hands each
//! request to `api::handle` with state backed by the host.

use crate::chat::model::{Call, Completion, LanguageModel, Said, ToolDef};
use todo_sdk::bindings::todo::platform::conversation as wit;
use todo_sdk::bindings::todo::platform::types::Error;
use todo_sdk::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use todo_sdk::exports::http::exports::wasi::http::incoming_handler::Guest;

struct Component;

/// The language model behind the host's `conversation` capability.
struct WitModel;

impl LanguageModel for WitModel {
    fn enabled(&self) -> bool {
        wit::enabled()
    }

    fn converse(&self, messages: &[Said], tools: &[ToolDef]) -> Result<Completion, String> {
        let call = |c: &Call| wit::ToolCall {
            id: c.id.clone(),
            name: c.name.clone(),
            arguments: c.arguments.clone(),
        };
        let messages: Vec<wit::Message> = messages
            .iter()
            .map(|m| match m {
                Said::System(s) => wit::Message::System(s.clone()),
                Said::User(s) => wit::Message::User(s.clone()),
                Said::Assistant { content, calls } => wit::Message::Assistant(wit::AssistantTurn {
                    content: content.clone(),
                    tool_calls: calls.iter().map(call).collect(),
                }),
                Said::Tool {
                    call_id,
                    name,
                    content,
                } => wit::Message::Tool(wit::ToolResult {
                    call_id: call_id.clone(),
                    name: name.clone(),
                    content: content.clone(),
                }),
            })
            .collect();
        let tools: Vec<wit::Tool> = tools
            .iter()
            .map(|t| wit::Tool {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t.parameters.clone(),
            })
            .collect();
        let reply = wit::converse(&messages, &tools).map_err(|e| match e {
            Error::Unavailable(m) | Error::Invalid(m) | Error::Conflict(m) => m,
            other => format!("{other:?}"),
        })?;
        Ok(Completion {
            content: reply.content,
            calls: reply
                .tool_calls
                .into_iter()
                .map(|c| Call {
                    id: c.id,
                    name: c.name,
                    arguments: c.arguments,
                })
                .collect(),
        })
    }
}

impl Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        todo_sdk::http::serve(request, response_out, |req| {
            crate::api::handle_with(
                &todo_sdk::state::WitState,
                &todo_sdk::secrets::WitSecrets,
                &WitModel,
                &req,
            )
        });
    }
}

todo_sdk::export!(Component: http);
