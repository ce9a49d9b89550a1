//! Reassembly driven by an arbitrary sequence of parts and clock steps: never
//! panics, and the memory bounds always hold.
#![no_main]

use std::time::{Duration, Instant};

use bytes::Bytes;
use carrier_protocol::reassembly::{Config, Part, Reassembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = Config {
        timeout: Duration::from_secs(10),
        max_pending_messages: 4,
        max_pending_bytes: 64,
    };
    let mut engine: Reassembler<u8> = Reassembler::new(config);
    let start = Instant::now();
    let mut now = start;
    for op in data.chunks(6) {
        let [key, reference, total, seq, len, step] = op else {
            break;
        };
        now += Duration::from_millis(u64::from(*step) * 50);
        let payload = Bytes::from(vec![*key; usize::from(*len % 40)]);
        let part = Part {
            key: key % 3,
            reference: u16::from(reference % 4),
            total: total % 6,
            seq: seq % 7,
            payload,
        };
        let _ = engine.insert(part, now);
        for _ in engine.handle_timeout(now) {}
        while engine.poll_expired().is_some() {}
        assert!(engine.pending_messages() <= 4);
        assert!(engine.pending_bytes() <= 64);
    }
});
