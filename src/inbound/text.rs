//! From the user data of a message's parts to its text.
//!
//! A whole message is decoded once, from its parts' user data joined in
//! order: a UCS-2 surrogate pair or a GSM escape may straddle two parts, so
//! decoding part by part would break the character at the seam. Parts of an
//! incomplete message have gaps between them, so each run is decoded on its
//! own. What cannot be decoded as text (binary data, a broken encoding) has
//! no text; its bytes are reported in hex.

use bytes::BytesMut;
use carrier_protocol::hex;
use carrier_protocol::text::{self, Encoding};

use crate::transport::InboundSms;

/// The content of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The text, when the message is text.
    pub text: Option<String>,
    /// The encoding it came in (of its first part).
    pub encoding: Encoding,
    /// The user data in hex, when there is no text.
    pub user_data_hex: Option<String>,
}

/// Decodes the parts (in order) of a complete message.
pub fn decode_complete(parts: &[&InboundSms]) -> Content {
    let Some(first) = parts.first() else {
        return Content {
            text: Some(String::new()),
            encoding: Encoding::Gsm7,
            user_data_hex: None,
        };
    };
    let mut joined = BytesMut::new();
    for part in parts {
        joined.extend_from_slice(&part.user_data);
    }
    content(first, &joined)
}

/// Decodes the parts that did arrive of an incomplete message, each on its
/// own, joined in order.
pub fn decode_incomplete(parts: &[&InboundSms]) -> Content {
    let Some(first) = parts.first() else {
        return decode_complete(parts);
    };
    let mut text = String::new();
    let mut all = BytesMut::new();
    let mut is_text = true;
    for part in parts {
        all.extend_from_slice(&part.user_data);
        match content(part, &part.user_data).text {
            Some(t) => text.push_str(&t),
            None => is_text = false,
        }
    }
    if is_text {
        Content {
            text: Some(text),
            encoding: first.encoding,
            user_data_hex: None,
        }
    } else {
        Content {
            text: None,
            encoding: first.encoding,
            user_data_hex: Some(hex::encode(&all)),
        }
    }
}

fn content(first: &InboundSms, user_data: &[u8]) -> Content {
    let decoded = match first.encoding {
        Encoding::Binary => None,
        encoding => text::decode(encoding.data_coding(), user_data, first.national).ok(),
    };
    match decoded {
        Some(text) => Content {
            text: Some(text),
            encoding: first.encoding,
            user_data_hex: None,
        },
        None => Content {
            text: None,
            encoding: first.encoding,
            user_data_hex: Some(hex::encode(user_data)),
        },
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn part(encoding: Encoding, data: &'static [u8]) -> InboundSms {
        InboundSms {
            from: "+15557654321".into(),
            to: "+15551230001".into(),
            encoding,
            national: (None, None),
            user_data: Bytes::from_static(data),
            concat: None,
            carrier_ids: Vec::new(),
            received_at: 0,
            media: Vec::new(),
        }
    }

    #[test]
    fn a_surrogate_pair_across_parts_survives() {
        // U+1F600 is D83D DE00 in UTF-16: split between the two parts.
        let a = part(Encoding::Ucs2, b"\x00\x41\xd8\x3d");
        let b = part(Encoding::Ucs2, b"\xde\x00\x00\x42");
        let c = decode_complete(&[&a, &b]);
        assert_eq!(c.text.as_deref(), Some("A\u{1F600}B"));
        assert_eq!(c.encoding, Encoding::Ucs2);
    }

    #[test]
    fn a_gsm_escape_across_parts_survives() {
        let a = part(Encoding::Gsm7, b"\x41\x1b");
        let b = part(Encoding::Gsm7, b"\x65");
        assert_eq!(decode_complete(&[&a, &b]).text.as_deref(), Some("A€"));
    }

    #[test]
    fn binary_has_no_text() {
        let a = part(Encoding::Binary, b"\x01\x02");
        let c = decode_complete(&[&a]);
        assert_eq!(c.text, None);
        assert_eq!(c.user_data_hex.as_deref(), Some("0102"));
    }

    #[test]
    fn incomplete_parts_decode_one_by_one() {
        let a = part(Encoding::Gsm7, b"Hel");
        let c = part(Encoding::Gsm7, b"rld");
        assert_eq!(decode_incomplete(&[&a, &c]).text.as_deref(), Some("Helrld"));
    }
}
