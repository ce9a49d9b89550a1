//! The headers of one MIME part (RFC 2045, RFC 2046, RFC 2387): read from
//! the lines between a boundary and the empty line, with folded lines
//! joined, and the few fields MM7 needs made typed.

use super::MimeError;

/// Most bytes of one part's header block.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Most header fields in one part.
const MAX_FIELDS: usize = 64;

/// A part's `Content-Transfer-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// `7bit`, `8bit`, `binary` or absent: the bytes as they are.
    Identity,
    /// `base64`.
    Base64,
    /// `quoted-printable`.
    QuotedPrintable,
}

impl TransferEncoding {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferEncoding::Identity => "binary",
            TransferEncoding::Base64 => "base64",
            TransferEncoding::QuotedPrintable => "quoted-printable",
        }
    }
}

/// The header fields of a part, in order, names as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartHeaders {
    fields: Vec<(String, String)>,
}

impl PartHeaders {
    /// Headers from `(name, value)` pairs.
    pub fn new(fields: Vec<(String, String)>) -> PartHeaders {
        PartHeaders { fields }
    }

    /// Every field, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Content-Type`, parsed; `text/plain` when absent (RFC 2045 §5.2).
    pub fn content_type(&self) -> Result<mime::Mime, MimeError> {
        match self.get("Content-Type") {
            Some(value) => parse_content_type(value),
            None => Ok(mime::TEXT_PLAIN),
        }
    }

    /// `Content-Transfer-Encoding`.
    pub fn transfer_encoding(&self) -> Result<TransferEncoding, MimeError> {
        let Some(value) = self.get("Content-Transfer-Encoding") else {
            return Ok(TransferEncoding::Identity);
        };
        let value = value.trim();
        if value.eq_ignore_ascii_case("base64") {
            Ok(TransferEncoding::Base64)
        } else if value.eq_ignore_ascii_case("quoted-printable") {
            Ok(TransferEncoding::QuotedPrintable)
        } else if ["7bit", "8bit", "binary"]
            .iter()
            .any(|v| value.eq_ignore_ascii_case(v))
        {
            Ok(TransferEncoding::Identity)
        } else {
            Err(MimeError::UnknownTransferEncoding(value.to_owned()))
        }
    }

    /// `Content-ID` without its angle brackets.
    pub fn content_id(&self) -> Option<&str> {
        self.get("Content-ID").map(|v| {
            let v = v.trim();
            v.strip_prefix('<')
                .and_then(|v| v.strip_suffix('>'))
                .unwrap_or(v)
        })
    }

    /// `Content-Location`.
    pub fn content_location(&self) -> Option<&str> {
        self.get("Content-Location").map(str::trim)
    }

    /// Whether a reference from the SOAP part or a SMIL presentation
    /// (`cid:…` per RFC 2392, or a `Content-Location` value) names this
    /// part.
    pub fn is_referenced_by(&self, reference: &str) -> bool {
        let reference = reference.trim();
        if let Some(cid) = reference
            .get(..4)
            .filter(|s| s.eq_ignore_ascii_case("cid:"))
            .and_then(|_| reference.get(4..))
        {
            let cid = percent_decode(cid);
            let cid = cid.trim_start_matches('<').trim_end_matches('>');
            return self.content_id() == Some(cid);
        }
        self.content_location() == Some(reference)
            || self.content_id() == Some(reference.trim_start_matches('<').trim_end_matches('>'))
    }
}

/// RFC 2392 URLs percent-encode the Content-ID; undo it (invalid escapes
/// stay as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a `Content-Type` value.
pub fn parse_content_type(value: &str) -> Result<mime::Mime, MimeError> {
    value
        .trim()
        .parse::<mime::Mime>()
        .map_err(|e| MimeError::BadContentType(format!("{value:?}: {e}")))
}

/// The `boundary` parameter of a multipart content type.
pub fn boundary_of(content_type: &mime::Mime) -> Result<String, MimeError> {
    if content_type.type_() != mime::MULTIPART {
        return Err(MimeError::NotMultipart(content_type.to_string()));
    }
    let boundary = content_type
        .get_param(mime::BOUNDARY)
        .map(|b| b.as_str().to_owned())
        .ok_or_else(|| MimeError::NoBoundary(content_type.to_string()))?;
    // RFC 2046 §5.1.1: 1 to 70 characters.
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(MimeError::NoBoundary(content_type.to_string()));
    }
    Ok(boundary)
}

/// Parses a header block (without its terminating empty line): lines
/// separated by CRLF or LF, continuation lines (starting with a space or a
/// tab) folded into the field before.
pub fn parse_header_block(block: &[u8]) -> Result<PartHeaders, MimeError> {
    if block.len() > MAX_HEADER_BYTES {
        return Err(MimeError::HeadersTooLarge);
    }
    let text = String::from_utf8_lossy(block);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = fields.last_mut() else {
                return Err(MimeError::BadHeader(line.to_owned()));
            };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(MimeError::BadHeader(line.to_owned()));
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(MimeError::BadHeader(line.to_owned()));
        }
        if fields.len() == MAX_FIELDS {
            return Err(MimeError::HeadersTooLarge);
        }
        fields.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(PartHeaders { fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fold_and_parse() {
        let headers = parse_header_block(
            b"Content-Type: multipart/related;\r\n\tboundary=\"b 1\"; type=\"text/xml\"\r\nContent-ID: <soap@x>\r\n",
        )
        .expect("headers");
        let ct = headers.content_type().expect("content type");
        assert_eq!(ct.essence_str(), "multipart/related");
        assert_eq!(boundary_of(&ct).expect("boundary"), "b 1");
        assert_eq!(headers.content_id(), Some("soap@x"));
        assert!(headers.is_referenced_by("cid:soap@x"));
        assert!(headers.is_referenced_by("CID:soap%40x"));
        assert!(!headers.is_referenced_by("cid:other"));
    }

    #[test]
    fn bad_headers_are_refused() {
        assert!(parse_header_block(b" folded first\r\n").is_err());
        assert!(parse_header_block(b"no colon here\r\n").is_err());
        assert!(parse_header_block(&vec![b'a'; MAX_HEADER_BYTES + 1]).is_err());
        let headers =
            parse_header_block(b"Content-Transfer-Encoding: x-uuencode\r\n").expect("parsed");
        assert!(headers.transfer_encoding().is_err());
        let headers = parse_header_block(b"Content-Type: image/jpeg\r\n").expect("parsed");
        assert!(boundary_of(&headers.content_type().expect("ct")).is_err());
    }
}
