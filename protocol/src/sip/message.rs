//! SIP messages (RFC 3261 §7, §25): the start line, the header fields
//! (compact forms, folding, several values on one line or several lines),
//! the body framed by `Content-Length`, and the writer.
//!
//! A datagram holds one message; bytes after its `Content-Length` are
//! dropped (RFC 3261 §18.3). On a stream, [`frame_len`] says how long the
//! next message is, so a transport can cut the stream without parsing it
//! twice. Parsing is strict where RFC 4475 §3.1.2 requires a refusal (the
//! request line's spacing, `Content-Length`, the version, oversized
//! scalars) and lenient where §3.1.1 requires acceptance (whitespace around
//! colons, folded lines, unknown headers, header name case).

use super::SipError;
use super::typed::{CSeq, NameAddr, Via, check_date, check_uri_token, is_token_char};

/// Most bytes of a message's header section.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most header fields.
const MAX_FIELDS: usize = 256;
/// Largest body.
pub const MAX_BODY: usize = 1024 * 1024;

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD Request-URI SIP/2.0`.
    Request {
        /// The method, as written (methods are case-sensitive).
        method: String,
        /// The Request-URI.
        uri: String,
    },
    /// `SIP/2.0 CODE Reason`.
    Response {
        /// 100 to 699.
        code: u16,
        /// The reason phrase (may be empty, may be UTF-8).
        reason: String,
    },
}

/// One header field as received (folded lines joined), its name in the
/// long form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The long form (`Call-ID` for `i`), otherwise as written.
    pub name: String,
    /// The value, trimmed.
    pub value: String,
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage {
    /// Request or response line.
    pub start: StartLine,
    /// Header fields in order.
    pub headers: Vec<HeaderField>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

/// The long form of a compact header name (RFC 3261 §7.3.3 and the
/// extensions' registrations).
pub fn long_name(name: &str) -> Option<&'static str> {
    if name.len() != 1 {
        return None;
    }
    Some(match name.as_bytes()[0].to_ascii_lowercase() {
        b'a' => "Accept-Contact",
        b'b' => "Referred-By",
        b'c' => "Content-Type",
        b'e' => "Content-Encoding",
        b'f' => "From",
        b'i' => "Call-ID",
        b'k' => "Supported",
        b'l' => "Content-Length",
        b'm' => "Contact",
        b'o' => "Event",
        b'r' => "Refer-To",
        b's' => "Subject",
        b't' => "To",
        b'u' => "Allow-Events",
        b'v' => "Via",
        b'x' => "Session-Expires",
        b'y' => "Identity",
        _ => return None,
    })
}

/// Headers whose value is a comma-separated list, so that several values
/// may share one line (RFC 3261 §7.3.1). Others (`WWW-Authenticate`,
/// `Date`, unknown ones) are never split.
fn is_list_header(name: &str) -> bool {
    [
        "Via",
        "Contact",
        "Route",
        "Record-Route",
        "Allow",
        "Supported",
        "Require",
        "Proxy-Require",
        "Unsupported",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Content-Encoding",
        "Content-Language",
        "In-Reply-To",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

/// The length of the message at the start of a stream: `Ok(None)` until
/// its header section and `Content-Length` body have arrived. A stream
/// message must carry `Content-Length` (RFC 3261 §18.3).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, SipError> {
    // Leading CRLFs are keep-alives (RFC 5626 §3.5.1).
    let start = buf
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    let rest = &buf[start..];
    let Some(end) = find(rest, b"\r\n\r\n") else {
        if rest.len() > MAX_HEADER_BYTES {
            return Err(SipError::HeadersTooLarge);
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&rest[..end]).map_err(|_| SipError::NotUtf8)?;
    let (_, fields) = split_head(head)?;
    let length = content_length(&fields)?.ok_or(SipError::NoContentLength)?;
    let total = start + end + 4 + length;
    Ok((buf.len() >= total).then_some(total))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The start line and the unfolded header fields of a header section.
fn split_head(head: &str) -> Result<(&str, Vec<HeaderField>), SipError> {
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap_or_default();
    let mut fields: Vec<HeaderField> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let Some(last) = fields.last_mut() else {
                return Err(SipError::BadHeader(line.to_owned()));
            };
            if !last.value.is_empty() {
                last.value.push(' ');
            }
            last.value.push_str(line.trim());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(SipError::BadHeader(line.to_owned()));
        };
        let name = name.trim_end_matches([' ', '\t']);
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(SipError::BadHeader(line.to_owned()));
        }
        if fields.len() == MAX_FIELDS {
            return Err(SipError::HeadersTooLarge);
        }
        let name = long_name(name).map_or_else(|| name.to_owned(), str::to_owned);
        fields.push(HeaderField {
            name,
            value: value.trim().to_owned(),
        });
    }
    Ok((start, fields))
}

/// `Content-Length`, if present: one value, a decimal under [`MAX_BODY`].
fn content_length(fields: &[HeaderField]) -> Result<Option<usize>, SipError> {
    let mut values = fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case("Content-Length"));
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(SipError::BadContentLength(
            "more than one Content-Length".to_owned(),
        ));
    }
    let text = first.value.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SipError::BadContentLength(text.to_owned()));
    }
    match text.parse::<usize>() {
        Ok(n) if n <= MAX_BODY => Ok(Some(n)),
        _ => Err(SipError::BadContentLength(text.to_owned())),
    }
}

fn parse_version(text: &str) -> Result<(), SipError> {
    if text.eq_ignore_ascii_case("SIP/2.0") {
        Ok(())
    } else {
        Err(SipError::UnsupportedVersion(text.to_owned()))
    }
}

fn parse_start(line: &str) -> Result<StartLine, SipError> {
    let bad = || SipError::BadStartLine(line.to_owned());
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        // SIP-Version SP Status-Code SP Reason-Phrase
        let (version, rest) = line.split_once(' ').ok_or_else(bad)?;
        parse_version(version)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SipError::BadStatusCode(code.to_owned()));
        }
        let code: u16 = code
            .parse()
            .map_err(|_| SipError::BadStatusCode(code.to_owned()))?;
        if !(100..=699).contains(&code) {
            return Err(SipError::BadStatusCode(code.to_string()));
        }
        return Ok(StartLine::Response {
            code,
            reason: reason.to_owned(),
        });
    }
    // Method SP Request-URI SP SIP-Version: exactly one SP each.
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return Err(bad());
    };
    if method.is_empty() || !method.bytes().all(is_token_char) {
        return Err(bad());
    }
    parse_version(version)?;
    check_request_uri(uri)?;
    Ok(StartLine::Request {
        method: (*method).to_owned(),
        uri: (*uri).to_owned(),
    })
}

/// A Request-URI: an absolute URI without `<>`, whitespace, or (for
/// `sip:`/`sips:`) a headers component (RFC 3261 §19.1.5).
fn check_request_uri(uri: &str) -> Result<(), SipError> {
    let bad = |why: &str| SipError::BadUri(format!("{uri:?}: {why}"));
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(bad("no scheme"));
    };
    if scheme.is_empty()
        || !scheme.as_bytes()[0].is_ascii_alphabetic()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err(bad("bad scheme"));
    }
    if rest.is_empty()
        || uri
            .bytes()
            .any(|b| b <= b' ' || b == b'<' || b == b'>' || b == 0x7f)
    {
        return Err(bad("whitespace, control characters or <> in it"));
    }
    let sip = scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips");
    // `?` may appear in the user part; after the host it starts headers.
    let after_user = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if sip && after_user.contains('?') {
        return Err(bad("a Request-URI may not carry headers (?…)"));
    }
    check_uri_token(rest).map_err(|why| bad(&why))
}

impl SipMessage {
    /// Parses one message from a datagram (or a frame cut by
    /// [`frame_len`]): header section, then `Content-Length` bytes of body
    /// (the rest of the datagram without one); extra bytes are dropped.
    pub fn parse(bytes: &[u8]) -> Result<SipMessage, SipError> {
        let start = bytes
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let bytes = &bytes[start..];
        let (head_len, separator) = match find(bytes, b"\r\n\r\n") {
            Some(i) => (i, 4),
            None => return Err(SipError::Truncated),
        };
        if head_len > MAX_HEADER_BYTES {
            return Err(SipError::HeadersTooLarge);
        }
        let head = std::str::from_utf8(&bytes[..head_len]).map_err(|_| SipError::NotUtf8)?;
        let (start_line, headers) = split_head(head)?;
        let start = parse_start(start_line)?;
        let rest = &bytes[head_len + separator..];
        let body = match content_length(&headers)? {
            Some(n) if n > rest.len() => {
                return Err(SipError::BadContentLength(format!(
                    "{n}, but only {} body bytes arrived",
                    rest.len()
                )));
            }
            Some(n) => rest[..n].to_vec(),
            None if rest.len() > MAX_BODY => return Err(SipError::BodyTooLarge),
            None => rest.to_vec(),
        };
        let message = SipMessage {
            start,
            headers,
            body,
        };
        message.check_syntax()?;
        Ok(message)
    }

    /// The values of `name` (long form, any case), list headers split at
    /// top-level commas.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = String> + 'a {
        self.headers
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name))
            .flat_map(move |f| {
                if is_list_header(name) {
                    split_list(&f.value)
                } else {
                    vec![f.value.clone()]
                }
            })
    }

    /// The first value of `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        self.values(name).next()
    }

    /// `Call-ID`.
    pub fn call_id(&self) -> Option<String> {
        self.header("Call-ID")
    }

    /// `CSeq`.
    pub fn cseq(&self) -> Result<CSeq, SipError> {
        CSeq::parse(&self.header("CSeq").ok_or(SipError::Missing("CSeq"))?)
    }

    /// `From`.
    pub fn from_header(&self) -> Result<NameAddr, SipError> {
        NameAddr::parse(&self.header("From").ok_or(SipError::Missing("From"))?)
    }

    /// `To`.
    pub fn to_header(&self) -> Result<NameAddr, SipError> {
        NameAddr::parse(&self.header("To").ok_or(SipError::Missing("To"))?)
    }

    /// Every `Via`, top first.
    pub fn vias(&self) -> Result<Vec<Via>, SipError> {
        self.values("Via").map(|v| Via::parse(&v)).collect()
    }

    /// `Max-Forwards`.
    pub fn max_forwards(&self) -> Result<Option<u8>, SipError> {
        let Some(value) = self.header("Max-Forwards") else {
            return Ok(None);
        };
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SipError::BadHeader(format!("Max-Forwards: {value}")));
        }
        value
            .parse::<u32>()
            .ok()
            .and_then(|v| u8::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| SipError::BadHeader(format!("Max-Forwards: {value}")))
    }

    /// `Content-Type` (without parameters, lowercase) and its `charset`.
    pub fn content_type(&self) -> Option<(String, Option<String>)> {
        let value = self.header("Content-Type")?;
        let mut parts = value.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let charset = parts.find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| v.trim().trim_matches('"').to_owned())
        });
        Some((essence, charset))
    }

    /// The syntax of the fields this gateway relies on (RFC 4475 §3.1.2):
    /// `From`, `To`, `Contact`, `Via`, `CSeq` (and its method against the
    /// request's), `Max-Forwards`, `Expires`, `Date`. Absence is not
    /// checked here (see [`SipMessage::check_required`]).
    fn check_syntax(&self) -> Result<(), SipError> {
        for name in ["From", "To"] {
            if let Some(value) = self.header(name) {
                NameAddr::parse(&value)?;
            }
        }
        for value in self.values("Contact") {
            if value.trim() != "*" {
                NameAddr::parse(&value)?;
            }
        }
        self.vias()?;
        if self.header("CSeq").is_some() {
            let cseq = self.cseq()?;
            if let StartLine::Request { method, .. } = &self.start
                && cseq.method != *method
            {
                return Err(SipError::CSeqMismatch {
                    line: method.clone(),
                    cseq: cseq.method,
                });
            }
        }
        self.max_forwards()?;
        if let Some(expires) = self.header("Expires") {
            let expires = expires.trim();
            if !expires.bytes().all(|b| b.is_ascii_digit()) || expires.parse::<u32>().is_err() {
                return Err(SipError::BadHeader(format!("Expires: {expires}")));
            }
        }
        if let Some(date) = self.header("Date") {
            check_date(&date)?;
        }
        Ok(())
    }

    /// The fields every request must carry (RFC 3261 §8.1.1): `To`,
    /// `From`, `CSeq`, `Call-ID`, `Via` (and `Max-Forwards` for requests
    /// from RFC 3261 elements, not checked: RFC 2543 peers omit it).
    pub fn check_required(&self) -> Result<(), SipError> {
        for name in ["To", "From", "CSeq", "Call-ID", "Via"] {
            let count = self
                .headers
                .iter()
                .filter(|f| f.name.eq_ignore_ascii_case(name))
                .count();
            if count == 0 {
                return Err(SipError::Missing(name));
            }
            if name != "Via" && count > 1 {
                return Err(SipError::BadHeader(format!("{name} appears {count} times")));
            }
        }
        Ok(())
    }

    /// The message on the wire, `Content-Length` set to the body's.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => {
                out.extend_from_slice(format!("{method} {uri} SIP/2.0\r\n").as_bytes());
            }
            StartLine::Response { code, reason } => {
                out.extend_from_slice(format!("SIP/2.0 {code} {reason}\r\n").as_bytes());
            }
        }
        for field in &self.headers {
            if field.name.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            out.extend_from_slice(field.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(field.value.replace(['\r', '\n'], " ").as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

/// The text message a `MESSAGE` body carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsBody {
    /// `text/plain`, decoded from its charset.
    Text(String),
    /// `application/vnd.3gpp.sms`: the RP-DATA's TPDU, decoded.
    Tpdu(super::rp::SmsTpdu),
}

impl SipMessage {
    /// Decodes the body of a `MESSAGE`: `text/plain` in UTF-8 (the default),
    /// US-ASCII or ISO-8859-1, or `application/vnd.3gpp.sms`.
    pub fn sms_body(&self) -> Result<SmsBody, SipError> {
        let (essence, charset) = self
            .content_type()
            .unwrap_or_else(|| ("text/plain".to_owned(), None));
        match essence.as_str() {
            "text/plain" => {
                let charset = charset
                    .unwrap_or_else(|| "utf-8".to_owned())
                    .to_ascii_lowercase();
                match charset.as_str() {
                    "utf-8" | "utf8" | "us-ascii" => String::from_utf8(self.body.clone())
                        .map(SmsBody::Text)
                        .map_err(|_| SipError::BadBody(format!("not valid {charset}"))),
                    "iso-8859-1" | "latin1" | "iso_8859-1" => Ok(SmsBody::Text(
                        self.body.iter().map(|&b| char::from(b)).collect(),
                    )),
                    other => Err(SipError::BadBody(format!(
                        "the charset {other} is not supported"
                    ))),
                }
            }
            "application/vnd.3gpp.sms" => {
                let rp = super::rp::decode_rp_data(&self.body)
                    .map_err(|e| SipError::BadBody(e.to_string()))?;
                super::rp::decode_tpdu(&rp.tpdu)
                    .map(SmsBody::Tpdu)
                    .map_err(|e| SipError::BadBody(e.to_string()))
            }
            other => Err(SipError::BadBody(format!(
                "content type {other} is not a text message"
            ))),
        }
    }
}

/// Splits a list header's value at commas outside quotes and `<>`.
pub fn split_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = 0usize;
    for c in value.chars() {
        if quoted {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                current.push(c);
            }
            '<' => {
                angle += 1;
                current.push(c);
            }
            '>' => {
                angle = angle.saturating_sub(1);
                current.push(c);
            }
            ',' if angle == 0 => {
                out.push(current.trim().to_owned());
                current.clear();
            }
            _ => current.push(c),
        }
    }
    out.push(current.trim().to_owned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(content_type: &str, body: &[u8]) -> SipMessage {
        let mut bytes = format!(
            "MESSAGE sip:+15551230001@gw.example.net SIP/2.0\r\n\
             Via: SIP/2.0/UDP trunk.example.net;branch=z9hG4bK776sgdkse\r\n\
             Max-Forwards: 70\r\nFrom: <sip:+15557654321@trunk.example.net>;tag=49583\r\n\
             To: <sip:+15551230001@gw.example.net>\r\nCall-ID: asd88asd77a@1.2.3.4\r\n\
             CSeq: 1 MESSAGE\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body);
        SipMessage::parse(&bytes).expect("valid MESSAGE")
    }

    #[test]
    fn text_bodies_follow_their_charset() {
        let utf8 = message("text/plain;charset=UTF-8", "Mon écran 📱".as_bytes());
        assert_eq!(utf8.sms_body(), Ok(SmsBody::Text("Mon écran 📱".into())));
        let latin1 = message("text/plain; charset=\"ISO-8859-1\"", b"caf\xe9");
        assert_eq!(latin1.sms_body(), Ok(SmsBody::Text("café".into())));
        assert!(message("text/plain", b"\xff\xfe").sms_body().is_err());
        assert!(
            message("text/plain; charset=koi8-r", b"x")
                .sms_body()
                .is_err()
        );
        assert!(message("image/png", b"x").sms_body().is_err());
        let m = message("text/plain", b"hi");
        assert_eq!(m.from_header().expect("From").user(), Some("+15557654321"));
        assert_eq!(m.cseq().expect("CSeq").method, "MESSAGE");
        assert!(m.check_required().is_ok());
    }

    #[test]
    fn a_3gpp_sms_body_is_decoded() {
        let tpdu =
            crate::hex::decode("240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B")
                .expect("hex");
        let mut rp = vec![0x01, 0x01, 0x00, 0x00, tpdu.len() as u8];
        rp.extend_from_slice(&tpdu);
        let m = message("application/vnd.3gpp.sms", &rp);
        match m.sms_body() {
            Ok(SmsBody::Tpdu(sms)) => assert_eq!(sms.text, "diafaan.com"),
            other => panic!("{other:?}"),
        }
    }
}
