//! Property tests of the SIP codec: what it writes it reads back, field
//! for field; a stream of messages cut anywhere frames back into the same
//! messages; and no input, however arbitrary, makes the parser, the framer
//! or the RP-DATA decoder panic.

use carrier_protocol::sip::rp::{decode_rp_data, decode_tpdu};
use carrier_protocol::sip::{HeaderField, SipMessage, StartLine, frame_len};
use proptest::prelude::*;

/// A token for a header value or URI part.
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,20}"
}

fn number() -> impl Strategy<Value = String> {
    "\\+1[2-9][0-9]{9}"
}

prop_compose! {
    fn message()(
        from in number(),
        to in number(),
        tag in token(),
        branch in "[A-Za-z0-9]{1,16}",
        call_id in token(),
        cseq in 1u32..(1 << 31),
        extra in proptest::collection::vec((token(), token()), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..600),
        compact in any::<bool>(),
    ) -> SipMessage {
        let field = |long: &str, short: &str, value: String| HeaderField {
            name: if compact { short.to_owned() } else { long.to_owned() },
            value,
        };
        let mut headers = vec![
            field("Via", "v", format!("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{branch}")),
            HeaderField { name: "Max-Forwards".into(), value: "70".into() },
            field("From", "f", format!("<sip:{from}@example.net>;tag={tag}")),
            field("To", "t", format!("<sip:{to}@example.net>")),
            field("Call-ID", "i", call_id),
            HeaderField { name: "CSeq".into(), value: format!("{cseq} MESSAGE") },
            field("Content-Type", "c", "text/plain;charset=UTF-8".into()),
        ];
        for (name, value) in extra {
            headers.push(HeaderField { name: format!("X-{name}"), value });
        }
        SipMessage {
            start: StartLine::Request {
                method: "MESSAGE".into(),
                uri: format!("sip:{to}@example.net"),
            },
            headers,
            body,
        }
    }
}

/// A header's value as generated, by its long or compact name.
fn generated(message: &SipMessage, long: &str, short: &str) -> Option<String> {
    message
        .headers
        .iter()
        .find(|h| h.name == long || h.name == short)
        .map(|h| h.value.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn what_is_written_reads_back(message in message()) {
        let bytes = message.to_bytes();
        let parsed = SipMessage::parse(&bytes).expect("parses");
        prop_assert_eq!(&parsed.start, &message.start);
        prop_assert_eq!(&parsed.body, &message.body);
        prop_assert!(parsed.check_required().is_ok());
        prop_assert_eq!(parsed.cseq().expect("CSeq").seq, message.cseq().expect("CSeq").seq);
        prop_assert_eq!(parsed.call_id(), generated(&message, "Call-ID", "i"));
        let from = generated(&message, "From", "f").expect("From");
        let tag = from.split(";tag=").nth(1).map(str::to_owned);
        prop_assert_eq!(parsed.from_header().expect("From").tag().map(str::to_owned), tag);
        // And again: a fixed point.
        prop_assert_eq!(SipMessage::parse(&parsed.to_bytes()).expect("parses"), parsed);
    }

    #[test]
    fn a_stream_cut_anywhere_frames_back(
        messages in proptest::collection::vec(message(), 1..4),
        cuts in proptest::collection::vec(1usize..200, 0..20),
    ) {
        let mut stream = Vec::new();
        for m in &messages {
            stream.extend_from_slice(&m.to_bytes());
        }
        // Feed the stream in chunks; frame what is complete.
        let mut buffer = Vec::new();
        let mut framed = Vec::new();
        let mut at = 0;
        let mut cuts = cuts.into_iter();
        while at < stream.len() {
            let step = cuts.next().unwrap_or(stream.len());
            let end = (at + step).min(stream.len());
            buffer.extend_from_slice(&stream[at..end]);
            at = end;
            while let Ok(Some(len)) = frame_len(&buffer) {
                let frame: Vec<u8> = buffer.drain(..len).collect();
                framed.push(SipMessage::parse(&frame).expect("a framed message parses"));
            }
        }
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(framed.len(), messages.len());
        for (got, sent) in framed.iter().zip(&messages) {
            prop_assert_eq!(&got.body, &sent.body);
            prop_assert_eq!(got.call_id(), generated(sent, "Call-ID", "i"));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = SipMessage::parse(&data);
        let _ = frame_len(&data);
        if let Ok(rp) = decode_rp_data(&data) {
            let _ = decode_tpdu(&rp.tpdu);
        }
        let _ = decode_tpdu(&data);
    }

    #[test]
    fn mutated_messages_never_panic(
        message in message(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = message.to_bytes();
        for (index, byte) in flips {
            let i = index.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(parsed) = SipMessage::parse(&bytes) {
            let _ = parsed.check_required();
            let _ = parsed.vias();
            let _ = parsed.cseq();
            let _ = parsed.from_header();
            let _ = parsed.sms_body();
        }
    }
}
