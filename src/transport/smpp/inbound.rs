//! From a `deliver_sm` or `data_sm` that is not a receipt to the link
//! contract's [`InboundSms`]: addresses back to `+E.164`, the user data
//! (from `short_message`, or `message_payload` when that is empty) without
//! its header, the encoding named by `data_coding`, and the concatenation
//! data from the UDH or, failing that, the SAR TLVs.
//!
//! Text is not decoded here: a character can straddle two parts (a UCS-2
//! surrogate pair, a GSM escape), so the inbound path decodes the joined
//! user data once every part is in.
//!
//! Nothing a carrier sends is refused for its content: a header that cannot
//! be parsed leaves the whole user data as the message, an unknown coding
//! makes it binary.

use bytes::Bytes;
use carrier_protocol::segment::parse_udh;
use carrier_protocol::smpp::{Body, DataCoding, EsmClass, Tlvs, Ton};
use carrier_protocol::text::{DataCodingKind, Encoding, classify_data_coding};
use tracing::debug;

use super::address;
use crate::transport::{InboundConcat, InboundSms};

/// The fields an inbound message needs, from either PDU.
struct MoFields<'a> {
    source: (Ton, &'a [u8]),
    dest: (Ton, &'a [u8]),
    esm_class: EsmClass,
    data_coding: DataCoding,
    short_message: &'a [u8],
    tlvs: &'a Tlvs,
}

/// Normalizes an inbound message; `None` for PDUs that carry none.
pub fn normalize(body: &Body, received_at: u64) -> Option<InboundSms> {
    let fields = match body {
        Body::DeliverSm(sm) => MoFields {
            source: (sm.source_addr_ton, sm.source_addr.as_bytes()),
            dest: (sm.dest_addr_ton, sm.destination_addr.as_bytes()),
            esm_class: sm.esm_class,
            data_coding: sm.data_coding,
            short_message: sm.short_message.as_bytes(),
            tlvs: &sm.tlvs,
        },
        Body::DataSm(sm) => MoFields {
            source: (sm.source_addr_ton, sm.source_addr.as_bytes()),
            dest: (sm.dest_addr_ton, sm.destination_addr.as_bytes()),
            esm_class: sm.esm_class,
            data_coding: sm.data_coding,
            short_message: &[],
            tlvs: &sm.tlvs,
        },
        _ => return None,
    };
    Some(from_fields(&fields, received_at))
}

fn from_fields(f: &MoFields<'_>, received_at: u64) -> InboundSms {
    let raw: Bytes = if f.short_message.is_empty() {
        f.tlvs.message_payload().cloned().unwrap_or_default()
    } else {
        Bytes::copy_from_slice(f.short_message)
    };
    let mut user_data = raw.clone();
    let mut concat = None;
    let mut national = (None, None);
    if f.esm_class.udhi() {
        match parse_udh(&raw) {
            Ok((udh, rest)) => {
                concat = udh.concat().map(|c| InboundConcat {
                    reference: c.reference,
                    total: c.total,
                    seq: c.seq,
                });
                national = udh.national();
                user_data = raw.slice_ref(rest);
            }
            Err(e) => debug!(error = %e, "unreadable UDH; the whole user data is the message"),
        }
    }
    if concat.is_none()
        && let Some((reference, total, seq)) = f.tlvs.sar()
    {
        concat = Some(InboundConcat {
            reference,
            total,
            seq,
        });
    }
    // A "message" of one part is not concatenated.
    if concat.is_some_and(|c| c.total <= 1) {
        concat = None;
    }
    InboundSms {
        from: address::decode(f.source.0, f.source.1),
        to: address::decode(f.dest.0, f.dest.1),
        encoding: encoding_of(f.data_coding.value()),
        national,
        user_data,
        concat,
        carrier_ids: Vec::new(),
        received_at,
        media: Vec::new(),
    }
}

/// The gateway's encoding for an SMPP `data_coding`: IA5 is ASCII, a subset
/// of Latin-1; what we cannot decode as text is kept as binary.
fn encoding_of(data_coding: u8) -> Encoding {
    match classify_data_coding(data_coding) {
        DataCodingKind::Gsm7 => Encoding::Gsm7,
        DataCodingKind::Ucs2 => Encoding::Ucs2,
        DataCodingKind::Ia5 | DataCodingKind::Latin1 => Encoding::Latin1,
        DataCodingKind::Binary | DataCodingKind::Compressed | DataCodingKind::Unsupported => {
            Encoding::Binary
        }
    }
}

#[cfg(test)]
mod tests {
    use carrier_protocol::smpp::pdu::DeliverSm;
    use carrier_protocol::smpp::{COctetString, ShortMessage, Tlv, TlvTag};

    use super::*;

    fn deliver(esm: u8, dc: u8, sm: &'static [u8], tlvs: Tlvs) -> Body {
        Body::DeliverSm(DeliverSm {
            source_addr_ton: Ton::International,
            source_addr: COctetString::try_from("15557654321").expect("addr"),
            dest_addr_ton: Ton::International,
            destination_addr: COctetString::try_from("15551230001").expect("addr"),
            esm_class: EsmClass(esm),
            data_coding: dc.into(),
            short_message: ShortMessage::new(Bytes::from_static(sm)).expect("sm"),
            tlvs,
            ..DeliverSm::default()
        })
    }

    #[test]
    fn plain_gsm_text() {
        let sms = normalize(&deliver(0, 0, b"Hi", Tlvs::new()), 7).expect("mo");
        assert_eq!(sms.from, "+15557654321");
        assert_eq!(sms.to, "+15551230001");
        assert_eq!(sms.encoding, Encoding::Gsm7);
        assert_eq!(&sms.user_data[..], b"Hi");
        assert_eq!(sms.concat, None);
        assert_eq!(sms.received_at, 7);
    }

    #[test]
    fn udh_concatenation_and_national_tables() {
        // UDH: concat 8-bit ref 0x2a, 3 parts, part 2; Turkish single shift (IEI 0x24).
        let sm = b"\x08\x00\x03\x2a\x03\x02\x24\x01\x01\x00\x41";
        let sms = normalize(&deliver(0x40, 8, sm, Tlvs::new()), 0).expect("mo");
        assert_eq!(
            sms.concat,
            Some(InboundConcat {
                reference: 0x2a,
                total: 3,
                seq: 2
            })
        );
        assert_eq!(sms.encoding, Encoding::Ucs2);
        assert_eq!(&sms.user_data[..], b"\x00\x41");
        assert!(sms.national.1.is_some());
    }

    #[test]
    fn sar_tlvs_and_payload() {
        let mut tlvs = Tlvs::new();
        tlvs.push(Tlv::u16(TlvTag::SarMsgRefNum, 513));
        tlvs.push(Tlv::u8(TlvTag::SarTotalSegments, 2));
        tlvs.push(Tlv::u8(TlvTag::SarSegmentSeqnum, 1));
        tlvs.push(Tlv::new(TlvTag::MessagePayload, Bytes::from_static(b"abc")).expect("tlv"));
        let sms = normalize(&deliver(0, 3, b"", tlvs), 0).expect("mo");
        assert_eq!(
            sms.concat,
            Some(InboundConcat {
                reference: 513,
                total: 2,
                seq: 1
            })
        );
        assert_eq!(sms.encoding, Encoding::Latin1);
        assert_eq!(&sms.user_data[..], b"abc");
    }

    #[test]
    fn broken_udh_keeps_everything() {
        let sms = normalize(&deliver(0x40, 4, b"\x09\x00", Tlvs::new()), 0).expect("mo");
        assert_eq!(&sms.user_data[..], b"\x09\x00");
        assert_eq!(sms.encoding, Encoding::Binary);
        assert_eq!(sms.concat, None);
    }
}
