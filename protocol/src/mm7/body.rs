//! An MM7 HTTP body: the SOAP envelope and the message's content, packed
//! as TS 23.140 §9 describes — a `multipart/related` body whose root part
//! (the `start` parameter, else the first part) is the SOAP envelope, and
//! whose content part, named by the envelope's `Content href="cid:…"`, is a
//! single media part or a `multipart/related` (with a SMIL presentation)
//! or `multipart/mixed` of several.
//!
//! This joins [`super`]'s SOAP codec and [`crate::mime`]; it holds whole
//! bodies. The link streams large inbound bodies through
//! [`crate::mime::MultipartParser`] itself and uses [`soap_part_of`] to
//! know which part is the envelope.

use crate::mime::{
    MimeError, MimeLimits, MultipartWriter, Part, SmilItem, TransferEncoding, boundary_for,
    headers::{boundary_of, parse_content_type},
    parse_all, smil_presentation,
};

use super::{Mm7DecodeError, Mm7EncodeError, Mm7Envelope, Mm7Message, decode, encode};

/// One media (or text) item of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentItem {
    /// Its content type, e.g. `image/jpeg`, `text/plain; charset=utf-8`.
    pub content_type: String,
    /// Its Content-ID (without brackets).
    pub content_id: String,
    /// Its Content-Location (a file name), if any.
    pub content_location: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Why a body cannot be built or read.
