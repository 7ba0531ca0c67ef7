//! One folder per way a component is called. Each holds its trigger's
//! policy once (`mod.rs`) and its delivery per mode beside it: HTTP
//! requests, topic events (retry and dead letter), jobs (occurrence and
//! lateness), WebSocket sessions.

pub mod http;
pub mod job;
pub mod topic;
pub mod websocket;
