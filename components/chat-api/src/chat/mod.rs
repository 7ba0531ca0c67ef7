//! The chat API: `POST /api/chat` runs one turn of the built-in assistant
//! (its tool calls go through [`crate::tools`], like MCP's), and the
//! conversations are kept in state.

pub mod model;
mod store;

use chrono::Utc;
use serde_json::{Map, Value, json};
use todo_assistant::dialogue::{self, Turn, World};
use todo_assistant::when::Clock;
use todo_domain::event::now_rfc3339;
use todo_domain::{ApiError, KeyValue, KvError, Request, Response};
use uuid::Uuid;

use crate::idempotency::Idempotency;
use crate::tasks::{Caller, store_error};
use crate::tools;
use model::LanguageModel;

pub use store::{Conversation, Message};

/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

pub fn route(
    kv: &impl KeyValue,
    model: &impl LanguageModel,
    req: &Request,
    caller: &Caller,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (rest, req.method.as_str()) {
        ([], "POST") => post(kv, model, req, caller),
        ([], m) => Err(ApiError::method_not_allowed(m, &["POST"])),
        (["conversations"], "GET") => {
            let list = store::list(kv, caller.user_id()).map_err(ApiError::from)?;
            Ok(Response::json(200, &json!({ "conversations": list })))
        }
        (["conversations", id], "GET") => {
            match store::load(kv, caller.user_id(), id).map_err(ApiError::from)? {
                Some((c, _)) => Ok(Response::json(200, &view(&c))),
                None => Err(ApiError::not_found(format!("no conversation with id {id}"))),
            }
        }
        (["conversations"] | ["conversations", _], m) => {
            Err(ApiError::method_not_allowed(m, &["GET"]))
        }
        _ => Err(ApiError::not_found(format!("no route for {}", req.path))),
    }
}

fn view(c: &Conversation) -> Value {
    let last = c.messages.iter().rev().find(|m| m.role == "assistant");
    json!({
        "id": c.id,
        "title": c.title,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "messages": c.messages,
        "awaiting": last.and_then(|m| m.awaiting.clone()),
        "options": last.map(|m| m.options.clone()).unwrap_or_default(),
    })
}

