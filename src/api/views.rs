//! The JSON bodies the API answers with, as types: each handler serializes
//! one of these, and the OpenAPI description (`openapi`) is derived from
//! the same types, so the document and the wire cannot disagree.
//!
//! Each view is built from the domain record it shows (`From`), which keeps
//! the records free of API concerns (RFC 3339 times, labels).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::channel::{Session, TranscriptEntry};
use crate::services::Call;
use crate::store::outbox::{MessageRecord, rfc3339};

/// `202` of a send (and a batch item that was accepted).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Accepted {
    /// `msg_…`.
    #[schema(example = "msg_0000000000000001")]
    pub id: String,
    /// `queued` (or the current status, for a repeated `client_ref`).
    #[schema(example = "queued")]
    pub status: String,
    /// Parts it is sent in.
    pub segments: usize,
    /// `gsm7`, `ucs2`, `latin1`.
    #[schema(example = "gsm7")]
    pub encoding: String,
}

impl From<&MessageRecord> for Accepted {
    fn from(record: &MessageRecord) -> Accepted {
        Accepted {
            id: record.id.clone(),
            status: record.status.as_str().to_owned(),
            segments: record.segments.len(),
            encoding: record.encoding.clone(),
        }
    }
}

/// One result of a batch, in the order of the input.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    /// Accepted.
    Accepted(Accepted),
    /// Refused, with the error a single send would have had.
    Refused(super::error::ErrorBody),
}

/// `200` of a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResults {
    /// One per input message, same order.
    pub results: Vec<BatchItem>,
}

/// Why a message failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageError {
    /// e.g. `carrier_rejected`, `expired`, `opted_out`.
    pub code: String,
    /// A human sentence.
    pub message: String,
}

/// `GET /v1/messages/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    /// `msg_…`.
    pub id: String,
    /// The business number.
    pub from: String,
    /// The customer.
    pub to: String,
    /// `queued` `sending` `submitted` `delivered` `failed` `expired` `rejected`.
    #[schema(example = "delivered")]
    pub status: String,
    /// Parts.
    pub segments: usize,
    /// `gsm7`, `ucs2`, `latin1`.
    pub encoding: String,
    /// Submissions to a carrier.
    pub attempts: u32,
    /// The carrier it goes through.
    pub carrier: String,
    /// The carrier's ids, in part order.
    pub carrier_message_ids: Vec<String>,
    /// Why it failed.
    pub error: Option<MessageError>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Its service (`system` for the channel's own replies).
    #[schema(example = "session_less")]
    pub service: String,
    /// The IVR call it was sent for.
    pub call_id: Option<String>,
    /// The language its template was rendered in, or the request's.
    pub language: Option<String>,
    /// Its media ids.
    pub media: Vec<String>,
    /// `sms_link` when its media went as links in an SMS (no MMS).
    pub fallback: Option<String>,
}

impl From<&MessageRecord> for MessageView {
    fn from(record: &MessageRecord) -> MessageView {
        MessageView {
            id: record.id.clone(),
            from: record.from.clone(),
            to: record.to.clone(),
            status: record.status.as_str().to_owned(),
            segments: record.segments.len(),
            encoding: record.encoding.clone(),
            attempts: record.attempts,
            carrier: record.carrier.clone(),
            carrier_message_ids: record.carrier_message_ids(),
            error: record.error.as_ref().map(|e| MessageError {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
            created_at: rfc3339(record.created_at),
            updated_at: rfc3339(record.updated_at),
            service: record.service_label().to_owned(),
            call_id: record.call_id.clone(),
            language: record.language.clone(),
            media: record.media.clone(),
            fallback: record.fallback.clone(),
        }
    }
}

/// `GET /v1/sessions/{id}` (DESIGN §4.6).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// `ses_…`.
    pub id: String,
    /// The customer.
    pub customer: String,
    /// The business number.
    pub number: String,
    /// The number's line.
    pub line: String,
    /// The queue, once chosen.
    pub queue: Option<String>,
    /// The language of its system messages.
    pub language: String,
    /// `open` or `ended`.
    #[schema(example = "open")]
    pub state: String,
    /// `inbound`, `outbound` or `deflection`.
    #[schema(example = "inbound")]
    pub origin: String,
    /// The IVR call it belongs to.
    pub call_id: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, once ended.
    pub ended_at: Option<String>,
    /// `idle_timeout`, `expired` or `closed`, once ended.
    pub end_reason: Option<String>,
}

impl From<&Session> for SessionView {
    fn from(session: &Session) -> SessionView {
        SessionView {
            id: session.id.clone(),
            customer: session.customer.clone(),
            number: session.number.clone(),
            line: session.line.clone(),
            queue: session.queue.clone(),
            language: session.language.clone(),
            state: if session.is_open() { "open" } else { "ended" }.to_owned(),
            origin: session.origin.as_str().to_owned(),
            call_id: session.call_id.clone(),
            started_at: rfc3339(session.started_at),
            ended_at: session.ended_at.map(rfc3339),
            end_reason: session.end_reason.map(|r| r.as_str().to_owned()),
        }
    }
}

/// One message of a transcript.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TranscriptItem {
    /// `in` or `out`.
    #[schema(example = "in")]
    pub direction: String,
    /// `customer`, `agent` or `system`.
    #[schema(example = "customer")]
    pub author: String,
    /// For system entries: `consent`, `menu_prompt`, `queue_choice`,
    /// `timeout`, `expiry`, `stop`, `start`, `help`.
    pub kind: Option<String>,
    /// The text.
    pub text: Option<String>,
    /// Its media, as `{"id": "med_…"}` (fetch them with `GET /v1/media/{id}`).
    pub media: Vec<Value>,
    /// The inbound or outbound message's id.
    pub message_id: Option<String>,
    /// RFC 3339.
    pub at: String,
}

