//! The streaming multipart parser on arbitrary bodies fed in arbitrary
//! chunks: it never panics, never hands out more decoded bytes than its
//! limits, and parsing in chunks finds the same parts as parsing whole.
#![no_main]

use carrier_protocol::mime::{MimeLimits, MultipartEvent, MultipartParser, parse_all};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPE: &str = "multipart/related; boundary=\"=_b\"; type=\"text/xml\"";

fn limits() -> MimeLimits {
    MimeLimits {
        max_part_bytes: 4096,
        max_total_bytes: 8192,
        max_parts: 16,
        max_depth: 3,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, body)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let whole = parse_all(CONTENT_TYPE, body, limits());
    let mut parser = MultipartParser::new(CONTENT_TYPE, limits()).expect("a valid content type");
    let mut total = 0usize;
    let mut starts = 0usize;
    let mut failed = false;
    'feed: for piece in body.chunks(chunk) {
        parser.feed(piece);
        loop {
            match parser.next_event() {
                Ok(Some(MultipartEvent::Data(d))) => total += d.len(),
                Ok(Some(MultipartEvent::PartStart { .. })) => starts += 1,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break 'feed;
                }
            }
        }
    }
    if !failed {
        parser.finish_input();
        loop {
            match parser.next_event() {
                Ok(Some(MultipartEvent::Data(d))) => total += d.len(),
                Ok(Some(MultipartEvent::PartStart { .. })) => starts += 1,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
    }
    assert!(total <= 8192);
    // Chunking does not change the outcome.
    match whole {
        Ok(parts) => {
            assert!(!failed, "whole parsed, chunks of {chunk} failed");
            assert_eq!(parts.len(), starts);
            assert_eq!(parts.iter().map(|p| p.content.len()).sum::<usize>(), total);
        }
        Err(_) => assert!(failed, "whole failed, chunks of {chunk} parsed"),
    }
});
