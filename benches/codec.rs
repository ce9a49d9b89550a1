//! Codec micro-benchmarks, ours side by side with rusmpp in the same run.
//!
//! `cargo bench --bench codec` — figures and the machine are recorded in
//! `benches/README.md`. Each group times the same input through our code and
//! through rusmpp 0.4: its owned API (`rusmpp::Command`, what its users and
//! its tokio codec use) and, for decoding, its borrowed zero-copy API
//! (`rusmpp_core::command::borrowed::Command`), so the comparison includes
//! rusmpp's fastest path. Setup that is not part of the operation (fresh
//! input buffers) runs outside the timed section via `iter_batched`.

use std::hint::black_box;

use bytes::{BufMut, Bytes, BytesMut};
use carrier_protocol::smpp::pdu::SubmitSm;
use carrier_protocol::smpp::{
    Body, COctetString, EsmClass, Npi, Pdu, RegisteredDelivery, ShortMessage, Tlv, TlvTag, Tlvs,
    Ton,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rusmpp::decode::DecodeWithLength;
use rusmpp::encode::Length;
use rusmpp::encode::owned::Encode;

fn cs(s: &str) -> COctetString {
    COctetString::try_from(s).expect("no NUL")
}

/// A 160-character GSM text, as in a full single-part SMS.
const TEXT_160: &str = "Your appointment with Acme Support is confirmed for Tuesday at 10:30. Reply 1 to confirm, 2 to reschedule, or call 1-800-555-0100. Reply STOP to opt out.xx";

fn submit_sm() -> Pdu {
    Pdu::request(
        0x1234,
        Body::SubmitSm(SubmitSm {
            source_addr_ton: Ton::International,
            source_addr_npi: Npi::Isdn,
            source_addr: cs("15551230001"),
            dest_addr_ton: Ton::International,
            dest_addr_npi: Npi::Isdn,
            destination_addr: cs("15557654321"),
            registered_delivery: RegisteredDelivery::FINAL_RECEIPT,
            short_message: ShortMessage::new(Bytes::from_static(TEXT_160.as_bytes()))
                .expect("160 octets"),
            ..SubmitSm::default()
        }),
    )
}

/// A delivery receipt as carriers send it: Appendix B text plus the
/// receipted_message_id, message_state and network_error_code TLVs.
fn deliver_sm_receipt() -> Pdu {
    let text = "id:0123456789 sub:001 dlvrd:001 submit date:2611241030 done date:2611241031 stat:DELIVRD err:000 text:Your appointment";
    let mut tlvs = Tlvs::new();
    tlvs.push(Tlv::c_string(TlvTag::ReceiptedMessageId, b"0123456789").expect("no NUL"));
    tlvs.push(Tlv::u8(TlvTag::MessageState, 2));
    tlvs.push(Tlv::new(TlvTag::NetworkErrorCode, &[3u8, 0, 0][..]).expect("3 octets"));
    Pdu::request(
        0x4321,
        Body::DeliverSm(SubmitSm {
            source_addr_ton: Ton::International,
            source_addr_npi: Npi::Isdn,
            source_addr: cs("15557654321"),
            dest_addr_ton: Ton::International,
            dest_addr_npi: Npi::Isdn,
            destination_addr: cs("15551230001"),
            esm_class: EsmClass(EsmClass::DELIVERY_RECEIPT),
            short_message: ShortMessage::new(Bytes::from_static(text.as_bytes())).expect("short"),
            tlvs,
            ..SubmitSm::default()
        }),
    )
}

fn rusmpp_decode_owned(mut body: BytesMut) -> rusmpp::Command {
    let len = body.len();
    rusmpp::Command::decode(&mut body, len)
        .map(|(c, _)| c)
        .expect("rusmpp decodes")
}

fn rusmpp_decode_borrowed(wire: &[u8]) -> rusmpp_core::command::borrowed::Command<'_, 8> {
    use rusmpp_core::decode::borrowed::DecodeWithLength;
    rusmpp_core::command::borrowed::Command::<'_, 8>::decode(&wire[4..], wire.len() - 4)
        .map(|(c, _)| c)
        .expect("rusmpp decodes")
}

fn rusmpp_encode(command: &rusmpp::Command, dst: &mut BytesMut) {
    dst.put_u32((4 + command.length()) as u32);
    command.encode(dst);
}

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

fn codec(c: &mut Criterion) {
    pdu_benches(c, "submit_sm", submit_sm());
    pdu_benches(c, "deliver_sm_receipt", deliver_sm_receipt());
}

criterion_group!(benches, codec);
criterion_main!(benches);
