//! Decoding one complete PDU (a frame the framer has cut) into a [`Pdu`].

use bytes::Bytes;

use super::error::{DecodeError, DecodeErrorKind};
use super::field::{Reader, Spec};
use super::frame::HEADER_LEN;
use super::pdu::{Body, Pdu};
use super::{CommandId, CommandStatus};

impl Pdu {
    /// Decodes exactly one PDU. `frame` must hold the whole PDU and nothing
    /// else (`command_length == frame.len()`), as cut by [`super::Framer`].
    ///
    /// String and octet fields of the result are slices of `frame`.
    pub fn decode(frame: &Bytes) -> Result<Pdu, DecodeError> {
        let header = Spec::plain().named("command_length");
        let mut r = Reader::new(frame, 0);
        let length = r.u32(&header)?;
        if (length as usize) < HEADER_LEN {
            return Err(DecodeError::new(
                DecodeErrorKind::LengthBelowHeader(length),
                "command_length",
                0,
                CommandStatus::InvalidCommandLength,
            ));
        }
        let id = CommandId::from(r.u32(&header.named("command_id"))?);
        let status = CommandStatus::from(r.u32(&header.named("command_status"))?);
        let sequence_number = r.u32(&header.named("sequence_number"))?;
        let stamp = |mut e: DecodeError| {
            e.command_id = Some(id);
            e.sequence_number = Some(sequence_number);
            e
        };
        if length as usize != frame.len() {
            return Err(stamp(DecodeError::new(
                DecodeErrorKind::TooLong {
                    len: frame.len(),
                    max: length as usize,
                },
                "command_length",
                0,
                CommandStatus::InvalidCommandLength,
            )));
        }
        let body = if frame.len() == HEADER_LEN && !status.is_ok() && id.is_response() {
            // An error response whose body was not returned (SMPP 3.4 §4).
            Body::empty_for(id)
        } else {
            match Body::decode_for(id, &mut r) {
                Some(body) => Some(body.map_err(stamp)?),
                None => None,
            }
        };
        let Some(body) = body else {
            return Err(stamp(DecodeError::new(
                DecodeErrorKind::UnknownCommandId(id.value()),
                "command_id",
                4,
                CommandStatus::InvalidCommandId,
            )));
        };
        if r.remaining() != 0 {
            return Err(stamp(DecodeError::new(
                DecodeErrorKind::TrailingOctets(r.remaining()),
                "command_length",
                r.offset(),
                CommandStatus::InvalidCommandLength,
            )));
        }
        Ok(Pdu {
            command_status: status,
            sequence_number,
            body,
        })
    }
}
