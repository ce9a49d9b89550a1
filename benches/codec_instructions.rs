//! Instruction counts of the codec operations, ours and rusmpp's, for a
//! comparison that does not drift on a noisy machine.
//!
//! Run `benches/instructions.sh`: it runs this program under
//! `valgrind --tool=callgrind` twice per operation (1 and 10,001 iterations)
//! and reports the difference per iteration, so setup and process start-up
//! cancel out. By hand: `codec_instructions OPERATION ITERATIONS`.

mod common;

use std::hint::black_box;

use bytes::BytesMut;
use carrier_protocol::smpp::Pdu;
use common::*;

/// One counted operation.
type Op<'a> = Box<dyn FnMut() -> usize + 'a>;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let submit = submit_sm();
    let deliver = deliver_sm_receipt();
    let submit_wire = submit.to_bytes();
    let deliver_wire = deliver.to_bytes();
    let submit_theirs = rusmpp_decode_owned(BytesMut::from(&submit_wire[4..]));
    let deliver_theirs = rusmpp_decode_owned(BytesMut::from(&deliver_wire[4..]));
    let gsm = rusmpp::extra::encoding::gsm7bit::Gsm7BitUnpacked::new();
    let text = receipt_text();
    let mut dst = BytesMut::with_capacity(4096);

    // Resolved once, outside the counted loop.
    let mut op: Op<'_> = match name.as_str() {
        "decode_submit_sm_ours" => {
            Box::new(|| Pdu::decode(black_box(&submit_wire)).is_ok() as usize)
        }
        "decode_submit_sm_rusmpp_owned" => Box::new(|| {
            let body = BytesMut::from(&submit_wire[4..]);
            rusmpp_decode_owned(black_box(body)).sequence_number as usize
        }),
        "decode_submit_sm_rusmpp_borrowed" => {
            Box::new(|| rusmpp_decode_borrowed(black_box(&submit_wire)).sequence_number as usize)
        }
        "decode_deliver_sm_receipt_ours" => {
            Box::new(|| Pdu::decode(black_box(&deliver_wire)).is_ok() as usize)
        }
        "decode_deliver_sm_receipt_rusmpp_owned" => Box::new(|| {
            let body = BytesMut::from(&deliver_wire[4..]);
            rusmpp_decode_owned(black_box(body)).sequence_number as usize
        }),
        "decode_deliver_sm_receipt_rusmpp_borrowed" => {
            Box::new(|| rusmpp_decode_borrowed(black_box(&deliver_wire)).sequence_number as usize)
        }
        // The input copy the rusmpp owned decoders need, to subtract.
        "rusmpp_owned_input_copy" => {
            Box::new(|| black_box(BytesMut::from(&submit_wire[4..])).len())
        }
        "encode_submit_sm_ours" => Box::new(|| {
            dst.clear();
            black_box(&submit).encode(&mut dst);
            dst.len()
        }),
        "encode_submit_sm_rusmpp_owned" => Box::new(|| {
            dst.clear();
            rusmpp_encode(black_box(&submit_theirs), &mut dst);
            dst.len()
        }),
        "encode_deliver_sm_receipt_ours" => Box::new(|| {
            dst.clear();
            black_box(&deliver).encode(&mut dst);
            dst.len()
        }),
        "encode_deliver_sm_receipt_rusmpp_owned" => Box::new(|| {
            dst.clear();
            rusmpp_encode(black_box(&deliver_theirs), &mut dst);
            dst.len()
        }),
        "gsm7_encode_160_ours" => Box::new(|| gsm_ours(TEXT_160)),
        "gsm7_encode_160_rusmpp" => Box::new(|| gsm_rusmpp(&gsm, TEXT_160)),
        "receipt_ours_decode_parse_normalize" => {
            Box::new(|| receipt_decode_parse_normalize(black_box(&deliver_wire)) as usize)
        }
        "receipt_ours_parse_text_only" => Box::new(|| {
            carrier_protocol::receipt::Receipt::parse(black_box(&text)).is_ok() as usize
        }),
        other => {
            eprintln!("unknown operation {other:?}");
            std::process::exit(2);
        }
    };
    let mut sink = 0usize;
    for _ in 0..n {
        sink += op();
    }
    black_box(sink);
}
