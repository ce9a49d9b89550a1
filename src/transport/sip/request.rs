//! An outbound text as a SIP `MESSAGE` (RFC 3428), the retry with digest
//! credentials after a `401`/`407`, and the final response as the link
//! contract's outcome. Pure: the endpoint sends and times.

use carrier_protocol::sip::digest::DigestChallenge;
use carrier_protocol::sip::message::{HeaderField, SipMessage, StartLine};

use super::SipLinkConfig;
use crate::transport::{LinkStatus, StatusClass, TextPart};

/// The magic cookie of RFC 3261 branches.
const BRANCH_COOKIE: &str = "z9hG4bK";

/// Fresh random hex, for tags, branches and Call-IDs.
pub fn random_token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A `MESSAGE` carrying `part` from its business number to the customer:
/// `sip:+E164@domain` URIs (From = sender, Request-URI and To = recipient).
pub fn message(carrier: &SipLinkConfig, part: &TextPart) -> SipMessage {
    let uri = format!("sip:{}@{}", part.to, carrier.domain);
    let header = |name: &str, value: String| HeaderField {
        name: name.to_owned(),
        value,
    };
    SipMessage {
        start: StartLine::Request {
            method: "MESSAGE".to_owned(),
            uri: uri.clone(),
        },
        headers: vec![
            header("Via", via(carrier)),
            header("Max-Forwards", "70".to_owned()),
            header(
                "From",
                format!(
                    "<sip:{}@{}>;tag={}",
                    part.from,
                    carrier.domain,
                    random_token()
                ),
            ),
            header("To", format!("<{uri}>")),
            header(
                "Call-ID",
                format!("{}@{}", random_token(), carrier.listen.ip()),
            ),
            header("CSeq", "1 MESSAGE".to_owned()),
            header("User-Agent", "carrier-gateway".to_owned()),
            // RFC 5438: a trunk that reports delivery names this id.
            header("imdn.Message-ID", random_token()),
            header("DateTime", rfc3339_now()),
            header(
                "Disposition-Notification",
                "positive-delivery, negative-delivery".to_owned(),
            ),
            header("Content-Type", "text/plain;charset=UTF-8".to_owned()),
        ],
        body: part.text.as_bytes().to_vec(),
    }
}

/// Now, as RFC 3339 UTC (the IMDN `DateTime` header).
fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The id a delivery notification names for `request`: its
/// `imdn.Message-ID`, else its Call-ID.
pub fn carrier_id_of(request: &SipMessage) -> String {
    request
        .header("imdn.Message-ID")
        .or_else(|| request.call_id())
        .unwrap_or_default()
}

/// Our `Via` with a new branch.
fn via(carrier: &SipLinkConfig) -> String {
    format!(
        "SIP/2.0/{} {};branch={BRANCH_COOKIE}{};rport",
        super::via_name(carrier.transport),
        carrier.listen,
        random_token()
    )
}

/// The top `Via`'s branch of a message.
pub fn branch_of(message: &SipMessage) -> Option<String> {
    let via = message.vias().ok()?.into_iter().next()?;
    via.branch().map(str::to_owned)
}

/// The request again, answering the challenge of `response` (a `401` or
/// `407`) with the carrier's credentials: a new transaction (new branch,
/// the next CSeq) in the same dialog-less exchange (same Call-ID and
/// From tag). `None` when there are no credentials or no usable challenge.
pub fn authorized(
    carrier: &SipLinkConfig,
    request: &SipMessage,
    response: &SipMessage,
) -> Option<SipMessage> {
    let (user, password) = carrier.credentials.as_ref()?;
    let StartLine::Response { code, .. } = response.start else {
        return None;
    };
    let (challenge_name, answer_name) = match code {
        401 => ("WWW-Authenticate", "Authorization"),
        407 => ("Proxy-Authenticate", "Proxy-Authorization"),
        _ => return None,
    };
    let challenge = response
        .values(challenge_name)
        .find_map(|v| DigestChallenge::parse(&v).ok())?;
    let StartLine::Request { method, uri } = &request.start else {
        return None;
    };
    let cseq = request.cseq().ok()?;
    let authorization = challenge.authorization(user, password, method, uri, &random_token(), 1);
    let mut retry = request.clone();
    retry.headers.retain(|h| {
        !h.name.eq_ignore_ascii_case("Via")
            && !h.name.eq_ignore_ascii_case("CSeq")
            && !h.name.eq_ignore_ascii_case(answer_name)
    });
    retry.headers.insert(
        0,
        HeaderField {
            name: "Via".to_owned(),
            value: via(carrier),
        },
    );
    retry.headers.push(HeaderField {
        name: "CSeq".to_owned(),
        value: format!("{} MESSAGE", cseq.seq + 1),
    });
    retry.headers.push(HeaderField {
        name: answer_name.to_owned(),
        value: authorization,
    });
    Some(retry)
}

