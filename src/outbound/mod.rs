//! The outbound path after the API: planning segments, and the dispatcher
//! that feeds carrier transports in conversation order, retries transient
//! failures, correlates receipts and persists every status change.

pub mod dispatcher;
mod lanes;
pub mod limits;
pub mod plan;
pub mod receipts;

pub use dispatcher::{Dispatcher, DispatcherHandle, DispatcherTask, StatusEvents};
