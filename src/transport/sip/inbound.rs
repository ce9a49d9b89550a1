//! A `MESSAGE` from the trunk in the link contract's terms: the customer
//! from `From`, the business number from the Request-URI (or `To`), the
//! text from a `text/plain` body or an `application/vnd.3gpp.sms` RP-DATA
//! (whose concatenation data is kept, so the inbound path reassembles
//! long texts). Pure; what cannot be read gets the response code that
//! says why.

use std::borrow::Cow;

use bytes::Bytes;
use carrier_protocol::receipt::{ErrCode, IdSource, Receipt, ReceiptState};
use carrier_protocol::sip::imdn::{Imdn, ImdnStatus};
use carrier_protocol::sip::message::{SipMessage, SmsBody, StartLine};
use carrier_protocol::text::Encoding;

use crate::transport::{InboundConcat, InboundSms};

/// Why a request is refused: the SIP status and reason phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status code.
    pub code: u16,
    /// The reason phrase.
    pub reason: String,
}

fn refusal(code: u16, reason: impl Into<String>) -> Refusal {
    Refusal {
        code,
        reason: reason.into(),
    }
}

/// The number in a SIP or tel URI's user part: `+` and digits stay as
/// they are, digits longer than a short code get a `+`, visual separators
/// go.
pub fn number_of(uri_user: &str) -> String {
    let user = uri_user.trim_start_matches("tel:");
    let compact: String = user
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if compact.starts_with('+') || digits.len() > 8 {
            format!("+{digits}")
        } else {
            digits.to_owned()
        }
    } else {
        user.to_owned()
    }
}

/// The user part of a URI (`sip:+1555…@host;params`, `tel:+1555…`).
fn uri_user(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    let rest = rest.split([';', '?']).next().unwrap_or(rest);
    if scheme.eq_ignore_ascii_case("tel") {
        return Some(rest);
    }
    rest.split_once('@').map(|(user, _)| user)
}

/// The inbound message a `MESSAGE` request carries, received at
/// `received_at` (Unix ms).
///
/// # Errors
/// A request that is not a MESSAGE, lacks its addresses (`400`), or whose
/// body is not a text (`415`) or does not decode (`400`).
pub fn message_of(request: &SipMessage, received_at: u64) -> Result<InboundSms, Refusal> {
    let StartLine::Request { uri, .. } = &request.start else {
        return Err(refusal(400, "Not a request"));
    };
    request
        .check_required()
        .map_err(|e| refusal(400, format!("Bad Request ({e})")))?;
    let from = request
        .from_header()
        .ok()
        .and_then(|f| f.user().map(number_of))
        .ok_or_else(|| refusal(400, "Bad Request (no sender number in From)"))?;
    let to = uri_user(uri)
        .map(number_of)
        .or_else(|| request.to_header().ok()?.user().map(number_of))
        .ok_or_else(|| refusal(400, "Bad Request (no recipient number)"))?;
    let body = request.sms_body().map_err(|e| {
        let unsupported = request.content_type().is_some_and(|(essence, _)| {
            essence != "text/plain" && essence != "application/vnd.3gpp.sms"
        });
        if unsupported {
            refusal(415, "Unsupported Media Type")
        } else {
            refusal(400, format!("Bad Request ({e})"))
        }
    })?;
    let (text, concat) = match body {
        SmsBody::Text(text) => (text, None),
        SmsBody::Tpdu(tpdu) => (
            tpdu.text,
            tpdu.concat
                .filter(|&(_, total, _)| total > 1)
                .map(|(reference, total, seq)| InboundConcat {
                    reference,
                    total,
                    seq,
                }),
        ),
    };
    let user_data: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    Ok(InboundSms {
        from,
        to,
        encoding: Encoding::Ucs2,
        national: (None, None),
        user_data: Bytes::from(user_data),
        concat,
        carrier_ids: request.call_id().into_iter().collect(),
        received_at,
        media: Vec::new(),
    })
}

/// The receipt a delivery notification amounts to: `delivered` is
/// delivered; `failed`, `forbidden` and `error` end the message; display
/// and processing notifications are not an end.
pub fn receipt_of(imdn: &Imdn) -> Receipt<'static> {
    let stat = match &imdn.status {
        ImdnStatus::Delivered => ReceiptState::Delivered,
        ImdnStatus::Failed => ReceiptState::Undeliverable,
        ImdnStatus::Forbidden => ReceiptState::Rejected,
        ImdnStatus::Error => ReceiptState::Unknown,
        ImdnStatus::Other(_) => ReceiptState::Enroute,
    };
    let words = match &imdn.status {
        ImdnStatus::Other(name) => format!("IMDN {name}"),
        status => format!("IMDN {status:?}").to_ascii_lowercase(),
    };
    Receipt {
        id: Cow::Owned(imdn.message_id.trim().to_owned()),
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
    use super::*;

    fn request(body: &str, content_type: &str) -> SipMessage {
        let text = format!(
            "MESSAGE sip:+15551230001@gw.example.net SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:+15557654321@trunk.example.net>;tag=49583\r\n\
             To: <sip:+15551230001@gw.example.net>\r\n\
             Call-ID: asd88asd77a@192.0.2.1\r\n\
             CSeq: 1 MESSAGE\r\n\
             Content-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        SipMessage::parse(text.as_bytes()).expect("a request")
    }

    #[test]
    fn a_text_message_becomes_an_inbound_message() {
        let sms = message_of(&request("Hi 😀", "text/plain;charset=UTF-8"), 7).expect("ok");
        assert_eq!(sms.from, "+15557654321");
        assert_eq!(sms.to, "+15551230001");
        assert_eq!(sms.encoding, Encoding::Ucs2);
        let units: Vec<u16> = sms
            .user_data
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).expect("UTF-16"), "Hi 😀");
        assert_eq!(sms.carrier_ids, ["asd88asd77a@192.0.2.1"]);
        assert_eq!(sms.received_at, 7);
    }

    #[test]
    fn what_is_not_a_text_is_refused() {
        let refused = message_of(&request("<html/>", "text/html"), 0).expect_err("refused");
        assert_eq!(refused.code, 415);
        let refused =
            message_of(&request("\u{1}", "application/vnd.3gpp.sms"), 0).expect_err("refused");
        assert_eq!(refused.code, 400);
    }

    #[test]
    fn numbers_are_normalized() {
        assert_eq!(number_of("+15557654321"), "+15557654321");
        assert_eq!(number_of("15557654321"), "+15557654321");
        assert_eq!(number_of("+1-555-765-4321"), "+15557654321");
        assert_eq!(number_of("12345"), "12345");
        assert_eq!(number_of("alice"), "alice");
        assert_eq!(
            uri_user("tel:+15557654321;phone-context=x"),
            Some("+15557654321")
        );
    }
}
