//! What the inbound path keeps on disk: parts waiting for the rest of their
//! message (`inbox_parts`, keyed by arrival id), and whole messages waiting
//! for the core (`inbox`, keyed by their event's sequence number). Both are
//! JSON, so fields can be added without a migration.

use bytes::Bytes;
use carrier_protocol::hex;
use carrier_protocol::text::{Encoding, NationalLanguage};
use serde::{Deserialize, Serialize};

use crate::transport::{InboundConcat, InboundSms};

/// One stored part of a concatenated inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    /// The carrier it came from.
    pub carrier: String,
    /// Customer, `+E.164`.
    pub from: String,
    /// Business number.
    pub to: String,
    /// `gsm7`, `ucs2`, `latin1` or `binary`.
    pub encoding: String,
    /// National language tables (locking, single shift), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub national: Vec<Option<String>>,
    /// The user data, hex.
    pub user_data: String,
    /// Reference, total and sequence number.
    pub reference: u16,
    /// Parts in the message.
    pub total: u8,
    /// This part's number, 1-based.
    pub seq: u8,
    /// The carrier's ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carrier_ids: Vec<String>,
    /// Unix milliseconds.
    pub received_at: u64,
}

impl StoredPart {
    /// The stored form of a part (`sms.concat` must be set).
    pub fn new(carrier: &str, sms: &InboundSms, concat: InboundConcat) -> StoredPart {
        StoredPart {
            carrier: carrier.to_owned(),
            from: sms.from.clone(),
            to: sms.to.clone(),
            encoding: sms.encoding.as_str().to_owned(),
            national: if sms.national == (None, None) {
                Vec::new()
            } else {
                vec![
                    sms.national.0.map(|l| l.as_str().to_owned()),
                    sms.national.1.map(|l| l.as_str().to_owned()),
                ]
            },
            user_data: hex::encode(&sms.user_data),
            reference: concat.reference,
            total: concat.total,
            seq: concat.seq,
            carrier_ids: sms.carrier_ids.clone(),
            received_at: sms.received_at,
        }
    }

    /// Back to the link's form; `None` if the record is damaged.
    pub fn to_sms(&self) -> Option<InboundSms> {
        let national = |i: usize| {
            self.national
                .get(i)
                .and_then(|n| n.as_deref())
                .and_then(|name| {
                    NationalLanguage::ALL
                        .iter()
                        .copied()
                        .find(|l| l.as_str() == name)
                })
        };
        Some(InboundSms {
            from: self.from.clone(),
            to: self.to.clone(),
            encoding: encoding_named(&self.encoding)?,
            national: (national(0), national(1)),
            user_data: Bytes::from(hex::decode(&self.user_data).ok()?),
            concat: Some(InboundConcat {
                reference: self.reference,
                total: self.total,
                seq: self.seq,
            }),
            carrier_ids: self.carrier_ids.clone(),
            received_at: self.received_at,
            // Only concatenated SMS parts are stored as parts.
            media: Vec::new(),
        })
    }
}

/// The encoding with this API name.
pub(crate) fn encoding_named(name: &str) -> Option<Encoding> {
    [
        Encoding::Gsm7,
        Encoding::Ucs2,
        Encoding::Latin1,
        Encoding::Binary,
    ]
    .into_iter()
    .find(|e| e.as_str() == name)
}

/// A whole inbound message waiting for the core's acknowledgement of its
/// `message.received`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRecord {
    /// `msg_…`, the `id` of `message.received`.
    pub id: String,
    /// Its event's id (`evt_…`).
    pub event_id: String,
    /// The carrier it came from.
    pub carrier: String,
    /// Customer.
    pub from: String,
    /// Business number.
    pub to: String,
    /// The decoded text, if it is text.
    pub text: Option<String>,
    /// `gsm7`, `ucs2`, `latin1` or `binary`.
    pub encoding: String,
    /// Parts it was sent in.
    pub segments: u8,
    /// Whether parts are missing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    /// Unix milliseconds of its first part.
    pub received_at: u64,
    /// An MMS's media (`med_…` ids of the media store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
}
