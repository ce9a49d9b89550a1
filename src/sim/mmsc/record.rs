//! The `--record` file: one JSON line per event (accepted and refused
//! submits, acknowledged and abandoned reports and MO), so a test of the
//! gateway can check exactly what reached the "carrier" and what the
//! gateway acknowledged, after the run, from another process.
//!
//! A submit's line is written before its response, and a report's or MO's
//! line when the VASP's answer arrives: when the gateway has seen a
//! `SubmitRsp`, its line is in the file. Each line is one `write` to a file
//! opened for appending (the SMSC simulator's sink), so lines never
//! interleave.

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tracing::warn;

use carrier_protocol::mm7::body::ContentItem;
use carrier_protocol::mm7::{Mm7Envelope, SubmitReq};

pub(crate) use crate::sim::smsc::record::RecordSink;

/// One accepted submit, as recorded (the `"kind": "submit"` line without
/// its `kind`) and kept for [`super::MmscSim::submits`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmitRecord {
    /// The id we answered with, `mmsc-000001`….
    pub message_id: String,
    /// The request's `TransactionID`.
    pub transaction_id: Option<String>,
    /// The release of the request's namespace, e.g. `REL-6-MM7-1-4`.
    pub namespace_release: String,
    /// `VASPID`.
    pub vasp_id: Option<String>,
    /// `VASID`.
    pub vas_id: Option<String>,
    /// `SenderAddress`'s value.
    pub from: Option<String>,
    /// Every To, Cc and Bcc address, in that order.
    pub to: Vec<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `DeliveryReport`.
    pub delivery_report: Option<bool>,
    /// `LinkedID`.
    pub linked_id: Option<String>,
    /// The `text/plain` parts (as UTF-8), joined with `\n`.
    pub text: Option<String>,
    /// Whether an `application/smil` part was present.
    pub smil: bool,
    /// Every leaf part but the SOAP one, SMIL included, in body order.
    pub items: Vec<RecordedItem>,
    /// The HTTP Basic user of the request.
    pub basic_user: Option<String>,
}

/// One content part of a submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedItem {
    /// Its `Content-Type`, as sent.
    pub content_type: String,
    /// Its `Content-ID`, without brackets (empty when it had none).
    pub content_id: String,
    /// Its `Content-Location`.
    pub content_location: Option<String>,
    /// Decoded size in bytes.
    pub size: usize,
    /// SHA-256 of the decoded bytes, lowercase hex.
    pub sha256: String,
}

fn is_type(content_type: &str, wanted: &str) -> bool {
    content_type
        .trim_start()
        .get(..wanted.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(wanted))
}

impl SubmitRecord {
    /// What a submit's line says about `req`, accepted as `message_id`.
    pub(crate) fn new(
        message_id: String,
        envelope: &Mm7Envelope,
        req: &SubmitReq,
        items: &[ContentItem],
        basic_user: Option<String>,
    ) -> SubmitRecord {
        let sender = &req.sender_identification;
        let recipients = &req.recipients;
        let texts: Vec<String> = items
            .iter()
            .filter(|i| is_type(&i.content_type, "text/plain"))
            .map(|i| String::from_utf8_lossy(&i.data).into_owned())
            .collect();
        SubmitRecord {
            message_id,
            transaction_id: envelope.transaction_id.clone(),
            namespace_release: envelope.version.release().to_owned(),
            vasp_id: sender.vasp_id.clone(),
            vas_id: sender.vas_id.clone(),
            from: sender.sender_address.as_ref().map(|a| a.value.clone()),
            to: recipients
                .to
                .iter()
                .chain(&recipients.cc)
                .chain(&recipients.bcc)
                .map(|a| a.value.clone())
                .collect(),
            subject: req.subject.clone(),
            delivery_report: req.delivery_report,
            linked_id: req.linked_id.clone(),
            text: (!texts.is_empty()).then(|| texts.join("\n")),
            smil: items
                .iter()
                .any(|i| is_type(&i.content_type, "application/smil")),
            items: items
                .iter()
                .map(|i| RecordedItem {
                    content_type: i.content_type.clone(),
                    content_id: i.content_id.clone(),
                    content_location: i.content_location.clone(),
                    size: i.data.len(),
                    sha256: carrier_protocol::hex::encode(&Sha256::digest(&i.data)),
                })
                .collect(),
            basic_user,
        }
    }
}

/// One line of the record file.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum RecordLine<'a> {
    /// An accepted submit.
    Submit(&'a SubmitRecord),
    /// A submit refused on purpose.
    Refused {
        transaction_id: Option<&'a str>,
        code: u16,
    },
    /// An MO the VASP acknowledged.
    MoAcked {
        line: u64,
        attempts: u32,
        linked_id: &'a str,
    },
    /// An MO abandoned after its last attempt.
    MoGaveUp { line: u64, attempts: u32 },
    /// A delivery report the VASP acknowledged.
    ReportAcked {
        message_id: &'a str,
        mm_status: &'a str,
        attempts: u32,
    },
    /// A delivery report abandoned after its last attempt.
    ReportGaveUp {
        message_id: &'a str,
        mm_status: &'a str,
        attempts: u32,
    },
}

impl RecordLine<'_> {
    /// Appends the line to `sink`, if there is one. A failed write is
    /// logged: the simulator goes on (a full disk must not change what the
    /// gateway under test sees).
    pub(crate) fn write_to(&self, sink: Option<&RecordSink>) {
        let Some(sink) = sink else { return };
        let mut line = match serde_json::to_vec(self) {
            Ok(line) => line,
            Err(error) => {
                warn!(%error, "cannot format a record line");
                return;
            }
        };
        line.push(b'\n');
        if let Err(error) = sink.append(&line) {
            warn!(%error, "cannot write the record file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_their_kind_first() {
        let record = SubmitRecord {
            message_id: "mmsc-000001".into(),
            transaction_id: Some("t1".into()),
            namespace_release: "REL-6-MM7-1-4".into(),
            vasp_id: None,
            vas_id: Some("vas".into()),
            from: Some("+15551230001".into()),
            to: vec!["+15557654321".into()],
            subject: None,
            delivery_report: Some(true),
            linked_id: None,
            text: Some("hi".into()),
            smil: false,
            items: vec![RecordedItem {
                content_type: "text/plain".into(),
                content_id: "t".into(),
                content_location: None,
                size: 2,
                sha256: "ab".into(),
            }],
            basic_user: None,
        };
        let line = serde_json::to_string(&RecordLine::Submit(&record)).expect("serializes");
        assert!(
            line.starts_with(r#"{"kind":"submit","message_id":"mmsc-000001""#),
            "{line}"
        );
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(v["vasp_id"], serde_json::Value::Null);
        assert_eq!(v["items"][0]["size"], 2);
        let line = serde_json::to_string(&RecordLine::MoGaveUp {
            line: 3,
            attempts: 120,
        })
        .expect("serializes");
        assert_eq!(line, r#"{"kind":"mo_gave_up","line":3,"attempts":120}"#);
        let line = serde_json::to_string(&RecordLine::Refused {
            transaction_id: None,
            code: 4006,
        })
        .expect("serializes");
        assert_eq!(
            line,
            r#"{"kind":"refused","transaction_id":null,"code":4006}"#
        );
    }

    #[test]
    fn content_types_match_without_case_or_parameters() {
        assert!(is_type("Text/Plain; charset=utf-8", "text/plain"));
        assert!(is_type("application/smil", "application/smil"));
        assert!(!is_type("text/html", "text/plain"));
        assert!(!is_type("tex", "text/plain"));
    }
}