/// `{conversation_id?, message}`, checked.
fn parse(body: &[u8]) -> Result<(Option<String>, String), ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::invalid_json(&e))?;
    let Value::Object(mut fields) = value else {
        return Err(ApiError::validation(
            "body",
            "must be an object {\"message\": \"...\"}",
        ));
    };
    let message = match fields.remove("message") {
        Some(Value::String(m)) if m.trim().is_empty() => {
            return Err(ApiError::validation("message", "must not be empty"));
        }
        Some(Value::String(m)) if m.chars().count() > MAX_MESSAGE_CHARS => {
            return Err(ApiError::validation(
                "message",
                format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        Some(Value::String(m)) => m,
        Some(_) => return Err(ApiError::validation("message", "must be a string")),
        None => return Err(ApiError::validation("message", "is required")),
    };
    let conversation = match fields.remove("conversation_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 64 => Some(id),
        Some(_) => {
            return Err(ApiError::validation(
                "conversation_id",
                "must be a conversation id",
            ));
        }
    };
    if let Some(extra) = fields.keys().next() {
        return Err(ApiError::validation(
            extra,
            format!("unknown field `{extra}`"),
        ));
    }
    Ok((conversation, message))
}

fn post(
    kv: &impl KeyValue,
    model: &impl LanguageModel,
    req: &Request,
    caller: &Caller,
) -> Result<Response, ApiError> {
    let idem = Idempotency::of(req, caller.user_id())?;
    if let Some(idem) = &idem
        && let Some(first) = idem.replay(kv).map_err(ApiError::from)?
    {
        return first;
    }
    let (conversation_id, message) = parse(&req.body)?;
    let user = caller.user_id();
    let now = now_rfc3339();
    let (mut conv, etag) = match &conversation_id {
        Some(id) => match store::load(kv, user, id).map_err(ApiError::from)? {
            Some((c, etag)) => (c, Some(etag)),
            None => return Err(ApiError::not_found(format!("no conversation with id {id}"))),
        },
        None => (
            Conversation {
                id: Uuid::now_v7().to_string(),
                title: message.trim().chars().take(60).collect(),
                created_at: now.clone(),
                updated_at: now,
                messages: Vec::new(),
                memory: Default::default(),
            },
            None,
        ),
    };
    let tz = todo_model::due::parse_time_zone(&caller.time_zone).unwrap_or(chrono_tz::UTC);
    let clock = Clock::new(Utc::now(), tz);
    // The model when one is configured; the built-in assistant otherwise,
    // or when the model cannot be reached (and the reply says so).
    let from_model = model.enabled().then(|| {
        let local = clock
            .now
            .with_timezone(&tz)
            .format("%A %Y-%m-%d %H:%M")
            .to_string();
        model::answer(
            model,
            kv,
            caller,
            &conv.messages,
            &message,
            &local,
            idem.as_ref(),
        )
    });
    let said = match from_model {
        Some(Ok(out)) => Said {
            message,
            reply: out.reply,
            actions: out.actions,
            awaiting: None,
            options: Vec::new(),
        },
        other => {
            let notice = match other {
                Some(Err(e)) => format!(
                    "(The language model could not be reached ({e}), so the built-in assistant answered.) "
                ),
                _ => String::new(),
            };
            built_in(
                kv,
                caller,
                &mut conv,
                message,
                clock,
                idem.as_ref(),
                &notice,
            )?
        }
    };
    finish(
        kv,
        user,
        conv,
        etag,
        idem.as_ref(),
        said,
        conversation_id.is_some(),
    )
}

/// One turn of the built-in assistant; its memory goes into `conv`.
fn built_in(
    kv: &impl KeyValue,
    caller: &Caller,
    conv: &mut Conversation,
    message: String,
    clock: Clock,
    idem: Option<&Idempotency>,
    notice: &str,
) -> Result<Said, ApiError> {
    let tasks = crate::store::all(kv, caller.user_id()).map_err(store_error)?;
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|t| serde_json::to_value(t).expect("tasks serialize"))
        .collect();
    let world = World {
        clock,
        tasks: &tasks,
    };
    let turn = dialogue::respond(&message, &conv.memory, &world);
    let (actions, results) = run(kv, caller, &turn, idem);
    let (reply, memory) = dialogue::conclude(&turn, &results);
    conv.memory = memory;
    Ok(Said {
        message,
        reply: format!("{notice}{reply}"),
        actions,
        awaiting: turn.awaiting.map(|a| a.as_str().to_owned()),
        options: turn.options,
    })
}

/// One exchange: the user's message and the answer.
struct Said {
    message: String,
    reply: String,
    actions: Vec<Value>,
    awaiting: Option<String>,
    options: Vec<Value>,
}

/// Records the exchange in the conversation (with the idempotency
/// record, if any) and answers.
fn finish(
    kv: &impl KeyValue,
    user: &str,
    mut conv: Conversation,
    etag: Option<String>,
    idem: Option<&Idempotency>,
    said: Said,
    existing: bool,
) -> Result<Response, ApiError> {
    let now = now_rfc3339();
    conv.updated_at = now.clone();
    conv.messages.push(Message {
        role: "user".into(),
        text: said.message,
        at: now.clone(),
        actions: Vec::new(),
        awaiting: None,
        options: Vec::new(),
    });
    let body = json!({
        "conversation_id": conv.id,
        "reply": said.reply,
        "actions": said.actions,
        "awaiting": said.awaiting,
        "options": said.options,
    });
    conv.messages.push(Message {
        role: "assistant".into(),
        text: said.reply,
        at: now,
        actions: said.actions,
        awaiting: said.awaiting,
        options: said.options,
    });
    let response = Response::json(if existing { 200 } else { 201 }, &body);
    let extra = idem.iter().map(|i| i.remember(&response)).collect();
    match store::save(kv, user, &mut conv, etag, extra) {
        Ok(()) => Ok(response),
        // Another message of this conversation was answered meanwhile:
        // both acted; the client reloads rather than lose either.
        Err(KvError::Conflict(_)) => Err(ApiError::conflict(
            "this conversation received another message at the same time; reload it",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Runs the turn's calls: the actions as the response shows them, and the
/// results for the assistant's wording.
fn run(
    kv: &impl KeyValue,
    caller: &Caller,
    turn: &Turn,
    idem: Option<&Idempotency>,
) -> (Vec<Value>, Vec<Result<Value, String>>) {
    let mut actions = Vec::new();
    let mut results = Vec::new();
    for (n, call) in turn.calls.iter().enumerate() {
        let step = idem.map(|i| i.derived(&format!("call-{n}")));
        let outcome = tools::call_as(kv, caller, &call.tool, &call.arguments, step.as_ref());
        let (result, said) = match outcome {
            Ok(v) => (v.clone(), Ok(v)),
            Err(e) => (e.to_json(), Err(e.message())),
        };
        let mut action = Map::new();
        action.insert("tool".into(), json!(call.tool));
        action.insert("arguments".into(), call.arguments.clone());
        action.insert("result".into(), result);
        actions.push(Value::Object(action));
        results.push(said);
    }
    (actions, results)
}

#[cfg(test)]
mod tests;
