//! Inputs and operations shared by the codec benchmarks: `codec.rs`
//! (criterion, wall time) and `codec_instructions.rs` (instruction counts
//! under callgrind). Both time exactly these functions.

use std::hint::black_box;

use bytes::{BufMut, Bytes, BytesMut};
use carrier_protocol::receipt::{IdFormat, Receipt, ReceiptTlvs, normalize};
use carrier_protocol::smpp::pdu::SubmitSm;
use carrier_protocol::smpp::{
    Body, COctetString, EsmClass, Npi, Pdu, RegisteredDelivery, ShortMessage, Tlv, TlvTag, Tlvs,
    Ton,
};
use carrier_protocol::text::gsm7::{self, Tables};
use rusmpp::decode::DecodeWithLength;
use rusmpp::encode::Length;
use rusmpp::encode::owned::Encode;

pub fn cs(s: &str) -> COctetString {
    COctetString::try_from(s).expect("no NUL")
}

/// A 160-character GSM text, as in a full single-part SMS.
pub const TEXT_160: &str = "Your appointment with Acme Support is confirmed for Tuesday at 10:30. Reply 1 to confirm, 2 to reschedule, or call 1-800-555-0100. Reply STOP to opt out.xx";

pub fn submit_sm() -> Pdu {
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
pub fn deliver_sm_receipt() -> Pdu {
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

pub fn rusmpp_decode_owned(mut body: BytesMut) -> rusmpp::Command {
    let len = body.len();
    rusmpp::Command::decode(&mut body, len)
        .map(|(c, _)| c)
        .expect("rusmpp decodes")
}

pub fn rusmpp_decode_borrowed(wire: &[u8]) -> rusmpp_core::command::borrowed::Command<'_, 8> {
    use rusmpp_core::decode::borrowed::DecodeWithLength;
    rusmpp_core::command::borrowed::Command::<'_, 8>::decode(&wire[4..], wire.len() - 4)
        .map(|(c, _)| c)
        .expect("rusmpp decodes")
}

pub fn rusmpp_encode(command: &rusmpp::Command, dst: &mut BytesMut) {
    dst.put_u32((4 + command.length()) as u32);
    command.encode(dst);
}

/// Decode a receipt deliver_sm, parse its text and TLVs, and normalize the id
/// for correlation: what the gateway does per receipt.
pub fn receipt_decode_parse_normalize(wire: &Bytes) -> bool {
    let Ok(pdu) = Pdu::decode(wire) else {
        return false;
    };
    let Body::DeliverSm(sm) = &pdu.body else {
        return false;
    };
    let id = sm.tlvs.receipted_message_id();
    let tlvs = ReceiptTlvs {
        receipted_message_id: id.as_deref(),
        message_state: sm.tlvs.message_state().map(|s| s.value()),
        network_error_code: sm.tlvs.network_error_code(),
    };
    match Receipt::from_deliver_sm(sm.short_message.as_bytes(), tlvs) {
        Ok(receipt) => normalize(&receipt.id, IdFormat::Decimal).is_ok(),
        Err(_) => false,
    }
}

/// The receipt text of `deliver_sm_receipt()`.
pub fn receipt_text() -> Bytes {
    match &deliver_sm_receipt().body {
        Body::DeliverSm(sm) => sm.short_message.bytes().clone(),
        _ => Bytes::new(),
    }
}

/// GSM 03.38 unpacked septets of `text` (ours).
pub fn gsm_ours(text: &str) -> usize {
    gsm7::encode_unpacked(black_box(text), Tables::DEFAULT).map_or(0, |v| v.len())
}

/// The same with rusmpp's `Gsm7BitUnpacked`.
pub fn gsm_rusmpp(
    encoder: &rusmpp::extra::encoding::gsm7bit::Gsm7BitUnpacked,
    text: &str,
) -> usize {
    encoder
        .encode_to_vec(black_box(text))
        .map_or(0, |v| v.len())
}
