//! What operators see and rely on: metrics, correlation ids and access
//! lines, the front door's connection limits, a graceful stop, and on-disk
//! files only the host's user reads.

pub mod correlation;
pub mod listener;
pub mod metrics;
pub mod metrics_route;
pub mod private_fs;
pub mod shutdown;
