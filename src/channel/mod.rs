//! The SMS channel's logic between an inbound message and its event: the
//! compliance keywords (STOP, START, HELP) and the opt-out registry they
//! change, consent, menus and queues, sessions with their timers, and
//! transcripts.
//!
//! Why here: a customer who replies STOP and keeps receiving messages is a
//! TCPA and 10DLC breach that gets business numbers blocked by carriers. So
//! the registry is durable (changed in the same transaction as the inbound
//! message that changes it), the API refuses to send to an opted-out
//! customer (`403 opted_out`), and a message already queued when the STOP
//! arrives is not sent (it ends `rejected`, `opted_out`).
//!
//! The same rule holds for everything else a message changes: the session
//! it opens or continues, the consent it triggers, the menu prompt it gets
//! and the queue it picks are decided by sans-IO code ([`session`],
//! [`turn`]) and written by the inbound path in the one sled transaction
//! that stores the message and its `message.received`, before the carrier
//! is acknowledged.

pub mod consent;
pub mod keywords;
pub mod optouts;
pub mod session;
pub mod session_retention;
pub mod session_trees;
pub mod transcript;
pub mod turn;
pub mod write;

pub use consent::{ConsentRecord, ConsentRegistry};
pub use keywords::{Keyword, LineKeywords, match_keyword};
pub use optouts::{OptOutRegistry, OptOutState};
pub use session::{EndReason, Session, SessionOrigin};
pub use session_trees::SessionTrees;
pub use transcript::{Author, Direction, TranscriptEntry};
pub use turn::{SystemKind, SystemText, TurnFacts, TurnPlan, plan_turn};
pub use write::{ChannelTx, ChannelWrite};
