//! MIME multipart bodies (RFC 2045, 2046, 2387, 2392), as MM7 carries them:
//! a `multipart/related` HTTP body whose first part is the SOAP envelope
//! and whose other parts (often inside a nested `multipart/mixed`) are the
//! message's text, images, video and SMIL presentation.
//!
//! Why here, sans-IO: an MMSC posts customers' photos and videos to us,
//! so the parser must take hostile input in pieces, in bounded memory, and
//! refuse what is wrong (a truncated body, a wrong boundary, an oversized
//! part) with a clear error before anything is stored. [`parser`] is that
//! streaming parser; [`writer`] builds outbound bodies, with a SMIL
//! presentation for several media; [`headers`] types the few header fields
//! that matter and resolves `cid:` references.

pub mod headers;
pub mod parser;
pub mod transfer;
pub mod writer;

pub use headers::{PartHeaders, TransferEncoding};
pub use parser::{MimeLimits, MultipartEvent, MultipartParser, Part, parse_all};
pub use writer::{MultipartWriter, SmilItem, boundary_for, smil_presentation};

/// Why a body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MimeError {
    /// A `Content-Type` that does not parse.
    #[error("bad Content-Type {0}")]
    BadContentType(String),
    /// Not `multipart/*` where a multipart is required.
    #[error("{0} is not a multipart content type")]
    NotMultipart(String),
    /// No usable `boundary` parameter.
    #[error("no valid boundary parameter (1 to 70 characters) in {0}")]
    NoBoundary(String),
    /// The boundary never occurs in the body.
    #[error("the body has no part delimited by boundary {0:?}")]
    BoundaryNotFound(String),
    /// The body ends before its closing delimiter.
    #[error("the body is truncated: it ends {0}, without the closing boundary")]
    Truncated(&'static str),
    /// A header line that is not `Name: value`.
    #[error("bad header line {0:?}")]
    BadHeader(String),
    /// A header block over the limit.
    #[error("a part's headers exceed 16 KiB or 64 fields")]
    HeadersTooLarge,
    /// A transfer encoding this parser does not know.
    #[error("unknown Content-Transfer-Encoding {0:?}")]
    UnknownTransferEncoding(String),
    /// Invalid base64 content.
    #[error("invalid base64 content: {0}")]
    BadBase64(String),
    /// Invalid quoted-printable content.
    #[error("invalid quoted-printable content: {0}")]
    BadQuotedPrintable(String),
    /// A part over `max_part_bytes`.
    #[error("a part is larger than the limit of {0} bytes")]
    PartTooLarge(u64),
    /// All parts together over `max_total_bytes`.
    #[error("the parts together are larger than the limit of {0} bytes")]
    BodyTooLarge(u64),
    /// More parts than `max_parts`.
    #[error("more than {0} parts")]
    TooManyParts(usize),
    /// Multiparts nested deeper than `max_depth`.
    #[error("multiparts nested more than {0} deep")]
    TooDeep(usize),
    /// Binary content containing the boundary (writer).
    #[error("the content contains the boundary; use base64 or another boundary")]
    BoundaryInContent,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const RELATED: &str =
        "multipart/related; boundary=\"=_outer\"; type=\"text/xml\"; start=\"<soap>\"";

    fn sample_body() -> Vec<u8> {
        // The content part is itself a multipart/mixed with an image and
        // a text, as MMSCs send MO MMS.
        let jpeg: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0]
            .iter()
            .copied()
            .chain(0..=255u8)
            .collect();
        let mut inner = MultipartWriter::new("=_inner").expect("boundary");
        inner
            .part(
                &[("Content-Type", "image/jpeg"), ("Content-ID", "<photo1>")],
                &jpeg,
                TransferEncoding::Base64,
            )
            .expect("part");
        inner
            .part(
                &[
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Location", "text.txt"),
                ],
                "Mon écran est cassé".as_bytes(),
                TransferEncoding::QuotedPrintable,
            )
            .expect("part");
        let inner = inner.finish();
        let mut outer = MultipartWriter::new("=_outer").expect("boundary");
        outer
            .part(
                &[
                    ("Content-Type", "text/xml; charset=utf-8"),
                    ("Content-ID", "<soap>"),
                ],
                b"<env:Envelope/>",
                TransferEncoding::Identity,
            )
            .expect("part");
        outer
            .part(
                &[
                    ("Content-Type", "multipart/mixed; boundary=\"=_inner\""),
                    ("Content-ID", "<content>"),
                ],
                &inner,
                TransferEncoding::Identity,
            )
            .expect("part");
        let mut body = b"preamble to ignore\r\n".to_vec();
        body.extend_from_slice(&outer.finish());
        body.extend_from_slice(b"epilogue to ignore\r\n");
        body
    }

    #[test]
    fn a_nested_mm7_body_parses_whole_and_in_any_chunks() {
        let body = sample_body();
        let whole = parse_all(RELATED, &body, MimeLimits::default()).expect("parses");
        assert_eq!(whole.len(), 4, "{whole:#?}");
        assert_eq!(whole[0].depth, 0);
        assert_eq!(whole[0].content, b"<env:Envelope/>");
        assert!(whole[0].headers.is_referenced_by("cid:soap"));
        assert_eq!(whole[1].depth, 0);
        assert!(
            whole[1].content.is_empty(),
            "a container has no content of its own"
        );
        assert_eq!(whole[2].depth, 1);
        assert_eq!(&whole[2].content[..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(whole[2].content.len(), 260);
        assert!(whole[2].headers.is_referenced_by("cid:photo1"));
        assert_eq!(whole[3].depth, 1);
        assert_eq!(
            String::from_utf8_lossy(&whole[3].content),
            "Mon écran est cassé"
        );
        assert!(whole[3].headers.is_referenced_by("text.txt"));
        for size in [1, 2, 3, 7, 13, 64, 1000] {
            let mut parser = MultipartParser::new(RELATED, MimeLimits::default()).expect("parser");
            let mut parts: Vec<Part> = Vec::new();
            let mut ended = 0;
            for chunk in body.chunks(size) {
                parser.feed(chunk);
                while let Some(event) = parser.next_event().expect("valid") {
                    match event {
                        MultipartEvent::PartStart { depth, headers } => parts.push(Part {
                            depth,
                            headers,
                            content: Vec::new(),
                        }),
                        MultipartEvent::Data(data) => {
                            parts
                                .last_mut()
                                .expect("a part")
                                .content
                                .extend_from_slice(&data);
                        }
                        MultipartEvent::PartEnd { .. } => ended += 1,
                        MultipartEvent::End => {}
                    }
                }
            }
            parser.finish_input();
            while parser.next_event().expect("valid").is_some() {}
            assert_eq!(parts, whole, "chunks of {size}");
            assert_eq!(ended, 4, "chunks of {size}");
        }
    }

    #[test]
    fn bare_line_feeds_and_transport_padding_are_accepted() {
        let body = b"--b  \nContent-Type: text/plain\n\nhello\n--b\n\nno headers\n--b--\n";
        let parts = parse_all("multipart/related; boundary=b", body, MimeLimits::default())
            .expect("parses");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].content, b"hello");
        assert_eq!(parts[1].content, b"no headers");
        assert_eq!(
            parts[1]
                .headers
                .content_type()
                .expect("default")
                .essence_str(),
            "text/plain"
        );
    }

    #[test]
    fn a_boundary_like_line_inside_content_is_content() {
        let body = b"--b\r\n\r\nline\r\n--bx is not it\r\n--b--\r\n";
        let parts =
            parse_all("multipart/mixed; boundary=b", body, MimeLimits::default()).expect("parses");
        assert_eq!(parts[0].content, b"line\r\n--bx is not it");
    }

    #[test]
    fn bad_bodies_are_refused_with_clear_errors() {
        let limits = MimeLimits::default();
        let body = sample_body();
        // Truncated anywhere before the closing delimiter.
        let cut = body.len() - 40;
        assert!(matches!(
            parse_all(RELATED, &body[..cut], limits),
            Err(MimeError::Truncated(_))
        ));
        // A wrong boundary.
        assert!(matches!(
            parse_all("multipart/related; boundary=nope", &body, limits),
            Err(MimeError::BoundaryNotFound(b)) if b == "nope"
        ));
        // Over the part limit.
        let small = MimeLimits {
            max_part_bytes: 100,
            ..limits
        };
        assert_eq!(
            parse_all(RELATED, &body, small),
            Err(MimeError::PartTooLarge(100))
        );
        // Too deep.
        let flat = MimeLimits {
            max_depth: 1,
            ..limits
        };
        assert_eq!(parse_all(RELATED, &body, flat), Err(MimeError::TooDeep(1)));
        // Not multipart, no boundary.
        assert!(MultipartParser::new("text/xml", limits).is_err());
        assert!(MultipartParser::new("multipart/related", limits).is_err());
        // Bad base64.
        let bad = b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@\r\n--b--\r\n";
        assert!(matches!(
            parse_all("multipart/mixed; boundary=b", bad, limits),
            Err(MimeError::BadBase64(_))
        ));
    }

    #[test]
    fn the_part_limit_stops_a_part_as_it_streams() {
        let limits = MimeLimits {
            max_part_bytes: 1024,
            ..MimeLimits::default()
        };
        let mut parser =
            MultipartParser::new("multipart/mixed; boundary=b", limits).expect("parser");
        parser.feed(b"--b\r\nContent-Type: video/mp4\r\n\r\n");
        let mut seen = 0usize;
        let mut refused = None;
        for _ in 0..100 {
            parser.feed(&[0u8; 512]);
            loop {
                match parser.next_event() {
                    Ok(Some(MultipartEvent::Data(d))) => seen += d.len(),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
            }
            if refused.is_some() {
                break;
            }
        }
        assert_eq!(refused, Some(MimeError::PartTooLarge(1024)));
        assert!(seen <= 1024, "{seen}");
    }

    #[test]
    fn smil_references_every_item() {
        let smil = smil_presentation(&[
            SmilItem {
                content_id: "img1".into(),
                content_type: "image/png".into(),
            },
            SmilItem {
                content_id: "vid&1".into(),
                content_type: "video/mp4".into(),
            },
        ]);
        assert!(
            smil.contains("<img src=\"cid:img1\" region=\"Image\"/>"),
            "{smil}"
        );
        assert!(smil.contains("<video src=\"cid:vid&amp;1\""), "{smil}");
        assert!(smil.starts_with("<smil") && smil.ends_with("</smil>"));
    }

    proptest! {
        /// Whatever the contents, encodings and chunking, a written body
        /// parses back to the same parts.
        #[test]
        fn written_bodies_parse_back(
            contents in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..5),
            encodings in proptest::collection::vec(0u8..3, 5),
            chunk in 1usize..300,
        ) {
            let mut writer = MultipartWriter::new(&boundary_for(42)).expect("boundary");
            let mut expected = Vec::new();
            for (i, content) in contents.iter().enumerate() {
                let encoding = match encodings[i] {
                    0 => TransferEncoding::Base64,
                    1 => TransferEncoding::QuotedPrintable,
                    _ => TransferEncoding::Identity,
                };
                let id = format!("<part{i}>");
                match writer.part(&[("Content-Type", "application/octet-stream"), ("Content-ID", &id)], content, encoding) {
                    Ok(()) => expected.push(content.clone()),
                    Err(MimeError::BoundaryInContent) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            let body = writer.finish();
            let content_type = format!("multipart/related; boundary=\"{}\"", boundary_for(42));
            let mut parser = MultipartParser::new(&content_type, MimeLimits::default()).expect("parser");
            let mut got: Vec<Vec<u8>> = Vec::new();
            for piece in body.chunks(chunk) {
                parser.feed(piece);
                while let Some(event) = parser.next_event().expect("valid") {
                    match event {
                        MultipartEvent::PartStart { .. } => got.push(Vec::new()),
                        MultipartEvent::Data(d) => got.last_mut().expect("part").extend_from_slice(&d),
                        _ => {}
                    }
                }
            }
            parser.finish_input();
            while parser.next_event().expect("valid").is_some() {}
            prop_assert_eq!(got, expected);
        }

        /// Any bytes, in any chunks: an error or events, never a panic, and
        /// never more data than the limits allow.
        #[test]
        fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..2000), chunk in 1usize..64) {
            let limits = MimeLimits { max_part_bytes: 500, max_total_bytes: 800, max_parts: 8, max_depth: 3 };
            let mut parser = MultipartParser::new("multipart/mixed; boundary=b", limits).expect("parser");
            let mut total = 0usize;
            'outer: for piece in body.chunks(chunk) {
                parser.feed(piece);
                loop {
                    match parser.next_event() {
                        Ok(Some(MultipartEvent::Data(d))) => total += d.len(),
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => break 'outer,
                    }
                }
            }
            prop_assert!(total <= 800);
        }
    }
}
