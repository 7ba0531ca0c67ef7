//! The two ways the host runs, assembled from the parts: which backends,
//! which triggers. Nothing else imports a mode.

pub mod publish;
pub mod serve;
pub mod up;
