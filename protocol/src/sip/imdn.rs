//! IMDN delivery notifications (RFC 5438) as SIP trunks send them: a
//! `MESSAGE` whose body is `message/imdn+xml`, bare or inside a
//! `message/cpim` wrapper, naming the `imdn.Message-ID` of the message it
//! reports on and what became of it. The XML goes through the MM7 codec's
//! bounded reader (no DTDs, limited depth and size).

use super::SipError;
use super::message::SipMessage;

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImdnStatus {
    /// `<delivered/>`.
    Delivered,
    /// `<failed/>`.
    Failed,
    /// `<forbidden/>`.
    Forbidden,
    /// `<error/>`.
    Error,
    /// A display or processing notification, or a status we do not know
    /// (its element name): not an end state.
    Other(String),
}

/// A parsed notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imdn {
    /// The `imdn.Message-ID` of the message it reports on.
    pub message_id: String,
    /// Its status.
    pub status: ImdnStatus,
}

/// The IMDN body of `message`, if it carries one (`None` for anything
/// else).
pub fn imdn_body(message: &SipMessage) -> Option<&[u8]> {
    let (essence, _) = message.content_type()?;
    match essence.as_str() {
        "message/imdn+xml" => Some(&message.body),
        "message/cpim" => {
            // CPIM: message headers, a blank line, MIME headers, a blank
            // line, the content.
            let body = &message.body;
            let blank = |from: usize| {
                body.get(from..)?
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|at| from + at + 4)
            };
            let mime_start = blank(0)?;
            let content_start = blank(mime_start)?;
            let mime =
                String::from_utf8_lossy(&body[mime_start..content_start]).to_ascii_lowercase();
            mime.contains("message/imdn+xml")
                .then(|| &body[content_start..])
        }
        _ => None,
    }
}

/// Parses a `message/imdn+xml` document.
///
/// # Errors
/// Not well-formed XML, not an `imdn` element, or no `message-id`.
pub fn parse(xml: &[u8]) -> Result<Imdn, SipError> {
    let bad = |why: String| SipError::BadBody(format!("IMDN: {why}"));
    let root = crate::mm7::tree::parse(xml).map_err(|e| bad(e.to_string()))?;
    if root.name != "imdn" {
        return Err(bad(format!("the root is <{}>, not <imdn>", root.name)));
    }
    let message_id = root
        .child("message-id")
        .map(|e| e.value().to_owned())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("no message-id".to_owned()))?;
    let status = [
        "delivery-notification",
        "display-notification",
        "processing-notification",
    ]
    .iter()
    .find_map(|kind| root.child(kind))
    .and_then(|n| n.child("status"))
    .and_then(|s| s.first_child())
    .map(|s| match s.name.as_str() {
        "delivered" => ImdnStatus::Delivered,
        "failed" => ImdnStatus::Failed,
        "forbidden" => ImdnStatus::Forbidden,
        "error" => ImdnStatus::Error,
        other => ImdnStatus::Other(other.to_owned()),
    })
    .ok_or_else(|| bad("no status".to_owned()))?;
    Ok(Imdn { message_id, status })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5438 §7.2.1.1's delivery notification, in CPIM as §7.2.1 shows.
    const DELIVERED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
        <imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n\
        <message-id>34jk324j</message-id>\r\n\
        <datetime>2008-04-04T12:16:49-05:00</datetime>\r\n\
        <recipient-uri>im:bob@example.com</recipient-uri>\r\n\
        <original-recipient-uri>im:bob@example.com</original-recipient-uri>\r\n\
        <delivery-notification><status><delivered/></status></delivery-notification>\r\n\
        </imdn>";

    fn message(content_type: &str, body: &str) -> SipMessage {
        let text = format!(
            "MESSAGE sip:+15551230001@gw SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:+15557654321@t>;tag=1\r\nTo: <sip:+15551230001@gw>\r\n\
             Call-ID: c\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        SipMessage::parse(text.as_bytes()).expect("a message")
    }

    #[test]
    fn rfc5438_delivery_notification() {
        let imdn = parse(DELIVERED.as_bytes()).expect("parses");
        assert_eq!(imdn.message_id, "34jk324j");
        assert_eq!(imdn.status, ImdnStatus::Delivered);
        let bare = message("message/imdn+xml", DELIVERED);
        assert_eq!(imdn_body(&bare), Some(DELIVERED.as_bytes()));
        let cpim = format!(
            "From: Bob <im:bob@example.com>\r\nTo: Alice <im:alice@example.com>\r\n\
             NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: d834jied93rf\r\n\
             Content-Disposition: notification\r\nDateTime: 2008-04-04T12:16:49-05:00\r\n\r\n\
             Content-Type: message/imdn+xml\r\nContent-Disposition: notification\r\n\
             Content-Length: {}\r\n\r\n{DELIVERED}",
            DELIVERED.len()
        );
        let wrapped = message("message/cpim", &cpim);
        let body = imdn_body(&wrapped).expect("an IMDN inside");
        assert_eq!(parse(body).expect("parses").message_id, "34jk324j");
        assert_eq!(imdn_body(&message("text/plain", "hi")), None);
    }

    #[test]
    fn statuses_and_refusals() {
        let with = |status: &str| {
            format!(
                "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\"><message-id>m</message-id>\
                 <delivery-notification><status><{status}/></status></delivery-notification></imdn>"
            )
        };
        assert_eq!(
            parse(with("failed").as_bytes()).expect("ok").status,
            ImdnStatus::Failed
        );
        assert_eq!(
            parse(with("forbidden").as_bytes()).expect("ok").status,
            ImdnStatus::Forbidden
        );
        assert!(parse(b"<imdn><message-id/></imdn>").is_err());
        assert!(parse(b"<other/>").is_err());
        assert!(parse(b"<imdn><message-id>x</message-id>").is_err());
        assert!(parse(b"<!DOCTYPE imdn [<!ENTITY a \"b\">]><imdn/>").is_err());
    }
}
