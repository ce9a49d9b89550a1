//! What the MMSC posts, in the link contract's terms: an `MM7_deliver.REQ`
//! as an inbound message (addresses normalized, its text and media parts
//! told apart) and an `MM7_delivery_report.REQ` as a receipt. Pure; the
//! listener stores the media and waits for durability.

use std::borrow::Cow;

use carrier_protocol::mm7::body::ContentItem;
use carrier_protocol::mm7::{
    DeliverReq, DeliveryReportReq, Mm7Address, Mm7AddressKind, Mm7StatusCode, MmStatus,
};
use carrier_protocol::receipt::{ErrCode, IdSource, Receipt, ReceiptState};

/// A request refused with an MM7 status (the listener answers with a Fault
/// carrying it, so the MMSC knows whether sending it again can help).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status code.
    pub code: Mm7StatusCode,
    /// A sentence for the MMSC's operators (and our logs).
    pub text: String,
}

impl Refusal {
    /// A refusal with `code` and `text`.
    pub fn new(code: Mm7StatusCode, text: impl Into<String>) -> Refusal {
        Refusal {
            code,
            text: text.into(),
        }
    }
}

/// An MO MMS, before its media are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoMms {
    /// The customer: `+E.164`, or the address as sent when it is not a
    /// number.
    pub from: String,
    /// The business number: `+E.164` or a short code.
    pub to: String,
    /// The text parts, joined (the subject when there is none).
    pub text: String,
    /// The media parts: declared content type and bytes, in order.
    pub media: Vec<(String, Vec<u8>)>,
    /// The MMSC's id for the message (`LinkedID`), if it gave one.
    pub linked_id: Option<String>,
}

/// An address as the gateway writes numbers: MM7 numbers come as
/// `+15551230001`, `15551230001` or `+15551230001/TYPE=PLMN`, with
/// separators at times; short codes as their digits.
pub fn normalize(address: &Mm7Address) -> String {
    let value = address.value.trim();
    let value = value
        .split_once("/TYPE=")
        .map_or(value, |(number, _)| number)
        .trim_start_matches("tel:");
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    let is_number = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match address.kind {
        Mm7AddressKind::ShortCode if is_number => digits.to_owned(),
        // Longer than a short code: an international number.
        Mm7AddressKind::Number | Mm7AddressKind::Plain if is_number && digits.len() > 8 => {
            format!("+{digits}")
        }
        Mm7AddressKind::Number | Mm7AddressKind::Plain if is_number => digits.to_owned(),
        _ => value.to_owned(),
    }
}

fn is_type(content_type: &str, prefix: &str) -> bool {
    content_type.trim().to_ascii_lowercase().starts_with(prefix)
}

/// The MO of a deliver and its content parts.
///
/// # Errors
/// No recipient (`2002`), or nothing in it (`2007`).
pub fn mo_of(req: &DeliverReq, items: Vec<ContentItem>) -> Result<MoMms, Refusal> {
    let recipient = req
        .recipients
        .as_ref()
        .and_then(|r| r.to.iter().chain(&r.cc).chain(&r.bcc).next())
        .ok_or_else(|| {
            Refusal::new(
                Mm7StatusCode::AddressError,
                "the deliver names no recipient",
            )
        })?;
    let mut texts = Vec::new();
    let mut media = Vec::new();
    for item in items {
        if is_type(&item.content_type, "application/smil") {
            // The presentation: the core gets the media, not the layout.
            continue;
        }
        if is_type(&item.content_type, "text/plain") {
            texts.push(String::from_utf8_lossy(&item.data).into_owned());
        } else {
            media.push((item.content_type, item.data));
        }
    }
    let mut text = texts.join("\n");
    if text.is_empty() {
        text = req.subject.clone().unwrap_or_default();
    }
    if text.is_empty() && media.is_empty() {
        return Err(Refusal::new(
            Mm7StatusCode::MessageFormatCorrupt,
            "the deliver carries no text and no media",
        ));
    }
    Ok(MoMms {
        from: normalize(&req.sender),
        to: normalize(recipient),
        text,
        media,
        linked_id: req.linked_id.clone().filter(|id| !id.is_empty()),
    })
}

