//! The event model of the `todo:platform` world, one crate that both sides
//! use: the components build and read events with it, the host validates,
//! stores and delivers them with it (the arrow is component -> platform <-
//! host; the host imports no component code).
//!
//! - [`CloudEvent`]: CloudEvents 1.0, mirroring the WIT `cloud-event`
//!   record field for field, with validation, a builder and the JSON
//!   structured mode;
//! - [`correlation`]: the id that follows one change through every
//!   service's logs.

pub mod correlation;
pub mod event;
mod event_json;

pub use event::{CloudEvent, EventBuilder, EventError, EventOrigin};
