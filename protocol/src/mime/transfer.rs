//! Content-Transfer-Encoding decoding in pieces: a part's body arrives in
//! whatever chunks the network gives, and is decoded as it comes, holding
//! back only what cannot be decoded yet (under four base64 characters, or
//! the rest of a quoted-printable line).

use base64::Engine;

use super::MimeError;
use super::headers::TransferEncoding;

/// Decodes one part's body.
#[derive(Debug)]
pub struct BodyDecoder {
    encoding: TransferEncoding,
    /// Input held back until it can be decoded.
    carry: Vec<u8>,
}

/// Longest quoted-printable line held back while waiting for its end
/// (RFC 2045 allows 76 characters; be generous).
const MAX_QP_LINE: usize = 64 * 1024;

impl BodyDecoder {
    /// A decoder for `encoding`.
    pub fn new(encoding: TransferEncoding) -> BodyDecoder {
        BodyDecoder {
            encoding,
            carry: Vec::new(),
        }
    }

    /// Decodes what it can of `input`, appending to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), MimeError> {
        match self.encoding {
            TransferEncoding::Identity => {
                out.extend_from_slice(input);
                Ok(())
            }
            TransferEncoding::Base64 => {
                self.carry
                    .extend(input.iter().copied().filter(|b| !b.is_ascii_whitespace()));
                let whole = self.carry.len() / 4 * 4;
                // Padding may only end the data: decode up to it and keep
                // the rest for `finish`.
                let whole = match self.carry[..whole].iter().position(|&b| b == b'=') {
                    Some(pad) => pad / 4 * 4,
                    None => whole,
                };
                if whole > 0 {
                    base64::engine::general_purpose::STANDARD
                        .decode_vec(&self.carry[..whole], out)
                        .map_err(|e| MimeError::BadBase64(e.to_string()))?;
                    self.carry.drain(..whole);
                }
                Ok(())
            }
            TransferEncoding::QuotedPrintable => {
                self.carry.extend_from_slice(input);
                if let Some(end) = self.carry.iter().rposition(|&b| b == b'\n') {
                    let lines: Vec<u8> = self.carry.drain(..=end).collect();
                    decode_qp(&lines, out)?;
                } else if self.carry.len() > MAX_QP_LINE {
                    return Err(MimeError::BadQuotedPrintable(
                        "a line longer than 64 KiB".to_owned(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Decodes what was held back, at the end of the part.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), MimeError> {
        let rest = std::mem::take(&mut self.carry);
        match self.encoding {
            TransferEncoding::Identity => {
                out.extend_from_slice(&rest);
                Ok(())
            }
            TransferEncoding::Base64 => {
                if rest.is_empty() {
                    return Ok(());
                }
                base64::engine::general_purpose::STANDARD
                    .decode_vec(&rest, out)
                    .map_err(|e| MimeError::BadBase64(e.to_string()))
            }
            TransferEncoding::QuotedPrintable => decode_qp(&rest, out),
        }
    }
}

fn decode_qp(input: &[u8], out: &mut Vec<u8>) -> Result<(), MimeError> {
    let decoded = quoted_printable::decode(input, quoted_printable::ParseMode::Robust)
        .map_err(|e| MimeError::BadQuotedPrintable(e.to_string()))?;
    out.extend_from_slice(&decoded);
    Ok(())
}

/// Encodes `content` for a part: base64 in lines of 76 characters.
pub fn encode_base64_lines(content: &[u8], out: &mut Vec<u8>) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    for line in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_chunks(
        encoding: TransferEncoding,
        input: &[u8],
        size: usize,
    ) -> Result<Vec<u8>, MimeError> {
        let mut decoder = BodyDecoder::new(encoding);
        let mut out = Vec::new();
        for chunk in input.chunks(size.max(1)) {
            decoder.push(chunk, &mut out)?;
        }
        decoder.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn base64_in_any_chunks() {
        let content: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut encoded = Vec::new();
        encode_base64_lines(&content, &mut encoded);
        for size in [1, 2, 3, 5, 7, 76, 77, 4096] {
            assert_eq!(
                in_chunks(TransferEncoding::Base64, &encoded, size).expect("decodes"),
                content
            );
        }
        assert!(in_chunks(TransferEncoding::Base64, b"ab$d", 2).is_err());
        assert!(
            in_chunks(TransferEncoding::Base64, b"abc", 2).is_err(),
            "truncated"
        );
    }

    #[test]
    fn quoted_printable_in_any_chunks() {
        let encoded = b"Caf=C3=A9 na=C3=AFve soft=\r\nbreak\r\nline two";
        for size in [1, 3, 10, 100] {
            let out = in_chunks(TransferEncoding::QuotedPrintable, encoded, size).expect("decodes");
            assert_eq!(
                String::from_utf8(out).expect("utf-8"),
                "Café naïve softbreak\r\nline two"
            );
        }
    }
}
