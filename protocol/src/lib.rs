//! `carrier-protocol`: everything carrier-gateway says on the wire, without any I/O.
//!
//! The crate is sans-IO on purpose (the quinn-proto / rustls model): codecs take
//! bytes and return values, state machines take PDUs and `Instant`s and return
//! PDUs to send, timers to arm and events. Nothing here owns a socket, a clock or
//! a task, so every behaviour — framing of hostile input, window accounting,
//! timeouts — is tested deterministically in microseconds, and the daemon's
//! transports stay thin drivers.
//!
//! - [`smpp`]: SMPP 3.4/5.0 PDUs, framing, TLVs, and the session state machine.
//! - [`text`]: GSM 03.38 (with national language shift tables), UCS-2, Latin-1.
//! - [`segment`]: UDH, splitting into segments.
//! - [`reassembly`]: putting concatenated parts back together.
//! - [`receipt`]: delivery receipt parsing and message-id correlation.
//! - [`mime`]: streaming MIME multipart parsing and writing (MM7 bodies).
//! - [`sip`]: SIP messages (RFC 3261) for SMS over SIP trunks (RFC 3428).
//! - `mm7` (feature `mm7`): the MM7 (TS 23.140) SOAP message codec.

pub mod hex;
pub mod mime;
#[cfg(feature = "mm7")]
pub mod mm7;
pub mod reassembly;
pub mod receipt;
pub mod segment;
pub mod sip;
pub mod smpp;
pub mod text;
