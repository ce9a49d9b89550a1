//! The inbound path: from a link's normalized message to the core's
//! `message.received`, without losing or reordering anything.
//!
//! In order, for every message a link hands over ([`InboundDelivery`]):
//!
//! 1. **Stored before the carrier hears back.** A part of a concatenated
//!    message goes to the `inbox_parts` tree; a whole message (or the part
//!    that completes one) goes to the `inbox` tree together with its
//!    `message.received` event, in one sled transaction. The link
//!    acknowledges the carrier only after the group commit that covers it.
//! 2. **Reassembled from what is on disk.** The protocol crate's
//!    [`Reassembler`] puts parts in order, drops duplicates and times out
//!    messages whose parts never all come; the parts it holds in memory are
//!    also in `inbox_parts`, so a restart between two parts reloads them.
//!    A message that times out is forwarded with what did arrive, marked
//!    `incomplete`.
//! 3. **Emitted through the core link**, signed, at least once, in order per
//!    conversation (customer and business number), from the event log,
//!    which holds it until the core answers 2xx.
//! 4. **Retired after that 2xx**: the inbox record is keyed by its event's
//!    sequence number, and the event log removes it with the event.
//!
//! A dead core holds back nothing here: storing and acknowledging do not
//! wait for the core link, and its per-conversation order lets every other
//! conversation's events through.
//!
//! A carrier resends a message whose acknowledgement it did not get: after
//! a crash between the fsync and the acknowledgement, that is a message we
//! already have. [`RetransmissionGuard`] recognises such copies of what the
//! previous process stored in its last minutes and acknowledges them
//! without a second event; the core still dedups by event id.
//!
//! The channel logic (keywords, consent, menus, sessions) plugs in between
//! reassembly and the event, in the same transaction: see `path.rs`
//! (`emit_with`) and `path/session_step.rs`. This task is also the one
//! writer of sessions: it drives their timers and opens the sessions the
//! API asks for (`path/session_opening.rs`).
//!
//! [`Reassembler`]: carrier_protocol::reassembly::Reassembler
//! [`InboundDelivery`]: crate::transport::InboundDelivery

mod guard;
mod path;
mod record;
mod text;

pub use guard::RetransmissionGuard;
pub use path::{
    InboundPath, InboundSettings, KeywordReplies, NumberInfo, OpeningAnswer, OpeningRefusal,
    OutboundOpening,
};
pub use record::{InboxRecord, StoredPart};
