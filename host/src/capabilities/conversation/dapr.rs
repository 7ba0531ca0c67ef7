//! The model over Dapr's Conversation API (`/v1.0-alpha2/conversation/
//! <component>/converse`): messages and tools in its shape, the first
//! choice back. On when `TODO_DAPR_CONVERSATION` names a component.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use crate::capabilities::conversation::{
    ConversationBackend, Message, Reply, Tool, parameters, tool_calls,
};
use crate::capabilities::dapr_client::{DaprClient, segment};
use crate::capabilities::{CapError, CapResult};

pub struct DaprConversation {
    pub dapr: DaprClient,
    pub component: String,
}

fn text(s: &str) -> Value {
    json!([{"text": s}])
}

fn dapr_messages(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| match m {
            Message::System(s) => json!({"ofSystem": {"content": text(s)}}),
            Message::User(s) => json!({"ofUser": {"content": text(s)}}),
            Message::Assistant(a) => {
                let calls: Vec<Value> = a
                    .tool_calls
                    .iter()
                    .map(|c| json!({"id": c.id, "function": {"name": c.name, "arguments": c.arguments}}))
                    .collect();
                json!({"ofAssistant": {"content": text(&a.content), "toolCalls": calls}})
            }
            Message::Tool(t) => json!({"ofTool": {"toolId": t.call_id, "name": t.name, "content": text(&t.content)}}),
        })
        .collect()
}

fn dapr_tool(t: &Tool) -> Value {
    json!({"function": {"name": t.name, "description": t.description, "parameters": parameters(t)}})
}

#[async_trait]
impl ConversationBackend for DaprConversation {
    fn enabled(&self) -> bool {
        true
    }

    async fn converse(
        &self,
        _owner: &str,
        messages: &[Message],
        tools: &[Tool],
    ) -> CapResult<Reply> {
        let path = format!(
            "/v1.0-alpha2/conversation/{}/converse",
            segment(&self.component)
        );
        let mut body = json!({"inputs": [{"messages": dapr_messages(messages)}]});
        if !tools.is_empty() {
            body["tools"] = tools.iter().map(dapr_tool).collect();
        }
        let resp = self
            .dapr
            .send(
                self.dapr.request(Method::POST, &path).json(&body),
                "converse",
            )
            .await?;
        let v: Value = resp
            .json()
            .await
            .map_err(|e| CapError::Unavailable(format!("dapr converse: {e}")))?;
        let choice = &v["outputs"][0]["choices"][0];
        if choice.is_null() {
            return Err(CapError::Unavailable(
                "dapr converse: no choice in the answer".into(),
            ));
        }
        Ok(Reply {
            content: choice["message"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            tool_calls: tool_calls(&choice["message"]["toolCalls"]),
            finish_reason: choice["finishReason"].as_str().unwrap_or("stop").to_owned(),
        })
    }
}
