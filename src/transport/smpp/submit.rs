//! From a unit of SMS work to its `submit_sm`: addresses with the carrier's
//! TON/NPI, `data_coding`, UDHI or SAR TLVs, `message_payload` when the
//! carrier wants concatenation in the payload (or the part is too long for
//! `short_message`), and the receipt request.

use bytes::Bytes;
use carrier_protocol::smpp::pdu::SubmitSm;
use carrier_protocol::smpp::{Body, EsmClass, RegisteredDelivery, ShortMessage, Tlv, TlvTag, Tlvs};
use carrier_protocol::text::choose::Concatenation;

use super::address::AddressPlan;
use crate::transport::SmsPart;

/// The carrier's addressing for both sides of its submits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubmitAddressing {
    /// For `source_addr` (our business numbers).
    pub source: AddressPlan,
    /// For `destination_addr` (customers).
    pub dest: AddressPlan,
}

/// The submit_sm of one part; `None` only if the part cannot be carried
/// (which the planner prevents).
pub fn submit_sm(part: &SmsPart, addressing: SubmitAddressing) -> Option<Body> {
    let (source_addr_ton, source_addr_npi, source_addr) = addressing.source.encode(&part.from);
    let (dest_addr_ton, dest_addr_npi, destination_addr) = addressing.dest.encode(&part.to);
    let segment = &part.segment;
    let mut tlvs = Tlvs::new();
    let mut short_message = segment.short_message.clone();
    if let Some(sar) = segment.sar {
        tlvs.push(Tlv::u16(TlvTag::SarMsgRefNum, sar.msg_ref_num));
        tlvs.push(Tlv::u8(TlvTag::SarTotalSegments, sar.total_segments));
        tlvs.push(Tlv::u8(TlvTag::SarSegmentSeqnum, sar.segment_seqnum));
    }
    if part.concatenation == Concatenation::Payload || short_message.len() > 255 {
        tlvs.push(Tlv::new(TlvTag::MessagePayload, short_message).ok()?);
        short_message = Bytes::new();
    }
    Some(Body::SubmitSm(SubmitSm {
        source_addr_ton,
        source_addr_npi,
        source_addr,
        dest_addr_ton,
        dest_addr_npi,
        destination_addr,
        esm_class: if segment.udhi {
            EsmClass::default().with_udhi()
        } else {
            EsmClass::default()
        },
        registered_delivery: if part.receipts {
            RegisteredDelivery::FINAL_RECEIPT
        } else {
            RegisteredDelivery::default()
        },
        data_coding: part.data_coding.into(),
        short_message: ShortMessage::new(short_message).ok()?,
        tlvs,
        ..SubmitSm::default()
    }))
}
