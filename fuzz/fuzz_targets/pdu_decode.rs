//! Any octets as one PDU: decoding never panics, and whatever decodes
//! re-encodes to a PDU that decodes to the same value.
#![no_main]

use bytes::Bytes;
use carrier_protocol::smpp::Pdu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut frame = data.to_vec();
    // Half the inputs get a consistent command_length so the body parsers are
    // reached; the other half exercise the length checks.
    if frame.len() >= 4 && frame[0] & 1 == 0 {
        let len = (frame.len() as u32).to_be_bytes();
        frame[..4].copy_from_slice(&len);
    }
    if let Ok(pdu) = Pdu::decode(&Bytes::from(frame)) {
        let wire = pdu.to_bytes();
        assert_eq!(wire.len(), pdu.encoded_len());
        let again = Pdu::decode(&wire).expect("our own encoding decodes");
        assert_eq!(again, pdu);
    }
});
