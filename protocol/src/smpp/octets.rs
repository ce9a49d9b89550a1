//! The two string shapes of SMPP: C-octet strings (NUL-terminated, bounded) and
//! the length-prefixed `short_message`.
//!
//! `short_message` is a [`Bytes`] slice of the frame it was decoded from;
//! C-octet strings are inline when short (no reference count to touch) and
//! a slice of the frame otherwise. Their constructors enforce the invariants (no interior NUL,
//! at most 255 octets) that make encoding infallible.

use bytes::Bytes;

/// Why a value cannot be a C-octet string or a short_message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OctetStringError {
    /// A C-octet string may not contain NUL.
    #[error("a C-octet string may not contain NUL (at index {0})")]
    InteriorNul(usize),
    /// A short_message is at most 255 octets (sm_length is one octet).
    #[error("short_message is {0} octets; at most 255 fit (use message_payload)")]
    TooLong(usize),
}

/// The longest C-octet string kept inline. Addresses (20), times (16),
/// service types (5), system ids (15) and passwords (8) all fit, so decoding
/// a typical submit_sm touches no reference count for them.
const INLINE_CAP: usize = 22;

/// A C-octet string without its terminating NUL.
///
/// Short strings (the common case) are stored inline; longer ones (64-octet
/// message ids, long data_sm addresses) as a [`Bytes`] slice of their frame.
#[derive(Clone)]
pub struct COctetString(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE_CAP] },
    Shared(Bytes),
}

impl COctetString {
    /// The empty string (a lone NUL on the wire).
    pub const fn empty() -> Self {
        COctetString(Repr::Inline {
            len: 0,
            buf: [0; INLINE_CAP],
        })
    }

    /// Wraps octets that contain no NUL.
    pub fn new(bytes: impl Into<Bytes>) -> Result<Self, OctetStringError> {
        let bytes = bytes.into();
        match bytes.iter().position(|&b| b == 0) {
            Some(i) => Err(OctetStringError::InteriorNul(i)),
            None => Ok(Self::from_decoded(&bytes, &[], &bytes)),
        }
    }

    /// Used by the decoder, which has already excluded NUL: `text` is a slice
    /// of `frame` and `window` the rest of the frame from `text`'s start.
    #[inline(always)]
    pub(crate) fn from_decoded(frame: &Bytes, window: &[u8], text: &[u8]) -> Self {
        if text.len() <= INLINE_CAP {
            let mut buf = [0; INLINE_CAP];
            match window.first_chunk::<INLINE_CAP>() {
                // A fixed-size copy is two vector moves; octets past `len` are
                // never read.
                Some(chunk) => buf = *chunk,
                None => buf[..text.len()].copy_from_slice(text),
            }
            COctetString(Repr::Inline {
                len: text.len() as u8,
                buf,
            })
        } else {
            COctetString(Repr::Shared(frame.slice_ref(text)))
        }
    }

    /// The octets, without NUL.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len).min(INLINE_CAP)],
            Repr::Shared(b) => b,
        }
    }

    /// The inline storage and the string's length, when stored inline.
    #[inline(always)]
    pub(crate) fn inline_block(&self) -> Option<(&[u8; INLINE_CAP], usize)> {
        match &self.0 {
            Repr::Inline { len, buf } => Some((buf, usize::from(*len))),
            Repr::Shared(_) => None,
        }
    }

    /// The octets as UTF-8, if they are.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// Length without NUL.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether this is the empty string.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl Default for COctetString {
    fn default() -> Self {
        COctetString::empty()
    }
}

impl PartialEq for COctetString {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for COctetString {}

impl std::hash::Hash for COctetString {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::fmt::Debug for COctetString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl TryFrom<&str> for COctetString {
    type Error = OctetStringError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        COctetString::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// The `short_message` field: `sm_length` octets of user data (UDH included).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ShortMessage(Bytes);

impl ShortMessage {
    /// Wraps up to 255 octets.
    pub fn new(bytes: impl Into<Bytes>) -> Result<Self, OctetStringError> {
        let bytes = bytes.into();
        if bytes.len() > 255 {
            return Err(OctetStringError::TooLong(bytes.len()));
        }
        Ok(ShortMessage(bytes))
    }

    #[inline(always)]
    pub(crate) fn from_decoded(bytes: Bytes) -> Self {
        ShortMessage(bytes)
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// `sm_length`.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether sm_length is 0 (the text may then be in message_payload).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for ShortMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShortMessage({} octets)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_shared_strings_behave_alike() {
        assert!(std::mem::size_of::<COctetString>() <= 32);
        let short = COctetString::try_from("15551230001").expect("no NUL");
        let long = COctetString::try_from("0123456789abcdef0123456789abcdef").expect("no NUL");
        assert_eq!(short.as_bytes(), b"15551230001");
        assert_eq!(long.len(), 32);
        assert_eq!(
            short,
            COctetString::try_from("15551230001").expect("no NUL")
        );
        assert_ne!(short, long);
        assert!(COctetString::default().is_empty());
        assert!(COctetString::try_from("a\0b").is_err());
    }
}
