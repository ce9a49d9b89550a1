//! A byte stream arriving in arbitrary chunks: the framer never panics,
//! never hands out a frame longer than its maximum, and stops at the first
//! fatal error as a connection would.
#![no_main]

use bytes::BytesMut;
use carrier_protocol::smpp::Framer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let framer = Framer::new(512);
    let mut buf = BytesMut::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match framer.next_pdu(&mut buf) {
                Ok(Some(pdu)) => {
                    if let Ok(pdu) = pdu {
                        assert!(pdu.encoded_len() <= 512 + 16);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(e.is_fatal_to_connection());
                    return;
                }
            }
        }
    }
});