/// The receipt a delivery report amounts to: `Retrieved` is delivered;
/// `Deferred` and `Forwarded` are on the way; the rest end the message.
pub fn receipt_of(req: &DeliveryReportReq) -> Receipt<'static> {
    let stat = match req.mm_status {
        MmStatus::Retrieved => ReceiptState::Delivered,
        MmStatus::Expired => ReceiptState::Expired,
        MmStatus::Rejected => ReceiptState::Rejected,
        MmStatus::Deferred | MmStatus::Forwarded => ReceiptState::Enroute,
        MmStatus::Indeterminate | MmStatus::Other(_) => ReceiptState::Unknown,
        MmStatus::DeliveryConditionNotMet | MmStatus::Unrecognised => ReceiptState::Undeliverable,
        MmStatus::Read => ReceiptState::Delivered,
        MmStatus::Deleted => ReceiptState::Deleted,
    };
    let words = match &req.status_text {
        Some(text) if !text.is_empty() => format!("MMStatus {}: {text}", req.mm_status.as_str()),
        _ => format!("MMStatus {}", req.mm_status.as_str()),
    };
    Receipt {
        id: Cow::Owned(req.message_id.trim().to_owned()),
        id_source: IdSource::Text,
        submitted: None,
        delivered: None,
        submit_date: None,
        done_date: None,
        stat,
        err: Some(ErrCode {
            raw: Cow::Owned(words),
            code: None,
        }),
        network_error: None,
        text: None,
    }
}

#[cfg(test)]
mod tests {
    use carrier_protocol::mm7::Recipients;

    use super::*;

    fn item(content_type: &str, data: &[u8]) -> ContentItem {
        ContentItem {
            content_type: content_type.into(),
            content_id: "x".into(),
            content_location: None,
            data: data.to_vec(),
        }
    }

    #[test]
    fn numbers_are_normalized() {
        let n = |v: &str| normalize(&Mm7Address::number(v));
        assert_eq!(n("+15557654321"), "+15557654321");
        assert_eq!(n("15557654321"), "+15557654321");
        assert_eq!(n("+1 555-765-4321/TYPE=PLMN"), "+15557654321");
        assert_eq!(n("12345"), "12345");
        assert_eq!(normalize(&Mm7Address::short_code("12345")), "12345");
        assert_eq!(
            normalize(&Mm7Address::rfc2822("a@example.com")),
            "a@example.com"
        );
    }

    #[test]
    fn a_deliver_becomes_text_and_media_without_the_presentation() {
        let mut req = DeliverReq::new(Mm7Address::number("15557654321"));
        let mut recipients = Recipients::default();
        recipients.to.push(Mm7Address::number("+15551230001"));
        req.recipients = Some(recipients);
        req.linked_id = Some("mo-1".into());
        let mo = mo_of(
            &req,
            vec![
                item("application/smil", b"<smil/>"),
                item(
                    "text/plain; charset=utf-8",
                    "Broken screen \u{1F62D}".as_bytes(),
                ),
                item("image/jpeg", b"\xff\xd8\xff"),
                item("video/mp4", b"....ftyp"),
            ],
        )
        .expect("an MO");
        assert_eq!(mo.from, "+15557654321");
        assert_eq!(mo.to, "+15551230001");
        assert_eq!(mo.text, "Broken screen \u{1F62D}");
        assert_eq!(mo.media.len(), 2);
        assert_eq!(mo.media[1].0, "video/mp4");
        assert_eq!(mo.linked_id.as_deref(), Some("mo-1"));

        req.recipients = None;
        assert_eq!(
            mo_of(&req, vec![item("image/jpeg", b"x")]).map_err(|r| r.code),
            Err(Mm7StatusCode::AddressError)
        );
    }

    #[test]
    fn reports_map_to_receipt_states() {
        let report = |status| DeliveryReportReq {
            mms_relay_server_id: None,
            message_id: " m-1 ".into(),
            recipient: Mm7Address::number("+15557654321"),
            sender: Mm7Address::number("+15551230001"),
            date: "2026-12-05T00:00:00Z".into(),
            mm_status: status,
            status_text: Some("ok".into()),
        };
        let delivered = receipt_of(&report(MmStatus::Retrieved));
        assert_eq!(delivered.id, "m-1");
        assert_eq!(delivered.stat, ReceiptState::Delivered);
        assert!(delivered.stat.is_final());
        assert!(!receipt_of(&report(MmStatus::Deferred)).stat.is_final());
        assert_eq!(
            receipt_of(&report(MmStatus::Rejected)).stat,
            ReceiptState::Rejected
        );
    }
}
