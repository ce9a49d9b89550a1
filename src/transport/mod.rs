//! Carrier links: the drivers that move outbound work to carriers and bring
//! back what carriers say — responses, delivery reports, inbound messages —
//! in one vocabulary that does not depend on the protocol.
//!
//! The contract (see `docs/architecture.md`, "The link contract"):
//!
//! - **Out**, the dispatcher pushes [`LinkWork`] into a carrier's work queue,
//!   shared by all of the carrier's connections, so an idle connection takes
//!   the next unit. A unit is one part of one message: for SMS the encoded
//!   user data of one segment, its encoding and its concatenation data
//!   ([`SmsPart`]); MMS adds a variant of [`WorkContent`].
//! - **Back**, a link reports [`LinkEvent`]s to the dispatcher: accepted
//!   (with the carrier's id), failed (with a [`LinkStatus`] whose class says
//!   whether to retry), a delivery report, and its own state. No link ever
//!   drops work: what a dead connection had in flight comes back as a
//!   transient failure.
//! - **Inbound** messages go to the inbound path, not the dispatcher, as
//!   [`InboundDelivery`]: a normalized [`InboundSms`] (E.164 addresses, user
//!   data and its encoding, concatenation data, receive time) and an ack
//!   channel the link waits on before it acknowledges the carrier.
//!
//! Each protocol is one module beside the others (`smpp`, `mm7`, `sip`);
//! everything protocol-specific (PDUs, SOAP, addressing, error tables)
//! stays inside it.

pub mod gauges;
pub mod mm7;
pub mod sip;
pub mod smpp;

use std::sync::Arc;

use bytes::Bytes;
use carrier_protocol::receipt::Receipt;
use carrier_protocol::segment::Segment;
use carrier_protocol::text::choose::Concatenation;
use carrier_protocol::text::{Encoding, NationalLanguage};
use tokio::sync::oneshot;

/// One unit of outbound work: one part of one message.
#[derive(Debug)]
pub struct LinkWork {
    /// The outbox message.
    pub message_id: Arc<str>,
    /// The part's index, 0-based.
    pub part: u16,
    /// What to send.
    pub content: WorkContent,
}

/// What a unit of work carries, by kind of message.
#[derive(Debug)]
pub enum WorkContent {
    /// One SMS segment.
    Sms(SmsPart),
    /// A whole MMS (one part: an MMS is not split).
    Mms(MmsPart),
    /// Text as text (SIP MESSAGE): a message, or one of the parts it was
    /// cut into for a transport that limits its size.
    Text(TextPart),
}

/// A message's text, or a part of it, for a link that carries text as
/// such rather than SMS user data.
#[derive(Debug)]
pub struct TextPart {
    /// The business number (`+E.164` or a short code).
    pub from: Arc<str>,
    /// The customer (`+E.164`).
    pub to: Arc<str>,
    /// The text (of this part).
    pub text: Arc<str>,
}

/// An MMS: its text and its media, by reference to the media store (the
/// link reads the bytes when it sends, so the dispatcher holds none).
#[derive(Debug)]
pub struct MmsPart {
    /// The business number (`+E.164` or a short code).
    pub from: Arc<str>,
    /// The customer (`+E.164`).
    pub to: Arc<str>,
    /// The text, sent as a `text/plain; charset=utf-8` part when not empty.
    pub text: Arc<str>,
    /// The media store's ids (`med_…`), in order.
    pub media: Arc<[String]>,
    /// Whether a delivery report is asked for.
    pub receipts: bool,
}

/// One SMS segment, encoded and split, with the data every SMS protocol
/// needs to carry it.
#[derive(Debug)]
pub struct SmsPart {
    /// The business number (`+E.164` or a short code).
    pub from: Arc<str>,
    /// The customer (`+E.164`).
    pub to: Arc<str>,
    /// The encoding of the text units.
    pub encoding: Encoding,
    /// The data coding scheme octet (TS 23.038) for the encoding.
    pub data_coding: u8,
    /// How the message's parts are tied together.
    pub concatenation: Concatenation,
    /// The user data (UDH first when `segment.udhi`), and SAR values.
    pub segment: Segment,
    /// Whether a delivery report is asked for.
    pub receipts: bool,
}

/// How a carrier's answer should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// Try again later (with backoff), until the message's validity ends.
    Transient,
    /// The carrier is pacing us: try again later, and slow down.
    Throttled,
    /// Never going to work: the message fails.
    Permanent,
}

