//! The WIT side: exports `wasi:http/incoming-handler` and hands each
//! request to `api::handle` with state backed by the host.

use crate::bindings::exports::wasi::http::incoming_handler::Guest;
use crate::bindings::todo::platform::conversation as wit;
use crate::bindings::todo::platform::types::Error;
use crate::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use crate::chat::model::{Call, Completion, LanguageModel, Said, ToolDef};

todo_domain::wasi_http_glue!();
todo_domain::wit_types_glue!();
todo_domain::wit_state_glue!();
todo_domain::wit_secrets_glue!();

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
        http_glue::serve(request, response_out, |req| {
            crate::api::handle_with(
                &state_glue::WitState,
                &secrets_glue::WitSecrets,
                &WitModel,
                &req,
            )
        });
    }
}

// The generated export shims are `unsafe extern "C"` functions; the
// workspace denies `unsafe_code` everywhere else.
#[allow(unsafe_code)]
mod export {
    use super::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}
