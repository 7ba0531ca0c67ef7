//! The built-in chat assistant: what a person types becomes calls of the
//! task tools, or a question back when the request is ambiguous or
//! incomplete. Offline and deterministic: the same words, clock and list
//! give the same answer.

pub mod dialogue;
pub mod draft;
pub mod intent;
pub mod labels;
pub mod leftover;
pub mod plan;
pub mod remind;
pub mod repeat;
pub mod resolve;
pub mod say;
pub mod when;
pub mod words;
