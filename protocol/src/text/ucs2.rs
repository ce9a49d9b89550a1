//! "UCS-2" (SMPP `data_coding` 8): in practice UTF-16 big-endian.
//!
//! Decisions:
//! - The name follows SMPP and carriers, but the codec is UTF-16BE: characters beyond the BMP
//!   (emoji) are sent as surrogate pairs, which every current handset renders. Strict UCS-2
//!   could not carry them at all.
//! - Strict decoding ([`decode`]) rejects an odd octet count and unpaired surrogates, with the
//!   offending offset, so protocol-level corruption is visible. [`decode_lossy`] is for showing
//!   carrier input to humans: bad units become U+FFFD and nothing fails.
//! - Lengths are counted in UTF-16 code units because that is what SMS capacities (70 / 67) are
//!   measured in; [`utf16_len`] computes it from the UTF-8 bytes without decoding.

use bytes::BufMut;

/// Invalid UTF-16BE data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// UTF-16 data must have an even number of octets.
    #[error("UCS-2/UTF-16 data has an odd length of {len} octets")]
    OddLength {
        /// The octet count.
        len: usize,
    },
    /// A high surrogate without a following low surrogate, or a lone low surrogate.
    #[error("unpaired surrogate 0x{unit:04X} at octet offset {offset}")]
    UnpairedSurrogate {
        /// Octet offset of the code unit.
        offset: usize,
        /// The code unit.
        unit: u16,
    },
}

/// Number of UTF-16 code units `text` encodes to (2 for characters beyond the BMP).
#[must_use]
pub fn utf16_len(text: &str) -> usize {
    // Every character starts with a non-continuation byte; 4-byte sequences (lead >= 0xF0)
    // are exactly the characters beyond the BMP and need a second unit.
    text.as_bytes()
        .iter()
        .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

/// Encodes `text` as UTF-16BE.
#[must_use]
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(utf16_len(text) * 2);
    encode_into(text, &mut out);
    out
}

/// Appends the UTF-16BE encoding of `text` to `out`.
pub fn encode_into(text: &str, out: &mut impl BufMut) {
    for unit in text.encode_utf16() {
        out.put_u16(unit);
    }
}

fn units(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).map(|pair| match *pair {
        [hi, lo] => u16::from_be_bytes([hi, lo]),
        // `chunks_exact(2)` only yields two-octet chunks.
        _ => 0xFFFD,
    })
}

/// Decodes UTF-16BE strictly.
///
/// # Errors
/// [`DecodeError::OddLength`] or [`DecodeError::UnpairedSurrogate`].
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::OddLength { len: bytes.len() });
    }
    let mut out = String::with_capacity(bytes.len());
    let mut offset = 0;
    for result in char::decode_utf16(units(bytes)) {
        match result {
            Ok(ch) => {
                out.push(ch);
                offset += ch.len_utf16() * 2;
            }
            Err(e) => {
                return Err(DecodeError::UnpairedSurrogate {
                    offset,
                    unit: e.unpaired_surrogate(),
                });
            }
        }
    }
    Ok(out)
}

/// Decodes UTF-16BE for display: unpaired surrogates and a trailing odd octet become U+FFFD.
#[must_use]
pub fn decode_lossy(bytes: &[u8]) -> String {
    let mut out: String = char::decode_utf16(units(bytes))
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if !bytes.len().is_multiple_of(2) {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmp_and_emoji() {
        assert_eq!(encode("A€"), [0x00, 0x41, 0x20, 0xAC]);
        // U+1F600 = D83D DE00.
        assert_eq!(encode("😀"), [0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(decode(&[0xD8, 0x3D, 0xDE, 0x00]).unwrap(), "😀");
        assert_eq!(utf16_len("a😀é€"), 5);
        assert_eq!(utf16_len(""), 0);
        let mut buf = bytes::BytesMut::new();
        encode_into("hi", &mut buf);
        assert_eq!(&buf[..], &[0, b'h', 0, b'i']);
    }

    #[test]
    fn strict_errors() {
        assert_eq!(decode(&[0x00]), Err(DecodeError::OddLength { len: 1 }));
        assert_eq!(
            decode(&[0x00, 0x41, 0xD8, 0x3D]),
            Err(DecodeError::UnpairedSurrogate {
                offset: 2,
                unit: 0xD83D
            })
        );
        assert_eq!(
            decode(&[0xD8, 0x3D, 0xDE, 0x00, 0xDE, 0x00]),
            Err(DecodeError::UnpairedSurrogate {
                offset: 4,
                unit: 0xDE00
            })
        );
        assert_eq!(
            decode(&[0xD8, 0x3D, 0x00, 0x41]),
            Err(DecodeError::UnpairedSurrogate {
                offset: 0,
                unit: 0xD83D
            })
        );
    }

    #[test]
    fn lossy() {
        assert_eq!(
            decode_lossy(&[0x00, 0x41, 0xD8, 0x3D, 0x00, 0x42, 0x00]),
            "A\u{FFFD}B\u{FFFD}"
        );
        assert_eq!(decode_lossy(&[]), "");
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(text in any::<String>()) {
            let bytes = encode(&text);
            prop_assert_eq!(bytes.len(), utf16_len(&text) * 2);
            prop_assert_eq!(decode(&bytes).unwrap(), text.clone());
            prop_assert_eq!(decode_lossy(&bytes), text);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let strict = decode(&bytes);
            let lossy = decode_lossy(&bytes);
            if let Ok(s) = strict {
                prop_assert_eq!(s, lossy);
            }
        }
    }
}
