//! Cutting a byte stream into PDUs, before any field is parsed.
//!
//! As in mini-redis, a cheap check runs first: is a whole PDU in the buffer?
//! It reads only `command_length`, rejects lengths below the header and above
//! a configured maximum (so a hostile peer cannot make us buffer gigabytes),
//! and only then is exactly that slice split off and handed to the decoder. A
//! frame whose *body* is malformed is still a frame: the stream stays in sync,
//! and the session answers it with a `generic_nack`. A bad `command_length`
//! loses sync, so it is fatal to the connection.

use bytes::{Bytes, BytesMut};

use super::CommandStatus;
use super::error::{DecodeError, DecodeErrorKind};
use super::pdu::Pdu;

/// Octets in the PDU header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;

/// The default maximum PDU size. A submit_sm is at most ~1.5 KiB with TLVs; a
/// data_sm with a full message_payload could reach 64 KiB, which is allowed.
pub const DEFAULT_MAX_PDU_LEN: usize = 64 * 1024 + 1024;

/// What the buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameCheck {
    /// A whole PDU of this many octets is at the front of the buffer.
    Complete(usize),
    /// More octets are needed; the number is how many at least.
    Incomplete(usize),
}

/// Checks whether `buf` starts with a whole PDU of at most `max_len` octets.
pub fn check_frame(buf: &[u8], max_len: usize) -> Result<FrameCheck, DecodeError> {
    let Some(len_bytes) = buf.first_chunk::<4>() else {
        return Ok(FrameCheck::Incomplete(4 - buf.len()));
    };
    let len = u32::from_be_bytes(*len_bytes);
    let fatal = |kind| {
        DecodeError::new(
            kind,
            "command_length",
            0,
            CommandStatus::InvalidCommandLength,
        )
    };
    if (len as usize) < HEADER_LEN {
        return Err(fatal(DecodeErrorKind::LengthBelowHeader(len)));
    }
    if len as usize > max_len {
        return Err(fatal(DecodeErrorKind::LengthAboveMaximum {
            length: len,
            max: max_len,
        }));
    }
    let len = len as usize;
    if buf.len() < len {
        Ok(FrameCheck::Incomplete(len - buf.len()))
    } else {
        Ok(FrameCheck::Complete(len))
    }
}

/// Splits PDUs off a receive buffer.
#[derive(Debug, Clone, Copy)]
pub struct Framer {
    max_len: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(DEFAULT_MAX_PDU_LEN)
    }
}

impl Framer {
    /// A framer that rejects PDUs longer than `max_len` octets.
    pub const fn new(max_len: usize) -> Framer {
        Framer { max_len }
    }

    /// The maximum PDU length.
    pub const fn max_len(&self) -> usize {
        self.max_len
    }

    /// Splits the next whole PDU off `buf`, if there is one. An error is fatal
    /// to the connection (the stream cannot be re-synchronised).
    pub fn next_frame(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        match check_frame(buf, self.max_len)? {
            FrameCheck::Complete(len) => Ok(Some(buf.split_to(len).freeze())),
            FrameCheck::Incomplete(needed) => {
                buf.reserve(needed);
                Ok(None)
            }
        }
    }

    /// Splits and decodes the next PDU. The outer error is fatal to the
    /// connection; the inner one concerns this PDU only and should be answered
    /// (see [`DecodeError::status`]).
    #[allow(clippy::type_complexity)]
    pub fn next_pdu(
        &self,
        buf: &mut BytesMut,
    ) -> Result<Option<Result<Pdu, DecodeError>>, DecodeError> {
        Ok(self.next_frame(buf)?.map(|frame| Pdu::decode(&frame)))
    }
}
