//! The IMDN reader on arbitrary bytes, bare and inside a MESSAGE (CPIM
//! included): never a panic.
#![no_main]

use carrier_protocol::sip::SipMessage;
use carrier_protocol::sip::imdn::{imdn_body, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data);
    if let Ok(message) = SipMessage::parse(data)
        && let Some(body) = imdn_body(&message)
    {
        let _ = parse(body);
    }
});
