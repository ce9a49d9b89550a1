//! Encoding a [`Pdu`] into a `BytesMut`: size first, one reservation, no
//! intermediate buffers.

use bytes::{BufMut, BytesMut};

use super::frame::HEADER_LEN;
use super::pdu::Pdu;

impl Pdu {
    /// The PDU's `command_length`.
    pub fn encoded_len(&self) -> usize {
        if self.omits_body() {
            HEADER_LEN
        } else {
            HEADER_LEN + self.body.fields_len()
        }
    }

    /// Appends the PDU to `dst`.
    ///
    /// Infallible: the field types hold only encodable values (no NUL inside a
    /// C-octet string, at most 255 octets of short_message, TLV values of at
    /// most 65535 octets).
    pub fn encode(&self, dst: &mut BytesMut) {
        let len = self.encoded_len();
        dst.reserve(len);
        // A PDU is far below 4 GiB: every field is bounded and there are at
        // most 255 list entries, so the length fits in u32.
        dst.put_u32(len as u32);
        dst.put_u32(self.command_id().value());
        dst.put_u32(self.command_status.value());
        dst.put_u32(self.sequence_number);
        if len > HEADER_LEN {
            self.body.encode_fields(dst);
        }
    }

    /// The encoded PDU as a new buffer.
    pub fn to_bytes(&self) -> bytes::Bytes {
        let mut dst = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut dst);
        dst.freeze()
    }
}
