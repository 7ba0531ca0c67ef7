//! The in-process model: any OpenAI-compatible chat-completions endpoint,
//! `TODO_LLM_URL` (the API base, e.g. `https://api.openai.com/v1`) and
//! `TODO_LLM_MODEL`, with the key (if the endpoint wants one) read from
//! the `llm-api-key` secret on each call. Off when no URL is set.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::capabilities::conversation::{
    ConversationBackend, Message, Reply, Tool, parameters, tool_calls,
};
use crate::capabilities::secrets::SecretsBackend;
use crate::capabilities::{CapError, CapResult};

pub const KEY_SECRET: &str = "llm-api-key";

pub struct OpenAiModel {
    pub url: String,
    pub model: String,
    pub secrets: Arc<dyn SecretsBackend>,
    pub http: reqwest::Client,
}

impl OpenAiModel {
    /// The model behind `endpoint`, its key read through `secrets` per call.
    pub fn new(
        endpoint: &crate::config::LlmEndpoint,
        secrets: Arc<dyn SecretsBackend>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(OpenAiModel {
            url: endpoint.url.clone(),
            model: endpoint.model.clone(),
            secrets,
            http,
        })
    }
}

/// The messages in the chat-completions shape.
pub fn openai_messages(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| match m {
            Message::System(s) => json!({"role": "system", "content": s}),
            Message::User(s) => json!({"role": "user", "content": s}),
            Message::Assistant(a) => {
                let mut v = json!({"role": "assistant", "content": a.content});
                if !a.tool_calls.is_empty() {
                    v["tool_calls"] = a
                        .tool_calls
                        .iter()
                        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                        .collect();
                }
                v
            }
            Message::Tool(t) => json!({"role": "tool", "tool_call_id": t.call_id, "name": t.name, "content": t.content}),
        })
        .collect()
}

fn tool_schema(t: &Tool) -> Value {
    json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": parameters(t)}})
}

#[async_trait]
impl ConversationBackend for OpenAiModel {
    fn enabled(&self) -> bool {
        true
    }

    async fn converse(
        &self,
        owner: &str,
        messages: &[Message],
        tools: &[Tool],
    ) -> CapResult<Reply> {
        let mut body = json!({"model": self.model, "messages": openai_messages(messages)});
        if !tools.is_empty() {
            body["tools"] = tools.iter().map(tool_schema).collect();
        }
        let mut req = self
            .http
            .post(format!("{}/chat/completions", self.url))
            .json(&body);
        match self.secrets.get(owner, KEY_SECRET).await {
            Ok(key) => req = req.bearer_auth(key),
            Err(CapError::NotFound) => {}
            Err(e) => return Err(e),
        }
        let unavailable = |e: String| CapError::Unavailable(format!("language model: {e}"));
        let resp = req
            .send()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| unavailable(e.to_string()))?;
        if !status.is_success() {
            return Err(unavailable(format!(
                "{status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| unavailable(format!("not JSON: {e}")))?;
        let choice = &v["choices"][0];
        if choice.is_null() {
            return Err(unavailable("the answer has no choices".into()));
        }
        Ok(Reply {
            content: choice["message"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            tool_calls: tool_calls(&choice["message"]["tool_calls"]),
            finish_reason: choice["finish_reason"]
                .as_str()
                .unwrap_or("stop")
                .to_owned(),
        })
    }
}
