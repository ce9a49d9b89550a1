//! Outbox records: one per accepted outbound message, from `queued` to a
//! final status, kept after that so `GET /v1/messages/{id}` can answer.
//!
//! Records are keyed by the message id, whose numeric part increases in
//! acceptance order: replaying the tree in key order replays the outbox in
//! the order messages were accepted, which is what conversation order needs.
//!
//! A record is stored as a version byte and then postcard (the serde
//! fields in declaration order, integers as varints): about a third of its
//! JSON size, and no text to parse. Size matters more than it seems: sled
//! copies a whole leaf of up to 16 records on every write to it, and a
//! record is written three times on its way to `delivered`. Records
//! written as JSON before this layout (they start with `{`) are still read.
//! postcard is not self-describing, so the layout is the field order: a new
//! field goes last behind a new version byte, an enum's variants keep their
//! order and new ones go last (`tests::the_stored_layout_is_pinned`).

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
    #[serde(default)]
    pub carrier_id: Option<String>,
    /// A final receipt arrived for this segment.
    #[serde(default)]
    pub done: bool,
    /// Its receipt cannot be matched: the carrier gave no usable id, or
    /// gave the same id to another segment still waiting.
    #[serde(default)]
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
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    /// Unix milliseconds.
    pub created_at: u64,
    /// Unix milliseconds.
    pub updated_at: u64,
    /// Unix milliseconds after which it is `expired` rather than sent.
    pub expires_at: u64,
    /// The API client's idempotency key.
    #[serde(default)]
    pub client_ref: Option<String>,
    /// Whether a delivery receipt is requested.
    pub receipts: bool,
    /// `submitted`, and its receipts did not come within its validity (and
    /// the grace after it): no longer waited for, nor replayed.
    #[serde(default)]
    pub receipt_timed_out: bool,
    /// A system reply of the channel (`stop`, `start`, `help`), not a
    /// message from the core: the STOP confirmation and HELP replies go to
    /// opted-out customers too.
    #[serde(default)]
    pub system: Option<String>,
    /// The service it was sent with (`services::matrix`); `None` for the
    /// channel's own replies (see `system`) and for records written before
    /// services were recorded.
    #[serde(default)]
    pub service: Option<crate::config::ServiceKind>,
    /// The IVR call it was sent for (call-bound services).
    #[serde(default)]
    pub call_id: Option<String>,
    /// The language its template was rendered in, or the one the request
    /// gave.
    #[serde(default)]
    pub language: Option<String>,
    /// Its media (`med_…` ids of the media store).
    #[serde(default)]
    pub media: Vec<String>,
    /// How it goes instead of as asked: `sms_link` (its media as links in
    /// an SMS: its number has no MMS carrier, or the MMSC refused it for
    /// good).
    #[serde(default)]
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

/// The first byte of a record in the layout of this version.
const LAYOUT_V1: u8 = 1;

/// A record's stored form: [`LAYOUT_V1`], then postcard.
pub fn encode(record: &MessageRecord) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(160);
    out.push(LAYOUT_V1);
    postcard::to_extend(record, out).map_err(|e| StoreError::Corrupt {
        tree: "outbox",
        detail: format!("cannot encode {}: {e}", record.id),
    })
}

/// Reads a stored record, in this layout or as the JSON of earlier
/// versions; anything else is `Corrupt`, never a panic.
pub fn decode(v: &[u8]) -> Result<MessageRecord, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        tree: "outbox",
        detail,
    };
    match v.first() {
        Some(&LAYOUT_V1) => match postcard::take_from_bytes::<MessageRecord>(&v[1..]) {
            Ok((record, [])) => Ok(record),
            Ok((_, rest)) => Err(corrupt(format!("{} bytes after the record", rest.len()))),
            Err(e) => Err(corrupt(e.to_string())),
        },
        Some(b'{') => serde_json::from_slice(v).map_err(|e| corrupt(e.to_string())),
        Some(other) => Err(corrupt(format!("unknown record layout {other}"))),
        None => Err(corrupt("an empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MessageRecord {
        let mut record = MessageRecord::queued(
            0x2a,
            "+15551230001".into(),
            "+15557654321".into(),
            "Your table is ready".into(),
            "gsm7",
            2,
            "acme".into(),
            60_000,
        );
        record.created_at = 1_700_000_000_000;
        record.updated_at = 1_700_000_000_500;
        record.expires_at = 1_700_000_060_000;
        record.status = MessageStatus::Submitted;
        record.attempts = 1;
        record.segments[0].carrier_id = Some("c1".into());
        record.segments[1].no_receipt = true;
        record.client_ref = Some("crm-7".into());
        record.service = Some(crate::config::ServiceKind::SessionLess);
        record.media = vec!["med_1".into()];
        record
    }

    fn json_of(record: &MessageRecord) -> serde_json::Value {
        serde_json::to_value(record).expect("json")
    }

    #[test]
    fn a_record_reads_back_as_written_and_is_far_smaller_than_its_json() {
        let record = sample();
        let stored = encode(&record).expect("encode");
        assert_eq!(json_of(&decode(&stored).expect("decode")), json_of(&record));
        let json = serde_json::to_vec(&record).expect("json");
        assert!(
            stored.len() * 2 < json.len(),
            "{} bytes stored against {} as JSON",
            stored.len(),
            json.len()
        );
    }

    #[test]
    fn records_written_as_json_by_earlier_versions_are_still_read() {
        let old = br#"{"id":"msg_000000000000002a","from":"+15551230001","to":"+15557654321",
            "text":"hi","encoding":"gsm7","carrier":"acme","reference":42,"status":"delivered",
            "attempts":1,"segments":[{"carrier_id":"c1","done":true}],"created_at":1,
            "updated_at":2,"expires_at":3,"receipts":true}"#;
        let record = decode(old).expect("an old JSON record");
        assert_eq!(record.status, MessageStatus::Delivered);
        assert_eq!(record.segments[0].carrier_id.as_deref(), Some("c1"));
        assert!(record.media.is_empty() && record.client_ref.is_none());
    }

    /// The layout is the field order and the enums' variant order: this
    /// fails when either changes, which would misread every stored record.
    #[test]
    fn the_stored_layout_is_pinned() {
        let stored = encode(&sample()).expect("encode");
        let hex: String = stored.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            // version; id, from, to, text, encoding, carrier (length and
            // bytes); reference 42, status 2 (submitted), attempts 1;
            // segments: 2, Some("c1") and no flags, None and no_receipt;
            // no error; created, updated, expires (varints); client_ref,
            // receipts, not timed out, no system, service 2 (session_less),
            // no call, no language, media ["med_1"], no fallback.
            "01146d73675f30303030303030303030303030303261\
             0c2b31353535313233303030310c2b3135353537363534333231\
             13596f7572207461626c652069732072656164790467736d370461636d65\
             2a0201\
             02010263310000000001\
             00\
             80d095ffbc31f4d395ffbc31e0a499ffbc31\
             010563726d2d370100000102000001056d65645f3100"
        );
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let stored = encode(&sample()).expect("encode");
        for cut in 0..stored.len() {
            assert!(decode(&stored[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = stored.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        assert!(decode(&[9, 1, 2]).is_err());
        assert!(decode(b"{not json").is_err());
        // Every single-byte change decodes to something or fails cleanly.
        for i in 0..stored.len() {
            for b in [0x00, 0x7f, 0x80, 0xff] {
                let mut bad = stored.clone();
                bad[i] = b;
                let _ = decode(&bad);
            }
        }
    }
}
