//! What operators see and rely on: metrics, correlation ids and access
//! lines, a graceful stop, and on-disk files only the host's user reads.

pub mod correlation;
pub mod metrics;
pub mod private_fs;
pub mod shutdown;
