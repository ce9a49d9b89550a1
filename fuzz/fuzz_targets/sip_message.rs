//! The SIP parser and the stream framer on arbitrary bytes: never a panic,
//! a frame never longer than its input, and whatever parses writes out as
//! a message that parses back to the same start line, fields and body.
#![no_main]

use carrier_protocol::sip::{SipMessage, frame_len};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(length)) = frame_len(data) {
        assert!(length <= data.len());
    }
    if let Ok(message) = SipMessage::parse(data) {
        let again = SipMessage::parse(&message.to_bytes()).expect("the written form parses");
        assert_eq!(again.start, message.start);
        assert_eq!(again.body, message.body);
        let _ = message.vias();
        let _ = message.from_header();
        let _ = message.to_header();
        let _ = message.cseq();
        let _ = message.check_required();
    }
});
