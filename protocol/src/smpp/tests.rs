//! PDU codec tests: the spec's own examples, hand-checked vectors, error
//! reporting, and property tests over every PDU type.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::pdu::*;
use super::*;

fn hex(s: &str) -> Bytes {
    Bytes::from(crate::hex::decode(s).expect("test vector is hex"))
}

fn cs(s: &str) -> COctetString {
    COctetString::try_from(s).expect("no NUL")
}

/// SMPP 3.4 §3.2 "Example PDU format": a bind_transmitter.
#[test]
fn spec_example_bind_transmitter() {
    let wire = hex("0000002f 00000002 00000000 00000001
         534d5050335445535400 7365637265743038 00 5355424d49543100 50 01 01 00");
    let pdu = Pdu::decode(&wire).expect("spec example decodes");
    assert_eq!(pdu.command_id(), CommandId::BindTransmitter);
    assert_eq!(pdu.sequence_number, 1);
    let Body::BindTransmitter(bind) = &pdu.body else {
        panic!("wrong body: {pdu:?}");
    };
    assert_eq!(bind.system_id, cs("SMPP3TEST"));
    assert_eq!(bind.password, cs("secret08"));
    assert_eq!(bind.system_type, cs("SUBMIT1"));
    assert_eq!(bind.interface_version, InterfaceVersion::V50);
    assert_eq!(bind.addr_ton, Ton::International);
    assert_eq!(bind.addr_npi, Npi::Isdn);
    assert!(bind.address_range.is_empty());
    assert_eq!(pdu.to_bytes(), wire);
}

fn sample_submit_sm() -> SubmitSm {
    SubmitSm {
        source_addr_ton: Ton::International,
        source_addr_npi: Npi::Isdn,
        source_addr: cs("15551230001"),
        dest_addr_ton: Ton::International,
        dest_addr_npi: Npi::Isdn,
        destination_addr: cs("15557654321"),
        registered_delivery: RegisteredDelivery::FINAL_RECEIPT,
        short_message: ShortMessage::new(&b"Hi"[..]).expect("short"),
        tlvs: Tlvs(vec![Tlv::u16(TlvTag::UserMessageReference, 7)]),
        ..SubmitSm::default()
    }
}

#[test]
fn submit_sm_vector() {
    let pdu = Pdu::request(2, Body::SubmitSm(sample_submit_sm()));
    let wire = hex("0000003f 00000004 00000000 00000002
         00 01 01 313535353132333030303100 01 01 313535353736353433323100
         00 00 00 00 00 01 00 00 00 02 4869
         0204 0002 0007");
    assert_eq!(pdu.encoded_len(), wire.len());
    assert_eq!(pdu.to_bytes(), wire);
    assert_eq!(Pdu::decode(&wire), Ok(pdu));
}

#[test]
fn error_response_without_body() {
    let wire = hex("00000010 80000004 00000058 00000009");
    let pdu = Pdu::decode(&wire).expect("bodyless error response");
    assert_eq!(pdu.command_status, CommandStatus::Throttled);
    assert_eq!(pdu.body, Body::SubmitSmResp(SubmitSmResp::default()));
    assert_eq!(pdu.to_bytes(), wire);
    // The same response with a NULL message_id also decodes.
    let with_body = hex("00000011 80000004 00000058 00000009 00");
    assert_eq!(Pdu::decode(&with_body).map(|p| p.body), Ok(pdu.body));
}

#[test]
fn errors_name_field_offset_and_status() {
    // Unknown command id: answered with ESME_RINVCMDID, sequence kept.
    let e = Pdu::decode(&hex("00000010 00000099 00000000 0000002a")).expect_err("unknown");
    assert_eq!(e.status, CommandStatus::InvalidCommandId);
    assert_eq!(e.sequence_number, Some(42));
    assert_eq!(e.field, "command_id");

    // source_addr without NUL within 21 octets.
    let mut body = vec![0u8, 1, 1];
    body.extend_from_slice(&[b'1'; 30]);
    let mut wire = BytesMut::new();
    wire.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
    wire.extend_from_slice(&hex("00000004 00000000 00000003"));
    wire.extend_from_slice(&body);
    let e = Pdu::decode(&wire.freeze()).expect_err("unterminated");
    assert_eq!(e.field, "source_addr");
    assert_eq!(e.offset, 19);
    assert_eq!(e.status, CommandStatus::InvalidSourceAddress);
    assert_eq!(e.command_id, Some(CommandId::SubmitSm));
    assert!(
        e.to_string()
            .contains("submit_sm: field `source_addr` at offset 19"),
        "{e}"
    );

    // Truncated in the middle of the mandatory fields.
    let full = Pdu::request(1, Body::SubmitSm(sample_submit_sm())).to_bytes();
    let mut cut = BytesMut::from(&full[..40]);
    cut[..4].copy_from_slice(&40u32.to_be_bytes());
    let e = Pdu::decode(&cut.freeze()).expect_err("truncated");
    assert_eq!(e.status, CommandStatus::InvalidCommandLength);
    assert_eq!(e.kind, DecodeErrorKind::Truncated);

    // A TLV that claims more than is left.
    let mut bad = BytesMut::from(&full[..]);
    let n = bad.len();
    bad[n - 3] = 0x09;
    let e = Pdu::decode(&bad.freeze()).expect_err("tlv overrun");
    assert_eq!(e.status, CommandStatus::InvalidTlvStream);

    // Octets after a body that takes no TLVs.
    let e = Pdu::decode(&hex("00000011 00000015 00000000 00000001 00")).expect_err("trailing");
    assert_eq!(e.kind, DecodeErrorKind::TrailingOctets(1));
}

#[test]
fn framer_checks_length_before_parsing() {
    let framer = Framer::new(1024);
    let pdu = Pdu::request(5, Body::EnquireLink).to_bytes();
    let mut buf = BytesMut::from(&pdu[..10]);
    assert_eq!(framer.next_frame(&mut buf), Ok(None));
    buf.extend_from_slice(&pdu[10..]);
    buf.extend_from_slice(&pdu[..3]);
    assert_eq!(framer.next_frame(&mut buf), Ok(Some(pdu.clone())));
    assert_eq!(buf.len(), 3);

    let mut huge = BytesMut::from(&hex("00100000 00000004 00000000 00000001")[..]);
    let e = framer.next_frame(&mut huge).expect_err("too long");
    assert!(e.is_fatal_to_connection());
    let mut tiny = BytesMut::from(&hex("00000008 00000004")[..]);
    assert!(
        framer
            .next_frame(&mut tiny)
            .expect_err("too short")
            .is_fatal_to_connection()
    );
}

// ---- property tests ------------------------------------------------------

/// Strategies are generic over `R`: when true, values stay within what the
/// rusmpp crate accepts (ASCII strings, absolute/relative times of exactly 16
/// characters or empty, well-formed known TLVs), for the interop tests.
fn arb_cstr<const R: bool>(max: usize) -> impl Strategy<Value = COctetString> {
    let octet = if R { 0x20u8..=0x7E } else { 1u8..=255 };
    proptest::collection::vec(octet, 0..max).prop_map(|v| COctetString::new(v).expect("no NUL"))
}

fn arb_time<const R: bool>() -> impl Strategy<Value = COctetString> {
    if R {
        prop_oneof![
            Just(COctetString::empty()),
            Just(cs("260101120000000+")),
            Just(cs("000001000000000R")),
        ]
        .boxed()
    } else {
        arb_cstr::<false>(16).boxed()
    }
}

fn arb_octets(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

fn arb_sm() -> impl Strategy<Value = ShortMessage> {
    arb_octets(255).prop_map(|b| ShortMessage::new(b).expect("at most 255"))
}

fn arb_tlv<const R: bool>() -> impl Strategy<Value = Tlv> {
    if R {
        prop_oneof![
            any::<u16>().prop_map(|v| Tlv::u16(TlvTag::UserMessageReference, v)),
            any::<u16>().prop_map(|v| Tlv::u16(TlvTag::SarMsgRefNum, v)),
            any::<u8>().prop_map(|v| Tlv::u8(TlvTag::SarTotalSegments, v)),
            arb_octets(200).prop_map(|v| Tlv::new(TlvTag::MessagePayload, v).expect("short")),
        ]
        .boxed()
    } else {
        (any::<u16>(), arb_octets(40))
            .prop_map(|(t, b)| Tlv::new(t, b).expect("short"))
            .boxed()
    }
}

fn arb_tlvs<const R: bool>() -> impl Strategy<Value = Tlvs> {
    proptest::collection::vec(arb_tlv::<R>(), 0..4).prop_map(Tlvs)
}

/// TLVs for PDUs where rusmpp models only specific typed TLVs: none in
/// rusmpp-compatible mode.
fn arb_misc_tlvs<const R: bool>() -> impl Strategy<Value = Tlvs> {
    if R {
        Just(Tlvs::new()).boxed()
    } else {
        arb_tlvs::<false>().boxed()
    }
}

fn arb_bind_resp_tlvs<const R: bool>() -> impl Strategy<Value = Tlvs> {
    if R {
        proptest::option::of(any::<u8>())
            .prop_map(|v| {
                Tlvs(
                    v.map(|v| Tlv::u8(TlvTag::ScInterfaceVersion, v))
                        .into_iter()
                        .collect(),
                )
            })
            .boxed()
    } else {
        arb_tlvs::<false>().boxed()
    }
}

fn arb_addr<const R: bool>() -> impl Strategy<Value = (Ton, Npi, COctetString)> {
    (any::<u8>(), any::<u8>(), arb_cstr::<R>(20))
        .prop_map(|(t, n, a)| (Ton::from(t), Npi::from(n), a))
}

fn arb_bind<const R: bool>() -> impl Strategy<Value = Bind> {
    (
        arb_cstr::<R>(15),
        arb_cstr::<R>(8),
        arb_cstr::<R>(12),
        any::<u8>(),
        arb_addr::<R>(),
    )
        .prop_map(
            |(system_id, password, system_type, v, (addr_ton, addr_npi, address_range))| Bind {
                system_id,
                password,
                system_type,
                interface_version: v.into(),
                addr_ton,
                addr_npi,
                address_range,
            },
        )
}

fn arb_submit<const R: bool>() -> impl Strategy<Value = SubmitSm> {
    (
        (
            arb_cstr::<R>(5),
            arb_addr::<R>(),
            arb_addr::<R>(),
            any::<[u8; 4]>(),
        ),
        (
            arb_time::<R>(),
            arb_time::<R>(),
            any::<[u8; 4]>(),
            arb_sm(),
            arb_tlvs::<R>(),
        ),
    )
        .prop_map(
            |((st, src, dst, a), (sched, valid, b, sm, tlvs))| SubmitSm {
                service_type: st,
                source_addr_ton: src.0,
                source_addr_npi: src.1,
                source_addr: src.2,
                dest_addr_ton: dst.0,
                dest_addr_npi: dst.1,
                destination_addr: dst.2,
                esm_class: EsmClass(a[0]),
                protocol_id: a[1],
                priority_flag: a[2].into(),
                schedule_delivery_time: sched,
                validity_period: valid,
                registered_delivery: RegisteredDelivery(a[3]),
                replace_if_present_flag: b[0],
                data_coding: b[1].into(),
                sm_default_msg_id: b[2],
                short_message: sm,
                tlvs,
            },
        )
}

fn arb_dests<const R: bool>() -> impl Strategy<Value = DestAddresses> {
    proptest::collection::vec(
        prop_oneof![
            arb_addr::<R>().prop_map(|(t, n, a)| DestAddress::SmeAddress {
                dest_addr_ton: t,
                dest_addr_npi: n,
                destination_addr: a,
            }),
            arb_cstr::<R>(20).prop_map(|dl_name| DestAddress::DistributionList { dl_name }),
        ],
        0..5,
    )
    .prop_map(DestAddresses)
}

fn arb_unsuccess<const R: bool>() -> impl Strategy<Value = UnsuccessSmes> {
    proptest::collection::vec((arb_addr::<R>(), any::<u32>()), 0..5).prop_map(|v| {
        UnsuccessSmes(
            v.into_iter()
                .map(|((t, n, a), s)| UnsuccessSme {
                    dest_addr_ton: t,
                    dest_addr_npi: n,
                    destination_addr: a,
                    error_status_code: s.into(),
                })
                .collect(),
        )
    })
}

fn arb_body<const R: bool>() -> impl Strategy<Value = Body> {
    let id = || arb_cstr::<R>(64);
    prop_oneof![
        Just(Body::GenericNack),
        Just(Body::Unbind),
        Just(Body::UnbindResp),
        Just(Body::EnquireLink),
        Just(Body::EnquireLinkResp),
        Just(Body::CancelSmResp),
        Just(Body::ReplaceSmResp),
        Just(Body::CancelBroadcastSmResp),
        arb_bind::<R>().prop_map(Body::BindTransmitter),
        arb_bind::<R>().prop_map(Body::BindReceiver),
        arb_bind::<R>().prop_map(Body::BindTransceiver),
        (arb_cstr::<R>(15), arb_bind_resp_tlvs::<R>())
            .prop_map(|(system_id, tlvs)| Body::BindTransceiverResp(BindResp { system_id, tlvs })),
        (arb_cstr::<R>(15), arb_bind_resp_tlvs::<R>())
            .prop_map(|(system_id, tlvs)| Body::BindReceiverResp(BindResp { system_id, tlvs })),
        (arb_cstr::<R>(15), arb_bind_resp_tlvs::<R>())
            .prop_map(|(system_id, tlvs)| Body::BindTransmitterResp(BindResp { system_id, tlvs })),
        (arb_cstr::<R>(15), arb_cstr::<R>(8)).prop_map(|(system_id, password)| Body::Outbind(
            Outbind {
                system_id,
                password
            }
        )),
        arb_submit::<R>().prop_map(Body::SubmitSm),
        arb_submit::<R>().prop_map(Body::DeliverSm),
        (id(), arb_misc_tlvs::<R>())
            .prop_map(|(message_id, tlvs)| Body::SubmitSmResp(SubmitSmResp { message_id, tlvs })),
        (id(), arb_misc_tlvs::<R>())
            .prop_map(|(message_id, tlvs)| Body::DeliverSmResp(SubmitSmResp { message_id, tlvs })),
        (arb_submit::<R>(), arb_dests::<R>()).prop_map(|(s, dest_address)| Body::SubmitMulti(
            SubmitMulti {
                service_type: s.service_type,
                source_addr_ton: s.source_addr_ton,
                source_addr_npi: s.source_addr_npi,
                source_addr: s.source_addr,
                dest_address,
                esm_class: s.esm_class,
                protocol_id: s.protocol_id,
                priority_flag: s.priority_flag,
                schedule_delivery_time: s.schedule_delivery_time,
                validity_period: s.validity_period,
                registered_delivery: s.registered_delivery,
                replace_if_present_flag: s.replace_if_present_flag,
                data_coding: s.data_coding,
                sm_default_msg_id: s.sm_default_msg_id,
                short_message: s.short_message,
                tlvs: s.tlvs,
            }
        )),
        (id(), arb_unsuccess::<R>(), arb_misc_tlvs::<R>()).prop_map(
            |(message_id, unsuccess_sme, tlvs)| {
                Body::SubmitMultiResp(SubmitMultiResp {
                    message_id,
                    unsuccess_sme,
                    tlvs,
                })
            }
        ),
        (
            arb_submit::<R>(),
            arb_cstr::<R>(if R { 20 } else { 64 }),
            arb_cstr::<R>(if R { 20 } else { 64 })
        )
            .prop_map(|(s, src, dst)| Body::DataSm(DataSm {
                service_type: s.service_type,
                source_addr_ton: s.source_addr_ton,
                source_addr_npi: s.source_addr_npi,
                source_addr: src,
                dest_addr_ton: s.dest_addr_ton,
                dest_addr_npi: s.dest_addr_npi,
                destination_addr: dst,
                esm_class: s.esm_class,
                registered_delivery: s.registered_delivery,
                data_coding: s.data_coding,
                tlvs: s.tlvs,
            })),
        (id(), arb_misc_tlvs::<R>())
            .prop_map(|(message_id, tlvs)| Body::DataSmResp(DataSmResp { message_id, tlvs })),
        (id(), arb_addr::<R>()).prop_map(|(message_id, (t, n, a))| Body::QuerySm(QuerySm {
            message_id,
            source_addr_ton: t,
            source_addr_npi: n,
            source_addr: a,
        })),
        (id(), arb_time::<R>(), any::<u8>(), any::<u8>()).prop_map(
            |(message_id, final_date, state, error_code)| Body::QuerySmResp(QuerySmResp {
                message_id,
                final_date,
                message_state: state.into(),
                error_code,
            })
        ),
        (arb_cstr::<R>(5), id(), arb_addr::<R>(), arb_addr::<R>()).prop_map(
            |(st, message_id, s, d)| {
                Body::CancelSm(CancelSm {
                    service_type: st,
                    message_id,
                    source_addr_ton: s.0,
                    source_addr_npi: s.1,
                    source_addr: s.2,
                    dest_addr_ton: d.0,
                    dest_addr_npi: d.1,
                    destination_addr: d.2,
                })
            }
        ),
        (arb_submit::<R>(), id()).prop_map(|(s, message_id)| Body::ReplaceSm(ReplaceSm {
            message_id,
            source_addr_ton: s.source_addr_ton,
            source_addr_npi: s.source_addr_npi,
            source_addr: s.source_addr,
            schedule_delivery_time: s.schedule_delivery_time,
            validity_period: s.validity_period,
            registered_delivery: s.registered_delivery,
            sm_default_msg_id: s.sm_default_msg_id,
            short_message: s.short_message,
            tlvs: if R { Tlvs::new() } else { s.tlvs },
        })),
        (arb_addr::<R>(), arb_addr::<R>(), arb_misc_tlvs::<R>()).prop_map(|(s, e, tlvs)| {
            Body::AlertNotification(AlertNotification {
                source_addr_ton: s.0,
                source_addr_npi: s.1,
                source_addr: s.2,
                esme_addr_ton: e.0,
                esme_addr_npi: e.1,
                esme_addr: e.2,
                tlvs,
            })
        }),
        (arb_submit::<R>(), id()).prop_map(|(s, message_id)| Body::BroadcastSm(BroadcastSm {
            service_type: s.service_type,
            source_addr_ton: s.source_addr_ton,
            source_addr_npi: s.source_addr_npi,
            source_addr: s.source_addr,
            message_id,
            priority_flag: s.priority_flag,
            schedule_delivery_time: s.schedule_delivery_time,
            validity_period: s.validity_period,
            replace_if_present_flag: s.replace_if_present_flag,
            data_coding: s.data_coding,
            sm_default_msg_id: s.sm_default_msg_id,
            tlvs: if R { Tlvs::new() } else { s.tlvs },
        })),
        (id(), arb_misc_tlvs::<R>()).prop_map(|(message_id, tlvs)| Body::BroadcastSmResp(
            BroadcastSmResp { message_id, tlvs }
        )),
        (id(), arb_addr::<R>(), arb_misc_tlvs::<R>()).prop_map(|(message_id, s, tlvs)| {
            Body::QueryBroadcastSm(QueryBroadcastSm {
                message_id,
                source_addr_ton: s.0,
                source_addr_npi: s.1,
                source_addr: s.2,
                tlvs,
            })
        }),
        (id(), arb_misc_tlvs::<R>()).prop_map(|(message_id, tlvs)| Body::QueryBroadcastSmResp(
            QueryBroadcastSmResp { message_id, tlvs }
        )),
        (
            arb_cstr::<R>(5),
            id(),
            arb_addr::<R>(),
            arb_misc_tlvs::<R>()
        )
            .prop_map(|(st, message_id, s, tlvs)| {
                Body::CancelBroadcastSm(CancelBroadcastSm {
                    service_type: st,
                    message_id,
                    source_addr_ton: s.0,
                    source_addr_npi: s.1,
                    source_addr: s.2,
                    tlvs,
                })
            }),
    ]
}

pub(crate) fn arb_pdu<const R: bool>() -> impl Strategy<Value = Pdu> {
    (
        arb_body::<R>(),
        any::<u32>(),
        prop_oneof![Just(0u32), any::<u32>()],
    )
        .prop_map(|(body, sequence_number, status)| {
            // Requests carry ESME_ROK.
            let status = if body.command_id().is_response() {
                status
            } else {
                0
            };
            Pdu {
                command_status: status.into(),
                sequence_number,
                body,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encode_then_decode_is_identity(pdu in arb_pdu::<false>()) {
        let wire = pdu.to_bytes();
        prop_assert_eq!(wire.len(), pdu.encoded_len());
        prop_assert_eq!(u32::from_be_bytes([wire[0], wire[1], wire[2], wire[3]]) as usize, wire.len());
        let back = Pdu::decode(&wire).expect("our own encoding decodes");
        prop_assert_eq!(&back, &pdu);
        // And bytes → PDU → bytes is stable.
        prop_assert_eq!(back.to_bytes(), wire);
    }

    #[test]
    fn decode_never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..300)) {
        if data.len() >= 4 {
            let len = (data.len() as u32).to_be_bytes();
            data[..4].copy_from_slice(&len);
        }
        let _ = Pdu::decode(&Bytes::from(data));
    }

    #[test]
    fn mutated_valid_pdus_never_panic(pdu in arb_pdu::<false>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut wire = BytesMut::from(&pdu.to_bytes()[..]);
        let n = wire.len();
        for (i, b) in flips {
            let i = 4 + i % (n - 4);
            wire[i] = b;
        }
        let _ = Pdu::decode(&wire.freeze());
    }
}
