//! The SMS channel's logic between an inbound message and its event:
//! today the compliance keywords (STOP, START, HELP) and the opt-out
//! registry they change; consent, menus and sessions will join them here.
//!
//! Why first: a customer who replies STOP and keeps receiving messages is a
//! TCPA and 10DLC breach that gets business numbers blocked by carriers. So
//! the registry is durable (changed in the same transaction as the inbound
//! message that changes it), the API refuses to send to an opted-out
//! customer (`403 opted_out`), and a message already queued when the STOP
//! arrives is not sent (it ends `rejected`, `opted_out`).

pub mod keywords;
pub mod optouts;

pub use keywords::{Keyword, match_keyword};
pub use optouts::{OptOutRegistry, OptOutState};
