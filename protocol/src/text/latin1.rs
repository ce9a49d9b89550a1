//! ISO-8859-1 (SMPP `data_coding` 3).
//!
//! Latin-1 is the identity mapping of U+0000..=U+00FF onto octets, so decoding cannot fail and
//! encoding fails exactly for characters above U+00FF. Some carriers accept it and it gives
//! 140 characters per SMS instead of 70 for UCS-2, which is why the chooser can use it when a
//! carrier opts in; it is never chosen by default.

use bytes::BufMut;

/// A character above U+00FF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The character has no ISO-8859-1 code.
    #[error("character {ch:?} (U+{code:04X}) at byte index {index} is not in ISO-8859-1", code = u32::from(*ch))]
    Unencodable {
        /// Byte index of the character in the input `&str`.
        index: usize,
        /// The character.
        ch: char,
    },
}

/// Whether every character of `text` is in ISO-8859-1.
#[must_use]
pub fn is_encodable(text: &str) -> bool {
    text.chars().all(|c| u32::from(c) <= 0xFF)
}

/// Encodes `text` as ISO-8859-1.
///
/// # Errors
/// [`EncodeError::Unencodable`] for the first character above U+00FF.
pub fn encode(text: &str) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(text.len());
    encode_into(text, &mut out)?;
    Ok(out)
}

/// Appends the ISO-8859-1 encoding of `text` to `out`. On error nothing has been written.
///
/// # Errors
/// [`EncodeError::Unencodable`] for the first character above U+00FF.
pub fn encode_into(text: &str, out: &mut impl BufMut) -> Result<(), EncodeError> {
    if let Some((index, ch)) = text.char_indices().find(|&(_, c)| u32::from(c) > 0xFF) {
        return Err(EncodeError::Unencodable { index, ch });
    }
    for ch in text.chars() {
        // Checked above: every character is <= U+00FF.
        out.put_u8(u32::from(ch) as u8);
    }
    Ok(())
}

/// Decodes ISO-8859-1; every octet is a character.
#[must_use]
pub fn decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(encode("café ÿ").unwrap(), b"caf\xe9 \xff");
        assert_eq!(decode(b"caf\xe9 \xff"), "café ÿ");
        assert_eq!(
            encode("ab€"),
            Err(EncodeError::Unencodable {
                index: 2, ch: '€'
            })
        );
        assert!(is_encodable("Ünïcödé"));
        assert!(!is_encodable("Ā"));
        let mut out = vec![9];
        assert!(encode_into("x€", &mut out).is_err());
        assert_eq!(out, [9]);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(text in "[\u{0}-\u{ff}]{0,200}") {
            let bytes = encode(&text).unwrap();
            prop_assert_eq!(bytes.len(), text.chars().count());
            prop_assert_eq!(decode(&bytes), text);
        }

        #[test]
        fn decode_encode_identity(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(encode(&decode(&bytes)).unwrap(), bytes);
        }
    }
}