impl From<&TranscriptEntry> for TranscriptItem {
    fn from(entry: &TranscriptEntry) -> TranscriptItem {
        TranscriptItem {
            direction: entry.direction.as_str().to_owned(),
            author: entry.author.as_str().to_owned(),
            kind: entry.kind.clone(),
            text: entry.text.clone(),
            media: entry
                .media
                .iter()
                .map(|id| serde_json::json!({ "id": id }))
                .collect(),
            message_id: entry.message_id.clone(),
            at: rfc3339(entry.at),
        }
    }
}

/// `GET /v1/sessions/{id}/transcript`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TranscriptView {
    /// The session.
    pub session_id: String,
    /// Its messages in order.
    pub messages: Vec<TranscriptItem>,
}

/// `GET`, `PUT /v1/calls/{call_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallView {
    /// The contact center's id of the call.
    pub call_id: String,
    /// The caller.
    pub customer: String,
    /// The business number.
    pub number: String,
    /// RFC 3339.
    pub registered_at: String,
    /// RFC 3339: forgotten then if never ended.
    pub expires_at: String,
}

impl From<&Call> for CallView {
    fn from(call: &Call) -> CallView {
        CallView {
            call_id: call.call_id.clone(),
            customer: call.customer.clone(),
            number: call.number.clone(),
            registered_at: rfc3339(call.registered_at),
            expires_at: rfc3339(call.expires_at),
        }
    }
}

/// `GET /v1/opt-outs/{customer}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptOutView {
    /// Opted out of the number (`from`), or of any without it.
    pub opted_out: bool,
}

/// `GET /v1/events/dead`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadLetterList {
    /// All dead letters.
    pub count: u64,
    /// The first 1,000.
    #[schema(value_type = Vec<Object>)]
    pub dead_letters: Vec<crate::core_link::DeadLetter>,
}

/// `202` of `POST /v1/events/dead/{id}/requeue`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Requeued {
    /// The event.
    pub id: String,
    /// Always `true`.
    pub requeued: bool,
}

/// A carrier in `GET /v1/status`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CarrierStatus {
    /// Its name.
    pub name: String,
    /// `smpp`.
    pub protocol: String,
    /// Connections up.
    pub links_up: usize,
    /// Connections configured.
    pub links: usize,
    /// Requests awaiting a response.
    pub window_in_use: usize,
    /// The adaptive send-rate limit, msg/s (`null`: unpaced).
    pub rate: Option<f64>,
}

/// A business number in `GET /v1/status`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NumberStatus {
    /// The number.
    pub number: String,
    /// Its carrier.
    pub carrier: String,
    /// Messages queued or sending.
    pub queued: u64,
    /// The kind of limit holding it back, if any.
    pub held_by: Option<String>,
    /// Which limit (`number:+1…`, `campaign:C1`, `brand:B1`).
    pub held_by_limit: Option<String>,
    /// Segments sent in the last minute.
    pub sent_last_minute: u64,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusView {
    /// The gateway's version.
    pub version: String,
    /// Seconds since start.
    pub uptime_s: u64,
    /// Carriers.
    pub carriers: Vec<CarrierStatus>,
    /// Business numbers.
    pub numbers: Vec<NumberStatus>,
    /// Messages accepted and not final.
    pub outbox_depth: u64,
    /// Inbound messages the core has not acknowledged.
    pub inbox_depth: u64,
    /// Events waiting for the core.
    pub webhook_backlog: u64,
    /// Events parked as dead letters.
    pub dead_letters: u64,
}
