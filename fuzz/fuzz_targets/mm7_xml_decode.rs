//! MM7 SOAP parts: any input decodes or is refused, never panics; what
//! decodes and can be encoded again decodes to the same envelope.
#![no_main]

use carrier_protocol::mm7::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = decode(data) else {
        return;
    };
    // The encoder is stricter than the decoder (it insists on what
    // TS 23.140 requires), so it may refuse; what it writes must read back.
    let Ok(xml) = encode(&envelope) else {
        return;
    };
    let again = decode(&xml).expect("the encoder's output decodes");
    // A missing MM7Version is written with the version's usual text.
    let mut expected = envelope;
    if expected.mm7_version.is_none() {
        expected.mm7_version = again.mm7_version.clone();
    }
    assert_eq!(again, expected);
});
