//! The two string shapes of SMPP: C-octet strings (NUL-terminated, bounded) and
//! the length-prefixed `short_message`.
//!
//! Both hold a [`Bytes`] slice of the frame they were decoded from, so decoding
//! copies nothing; their constructors enforce the invariants (no interior NUL,
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

/// A C-octet string without its terminating NUL.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct COctetString(Bytes);

impl COctetString {
    /// The empty string (a lone NUL on the wire).
    pub const fn empty() -> Self {
        COctetString(Bytes::new())
    }

    /// Wraps octets that contain no NUL.
    pub fn new(bytes: impl Into<Bytes>) -> Result<Self, OctetStringError> {
        let bytes = bytes.into();
        match bytes.iter().position(|&b| b == 0) {
            Some(i) => Err(OctetStringError::InteriorNul(i)),
            None => Ok(COctetString(bytes)),
        }
    }

    /// Used by the decoder, which has already excluded NUL.
    pub(crate) fn from_decoded(bytes: Bytes) -> Self {
        COctetString(bytes)
    }

    /// The octets, without NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// The octets as UTF-8, if they are.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Length without NUL.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether this is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for COctetString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
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
