//! What operators see and rely on: metrics, correlation ids and access
//! lines, and a graceful stop.

pub mod correlation;
pub mod metrics;
pub mod shutdown;
