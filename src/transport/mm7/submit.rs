//! An outbound MMS as an `MM7_submit.REQ`, and the MMSC's answer as the
//! link contract's outcome. Pure: the bytes of the media are given, the
//! HTTP exchange is [`super::client`]'s.
//!
//! The answer's class comes from its 3GPP status code
//! (`carrier_protocol::mm7::StatusClass`, whose table is TS 23.140's): a
//! `4006` (service unavailable) is the MMSC pacing us, and is reported as
//! throttling; other transient codes are retried with backoff; permanent
//! codes fail the message (which then falls back to SMS with links when
//! the API asked for that).

use carrier_protocol::mime::MimeLimits;
use carrier_protocol::mm7::{
    Mm7Address, Mm7Envelope, Mm7Message, Mm7Status, Mm7StatusCode, Recipients,
    SenderIdentification, StatusClass as Mm7Class, SubmitReq,
    body::{ContentItem, decode_body},
};

use super::Mm7LinkConfig;
use crate::media::MediaInfo;
use crate::transport::{LinkStatus, MmsPart, StatusClass};

/// What became of a submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Accepted, with the MMSC's `MessageID` (empty when it gave none).
    Accepted(String),
    /// Not accepted.
    Failed(LinkStatus),
}

/// The MM7 address of a number: `+E.164` as a `Number`, bare digits (a
/// short code) as a `ShortCode`.
pub fn address_of(number: &str) -> Mm7Address {
    if number.starts_with('+') {
        Mm7Address::number(number)
    } else {
        Mm7Address::short_code(number)
    }
}

/// The submit of `part`, whose content [`encode_body`] points at.
///
/// [`encode_body`]: carrier_protocol::mm7::body::encode_body
pub fn envelope(carrier: &Mm7LinkConfig, part: &MmsPart, transaction_id: &str) -> Mm7Envelope {
    let sender = SenderIdentification {
        vasp_id: Some(carrier.vasp_id.clone()),
        vas_id: carrier.vas_id.clone(),
        sender_address: Some(address_of(&part.from)),
    };
    let mut recipients = Recipients::default();
    recipients.to.push(address_of(&part.to));
    let mut submit = SubmitReq::new(sender, recipients);
    submit.delivery_report = Some(part.receipts);
    Mm7Envelope::new(
        carrier.version,
        transaction_id,
        Mm7Message::SubmitReq(submit),
    )
}

/// A file name for a media item of this type, for `Content-Location`
/// (handsets show it, and some MMSCs require one).
fn file_name(index: usize, content_type: &str) -> String {
    let extension = match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "video/3gpp" => "3gp",
        "video/quicktime" => "mov",
        "audio/mpeg" => "mp3",
        "audio/amr" => "amr",
        "audio/ogg" => "ogg",
        "text/vcard" | "text/x-vcard" => "vcf",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    format!("media-{}.{extension}", index + 1)
}

/// The content parts: the text (when there is any), then each media item
/// with the bytes read from the store.
pub fn content_items(text: &str, media: Vec<(MediaInfo, Vec<u8>)>) -> Vec<ContentItem> {
    let mut items = Vec::with_capacity(media.len() + 1);
    if !text.is_empty() {
        items.push(ContentItem {
            content_type: "text/plain; charset=utf-8".to_owned(),
            content_id: "text@carrier-gateway".to_owned(),
            content_location: Some("text.txt".to_owned()),
            data: text.as_bytes().to_vec(),
        });
    }
    for (index, (info, data)) in media.into_iter().enumerate() {
        items.push(ContentItem {
            content_id: format!("media-{}@carrier-gateway", index + 1),
            content_location: Some(file_name(index, &info.content_type)),
            content_type: info.content_type,
            data,
        });
    }
    items
}

