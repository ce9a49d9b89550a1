//! The JSON form of `carrier-gateway pdu encode`: any input is either refused
//! with an error or gives a PDU whose encoding decodes and prints back to JSON
//! that parses to the same PDU.
#![no_main]

use carrier_protocol::smpp::{Pdu, json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(pdu) = json::from_json(&value) {
        let wire = pdu.to_bytes();
        let decoded = Pdu::decode(&wire).expect("encoded PDU decodes");
        let printed = json::to_json(&decoded);
        assert_eq!(json::from_json(&printed).expect("printed JSON parses"), decoded);
    }
});
