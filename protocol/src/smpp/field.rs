//! The field layer: a cursor over one PDU's bytes and the `Field` trait that
//! every mandatory field type implements (decode, encode, size).
//!
//! PDU bodies are declared as lists of typed fields (see `pdu.rs`); this layer
//! is what lets one declaration give the decoder, the encoder, the size
//! computation and the JSON form, so they cannot drift apart. The primitive
//! parsers are nom's, run over the frame's `&[u8]`; the results are turned into
//! `Bytes` slices of the frame with `Bytes::slice_ref`, which copies nothing.

use bytes::Bytes;
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

/// A cursor over the pre-sized output of one PDU.
///
/// The encoder sizes the PDU first and resizes the output once, so each
/// field is a plain store into a slice — no capacity check per field. The
/// writer consumes its slice from the front (one length check per field,
/// no position arithmetic) and can never panic: a write that does not fit is
/// dropped and counted in `overflow`, which the encoder checks is zero.
pub(crate) struct Writer<'a> {
    rest: &'a mut [u8],
    overflow: usize,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            rest: buf,
            overflow: 0,
        }
    }

    /// Octets left unwritten plus octets that did not fit: zero when the
    /// PDU filled its buffer exactly.
    pub fn mismatch(&self) -> usize {
        self.rest.len() + self.overflow
    }

    #[inline(always)]
    pub fn u8(&mut self, v: u8) {
        match std::mem::take(&mut self.rest).split_first_mut() {
            Some((b, rest)) => {
                *b = v;
                self.rest = rest;
            }
            None => self.overflow += 1,
        }
    }

    #[inline(always)]
    pub fn u16(&mut self, v: u16) {
        self.array(v.to_be_bytes());
    }

    #[inline(always)]
    pub fn u32(&mut self, v: u32) {
        self.array(v.to_be_bytes());
    }

    /// Writes a run of octets known at compile time to be N long.
    #[inline(always)]
    pub fn array<const N: usize>(&mut self, v: [u8; N]) {
        match std::mem::take(&mut self.rest).split_first_chunk_mut::<N>() {
            Some((dst, rest)) => {
                *dst = v;
                self.rest = rest;
            }
            None => self.overflow += N,
        }
    }

    #[inline(always)]
    pub fn slice(&mut self, v: &[u8]) {
        match std::mem::take(&mut self.rest).split_at_mut_checked(v.len()) {
            Some((dst, rest)) => {
                dst.copy_from_slice(v);
                self.rest = rest;
            }
            None => self.overflow += v.len(),
        }
    }

    /// Writes the first `len` octets of a fixed-size block. When the output
    /// has room for the whole block it is copied in one fixed-size move (no
    /// call to memcpy); the octets past `len` are then overwritten by the
    /// fields that follow.
    #[inline(always)]
    pub fn block<const N: usize>(&mut self, block: &[u8; N], len: usize) {
        let len = len.min(N);
        let rest = std::mem::take(&mut self.rest);
        if rest.len() >= N {
            if let Some((dst, _)) = rest.split_first_chunk_mut::<N>() {
                *dst = *block;
            }
            self.rest = rest.get_mut(len..).unwrap_or_default();
        } else {
            self.rest = rest;
            self.slice(&block[..len]);
        }
    }
}

/// A mandatory field: how it is read, written and sized.
pub(crate) trait Field: Sized {
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError>;
    fn encode(&self, w: &mut Writer<'_>);
    fn encoded_len(&self) -> usize;
}

impl Field for u8 {
    #[inline(always)]
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        r.u8(spec)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(*self);
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
    fn encode(&self, w: &mut Writer<'_>) {
        w.u32(*self);
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
            fn encode(&self, w: &mut Writer<'_>) {
                w.u8(u8::from(*self));
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
    fn encode(&self, w: &mut Writer<'_>) {
        match self.inline_block() {
            Some((block, len)) => w.block(block, len),
            None => w.slice(self.as_bytes()),
        }
        w.u8(0);
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
    fn encode(&self, w: &mut Writer<'_>) {
        // ShortMessage::new guarantees at most 255 octets.
        w.u8(self.len() as u8);
        w.slice(self.as_bytes());
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
