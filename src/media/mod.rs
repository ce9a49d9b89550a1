//! Media of MMS: the store (content-addressed files under `state_dir`,
//! fsync'd before they are acknowledged), what kinds of files it accepts
//! (checked against their bytes), and the signed, expiring links through
//! which the core fetches them.
//!
//! Why the gateway keeps media itself: a customer's photo arrives inside
//! an MM7 post that must be acknowledged only once it is durable, and the
//! core needs a URL it can fetch later, with the bytes unchanged. Keeping
//! them here, with the same durability rules as messages, means an MMS is
//! never acknowledged and then lost.

pub mod fetch;
pub mod signed_url;
pub mod sniff;
pub mod store;

pub use signed_url::UrlKey;
pub use store::{MediaError, MediaInfo, MediaStore, MediaWriter};