/// The link status of an MM7 status that is not a success.
pub fn link_status(status: &Mm7Status) -> LinkStatus {
    let code = status.code;
    let message = match &status.text {
        Some(text) if !text.is_empty() => format!("MM7 {code}: {text}"),
        _ => format!("MM7 {code}"),
    };
    let (class, reason) = match code.class() {
        Mm7Class::Permanent => (StatusClass::Permanent, "permanent"),
        _ if code == Mm7StatusCode::ServiceUnavailable => (StatusClass::Throttled, "throttled"),
        _ => (StatusClass::Transient, "transient_status"),
    };
    LinkStatus {
        class,
        raw: Some(u32::from(code.as_u16())),
        message,
        reason,
    }
}

fn transient(message: String) -> LinkStatus {
    LinkStatus {
        class: StatusClass::Transient,
        raw: None,
        message,
        reason: "transient_status",
    }
}

/// Reads the MMSC's answer to a submit: its HTTP status, `Content-Type`
/// and body.
pub fn outcome(http_status: u16, content_type: Option<&str>, body: &[u8]) -> SubmitOutcome {
    let limits = MimeLimits {
        max_part_bytes: carrier_protocol::mm7::MAX_INPUT as u64,
        max_total_bytes: carrier_protocol::mm7::MAX_INPUT as u64,
        max_parts: 8,
        max_depth: 2,
    };
    let decoded = decode_body(content_type.unwrap_or("text/xml"), body, limits);
    match decoded.map(|(envelope, _)| envelope.message) {
        Ok(Mm7Message::SubmitRsp(rsp)) if rsp.status.code.is_success() => {
            SubmitOutcome::Accepted(rsp.message_id.unwrap_or_default())
        }
        Ok(Mm7Message::SubmitRsp(rsp)) => SubmitOutcome::Failed(link_status(&rsp.status)),
        Ok(Mm7Message::Fault(fault)) => match &fault.detail {
            Some(detail) => SubmitOutcome::Failed(link_status(&detail.error().status)),
            // A Fault without an MM7 error: `Server` faults may pass,
            // `Client` ones will not.
            None if fault.code_local_name() == "Server" => SubmitOutcome::Failed(transient(
                format!("MM7 SOAP fault {}: {}", fault.code, fault.string),
            )),
            None => SubmitOutcome::Failed(LinkStatus {
                class: StatusClass::Permanent,
                raw: None,
                message: format!("MM7 SOAP fault {}: {}", fault.code, fault.string),
                reason: "permanent",
            }),
        },
        Ok(Mm7Message::RsErrorRsp(e) | Mm7Message::VaspErrorRsp(e)) => {
            SubmitOutcome::Failed(link_status(&e.status))
        }
        Ok(other) => SubmitOutcome::Failed(transient(format!(
            "the MMSC answered a submit with {:?} (HTTP {http_status})",
            other.kind()
        ))),
        Err(e) => SubmitOutcome::Failed(by_http_status(http_status, &e.to_string())),
    }
}

