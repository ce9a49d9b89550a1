//! Codec micro-benchmarks, ours side by side with rusmpp in the same run.
//!
//! `cargo bench --bench codec` — figures and the machine are recorded in
//! `benches/README.md`. Each group times the same input through our code and
//! through rusmpp 0.4: its owned API (`rusmpp::Command`, what its users and
//! its tokio codec use) and, for decoding, its borrowed zero-copy API
//! (`rusmpp_core::command::borrowed::Command`), so the comparison includes
//! rusmpp's fastest path. Setup that is not part of the operation (fresh
//! input buffers) runs outside the timed section via `iter_batched`.

mod common;

use std::hint::black_box;

use bytes::BytesMut;
use carrier_protocol::smpp::Pdu;
use common::*;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn pdu_benches(c: &mut Criterion, name: &str, pdu: Pdu) {
    let wire = pdu.to_bytes();
    let theirs = rusmpp_decode_owned(BytesMut::from(&wire[4..]));

    let mut group = c.benchmark_group(format!("decode/{name}"));
    group.bench_function("ours", |b| b.iter(|| Pdu::decode(black_box(&wire))));
    group.bench_function("rusmpp_owned", |b| {
        b.iter_batched(
            || BytesMut::from(&wire[4..]),
            |body| rusmpp_decode_owned(black_box(body)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("rusmpp_borrowed", |b| {
        b.iter(|| rusmpp_decode_borrowed(black_box(&wire)))
    });
    group.finish();

    let mut group = c.benchmark_group(format!("encode/{name}"));
    let mut dst = BytesMut::with_capacity(4096);
    group.bench_function("ours", |b| {
        b.iter(|| {
            dst.clear();
            black_box(&pdu).encode(&mut dst);
            black_box(dst.len())
        })
    });
    group.bench_function("rusmpp_owned", |b| {
        b.iter(|| {
            dst.clear();
            rusmpp_encode(black_box(&theirs), &mut dst);
            black_box(dst.len())
        })
    });
    group.finish();
}

/// GSM 03.38 encoding of a 160-character text into unpacked septets (what
/// SMPP data_coding 0 carries). rusmpp's equivalent is `Gsm7BitUnpacked`.
fn gsm_benches(c: &mut Criterion) {
    use carrier_protocol::text::choose::{EncodingOptions, choose};
    use carrier_protocol::text::gsm7::{self, Tables};
    use rusmpp::extra::encoding::gsm7bit::Gsm7BitUnpacked;

    let theirs = Gsm7BitUnpacked::new();
    assert_eq!(
        gsm7::encode_unpacked(TEXT_160, Tables::DEFAULT).expect("GSM text"),
        theirs.encode_to_vec(TEXT_160).expect("GSM text"),
        "both produce the same septets"
    );
    let mut group = c.benchmark_group("gsm7_encode_160");
    group.bench_function("ours", |b| b.iter(|| gsm_ours(TEXT_160)));
    group.bench_function("rusmpp", |b| b.iter(|| gsm_rusmpp(&theirs, TEXT_160)));
    // What the gateway really runs per message: pick the encoding with the
    // fewest segments, then encode (no rusmpp equivalent).
    let options = EncodingOptions::default();
    group.bench_function("ours_choose", |b| {
        b.iter(|| choose(black_box(TEXT_160), &options))
    });
    group.finish();
}

/// A delivery receipt from frame to correlatable fields. rusmpp has no
/// receipt parser, so its figure is the PDU decode alone: a lower bound on
/// what a rusmpp user pays before parsing the receipt text.
fn receipt_benches(c: &mut Criterion) {
    use carrier_protocol::receipt::Receipt;

    let wire = deliver_sm_receipt().to_bytes();
    let mut group = c.benchmark_group("receipt");
    group.bench_function("ours_decode_parse_normalize", |b| {
        b.iter(|| receipt_decode_parse_normalize(black_box(&wire)))
    });
    let text = receipt_text();
    group.bench_function("ours_parse_text_only", |b| {
        b.iter(|| Receipt::parse(black_box(&text)).map(|r| r.done_date.is_some()))
    });
    group.bench_function("rusmpp_owned_decode_only", |b| {
        b.iter_batched(
            || BytesMut::from(&wire[4..]),
            |body| rusmpp_decode_owned(black_box(body)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn codec(c: &mut Criterion) {
    pdu_benches(c, "submit_sm", submit_sm());
    pdu_benches(c, "deliver_sm_receipt", deliver_sm_receipt());
    gsm_benches(c);
    receipt_benches(c);
}

criterion_group!(benches, codec);
criterion_main!(benches);
