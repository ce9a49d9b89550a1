//! Outbox records: one per accepted outbound message, from `queued` to a
//! final status, kept after that so `GET /v1/messages/{id}` can answer.
//!
//! Records are JSON (self-describing, so fields can be added without a
//! migration) keyed by the message id, whose numeric part increases in
//! acceptance order: replaying the tree in key order replays the outbox in
//! the order messages were accepted, which is what conversation order needs.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

pub use crate::message_status::MessageStatus;

/// Why a message failed: a snake_case code and a human sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// e.g. `carrier_rejected`, `expired`.
    pub code: String,
    /// e.g. "ESME_RINVDSTADR (0x0000000b): Invalid destination address".
    pub message: String,
}

/// Per-segment carrier state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentState {
    /// The carrier's message id from submit_sm_resp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_id: Option<String>,
    /// A final receipt arrived for this segment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
    /// Its receipt cannot be matched: the carrier gave no usable id, or
    /// gave the same id to another segment still waiting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_receipt: bool,
}

/// One outbound message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    /// `msg_` + 16 hex digits.
    pub id: String,
    /// Sender, E.164 or short code.
    pub from: String,
    /// Recipient, E.164.
    pub to: String,
    /// The text as accepted.
    pub text: String,
    /// `gsm7`, `ucs2`, `latin1`.
    pub encoding: String,
    /// The carrier (SMS route) of the sender.
    pub carrier: String,
    /// The concatenation reference shared by the segments.
    pub reference: u16,
    /// Where it stands.
    pub status: MessageStatus,
    /// Submissions to a carrier (not API calls).
    pub attempts: u32,
    /// One entry per segment.
    pub segments: Vec<SegmentState>,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Unix milliseconds.
    pub created_at: u64,
    /// Unix milliseconds.
    pub updated_at: u64,
    /// Unix milliseconds after which it is `expired` rather than sent.
    pub expires_at: u64,
    /// The API client's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ref: Option<String>,
    /// Whether a delivery receipt is requested.
    pub receipts: bool,
    /// `submitted`, and its receipts did not come within its validity (and
    /// the grace after it): no longer waited for, nor replayed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub receipt_timed_out: bool,
    /// A system reply of the channel (`stop`, `start`, `help`), not a
    /// message from the core: the STOP confirmation and HELP replies go to
    /// opted-out customers too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The service it was sent with (`services::matrix`); `None` for the
    /// channel's own replies (see `system`) and for records written before
    /// services were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<crate::config::ServiceKind>,
    /// The IVR call it was sent for (call-bound services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// The language its template was rendered in, or the one the request
    /// gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Its media (`med_…` ids of the media store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
    /// How it goes instead of as asked: `sms_link` (its media as links in
    /// an SMS: its number has no MMS carrier, or the MMSC refused it for
    /// good).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl MessageRecord {
    /// Whether it goes as an MMS: it has media and no fallback to SMS.
    pub fn is_mms(&self) -> bool {
        !self.media.is_empty() && self.fallback.is_none()
    }

    /// A newly accepted message: `queued`, planned as `encoding` in
    /// `segments` parts, valid for `validity_ms` from now. `n` is the
    /// store's fresh id.
    #[allow(clippy::too_many_arguments)]
    pub fn queued(
        n: u64,
        from: String,
        to: String,
        text: String,
        encoding: &str,
        segments: usize,
        carrier: String,
        validity_ms: u64,
    ) -> MessageRecord {
        let now = now_ms();
        MessageRecord {
            id: message_id(n),
            from,
            to,
            text,
            encoding: encoding.to_owned(),
            carrier,
            // The concatenation reference: fixed by the id, so a restart
            // rebuilds the same parts.
            reference: n as u16,
            status: MessageStatus::Queued,
            attempts: 0,
            segments: vec![SegmentState::default(); segments],
            error: None,
            created_at: now,
            updated_at: now,
            expires_at: now + validity_ms,
            client_ref: None,
            receipts: true,
            receipt_timed_out: false,
            system: None,
            service: None,
            call_id: None,
            language: None,
            media: Vec::new(),
            fallback: None,
        }
    }

    /// The carrier ids known so far, in segment order.
    pub fn carrier_message_ids(&self) -> Vec<String> {
        self.segments
            .iter()
            .filter_map(|s| s.carrier_id.clone())
            .collect()
    }

    /// The service for metrics and the API: the recorded one, `system` for
    /// the channel's own replies, `session_less` for older records.
    pub fn service_label(&self) -> &'static str {
        match (self.service, &self.system) {
            (Some(kind), _) => kind.as_str(),
            (None, Some(_)) => "system",
            (None, None) => "session_less",
        }
    }
}

/// The message id for a generated number.
pub fn message_id(n: u64) -> String {
    format!("msg_{n:016x}")
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
        .to_string()
}

impl Store {
    /// Writes a newly accepted record's index keys and adds the record's
    /// write to `batch` (for atomic multi-record writes): the keys are
    /// written before the batch is applied (see `store::backlog`).
    pub fn stage_message(
        &self,
        batch: &mut sled::Batch,
        record: &MessageRecord,
    ) -> Result<(), StoreError> {
        let value = encode(record)?;
        self.index_new_message(record)?;
        batch.insert(record.id.as_bytes(), value);
        Ok(())
    }

    /// Reads a record.
    pub fn get_message(&self, id: &str) -> Result<Option<MessageRecord>, StoreError> {
        match self.outbox.get(id.as_bytes())? {
            Some(v) => decode(&v).map(Some),
            None => Ok(None),
        }
    }
}

/// A record's stored form.
pub(super) fn encode(record: &MessageRecord) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|e| StoreError::Corrupt {
        tree: "outbox",
        detail: e.to_string(),
    })
}

pub(super) fn decode(v: &[u8]) -> Result<MessageRecord, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
        tree: "outbox",
        detail: e.to_string(),
    })
}