/// What a final response (≥ 200) means for the part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx: the trunk took it, with the id its IMDN would name.
    Accepted(String),
    /// Not taken.
    Failed(LinkStatus),
}

/// The outcome of a final response to `request`. `408`, `480`, `486`,
/// `500` and `503` are transient by default (`transient_codes`); a `503`
/// or `429` with `Retry-After` is the trunk pacing us; everything else
/// fails the part.
pub fn outcome(carrier: &SipLinkConfig, request: &SipMessage, response: &SipMessage) -> Outcome {
    let StartLine::Response { code, reason } = &response.start else {
        return Outcome::Failed(LinkStatus::disconnected());
    };
    let code = *code;
    if (200..300).contains(&code) {
        return Outcome::Accepted(carrier_id_of(request));
    }
    let message = format!("SIP {code} {reason}");
    let raw = Some(u32::from(code));
    let paced = response.header("Retry-After").is_some() && matches!(code, 429 | 503);
    let status = if paced {
        LinkStatus {
            class: StatusClass::Throttled,
            raw,
            message,
            reason: "throttled",
        }
    } else if carrier.transient_codes.contains(&code) {
        LinkStatus {
            class: StatusClass::Transient,
            raw,
            message,
            reason: "transient_status",
        }
    } else {
        LinkStatus {
            class: StatusClass::Permanent,
            raw,
            message,
            reason: "permanent",
        }
    };
    Outcome::Failed(status)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use carrier_protocol::sip::transaction::response_to;

    use super::*;
    use crate::transport::sip::tests_support::carrier;

    fn part() -> TextPart {
        TextPart {
            from: Arc::from("+15551230001"),
            to: Arc::from("+15557654321"),
            text: Arc::from("Your ticket 42 is solved ✔"),
        }
    }

    #[test]
    fn a_message_names_both_numbers_and_parses_back() {
        let carrier = carrier(true);
        let request = message(&carrier, &part());
        let bytes = request.to_bytes();
        let parsed = SipMessage::parse(&bytes).expect("parses");
        parsed.check_required().expect("the required headers");
        assert_eq!(
            parsed.start,
            StartLine::Request {
                method: "MESSAGE".into(),
                uri: "sip:+15557654321@sip.example.net".into()
            }
        );
        assert_eq!(
            parsed.from_header().expect("From").user(),
            Some("+15551230001")
        );
        assert!(parsed.from_header().expect("From").tag().is_some());
        assert!(branch_of(&parsed).expect("branch").starts_with("z9hG4bK"));
        assert_eq!(
            String::from_utf8(parsed.body).expect("UTF-8"),
            "Your ticket 42 is solved ✔"
        );
    }

    #[test]
    fn a_challenge_is_answered_once_with_the_next_cseq() {
        let carrier = carrier(true);
        let request = message(&carrier, &part());
        let mut challenge = response_to(&request, 401, "Unauthorized", Some("t"));
        challenge.headers.push(HeaderField {
            name: "WWW-Authenticate".into(),
            value: r#"Digest realm="sip.example.net", nonce="abc", qop="auth", algorithm=SHA-256"#
                .into(),
        });
        let retry = authorized(&carrier, &request, &challenge).expect("a retry");
        assert_eq!(retry.cseq().expect("CSeq").seq, 2);
        assert_ne!(branch_of(&retry), branch_of(&request));
        assert_eq!(retry.call_id(), request.call_id());
        let authorization = retry.header("Authorization").expect("Authorization");
        assert!(authorization.contains("username=\"gw\""), "{authorization}");
        assert!(
            authorization.contains("algorithm=SHA-256"),
            "{authorization}"
        );
        // Without credentials there is no retry.
        assert!(
            authorized(
                &super::super::tests_support::carrier(false),
                &request,
                &challenge
            )
            .is_none()
        );
    }

    #[test]
    fn final_responses_are_classified() {
        let carrier = carrier(true);
        let request = message(&carrier, &part());
        let class = |code: u16, retry_after: bool| {
            let mut response = response_to(&request, code, "x", Some("t"));
            if retry_after {
                response.headers.push(HeaderField {
                    name: "Retry-After".into(),
                    value: "5".into(),
                });
            }
            match outcome(&carrier, &request, &response) {
                Outcome::Accepted(id) => {
                    assert_eq!(Some(id), request.header("imdn.Message-ID"));
                    None
                }
                Outcome::Failed(status) => Some(status.class),
            }
        };
        assert_eq!(class(200, false), None);
        assert_eq!(class(202, false), None);
        for code in [408, 480, 486, 500, 503] {
            assert_eq!(class(code, false), Some(StatusClass::Transient), "{code}");
        }
        assert_eq!(class(503, true), Some(StatusClass::Throttled));
        for code in [400, 403, 404, 415, 488, 600] {
            assert_eq!(class(code, false), Some(StatusClass::Permanent), "{code}");
        }
    }
}
