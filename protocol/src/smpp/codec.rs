//! A `tokio-util` codec over the framer, for drivers built on `Framed`.
//!
//! Decoding yields `Result<Pdu, DecodeError>` items so that a malformed body is
//! an item the session answers with a `generic_nack`, while a framing error
//! (bad `command_length`) ends the stream as an I/O error.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use super::error::DecodeError;
use super::frame::Framer;
use super::pdu::Pdu;

/// SMPP framing for `tokio_util::codec::Framed`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmppCodec {
    framer: Framer,
}

impl SmppCodec {
    /// A codec that rejects PDUs longer than `max_len` octets.
    pub const fn new(max_len: usize) -> Self {
        SmppCodec {
            framer: Framer::new(max_len),
        }
    }
}

/// A framing error: the connection cannot continue.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The stream is out of sync.
    #[error(transparent)]
    Frame(#[from] DecodeError),
}

impl Decoder for SmppCodec {
    type Item = Result<Pdu, DecodeError>;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        Ok(self.framer.next_pdu(src)?)
    }
}

impl Encoder<&Pdu> for SmppCodec {
    type Error = CodecError;

    fn encode(&mut self, pdu: &Pdu, dst: &mut BytesMut) -> Result<(), Self::Error> {
        pdu.encode(dst);
        Ok(())
    }
}

impl Encoder<Pdu> for SmppCodec {
    type Error = CodecError;

    fn encode(&mut self, pdu: Pdu, dst: &mut BytesMut) -> Result<(), Self::Error> {
        pdu.encode(dst);
        Ok(())
    }
}