/// An answer without a readable SOAP body: what its HTTP status says.
fn by_http_status(http_status: u16, why: &str) -> LinkStatus {
    let message =
        format!("the MMSC answered HTTP {http_status} without a readable MM7 body: {why}");
    match http_status {
        // Rate limiting, overload, and authentication (an operator's fix,
        // after which the message should still go).
        429 | 503 => LinkStatus {
            class: StatusClass::Throttled,
            raw: Some(u32::from(http_status)),
            message,
            reason: "throttled",
        },
        401 | 403 | 408 | 500..=599 => LinkStatus {
            raw: Some(u32::from(http_status)),
            ..transient(message)
        },
        _ => LinkStatus {
            class: StatusClass::Permanent,
            raw: Some(u32::from(http_status)),
            message,
            reason: "permanent",
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use carrier_protocol::mm7::{
        ErrorRsp, FaultDetail, Mm7Version, SoapFault, SubmitRsp, body::encode_body, encode,
    };

    use super::*;

    fn carrier() -> Mm7LinkConfig {
        Mm7LinkConfig {
            name: Arc::from("mms"),
            url: "http://127.0.0.1:1/mm7".into(),
            vasp_id: "acme".into(),
            vas_id: Some("support".into()),
            listen: "127.0.0.1:0".parse().expect("address"),
            credentials: None,
            response_timeout: std::time::Duration::from_secs(5),
            version: Mm7Version::Rel6_1_4,
            max_media_bytes: 1 << 20,
        }
    }

    fn part() -> MmsPart {
        MmsPart {
            from: Arc::from("+15551230001"),
            to: Arc::from("+15557654321"),
            text: Arc::from("Here is the diagram"),
            media: Arc::from(vec!["med_1".to_owned()]),
            receipts: true,
        }
    }

    fn response(message: Mm7Message) -> Vec<u8> {
        encode(&Mm7Envelope::new(Mm7Version::Rel6_1_4, "t1", message)).expect("encode")
    }

    #[test]
    fn the_submit_names_both_parties_and_asks_for_a_report() {
        let envelope = envelope(&carrier(), &part(), "msg_1-1");
        let Mm7Message::SubmitReq(submit) = &envelope.message else {
            panic!("not a submit");
        };
        assert_eq!(
            submit.recipients.to,
            vec![Mm7Address::number("+15557654321")]
        );
        let sender = &submit.sender_identification;
        assert_eq!(sender.vasp_id.as_deref(), Some("acme"));
        assert_eq!(sender.vas_id.as_deref(), Some("support"));
        assert_eq!(
            sender.sender_address,
            Some(Mm7Address::number("+15551230001"))
        );
        assert_eq!(submit.delivery_report, Some(true));
        assert_eq!(address_of("12345"), Mm7Address::short_code("12345"));
        // It encodes to a body with its content.
        let info = MediaInfo {
            id: "med_1".into(),
            content_type: "image/png".into(),
            size: 3,
            sha256: String::new(),
            created_at: 0,
            last_used: 0,
        };
        let items = content_items("Here", vec![(info, vec![1, 2, 3])]);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].content_location.as_deref(), Some("media-1.png"));
        let (content_type, body) = encode_body(envelope, &items, 7).expect("body");
        assert!(content_type.starts_with("multipart/related"));
        assert!(!body.is_empty());
    }

    #[test]
    fn answers_are_classified_by_their_status_code() {
        let accepted = response(Mm7Message::SubmitRsp(SubmitRsp {
            status: Mm7Status::success(),
            message_id: Some("m-42".into()),
        }));
        assert_eq!(
            outcome(200, Some("text/xml"), &accepted),
            SubmitOutcome::Accepted("m-42".into())
        );
        let fault = |code| {
            response(Mm7Message::Fault(SoapFault {
                code: "env:Server".into(),
                string: "refused".into(),
                actor: None,
                detail: Some(FaultDetail::RsError(ErrorRsp {
                    status: Mm7Status::new(Mm7StatusCode::from_u16(code)),
                })),
            }))
        };
        let class = |code| match outcome(500, Some("text/xml"), &fault(code)) {
            SubmitOutcome::Failed(status) => (status.class, status.raw),
            other => panic!("{other:?}"),
        };
        assert_eq!(class(4006), (StatusClass::Throttled, Some(4006)));
        assert_eq!(class(3000), (StatusClass::Transient, Some(3000)));
        assert_eq!(class(2004), (StatusClass::Permanent, Some(2004)));
        assert_eq!(class(4004), (StatusClass::Permanent, Some(4004)));
        // A refusal in the response itself.
        let refused = response(Mm7Message::SubmitRsp(SubmitRsp {
            status: Mm7Status::new(Mm7StatusCode::AddressError),
            message_id: None,
        }));
        match outcome(200, None, &refused) {
            SubmitOutcome::Failed(status) => {
                assert_eq!(status.class, StatusClass::Permanent);
                assert!(status.message.contains("2002"), "{}", status.message);
            }
            other => panic!("{other:?}"),
        }
        // No MM7 body: the HTTP status decides.
        let http = |status| match outcome(status, Some("text/html"), b"<html>") {
            SubmitOutcome::Failed(s) => s.class,
            other => panic!("{other:?}"),
        };
        assert_eq!(http(503), StatusClass::Throttled);
        assert_eq!(http(502), StatusClass::Transient);
        assert_eq!(http(404), StatusClass::Permanent);
    }
}