#[derive(Debug, thiserror::Error)]
pub enum Mm7BodyError {
    /// The MIME structure.
    #[error(transparent)]
    Mime(#[from] MimeError),
    /// The SOAP part does not decode.
    #[error(transparent)]
    Decode(#[from] Mm7DecodeError),
    /// The envelope does not encode.
    #[error(transparent)]
    Encode(#[from] Mm7EncodeError),
    /// No SOAP part.
    #[error("the body has no SOAP part (text/xml)")]
    NoSoapPart,
}

/// The Content-ID of the SOAP part of bodies this module writes.
const SOAP_ID: &str = "mm7-soap@carrier-gateway";
/// The Content-ID of their content part.
const CONTENT_ID: &str = "mm7-content@carrier-gateway";

fn item_headers(item: &ContentItem) -> Vec<(String, String)> {
    let mut headers = vec![
        ("Content-Type".to_owned(), item.content_type.clone()),
        ("Content-ID".to_owned(), format!("<{}>", item.content_id)),
    ];
    if let Some(location) = &item.content_location {
        headers.push(("Content-Location".to_owned(), location.clone()));
    }
    headers
}

fn as_refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

fn is_text(content_type: &str) -> bool {
    content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("text/")
}

/// Writes a request (a submit, or a deliver in the simulator): the
/// envelope, whose `Content` is pointed at the content part, and `items`.
/// Several media get a SMIL presentation. Returns the HTTP
/// `Content-Type` and the body. `seed` makes the boundaries unique.
pub fn encode_body(
    mut envelope: Mm7Envelope,
    items: &[ContentItem],
    seed: u64,
) -> Result<(String, Vec<u8>), Mm7BodyError> {
    if !items.is_empty() {
        let content = super::ContentRef::cid(CONTENT_ID);
        match &mut envelope.message {
            Mm7Message::SubmitReq(req) => req.content = Some(content),
            Mm7Message::DeliverReq(req) => req.content = Some(content),
            Mm7Message::ReplaceReq(req) => req.content = Some(content),
            _ => {}
        }
    }
    let soap = encode(&envelope)?;
    if items.is_empty() {
        return Ok(("text/xml; charset=utf-8".to_owned(), soap));
    }
    let outer_boundary = boundary_for(seed);
    let mut outer = MultipartWriter::new(&outer_boundary)?;
    outer.part(
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Content-ID", &format!("<{SOAP_ID}>")),
        ],
        &soap,
        TransferEncoding::Identity,
    )?;
    let media: Vec<&ContentItem> = items.iter().filter(|i| !is_text(&i.content_type)).collect();
    if items.len() == 1 {
        let item = &items[0];
        let mut headers = item_headers(item);
        headers[1].1 = format!("<{CONTENT_ID}>");
        let encoding = if is_text(&item.content_type) {
            TransferEncoding::QuotedPrintable
        } else {
            TransferEncoding::Base64
        };
        outer.part(&as_refs(&headers), &item.data, encoding)?;
    } else {
        let inner_boundary = boundary_for(seed.wrapping_add(1));
        let mut inner = MultipartWriter::new(&inner_boundary)?;
        let smil = (media.len() > 1).then(|| {
            smil_presentation(
                &items
                    .iter()
                    .map(|i| SmilItem {
                        content_id: i.content_id.clone(),
                        content_type: i.content_type.clone(),
                    })
                    .collect::<Vec<_>>(),
            )
        });
        if let Some(smil) = &smil {
            inner.part(
                &[
                    ("Content-Type", "application/smil"),
                    ("Content-ID", "<presentation.smil>"),
                    ("Content-Location", "presentation.smil"),
                ],
                smil.as_bytes(),
                TransferEncoding::Identity,
            )?;
        }
        for item in items {
            let encoding = if is_text(&item.content_type) {
                TransferEncoding::QuotedPrintable
            } else {
                TransferEncoding::Base64
            };
            inner.part(&as_refs(&item_headers(item)), &item.data, encoding)?;
        }
        let inner_type = if smil.is_some() {
            format!(
                "multipart/related; boundary=\"{inner_boundary}\"; type=\"application/smil\"; start=\"<presentation.smil>\""
            )
        } else {
            format!("multipart/mixed; boundary=\"{inner_boundary}\"")
        };
        outer.part(
            &[
                ("Content-Type", &inner_type),
                ("Content-ID", &format!("<{CONTENT_ID}>")),
            ],
            &inner.finish(),
            TransferEncoding::Identity,
        )?;
    }
    let content_type = format!(
        "multipart/related; boundary=\"{outer_boundary}\"; type=\"text/xml\"; start=\"<{SOAP_ID}>\""
    );
    Ok((content_type, outer.finish()))
}

/// Which of `parts` (the outermost level of a body of `content_type`) is
/// the SOAP envelope: the one the `start` parameter names, else the first.
pub fn soap_part_of(content_type: &str, parts: &[&Part]) -> Option<usize> {
    let start = parse_content_type(content_type)
        .ok()
        .and_then(|ct| ct.get_param("start").map(|s| s.as_str().to_owned()));
    match start {
        Some(start) => parts
            .iter()
            .position(|p| p.headers.is_referenced_by(&start)),
        None => (!parts.is_empty()).then_some(0),
    }
}

/// Reads a whole body: the envelope, and the leaf parts of its content
/// (SMIL presentations included, containers left out).
pub fn decode_body(
    content_type: &str,
    body: &[u8],
    limits: MimeLimits,
) -> Result<(Mm7Envelope, Vec<ContentItem>), Mm7BodyError> {
    let parsed = parse_content_type(content_type)?;
    if parsed.type_() != mime::MULTIPART {
        return Ok((decode(body)?, Vec::new()));
    }
    boundary_of(&parsed)?;
    let parts = parse_all(content_type, body, limits)?;
    let top: Vec<&Part> = parts.iter().filter(|p| p.depth == 0).collect();
    let soap_index = soap_part_of(content_type, &top).ok_or(Mm7BodyError::NoSoapPart)?;
    let soap = top[soap_index];
    let envelope = decode(&soap.content)?;
    let mut items = Vec::new();
    for part in &parts {
        if std::ptr::eq(part, soap) {
            continue;
        }
        let content_type = part
            .headers
            .content_type()
            .map(|c| c.to_string())
            .unwrap_or_else(|_| "application/octet-stream".to_owned());
        if content_type.starts_with("multipart/") {
            continue;
        }
        items.push(ContentItem {
            content_type,
            content_id: part.headers.content_id().unwrap_or_default().to_owned(),
            content_location: part.headers.content_location().map(str::to_owned),
            data: part.content.clone(),
        });
    }
    Ok((envelope, items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm7::{
        Mm7Address, Mm7AddressKind, Mm7Version, Recipients, SenderIdentification, SubmitReq,
    };

    fn number(value: &str) -> Mm7Address {
        Mm7Address {
            kind: Mm7AddressKind::Number,
            value: value.to_owned(),
            display_only: None,
        }
    }

    fn submit() -> Mm7Envelope {
        let mut recipients = Recipients::default();
        recipients.to.push(number("+15557654321"));
        let sender = SenderIdentification {
            vasp_id: Some("acme".into()),
            vas_id: Some("support".into()),
            sender_address: Some(number("+15551230001")),
        };
        Mm7Envelope::new(
            Mm7Version::Rel6_1_4,
            "tx-1",
            Mm7Message::SubmitReq(SubmitReq::new(sender, recipients)),
        )
    }

    fn item(id: &str, content_type: &str, data: &[u8]) -> ContentItem {
        ContentItem {
            content_type: content_type.to_owned(),
            content_id: id.to_owned(),
            content_location: Some(format!("{id}.bin")),
            data: data.to_vec(),
        }
    }

    #[test]
    fn a_submit_with_two_images_and_text_has_a_smil_and_parses_back() {
        let png = [
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
            &[7u8; 300],
        ]
        .concat();
        let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[9u8; 500]].concat();
        let items = [
            item("img1", "image/png", &png),
            item("img2", "image/jpeg", &jpeg),
            item(
                "txt",
                "text/plain; charset=utf-8",
                "Voici le schéma".as_bytes(),
            ),
        ];
        let (content_type, body) = encode_body(submit(), &items, 42).expect("encodes");
        assert!(
            content_type.starts_with("multipart/related;"),
            "{content_type}"
        );
        let (envelope, decoded) =
            decode_body(&content_type, &body, MimeLimits::default()).expect("decodes");
        let Mm7Message::SubmitReq(req) = &envelope.message else {
            panic!("{envelope:?}")
        };
        assert_eq!(
            req.content.as_ref().map(|c| c.href.as_str()),
            Some("cid:mm7-content@carrier-gateway")
        );
        assert_eq!(decoded.len(), 4, "SMIL and three items: {decoded:?}");
        assert_eq!(decoded[0].content_type, "application/smil");
        let smil = String::from_utf8_lossy(&decoded[0].data).into_owned();
        assert!(
            smil.contains("cid:img1") && smil.contains("cid:img2"),
            "{smil}"
        );
        assert_eq!(decoded[1].data, png);
        assert_eq!(decoded[2].data, jpeg);
        assert_eq!(String::from_utf8_lossy(&decoded[3].data), "Voici le schéma");
    }

    #[test]
    fn one_item_goes_alone_and_none_is_bare_soap() {
        let jpeg = [&[0xFF, 0xD8, 0xFF][..], &[1u8; 64]].concat();
        let (content_type, body) =
            encode_body(submit(), &[item("p", "image/jpeg", &jpeg)], 7).expect("encodes");
        let (_, decoded) =
            decode_body(&content_type, &body, MimeLimits::default()).expect("decodes");
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded[0].data, jpeg);
        let (content_type, body) = encode_body(submit(), &[], 7).expect("encodes");
        assert!(content_type.starts_with("text/xml"));
        let (envelope, decoded) =
            decode_body(&content_type, &body, MimeLimits::default()).expect("decodes");
        assert!(decoded.is_empty());
        assert!(matches!(envelope.message, Mm7Message::SubmitReq(_)));
    }

    #[test]
    fn a_body_without_its_soap_part_or_cut_short_is_refused() {
        let jpeg = [&[0xFF, 0xD8, 0xFF][..], &[1u8; 64]].concat();
        let (content_type, body) =
            encode_body(submit(), &[item("p", "image/jpeg", &jpeg)], 7).expect("encodes");
        let other_start = content_type.replace("mm7-soap@carrier-gateway", "nothing@here");
        assert!(matches!(
            decode_body(&other_start, &body, MimeLimits::default()),
            Err(Mm7BodyError::NoSoapPart)
        ));
        assert!(matches!(
            decode_body(
                &content_type,
                &body[..body.len() / 2],
                MimeLimits::default()
            ),
            Err(Mm7BodyError::Mime(MimeError::Truncated(_)))
        ));
        let small = MimeLimits {
            max_part_bytes: 10,
            ..MimeLimits::default()
        };
        assert!(matches!(
            decode_body(&content_type, &body, small),
            Err(Mm7BodyError::Mime(_))
        ));
    }
}
