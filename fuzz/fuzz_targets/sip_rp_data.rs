//! The RP-DATA and TPDU decoders on arbitrary bytes: never a panic.
#![no_main]

use carrier_protocol::sip::rp::{decode_rp_data, decode_tpdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rp) = decode_rp_data(data) {
        let _ = decode_tpdu(&rp.tpdu);
    }
    let _ = decode_tpdu(data);
});
