//! Encoding a [`Pdu`] into a `BytesMut`: size first, one reservation, no
//! intermediate buffers.

use bytes::BytesMut;

use super::field::Writer;

use super::frame::HEADER_LEN;

use super::pdu::Pdu;

impl Pdu {
    /// The PDU's `command_length`.
    pub fn encoded_len(&self) -> usize {
        self.len_with(self.omits_body())
    }

    #[inline(always)]
    fn len_with(&self, omit_body: bool) -> usize {
        if omit_body {
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
        let omit_body = self.omits_body();
        let len = self.len_with(omit_body);
        let start = dst.len();
        dst.resize(start + len, 0);
        let mut w = Writer::new(&mut dst[start..]);
        // A PDU is far below 4 GiB: every field is bounded and there are at
        // most 255 list entries, so the length fits in u32.
        w.u32(len as u32);
        w.u32(self.command_id().value());
        w.u32(self.command_status.value());
        w.u32(self.sequence_number);
        if !omit_body {
            self.body.encode_fields(&mut w);
        }
        debug_assert_eq!(w.mismatch(), 0, "encoded_len and encode agree");
    }

    /// The encoded PDU as a new buffer.
    pub fn to_bytes(&self) -> bytes::Bytes {
        let mut dst = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut dst);
        dst.freeze()
    }
}
