//! The field layer: a cursor over one PDU's bytes and the `Field` trait that
//! every mandatory field type implements (decode, encode, size).
//!
//! PDU bodies are declared as lists of typed fields (see `pdu.rs`); this layer
//! is what lets one declaration give the decoder, the encoder, the size
//! computation and the JSON form, so they cannot drift apart. The primitive
//! parsers are nom's, run over the frame's `&[u8]`; the results are turned into
//! `Bytes` slices of the frame with `Bytes::slice_ref`, which copies nothing.

use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u8, be_u16, be_u32};

use super::CommandStatus;
use super::error::{DecodeError, DecodeErrorKind};
use super::octets::{COctetString, ShortMessage};
use super::values::{
    DataCoding, EsmClass, InterfaceVersion, MessageState, Npi, PriorityFlag, RegisteredDelivery,
    Ton,
};

/// How a field is checked: its name (for errors and JSON), its maximum size and
/// the status a peer gets when it is malformed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub name: &'static str,
    /// Maximum size in octets, NUL included for C-octet strings.
    pub max: usize,
    pub status: CommandStatus,
}

impl Spec {
    /// A fixed-size field whose only defect can be truncation.
    pub const fn plain() -> Spec {
        Spec {
            name: "",
            max: usize::MAX,
            status: CommandStatus::InvalidCommandLength,
        }
    }

    /// A C-octet string of at most `max` octets (NUL included).
    pub const fn cstr(max: usize, status: CommandStatus) -> Spec {
        Spec {
            name: "",
            max,
            status,
        }
    }

    pub const fn named(mut self, name: &'static str) -> Spec {
        self.name = name;
        self
    }
}

/// A cursor over one PDU. Offsets in errors are relative to the PDU's first
/// header octet.
pub(crate) struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
}

type NomError<'a> = nom::error::Error<&'a [u8]>;

impl<'a> Reader<'a> {
    /// A reader over `frame`, starting at `pos`.
    pub fn new(frame: &'a Bytes, pos: usize) -> Self {
        Reader { frame, pos }
    }

    pub fn remaining(&self) -> usize {
        self.frame.len().saturating_sub(self.pos)
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        self.frame.get(self.pos..).unwrap_or(&[])
    }

    pub fn error(&self, kind: DecodeErrorKind, spec: &Spec) -> DecodeError {
        DecodeError::new(kind, spec.name, self.pos, spec.status)
    }

    fn truncated(&self, spec: &Spec) -> DecodeError {
        DecodeError::new(
            DecodeErrorKind::Truncated,
            spec.name,
            self.pos,
            CommandStatus::InvalidCommandLength,
        )
    }

    /// Runs a nom parser on the rest of the PDU and advances past what it used.
    #[inline(always)]
    fn parse<O>(
        &mut self,
        spec: &Spec,
        parser: impl FnOnce(&'a [u8]) -> nom::IResult<&'a [u8], O, NomError<'a>>,
    ) -> Result<O, DecodeError> {
        let rest = self.rest();
        match parser(rest) {
            Ok((left, out)) => {
                self.pos += rest.len() - left.len();
                Ok(out)
            }
            Err(_) => Err(self.truncated(spec)),
        }
    }

    #[inline(always)]
    pub fn u8(&mut self, spec: &Spec) -> Result<u8, DecodeError> {
        self.parse(spec, be_u8)
    }

    #[inline(always)]
    pub fn u16(&mut self, spec: &Spec) -> Result<u16, DecodeError> {
        self.parse(spec, be_u16)
    }

    #[inline(always)]
    pub fn u32(&mut self, spec: &Spec) -> Result<u32, DecodeError> {
        self.parse(spec, be_u32)
    }

    /// `n` octets as a slice of the frame.
    #[inline(always)]
    pub fn take(&mut self, n: usize, spec: &Spec) -> Result<Bytes, DecodeError> {
        let taken = self.parse(spec, |i| nom::bytes::complete::take(n)(i))?;
        Ok(self.frame.slice_ref(taken))
    }

    /// A C-octet string: octets up to a NUL within `spec.max` octets.
    #[inline(always)]
    pub fn c_octet_string(&mut self, spec: &Spec) -> Result<COctetString, DecodeError> {
        let rest = self.rest();
        let window = &rest[..rest.len().min(spec.max)];
        let parsed: nom::IResult<&[u8], &[u8], NomError<'_>> =
            nom::bytes::complete::take_till(|b| b == 0)(window);
        match parsed {
            Ok((after, text)) if !after.is_empty() => {
                self.pos += text.len() + 1;
                Ok(COctetString::from_decoded(self.frame, rest, text))
            }
            _ if rest.len() < spec.max => Err(self.truncated(spec)),
            _ => Err(self.error(DecodeErrorKind::Unterminated { max: spec.max }, spec)),
        }
    }
}

/// A mandatory field: how it is read, written and sized.
pub(crate) trait Field: Sized {
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError>;
    fn encode(&self, dst: &mut BytesMut);
    fn encoded_len(&self) -> usize;
}

impl Field for u8 {
    #[inline(always)]
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        r.u8(spec)
    }
    #[inline]
    fn encode(&self, dst: &mut BytesMut) {
        dst.put_u8(*self);
    }
    fn encoded_len(&self) -> usize {
        1
    }
}

impl Field for u32 {
    #[inline(always)]
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        r.u32(spec)
    }
    #[inline]
    fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32(*self);
    }
    fn encoded_len(&self) -> usize {
        4
    }
}

/// One-octet typed fields all decode through `From<u8>`.
macro_rules! octet_fields {
    ($($ty:ty),*) => {$(
        impl Field for $ty {
            #[inline(always)]
            fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
                r.u8(spec).map(<$ty>::from)
            }
            #[inline]
            fn encode(&self, dst: &mut BytesMut) {
                dst.put_u8(u8::from(*self));
            }
            fn encoded_len(&self) -> usize {
                1
            }
        }
    )*};
}

octet_fields!(
    Ton,
    Npi,
    EsmClass,
    RegisteredDelivery,
    DataCoding,
    PriorityFlag,
    InterfaceVersion,
    MessageState
);

impl Field for COctetString {
    #[inline(always)]
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        r.c_octet_string(spec)
    }
    #[inline]
    fn encode(&self, dst: &mut BytesMut) {
        dst.put_slice(self.as_bytes());
        dst.put_u8(0);
    }
    fn encoded_len(&self) -> usize {
        self.len() + 1
    }
}

/// `sm_length` then that many octets.
impl Field for ShortMessage {
    #[inline(always)]
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        let len_spec = Spec {
            name: "sm_length",
            ..*spec
        };
        let len = r.u8(&len_spec)?;
        r.take(usize::from(len), spec)
            .map(ShortMessage::from_decoded)
    }
    #[inline]
    fn encode(&self, dst: &mut BytesMut) {
        // ShortMessage::new guarantees at most 255 octets.
        dst.put_u8(self.len() as u8);
        dst.put_slice(self.as_bytes());
    }
    fn encoded_len(&self) -> usize {
        1 + self.len()
    }
}

macro_rules! impl_default_from_zero {
    ($($ty:ty),*) => {$(
        impl Default for $ty {
            fn default() -> Self {
                <$ty>::from(0u8)
            }
        }
    )*};
}

impl_default_from_zero!(Ton, Npi, DataCoding, PriorityFlag, MessageState);

// The enum is generated by a macro that cannot place `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for InterfaceVersion {
    fn default() -> Self {
        InterfaceVersion::V34
    }
}
