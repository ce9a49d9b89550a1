//! From an accepted message to the PDUs that carry it: encoding choice,
//! segmentation, and the submit_sm of each segment.
//!
//! The plan is a pure function of the stored record (text, encoding,
//! reference) and the carrier's options, so a restart rebuilds exactly the
//! segments that were accepted — same split, same concatenation reference —
//! without storing PDUs.

use bytes::Bytes;
use carrier_protocol::segment::split::{Segment, Segments, SplitOptions, split};
use carrier_protocol::smpp::pdu::SubmitSm;
use carrier_protocol::smpp::{
    Body, COctetString, EsmClass, Npi, RegisteredDelivery, ShortMessage, Tlv, TlvTag, Tlvs, Ton,
};
use carrier_protocol::text::choose::{Concatenation, EncodingOptions, EncodingPlan, choose};
use carrier_protocol::text::{Encoding, gsm7};

/// Per-carrier encoding options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanOptions {
    /// Which encodings and national tables the carrier supports.
    pub encoding: EncodingOptions,
    /// Whether GSM septets are packed (default: one septet per octet).
    pub gsm7_packed: bool,
}

/// Why a text cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Too many segments.
    #[error("the text needs {0} segments; at most {1} are allowed")]
    TooLong(usize, usize),
    /// The stored encoding is not usable for the text (should not happen).
    #[error("the text cannot be encoded as {0}")]
    NotEncodable(&'static str),
}

/// Most segments a message may have.
pub const MAX_SEGMENTS: usize = 10;

/// Chooses the encoding for new text; returns the plan and its segment count.
pub fn choose_encoding(text: &str, options: &PlanOptions) -> Result<EncodingPlan, PlanError> {
    let plan = choose(text, &options.encoding);
    if plan.segments() > MAX_SEGMENTS {
        return Err(PlanError::TooLong(plan.segments(), MAX_SEGMENTS));
    }
    Ok(plan)
}

/// Rebuilds the segments of a stored message.
pub fn segments(
    text: &str,
    encoding: &str,
    reference: u16,
    options: &PlanOptions,
) -> Result<Segments, PlanError> {
    let chosen = choose(text, &options.encoding);
    let plan = if chosen.encoding().as_str() == encoding {
        chosen
    } else {
        let forced = match encoding {
            "ucs2" => Encoding::Ucs2,
            "latin1" => Encoding::Latin1,
            _ => Encoding::Gsm7,
        };
        EncodingPlan::new(
            text,
            forced,
            gsm7::Tables::DEFAULT,
            options.encoding.concatenation,
        )
        .map_err(|_| PlanError::NotEncodable(forced.as_str()))?
    };
    let split_options = SplitOptions {
        reference,
        gsm7_form: if options.gsm7_packed {
            carrier_protocol::segment::split::Gsm7Form::Packed
        } else {
            carrier_protocol::segment::split::Gsm7Form::Unpacked
        },
        max_segments: MAX_SEGMENTS,
    };
    split(&plan, &split_options).map_err(|_| PlanError::TooLong(plan.segments(), MAX_SEGMENTS))
}

/// An address for SMPP: E.164 without `+` as international/ISDN, a short
/// code as-is with TON national... (DESIGN §4.6).
pub fn smpp_address(number: &str) -> (Ton, Npi, COctetString) {
    match number.strip_prefix('+') {
        Some(digits) => (
            Ton::International,
            Npi::Isdn,
            COctetString::try_from(digits).unwrap_or_default(),
        ),
        None => (
            Ton::NetworkSpecific,
            Npi::Unknown,
            COctetString::try_from(number).unwrap_or_default(),
        ),
    }
}

/// The submit_sm of one segment.
pub fn submit_sm(
    from: &str,
    to: &str,
    segments: &Segments,
    index: usize,
    receipts: bool,
) -> Option<Body> {
    let segment: &Segment = segments.parts.get(index)?;
    let (source_addr_ton, source_addr_npi, source_addr) = smpp_address(from);
    let (dest_addr_ton, dest_addr_npi, destination_addr) = smpp_address(to);
    let mut tlvs = Tlvs::new();
    let mut short_message = segment.short_message.clone();
    if let Some(sar) = segment.sar {
        tlvs.push(Tlv::u16(TlvTag::SarMsgRefNum, sar.msg_ref_num));
        tlvs.push(Tlv::u8(TlvTag::SarTotalSegments, sar.total_segments));
        tlvs.push(Tlv::u8(TlvTag::SarSegmentSeqnum, sar.segment_seqnum));
    }
    if segments.concatenation == Concatenation::Payload || short_message.len() > 255 {
        if let Ok(tlv) = Tlv::new(TlvTag::MessagePayload, short_message.clone()) {
            tlvs.push(tlv);
        }
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
        registered_delivery: if receipts {
            RegisteredDelivery::FINAL_RECEIPT
        } else {
            RegisteredDelivery::default()
        },
        data_coding: segments.data_coding.into(),
        short_message: ShortMessage::new(short_message).ok()?,
        tlvs,
        ..SubmitSm::default()
    }))
}
