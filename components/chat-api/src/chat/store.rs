//! Conversations in state, so any replica continues any conversation and
//! one survives a restart:
//! - `chat:<user>:conv:<id>` = the conversation: its messages (the last
//!   [`MAX_MESSAGES`]) and what the assistant remembers between turns;
//! - `chat:<user>:index` = the user's conversations, newest first (the
//!   last [`MAX_CONVERSATIONS`]); a conversation pushed out of it is
//!   deleted in the same transaction, so a user's conversations take
//!   bounded space however many are started.
//!
//! A turn is written with the conversation's ETag and, when the request
//! had one, its idempotency record, in one transaction.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_assistant::dialogue::Memory;
use todo_domain::{KeyValue, KvError, Op, Precondition};

pub const MAX_MESSAGES: usize = 500;
pub const MAX_CONVERSATIONS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub text: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub memory: Memory,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    conversations: Vec<Summary>,
}

fn conv_key(user: &str, id: &str) -> String {
    format!("chat:{user}:conv:{id}")
}

fn index_key(user: &str) -> String {
    format!("chat:{user}:index")
}

fn corrupt(what: &str, e: serde_json::Error) -> KvError {
    KvError::Invalid(format!("{what}: {e}"))
}

/// A conversation and the ETag it was read at.
pub fn load(
    kv: &impl KeyValue,
    user: &str,
    id: &str,
) -> Result<Option<(Conversation, String)>, KvError> {
    match kv.get(&conv_key(user, id))? {
        None => Ok(None),
        Some((bytes, etag)) => {
            let c = serde_json::from_slice(&bytes).map_err(|e| corrupt("conversation", e))?;
            Ok(Some((c, etag)))
        }
    }
}

pub fn list(kv: &impl KeyValue, user: &str) -> Result<Vec<Summary>, KvError> {
    Ok(read_index(kv, user)?.0.conversations)
}

fn read_index(kv: &impl KeyValue, user: &str) -> Result<(Index, Option<String>), KvError> {
    match kv.get(&index_key(user))? {
        None => Ok((Index::default(), None)),
        Some((bytes, etag)) => Ok((
            serde_json::from_slice(&bytes).map_err(|e| corrupt("conversation index", e))?,
            Some(etag),
        )),
    }
}

/// Writes `conv` (read at `etag`, `None` when new) with `extra` ops, and
/// puts it first in the index.
pub fn save(
    kv: &impl KeyValue,
    user: &str,
    conv: &mut Conversation,
    etag: Option<String>,
    extra: Vec<Op>,
) -> Result<(), KvError> {
    if conv.messages.len() > MAX_MESSAGES {
        let drop = conv.messages.len() - MAX_MESSAGES;
        conv.messages.drain(..drop);
    }
    let (mut index, index_etag) = read_index(kv, user)?;
    index.conversations.retain(|s| s.id != conv.id);
    index.conversations.insert(
        0,
        Summary {
            id: conv.id.clone(),
            title: conv.title.clone(),
            created_at: conv.created_at.clone(),
            updated_at: conv.updated_at.clone(),
        },
    );
    let evicted: Vec<Op> = index
        .conversations
        .split_off(MAX_CONVERSATIONS.min(index.conversations.len()))
        .into_iter()
        .map(|old| Op::delete(conv_key(user, &old.id), None))
        .collect();
    let mut ops = vec![
        Op::set(
            conv_key(user, &conv.id),
            serde_json::to_vec(conv).expect("conversations serialize"),
            Some(Precondition::unchanged(etag)),
        ),
        Op::set(
            index_key(user),
            serde_json::to_vec(&index).expect("indexes serialize"),
            Some(Precondition::unchanged(index_etag)),
        ),
    ];
    ops.extend(evicted);
    ops.extend(extra);
    kv.transact(ops, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::MemoryKv;

    fn conversation(id: &str) -> Conversation {
        Conversation {
            id: id.to_owned(),
            title: id.to_owned(),
            created_at: "2026-12-01T00:00:00Z".into(),
            updated_at: "2026-12-01T00:00:00Z".into(),
            messages: Vec::new(),
            memory: Memory::default(),
        }
    }

    #[test]
    fn conversations_past_the_limit_are_deleted_oldest_first() {
        let kv = MemoryKv::new();
        for i in 0..MAX_CONVERSATIONS + 3 {
            save(
                &kv,
                "u",
                &mut conversation(&format!("c{i}")),
                None,
                Vec::new(),
            )
            .unwrap();
        }
        let listed = list(&kv, "u").unwrap();
        assert_eq!(listed.len(), MAX_CONVERSATIONS);
        assert_eq!(listed[0].id, format!("c{}", MAX_CONVERSATIONS + 2));
        // The three oldest are gone from the store, not only the index.
        for i in 0..3 {
            assert!(load(&kv, "u", &format!("c{i}")).unwrap().is_none(), "c{i}");
        }
        assert!(load(&kv, "u", "c3").unwrap().is_some());
        assert_eq!(kv.keys_with_prefix("chat:u:conv:").len(), MAX_CONVERSATIONS);
    }

    #[test]
    fn a_conversation_keeps_its_last_messages() {
        let kv = MemoryKv::new();
        let mut conv = conversation("c");
        conv.messages = (0..MAX_MESSAGES + 5)
            .map(|i| Message {
                role: "user".into(),
                text: i.to_string(),
                at: "2026-12-01T00:00:00Z".into(),
                actions: Vec::new(),
                awaiting: None,
                options: Vec::new(),
            })
            .collect();
        save(&kv, "u", &mut conv, None, Vec::new()).unwrap();
        let (stored, _) = load(&kv, "u", "c").unwrap().unwrap();
        assert_eq!(stored.messages.len(), MAX_MESSAGES);
        assert_eq!(stored.messages[0].text, "5");
    }
}
