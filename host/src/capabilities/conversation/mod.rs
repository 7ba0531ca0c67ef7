//! `todo:platform/conversation`: one completion of a language model with
//! tools. The host makes the call (Dapr's Conversation API in pod mode,
//! an OpenAI-compatible endpoint embedded), so no component holds a
//! model's address or key. Off unless configured.

pub mod dapr;
pub mod embedded;

use async_trait::async_trait;
use tracing::instrument;

use crate::capabilities::bindings::todo::platform::conversation as wit;
use crate::capabilities::{CapError, CapResult, View};

pub use wit::{AssistantTurn, Message, Reply, Tool, ToolCall, ToolResult};

/// Most messages and bytes one request may carry: a conversation's recent
/// turns fit easily; a runaway loop does not.
const MAX_MESSAGES: usize = 200;
const MAX_BYTES: usize = 2 << 20;

#[async_trait]
pub trait ConversationBackend: Send + Sync {
    /// Whether a model is configured.
    fn enabled(&self) -> bool;
    /// `Unavailable` when the model cannot be reached or fails.
    async fn converse(&self, owner: &str, messages: &[Message], tools: &[Tool])
    -> CapResult<Reply>;
}

/// A tool's parameters as a JSON value (checked to be an object when the
/// call came in).
pub fn parameters(tool: &Tool) -> serde_json::Value {
    serde_json::from_str(&tool.parameters).unwrap_or_else(|_| serde_json::json!({"type": "object"}))
}

/// Tool calls in the OpenAI shape Dapr mirrors: `[{id, function: {name,
/// arguments}}]`, arguments a JSON string (or, from some servers, an
/// object).
pub fn tool_calls(calls: &serde_json::Value) -> Vec<ToolCall> {
    use serde_json::Value;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    calls
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|c| ToolCall {
                    id: text(&c["id"]),
                    name: text(&c["function"]["name"]),
                    arguments: match &c["function"]["arguments"] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    },
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A backend for a host with no model configured.
pub struct NoModel;

#[async_trait]
impl ConversationBackend for NoModel {
    fn enabled(&self) -> bool {
        false
    }

    async fn converse(
        &self,
        _owner: &str,
        _messages: &[Message],
        _tools: &[Tool],
    ) -> CapResult<Reply> {
        Err(CapError::Unavailable(
            "no language model is configured".into(),
        ))
    }
}

fn size(messages: &[Message], tools: &[Tool]) -> usize {
    let message = |m: &Message| match m {
        Message::System(s) | Message::User(s) => s.len(),
        Message::Assistant(a) => {
            a.content.len()
                + a.tool_calls
                    .iter()
                    .map(|c| c.arguments.len() + c.name.len())
                    .sum::<usize>()
        }
        Message::Tool(t) => t.content.len(),
    };
    messages.iter().map(message).sum::<usize>()
        + tools
            .iter()
            .map(|t| t.parameters.len() + t.description.len())
            .sum::<usize>()
}

impl wit::Host for View<'_, dyn ConversationBackend> {
    async fn enabled(&mut self) -> wasmtime::Result<bool> {
        Ok(self.backend.enabled())
    }

    #[instrument(skip_all, fields(component = %self.component, messages = messages.len(), tools = tools.len()))]
    async fn converse(&mut self, messages: Vec<Message>, tools: Vec<Tool>) -> CapResult<Reply> {
        if messages.is_empty() || messages.len() > MAX_MESSAGES {
            return Err(CapError::Invalid(format!(
                "1 to {MAX_MESSAGES} messages, not {}",
                messages.len()
            )));
        }
        if size(&messages, &tools) > MAX_BYTES {
            return Err(CapError::Invalid(format!(
                "a conversation request is limited to {MAX_BYTES} bytes"
            )));
        }
        for t in &tools {
            if serde_json::from_str::<serde_json::Value>(&t.parameters)
                .map_or(true, |v| !v.is_object())
            {
                return Err(CapError::Invalid(format!(
                    "tool {}: parameters must be a JSON Schema object",
                    t.name
                )));
            }
        }
        self.backend
            .converse(self.component, &messages, &tools)
            .await
    }
}