/// A carrier's answer that is not an acceptance, or a link failure, in
/// protocol-neutral terms, keeping the protocol's own code for logs and for
/// the `error` of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    /// Retry, slow down, or give up.
    pub class: StatusClass,
    /// The protocol's raw code, if the carrier gave one (an SMPP
    /// `command_status`, an MM7 status code, a SIP status).
    pub raw: Option<u32>,
    /// A human sentence naming the code, e.g. `ESME_RTHROTTLED (0x00000058):
    /// Throttling error`, or `no response within 10s`.
    pub message: String,
    /// The `reason` label of the retry metric: `throttled`, `queue_full`,
    /// `transient_status`, `timeout`, `disconnected` (or `permanent`).
    pub reason: &'static str,
}

impl LinkStatus {
    /// No response came in time.
    pub fn timeout() -> LinkStatus {
        LinkStatus {
            class: StatusClass::Transient,
            raw: None,
            message: "no response from the carrier in time".into(),
            reason: "timeout",
        }
    }

    /// The connection ended before the response.
    pub fn disconnected() -> LinkStatus {
        LinkStatus {
            class: StatusClass::Transient,
            raw: None,
            message: "the connection ended before the carrier answered".into(),
            reason: "disconnected",
        }
    }

    /// Whether the work should be tried again.
    pub fn is_retryable(&self) -> bool {
        self.class != StatusClass::Permanent
    }
}

/// What a link reports to the dispatcher.
#[derive(Debug)]
pub enum LinkEvent {
    /// The carrier accepted a part.
    Accepted {
        /// The message.
        message_id: Arc<str>,
        /// The part.
        part: u16,
        /// The carrier's id for it (what its delivery reports refer to).
        carrier_id: String,
    },
    /// The carrier did not accept a part (or the link could not ask).
    Failed {
        /// The message.
        message_id: Arc<str>,
        /// The part.
        part: u16,
        /// Why, and whether to retry.
        status: LinkStatus,
    },
    /// A delivery report. The link acknowledges it to the carrier once `ack`
    /// is answered, which the dispatcher does after the resulting state is
    /// on disk.
    Report {
        /// The carrier it came from.
        carrier: Arc<str>,
        /// The parsed report.
        receipt: Receipt<'static>,
        /// Answer when durable.
        ack: oneshot::Sender<()>,
    },
    /// A connection of a carrier went up or down.
    State {
        /// The carrier.
        carrier: Arc<str>,
        /// Up or down.
        up: bool,
    },
}

/// Concatenation data of one part of an inbound SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundConcat {
    /// The sender's reference (8-bit references widened).
    pub reference: u16,
    /// Parts in the whole message, 1..=255.
    pub total: u8,
    /// This part's 1-based number.
    pub seq: u8,
}

/// One inbound message (or one part of a concatenated SMS), normalized by
/// its link. An MMS is one message whose text is given as UCS-2 (which
/// carries any character) and whose media are already in the media store,
/// fsync'd, when it is handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The customer, `+E.164` (or the digits as received when they are not
    /// a number).
    pub from: String,
    /// The business number, `+E.164` or a short code.
    pub to: String,
    /// How `user_data` is encoded: GSM 7-bit as unpacked septets, UCS-2 as
    /// UTF-16BE, Latin-1, or binary.
    pub encoding: Encoding,
    /// The GSM national language tables announced (locking, single shift).
    pub national: (Option<NationalLanguage>, Option<NationalLanguage>),
    /// The user data without its header.
    pub user_data: Bytes,
    /// Set when the message is one part of several.
    pub concat: Option<InboundConcat>,
    /// Ids the carrier gave the message, if any.
    pub carrier_ids: Vec<String>,
    /// When the link received it, Unix milliseconds.
    pub received_at: u64,
    /// An MMS's media, stored (empty for SMS).
    pub media: Vec<crate::media::MediaInfo>,
}

/// An inbound message handed to the inbound path, with the channel that
/// lets the link acknowledge it to the carrier once it is durable (dropped
/// unanswered: the link refuses it with a temporary error, so the carrier
/// sends it again).
#[derive(Debug)]
pub struct InboundDelivery {
    /// The carrier it came from.
    pub carrier: Arc<str>,
    /// The message.
    pub sms: InboundSms,
    /// Answer when durable.
    pub ack: oneshot::Sender<()>,
}

/// Where a link sends what it hears.
#[derive(Clone, Debug)]
pub struct LinkOutputs {
    /// Responses, reports and link state, to the dispatcher.
    pub events: tokio::sync::mpsc::Sender<LinkEvent>,
    /// Inbound messages, to the inbound path.
    pub inbound: tokio::sync::mpsc::Sender<InboundDelivery>,
}
