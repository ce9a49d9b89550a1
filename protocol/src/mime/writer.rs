//! Writes a `multipart/related` (or any multipart) body: the SOAP part and
//! the content parts of an MM7 request, each with its headers and transfer
//! encoding, and a SMIL presentation (RFC 2557 style references by
//! `cid:`) when a message carries several media.

use super::MimeError;
use super::headers::TransferEncoding;
use super::transfer::encode_base64_lines;

/// A multipart body being written.
#[derive(Debug)]
pub struct MultipartWriter {
    delimiter: Vec<u8>,
    body: Vec<u8>,
}

/// A boundary that cannot occur in base64 or in the XML and text this
/// crate writes (`=_` is not base64, and `cg-` marks it as ours), unique
/// per `seed`.
pub fn boundary_for(seed: u64) -> String {
    format!("=_cg-{seed:016x}")
}

impl MultipartWriter {
    /// A body with `boundary` (1 to 70 characters of RFC 2046's set).
    pub fn new(boundary: &str) -> Result<MultipartWriter, MimeError> {
        let valid = (1..=70).contains(&boundary.len())
            && boundary
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b))
            && !boundary.ends_with(' ');
        if !valid {
            return Err(MimeError::NoBoundary(boundary.to_owned()));
        }
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Ok(MultipartWriter {
            delimiter,
            body: Vec::new(),
        })
    }

    /// Adds a part: `headers` (without `Content-Transfer-Encoding`, which
    /// `encoding` sets) and its content. Binary content that contains the
    /// delimiter is refused (use base64, or another boundary).
    pub fn part(
        &mut self,
        headers: &[(&str, &str)],
        content: &[u8],
        encoding: TransferEncoding,
    ) -> Result<(), MimeError> {
        if encoding == TransferEncoding::Identity
            && content
                .windows(self.delimiter.len())
                .any(|w| w == self.delimiter.as_slice())
        {
            return Err(MimeError::BoundaryInContent);
        }
        for (name, value) in headers {
            if name.bytes().any(|b| !b.is_ascii_graphic() || b == b':')
                || value.bytes().any(|b| b == b'\r' || b == b'\n')
            {
                return Err(MimeError::BadHeader(format!("{name}: {value}")));
            }
        }
        self.body.extend_from_slice(&self.delimiter);
        self.body.extend_from_slice(b"\r\n");
        for (name, value) in headers {
            self.body.extend_from_slice(name.as_bytes());
            self.body.extend_from_slice(b": ");
            self.body.extend_from_slice(value.as_bytes());
            self.body.extend_from_slice(b"\r\n");
        }
        self.body.extend_from_slice(b"Content-Transfer-Encoding: ");
        self.body.extend_from_slice(encoding.as_str().as_bytes());
        self.body.extend_from_slice(b"\r\n\r\n");
        match encoding {
            TransferEncoding::Base64 => {
                encode_base64_lines(content, &mut self.body);
            }
            TransferEncoding::Identity => {
                self.body.extend_from_slice(content);
                self.body.extend_from_slice(b"\r\n");
            }
            TransferEncoding::QuotedPrintable => {
                self.body
                    .extend_from_slice(&quoted_printable::encode(content));
                self.body.extend_from_slice(b"\r\n");
            }
        }
        Ok(())
    }

    /// The body with its closing delimiter.
    pub fn finish(mut self) -> Vec<u8> {
        self.body.extend_from_slice(&self.delimiter);
        self.body.extend_from_slice(b"--\r\n");
        self.body
    }
}

/// One media item of a SMIL presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmilItem {
    /// The part's `Content-ID` (without brackets).
    pub content_id: String,
    /// Its content type (`image/…`, `video/…`, `audio/…`, `text/…`).
    pub content_type: String,
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A SMIL presentation showing each item on its own slide, 5 s each
/// (images and text) or for its own duration (video, audio): what handsets
/// expect with several media in one MMS.
pub fn smil_presentation(items: &[SmilItem]) -> String {
    let mut smil = String::from(
        "<smil xmlns=\"http://www.w3.org/2001/SMIL20/Language\"><head><layout>\
         <root-layout width=\"320\" height=\"480\"/>\
         <region id=\"Image\" top=\"0\" left=\"0\" width=\"100%\" height=\"70%\" fit=\"meet\"/>\
         <region id=\"Text\" top=\"70%\" left=\"0\" width=\"100%\" height=\"30%\" fit=\"scroll\"/>\
         </layout></head><body>",
    );
    for item in items {
        let src = escape_attribute(&format!("cid:{}", item.content_id));
        let (element, region, duration) = match item.content_type.split('/').next() {
            Some("image") => ("img", "Image", " dur=\"5s\""),
            Some("video") => ("video", "Image", ""),
            Some("audio") => ("audio", "", ""),
            _ => ("text", "Text", " dur=\"5s\""),
        };
        let region = if region.is_empty() {
            String::new()
        } else {
            format!(" region=\"{region}\"")
        };
        smil.push_str(&format!(
            "<par{duration}><{element} src=\"{src}\"{region}/></par>"
        ));
    }
    smil.push_str("</body></smil>");
    smil
}
