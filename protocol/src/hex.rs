//! Lowercase hex, for the JSON form of octet strings and for test vectors.
//! Small enough that a dependency is not worth it.

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    out
}

/// Why a string is not hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// An odd number of digits.
    #[error("hex needs an even number of digits, got {0}")]
    OddLength(usize),
    /// A character that is not a hex digit.
    #[error("{ch:?} at position {index} is not a hex digit")]
    BadDigit {
        /// Where.
        index: usize,
        /// What.
        ch: char,
    },
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Bytes from hex digits (either case). ASCII whitespace is ignored, so hex
/// pasted from a capture with spaces or line breaks works.
pub fn decode(s: &str) -> Result<Vec<u8>, HexError> {
    let digits: Vec<(usize, u8)> = s
        .bytes()
        .enumerate()
        .filter(|(_, c)| !c.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(HexError::OddLength(digits.len()));
    }
    let bad = |index: usize| HexError::BadDigit {
        index,
        ch: s[index..].chars().next().unwrap_or('?'),
    };
    digits
        .chunks_exact(2)
        .map(|pair| match pair {
            [(i, hi), (j, lo)] => {
                let hi = nibble(*hi).ok_or_else(|| bad(*i))?;
                let lo = nibble(*lo).ok_or_else(|| bad(*j))?;
                Ok(hi << 4 | lo)
            }
            _ => Err(HexError::OddLength(digits.len())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_errors() {
        assert_eq!(super::encode(&[0x00, 0xAB, 0x7f]), "00ab7f");
        assert_eq!(super::decode("00AB 7f\n"), Ok(vec![0x00, 0xAB, 0x7F]));
        assert!(super::decode("abc").is_err());
        assert!(super::decode("zz").is_err());
        assert!(super::decode("é1").is_err());
    }
}
