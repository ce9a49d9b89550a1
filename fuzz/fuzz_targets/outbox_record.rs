//! Stored outbox records (`store::outbox::decode`, the binary layout and
//! the JSON of earlier versions) on arbitrary bytes: an error or a record,
//! never a panic; a record that decodes encodes again to one that decodes
//! to the same.
#![no_main]

use carrier_gateway::store::outbox::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = decode(data) {
        let stored = encode(&record).expect("a decoded record encodes");
        let again = decode(&stored).expect("an encoded record decodes");
        assert_eq!(encode(&again).expect("encodes"), stored);
    }
});
