//! The MM7 codec's tests: round trips of every message in every version,
//! the required elements, xmllint on every encoded body, public test
//! vectors (see `protocol/tests/mm7_vectors/README.md`), hostile input, and
//! property tests with arbitrary text.

use std::io::Write;
use std::process::{Command, Stdio};

use proptest::prelude::*;

use super::tree::{self, XmlElement};
use super::*;

fn status(code: u16, text: &str) -> Mm7Status {
    Mm7Status {
        code: Mm7StatusCode::from_u16(code),
        text: Some(text.to_owned()),
        details: None,
    }
}

fn sender_id() -> SenderIdentification {
    SenderIdentification {
        vasp_id: Some("vasp-1".to_owned()),
        vas_id: Some("news".to_owned()),
        sender_address: Some(Mm7Address::short_code("12345")),
    }
}

fn full_submit() -> SubmitReq {
    SubmitReq {
        sender_identification: sender_id(),
        recipients: Recipients {
            to: vec![
                Mm7Address::number("+15551230001"),
                Mm7Address {
                    display_only: Some(true),
                    ..Mm7Address::rfc2822("ann@example.com")
                },
            ],
            cc: vec![Mm7Address::number("+15551230002")],
            bcc: vec![Mm7Address::short_code("777")],
        },
        service_code: Some("gold-1".to_owned()),
        linked_id: Some("mo-42".to_owned()),
        message_class: Some(MessageClass::Informational),
        time_stamp: Some("2024-05-01T10:00:00Z".to_owned()),
        earliest_delivery_time: Some("2024-05-01T10:05:00Z".to_owned()),
        expiry_date: Some("P2D".to_owned()),
        delivery_report: Some(true),
        read_reply: Some(false),
        priority: Some(Mm7Priority::High),
        subject: Some("Ärger & <Freude> \"quoted\" 'single' — 日本".to_owned()),
        charged_party: Some(ChargedParty::Sender),
        charged_party_id: Some("acct-9".to_owned()),
        distribution_indicator: Some(false),
        content: Some(ContentRef {
            href: "cid:part-1@gw.example".to_owned(),
            allow_adaptations: Some(true),
        }),
    }
}

/// One message of every kind, with most optional fields set.
fn every_message() -> Vec<Mm7Message> {
    vec![
        Mm7Message::SubmitReq(full_submit()),
        Mm7Message::SubmitRsp(SubmitRsp {
            status: status(1000, "Success"),
            message_id: Some("mmsc-123".to_owned()),
        }),
        Mm7Message::DeliverReq(DeliverReq {
            mms_relay_server_id: Some("relay-1".to_owned()),
            linked_id: Some("link-7".to_owned()),
            sender: Mm7Address::number("+15550000001"),
            recipients: Some(Recipients {
                to: vec![Mm7Address::short_code("12345")],
                ..Recipients::default()
            }),
            time_stamp: Some("2024-05-01T10:00:00Z".to_owned()),
            reply_charging_id: Some("rc-1".to_owned()),
            priority: Some(Mm7Priority::Normal),
            subject: Some("Hi".to_owned()),
            content: Some(ContentRef::cid("mo-part")),
        }),
        Mm7Message::DeliverRsp(DeliverRsp {
            status: status(1000, "Success"),
            service_code: Some("svc".to_owned()),
        }),
        Mm7Message::DeliveryReportReq(DeliveryReportReq {
            mms_relay_server_id: Some("relay-1".to_owned()),
            message_id: "mmsc-123".to_owned(),
            recipient: Mm7Address::number("+15551230001"),
            sender: Mm7Address::short_code("12345"),
            date: "2024-05-01T10:01:00Z".to_owned(),
            mm_status: MmStatus::Retrieved,
            status_text: Some("Delivered".to_owned()),
        }),
        Mm7Message::DeliveryReportRsp(StatusRsp {
            status: status(1000, "Success"),
        }),
        Mm7Message::ReadReplyReq(ReadReplyReq {
            mms_relay_server_id: None,
            message_id: "mmsc-123".to_owned(),
            recipient: Mm7Address::number("+15551230001"),
            sender: Mm7Address::short_code("12345"),
            time_stamp: "2024-05-01T11:00:00Z".to_owned(),
            mm_status: MmStatus::Read,
            status_text: None,
        }),
        Mm7Message::ReadReplyRsp(StatusRsp {
            status: status(1000, "Success"),
        }),
        Mm7Message::CancelReq(CancelReq {
            sender_identification: Some(sender_id()),
            message_id: "mmsc-123".to_owned(),
        }),
        Mm7Message::CancelRsp(StatusRsp {
            status: status(2005, "Message ID Not found"),
        }),
        Mm7Message::ReplaceReq(ReplaceReq {
            sender_identification: Some(sender_id()),
            message_id: "mmsc-123".to_owned(),
            service_code: Some("gold-1".to_owned()),
            time_stamp: Some("2024-05-01T10:00:00Z".to_owned()),
            read_reply: Some(true),
            earliest_delivery_time: Some("2024-05-01T12:00:00Z".to_owned()),
            distribution_indicator: Some(true),
            content: Some(ContentRef::cid("new-part")),
        }),
        Mm7Message::ReplaceRsp(StatusRsp {
            status: status(1000, "Success"),
        }),
        Mm7Message::RsErrorRsp(ErrorRsp {
            status: status(4006, "Service unavailable"),
        }),
        Mm7Message::VaspErrorRsp(ErrorRsp {
            status: status(2007, "Message format corrupt"),
        }),
        Mm7Message::Fault(SoapFault {
            code: "env:Server".to_owned(),
            string: "Server error".to_owned(),
            actor: Some("http://mmsc.example/mm7".to_owned()),
            detail: Some(FaultDetail::RsError(ErrorRsp {
                status: Mm7Status {
                    code: Mm7StatusCode::ServerError,
                    text: Some("Server Error".to_owned()),
                    details: Some("db <down> & retrying".to_owned()),
                },
            })),
        }),
    ]
}

fn every_envelope() -> Vec<Mm7Envelope> {
    let mut out = Vec::new();
    for version in Mm7Version::ALL {
        for message in every_message() {
            out.push(Mm7Envelope::new(version, "tx-1", message));
        }
    }
    out
}

#[test]
fn every_message_kind_is_covered() {
    let kinds: Vec<_> = every_message().iter().map(Mm7Message::kind).collect();
    for kind in Mm7MessageKind::ALL {
        assert!(kinds.contains(&kind), "{kind:?} has no sample");
    }
}

#[test]
fn every_message_round_trips_in_every_version() {
    for envelope in every_envelope() {
        let xml = encode(&envelope).expect("encodes");
        let back =
            decode(&xml).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&xml)));
        assert_eq!(back, envelope, "{}", String::from_utf8_lossy(&xml));
    }
}

/// The element reached by a `required_elements` path below `from`.
fn find_path<'a>(from: &'a XmlElement, path: &str) -> Option<&'a XmlElement> {
    path.split('/').try_fold(from, |e, step| e.child(step))
}

#[test]
fn encoded_messages_carry_their_required_elements() {
    for envelope in every_envelope() {
        let xml = encode(&envelope).expect("encodes");
        let root = tree::parse(&xml).expect("parses");
        assert_eq!(root.ns.as_deref(), Some(SOAP_ENVELOPE_NS));
        let tx = find_path(&root, "Header/TransactionID").expect("TransactionID header");
        assert_eq!(tx.ns.as_deref(), Some(envelope.version.namespace()));
        assert_eq!(tx.attr("mustUnderstand"), Some("1"));
        let body = find_path(&root, "Body")
            .and_then(XmlElement::first_child)
            .expect("body");
        let kind = envelope.message.kind();
        assert_eq!(body.name, kind.element());
        for path in required_elements(kind) {
            assert!(
                find_path(body, path).is_some(),
                "{kind:?} lacks {path}:\n{}",
                String::from_utf8_lossy(&xml)
            );
        }
        if kind != Mm7MessageKind::Fault {
            assert_eq!(body.ns.as_deref(), Some(envelope.version.namespace()));
            assert_eq!(
                find_path(body, "MM7Version").map(XmlElement::value),
                Some(envelope.version.version_text())
            );
        }
    }
}

#[test]
fn encoder_refuses_what_ts_23_140_requires_and_xml_cannot_carry() {
    let v = Mm7Version::Rel6_1_4;
    let no_recipients = SubmitReq::new(sender_id(), Recipients::default());
    assert_eq!(
        encode(&Mm7Envelope::new(
            v,
            "t",
            Mm7Message::SubmitReq(no_recipients)
        )),
        Err(Mm7EncodeError::MissingElement {
            message: "SubmitReq",
            element: "Recipients"
        })
    );
    let no_id = SubmitRsp {
        status: Mm7Status::success(),
        message_id: None,
    };
    assert!(matches!(
        encode(&Mm7Envelope::new(v, "t", Mm7Message::SubmitRsp(no_id))),
        Err(Mm7EncodeError::MissingElement {
            element: "MessageID",
            ..
        })
    ));
    // A failed submit may come without a MessageID.
    let failed = SubmitRsp {
        status: Mm7Status::new(Mm7StatusCode::AddressError),
        message_id: None,
    };
    assert!(encode(&Mm7Envelope::new(v, "t", Mm7Message::SubmitRsp(failed))).is_ok());
    let mut control = full_submit();
    control.subject = Some("bell \u{7}".to_owned());
    assert_eq!(
        encode(&Mm7Envelope::new(v, "t", Mm7Message::SubmitReq(control))),
        Err(Mm7EncodeError::InvalidChar {
            element: "Subject",
            code: 7
        })
    );
    let mut plain = full_submit();
    plain.recipients.to.push(Mm7Address {
        kind: Mm7AddressKind::Plain,
        value: "1".to_owned(),
        display_only: None,
    });
    assert_eq!(
        encode(&Mm7Envelope::new(v, "t", Mm7Message::SubmitReq(plain))),
        Err(Mm7EncodeError::UntypedAddress("To"))
    );
}

/// Runs `xmllint --noout -` on the document; `Err` carries its complaint.
fn xmllint(xml: &[u8]) -> Result<(), String> {
    let mut child = match Command::new("xmllint")
        .args(["--noout", "--nonet", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!(
            "xmllint is missing ({e}): it comes from Debian's libxml2-utils; \
             run scripts/setup-test-deps.sh"
        ),
    };
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(xml)
        .expect("write to xmllint");
    let out = child.wait_with_output().expect("xmllint runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn xmllint_finds_every_encoded_message_well_formed() {
    for envelope in every_envelope() {
        let xml = encode(&envelope).expect("encodes");
        if let Err(complaint) = xmllint(&xml) {
            panic!("{complaint}\n{}", String::from_utf8_lossy(&xml));
        }
    }
    // And the check itself bites.
    assert!(xmllint(b"<a><b></a>").is_err());
}

#[test]
fn status_codes_are_classified_by_the_documented_table() {
    use StatusClass::{Permanent as P, Success as S, Transient as T};
    let table: [(u16, StatusClass); 26] = [
        (1000, S),
        (1100, S),
        (2000, P),
        (2001, P),
        (2002, P),
        (2003, P),
        (2004, P),
        (2005, P),
        (2006, P),
        (2007, P),
        (2008, P),
        (2009, P),
        (3000, T),
        (3001, T),
        (3002, P),
        (3003, P),
        (3004, P),
        (4000, T),
        (4001, P),
        (4002, P),
        (4003, P),
        (4004, P),
        (4005, T),
        (4006, T),
        (4007, P),
        (4008, P),
    ];
    for (code, class) in table {
        let named = Mm7StatusCode::from_u16(code);
        assert!(!matches!(named, Mm7StatusCode::Other(_)), "{code} is named");
        assert_eq!(named.as_u16(), code);
        assert_eq!(named.class(), class, "{code}");
    }
    assert_eq!(Mm7StatusCode::named().count(), table.len());
    for (code, class) in [
        (1999, S),
        (2101, P),
        (3999, T),
        (4100, T),
        (6102, P),
        (0, P),
        (999, P),
    ] {
        assert_eq!(Mm7StatusCode::from_u16(code), Mm7StatusCode::Other(code));
        assert_eq!(Mm7StatusCode::from_u16(code).class(), class, "{code}");
    }
}

#[test]
fn every_mm7_namespace_is_recognised_in_its_usual_variants() {
    for v in Mm7Version::ALL {
        let ns = v.namespace();
        assert!(ns.ends_with(v.release()));
        assert_eq!(Mm7Version::from_namespace(ns), Some(v));
        let https = ns.replacen("http://", "https://", 1);
        for variant in [
            format!("{ns}/"),
            format!("{ns}.xsd"),
            ns.to_ascii_lowercase(),
            https,
            ns.replace("schema/", "\n   schema/"),
        ] {
            assert_eq!(Mm7Version::from_namespace(&variant), Some(v), "{variant}");
        }
    }
    for other in [
        "",
        "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-7-MM7-1-0",
        "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-5",
        "http://example.com/REL-6-MM7-1-4",
        "urn:REL-6-MM7-1-4",
        "http",
        "é",
    ] {
        assert_eq!(Mm7Version::from_namespace(other), None, "{other}");
    }
}

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/mm7_vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn ts_23_140_submit_example_decodes() {
    let env = decode(&vector("ts23140_submit_req.xml")).expect("decodes");
    assert_eq!(env.transaction_id.as_deref(), Some("vas00001-sub"));
    assert_eq!(env.version, Mm7Version::Rel5_1_0);
    assert_eq!(env.mm7_version.as_deref(), Some("5.3.0"));
    let Mm7Message::SubmitReq(m) = env.message else {
        panic!("not a SubmitReq: {:?}", env.message);
    };
    assert_eq!(m.sender_identification.vasp_id.as_deref(), Some("TNN"));
    assert_eq!(m.sender_identification.vas_id.as_deref(), Some("News"));
    assert_eq!(
        m.recipients.to,
        vec![
            Mm7Address::number("7255441234"),
            Mm7Address {
                display_only: Some(true),
                ..Mm7Address::rfc2822("7255442222@OMMS.com")
            }
        ]
    );
    assert_eq!(m.recipients.cc, vec![Mm7Address::number("7255443333")]);
    assert_eq!(
        m.recipients.bcc,
        vec![Mm7Address::rfc2822("7255444444@OMMS.com")]
    );
    assert_eq!(m.service_code.as_deref(), Some("gold-sp33-im42"));
    assert_eq!(m.linked_id.as_deref(), Some("mms00016666"));
    assert_eq!(m.message_class, Some(MessageClass::Informational));
    assert_eq!(m.expiry_date.as_deref(), Some("P90D"));
    assert_eq!(m.delivery_report, Some(true));
    assert_eq!(m.priority, Some(Mm7Priority::Normal));
    assert_eq!(m.charged_party, Some(ChargedParty::Sender));
    assert_eq!(m.distribution_indicator, Some(true));
    assert_eq!(m.subject.as_deref(), Some("News for today"));
    assert_eq!(
        m.content,
        Some(ContentRef {
            href: "cid:SaturnPics-01020930@news.tnn.com".to_owned(),
            allow_adaptations: Some(true)
        })
    );
}

#[test]
fn sparkpost_submit_takes_the_bodys_namespace_over_the_headers() {
    let env = decode(&vector("sparkpost_submit_req_mixed_ns.xml")).expect("decodes");
    assert_eq!(env.version, Mm7Version::Rel6_1_4);
    assert_eq!(env.transaction_id.as_deref(), Some("test_transaction_id"));
    let Mm7Message::SubmitReq(m) = env.message else {
        panic!("not a SubmitReq");
    };
    assert_eq!(m.recipients.to.len(), 2);
    assert_eq!(m.recipients.to[1].display_only, Some(true));
    assert_eq!(m.subject.as_deref(), Some("MCMT"));
    assert_eq!(
        m.content.map(|c| c.href),
        Some("cid:mm7_test_mime_content_id-1".to_owned())
    );
}

#[test]
fn sinch_delivery_report_and_its_response_decode() {
    let env = decode(&vector("sinch_delivery_report_req.xml")).expect("decodes");
    assert_eq!(env.version, Mm7Version::Rel6_1_4);
    assert_eq!(env.transaction_id.as_deref(), Some("10000001"));
    assert_eq!(
        env.message,
        Mm7Message::DeliveryReportReq(DeliveryReportReq {
            mms_relay_server_id: None,
            message_id: "369500617770864640".to_owned(),
            recipient: Mm7Address::number("16175550123"),
            sender: Mm7Address::number("111122"),
            date: "2015-03-16T14:03:51.749Z".to_owned(),
            mm_status: MmStatus::Retrieved,
            status_text: Some("Success".to_owned()),
        })
    );
    let rsp = decode(&vector("sinch_delivery_report_rsp.xml")).expect("decodes");
    let status = rsp.message.status().expect("a status");
    assert_eq!(status.code, Mm7StatusCode::Success);
    assert_eq!(status.text.as_deref(), Some("Successfully Received MMS."));
}

#[test]
fn skycore_deliver_vectors() {
    let rsp = decode(&vector("skycore_deliver_rsp_wrapped_ns.xml")).expect("decodes");
    assert_eq!(rsp.version, Mm7Version::Rel6_1_4);
    assert_eq!(rsp.message.kind(), Mm7MessageKind::DeliverRsp);

    let err = decode(&vector("skycore_deliver_req_malformed.xml")).expect_err("malformed");
    assert_eq!(err, Mm7DecodeError::UnboundPrefix("soap-env".to_owned()));

    let env = decode(&vector("skycore_deliver_req_repaired.xml")).expect("decodes");
    let Mm7Message::DeliverReq(m) = env.message else {
        panic!("not a DeliverReq");
    };
    assert_eq!(m.linked_id.as_deref(), Some("1000001"));
    assert_eq!(m.sender, Mm7Address::number("1617423433"));
    let to = m.recipients.expect("recipients").to;
    assert_eq!(to.len(), 1);
    assert_eq!(to[0].display_only, Some(false));
    assert_eq!(m.priority, Some(Mm7Priority::Normal));
    assert_eq!(
        m.content.map(|c| c.href),
        Some("cid:default.cid".to_owned())
    );
}

#[test]
fn fault_with_rs_error_detail_decodes() {
    let env = decode(&vector("fault_rs_error.xml")).expect("decodes");
    assert_eq!(env.version, Mm7Version::Rel6_1_0);
    assert_eq!(env.mm7_version.as_deref(), Some("6.3.0"));
    let Mm7Message::Fault(fault) = &env.message else {
        panic!("not a Fault");
    };
    assert_eq!(fault.code_local_name(), "Client");
    assert_eq!(fault.string, "Client error");
    let status = env.message.status().expect("status in detail");
    assert_eq!(status.code, Mm7StatusCode::AddressError);
    assert_eq!(status.code.class(), StatusClass::Permanent);
    assert_eq!(
        status.details.as_deref(),
        Some("Recipient <+99> is not an MSISDN")
    );
}

#[test]
fn every_vector_re_encodes_to_well_formed_xml_that_decodes_the_same() {
    for name in [
        "ts23140_submit_req.xml",
        "sparkpost_submit_req_mixed_ns.xml",
        "sinch_delivery_report_req.xml",
        "sinch_delivery_report_rsp.xml",
        "skycore_deliver_rsp_wrapped_ns.xml",
        "skycore_deliver_req_repaired.xml",
        "fault_rs_error.xml",
    ] {
        let env = decode(&vector(name)).expect(name);
        let xml = encode(&env).expect(name);
        xmllint(&xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decode(&xml).expect(name), env, "{name}");
    }
}

#[test]
fn prefixes_order_whitespace_and_unknown_elements_do_not_matter() {
    let xml = br#"<?xml version="1.0"?>
<!-- a comment -->
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:other">
 <S:Header><x:Trace>1</x:Trace>
  <q:TransactionID xmlns:q="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2" S:mustUnderstand="1"> t&#x31; </q:TransactionID>
 </S:Header>
 <S:Body>
  <q:SubmitRsp xmlns:q="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2">
   <q:MessageID><![CDATA[id<1>]]></q:MessageID>
   <x:Extra><Deep><Deeper/></Deep></x:Extra>
   <Status>
     <StatusText>Succ&amp;ess</StatusText>
     <StatusCode> 1000 </StatusCode>
   </Status>
   <MM7Version>5.3.0</MM7Version>
  </q:SubmitRsp>
 </S:Body>
</S:Envelope>"#;
    let env = decode(xml).expect("decodes");
    assert_eq!(env.transaction_id.as_deref(), Some("t1"));
    assert_eq!(env.version, Mm7Version::Rel5_1_2);
    assert_eq!(env.mm7_version.as_deref(), Some("5.3.0"));
    assert_eq!(
        env.message,
        Mm7Message::SubmitRsp(SubmitRsp {
            status: status(1000, "Succ&ess"),
            message_id: Some("id<1>".to_owned()),
        })
    );
}

#[test]
fn lenient_forms_seen_at_mmscs_decode() {
    // RSErrorRsp bare in the Body with StatusCode directly inside it, and an
    // unqualified body element whose namespace comes from the header.
    let xml = br#"<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><mm7:TransactionID xmlns:mm7="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2" env:mustUnderstand="1">tid </mm7:TransactionID></env:Header><env:Body><RSErrorRsp><StatusText>ported</StatusText><MM7Version>5.3.0</MM7Version><StatusCode>6102</StatusCode></RSErrorRsp></env:Body></env:Envelope>"#;
    let env = decode(xml).expect("decodes");
    assert_eq!(env.version, Mm7Version::Rel5_1_2);
    assert_eq!(
        env.message,
        Mm7Message::RsErrorRsp(ErrorRsp {
            status: Mm7Status {
                code: Mm7StatusCode::Other(6102),
                text: Some("ported".to_owned()),
                details: None
            }
        })
    );
    // Rel-5 SenderAddress as text.
    let xml = br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><CancelReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-0"><MM7Version>5.3.0</MM7Version><SenderIdentification><SenderAddress>+1555</SenderAddress></SenderIdentification><MessageID>m1</MessageID></CancelReq></e:Body></e:Envelope>"#;
    let env = decode(xml).expect("decodes");
    assert_eq!(env.transaction_id, None);
    let Mm7Message::CancelReq(m) = &env.message else {
        panic!("not a CancelReq");
    };
    let sender = m
        .sender_identification
        .as_ref()
        .and_then(|s| s.sender_address.as_ref())
        .expect("sender address");
    assert_eq!(sender.kind, Mm7AddressKind::Plain);
    assert_eq!(sender.value, "+1555");
    assert_eq!(
        decode(&encode(&env).expect("encodes")).expect("decodes"),
        env
    );
}

#[test]
fn wrong_documents_are_refused_with_the_reason() {
    let soap = r#"xmlns:e="http://schemas.xmlsoap.org/soap/envelope/""#;
    let ns = Mm7Version::Rel6_1_4.namespace();
    let cases: Vec<(String, Mm7DecodeError)> = vec![
        (String::new(), Mm7DecodeError::Empty),
        ("   ".to_owned(), Mm7DecodeError::Empty),
        (
            "<Envelope/>".to_owned(),
            Mm7DecodeError::NotSoapEnvelope("Envelope".to_owned()),
        ),
        (format!("<e:Envelope {soap}/>"), Mm7DecodeError::MissingBody),
        (
            format!("<e:Envelope {soap}><e:Body/></e:Envelope>"),
            Mm7DecodeError::MissingBody,
        ),
        (
            format!("<e:Envelope {soap}><e:Body><Hello xmlns=\"{ns}\"/></e:Body></e:Envelope>"),
            Mm7DecodeError::UnknownMessage("Hello".to_owned()),
        ),
        (
            format!(
                "<e:Envelope {soap}><e:Body><SubmitRsp xmlns=\"urn:x\"/></e:Body></e:Envelope>"
            ),
            Mm7DecodeError::UnknownNamespace("urn:x".to_owned()),
        ),
        (
            format!("<e:Envelope {soap}><e:Body><SubmitRsp/></e:Body></e:Envelope>"),
            Mm7DecodeError::MissingNamespace,
        ),
        (
            format!("<e:Envelope {soap}><e:Body><SubmitRsp xmlns=\"{ns}\"/></e:Body></e:Envelope>"),
            Mm7DecodeError::MissingElement {
                message: "SubmitRsp",
                element: "Status",
            },
        ),
        (
            format!(
                "<e:Envelope {soap}><e:Body><SubmitRsp xmlns=\"{ns}\"><Status><StatusCode>abc</StatusCode></Status></SubmitRsp></e:Body></e:Envelope>"
            ),
            Mm7DecodeError::InvalidValue {
                element: "StatusCode",
                value: "abc".to_owned(),
            },
        ),
        (
            format!(
                "<e:Envelope {soap}><e:Body><SubmitReq xmlns=\"{ns}\"><DeliveryReport>yes</DeliveryReport></SubmitReq></e:Body></e:Envelope>"
            ),
            Mm7DecodeError::InvalidValue {
                element: "DeliveryReport",
                value: "yes".to_owned(),
            },
        ),
        (
            format!(
                "<e:Envelope {soap}><e:Body><e:Fault><faultcode>e:Server</faultcode><faultstring>boom</faultstring></e:Fault></e:Body></e:Envelope>"
            ),
            Mm7DecodeError::PlainFault {
                code: "e:Server".to_owned(),
                string: "boom".to_owned(),
            },
        ),
        (
            "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>".to_owned(),
            Mm7DecodeError::Doctype,
        ),
        (
            format!("<e:Envelope {soap}>&nbsp;</e:Envelope>"),
            Mm7DecodeError::UnknownEntity("nbsp".to_owned()),
        ),
        (
            format!("<e:Envelope {soap}>&#1;</e:Envelope>"),
            Mm7DecodeError::InvalidChar(1),
        ),
        (
            format!("<e:Envelope {soap}>\u{1}</e:Envelope>"),
            Mm7DecodeError::InvalidChar(1),
        ),
        (
            format!("<e:Envelope {soap}><e:Body>"),
            Mm7DecodeError::Truncated("Body".to_owned()),
        ),
        (
            "<p:Envelope/>".to_owned(),
            Mm7DecodeError::UnboundPrefix("p".to_owned()),
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(decode(xml.as_bytes()), Err(expected), "{xml}");
    }
    assert!(matches!(
        decode(b"<?xml version=\"1.0\" encoding=\"GB2312\"?><a>\xC4\xE3</a>"),
        Err(Mm7DecodeError::NotUtf8 { declared }) if declared == "GB2312"
    ));
    assert!(matches!(
        decode(b"<a></b>"),
        Err(Mm7DecodeError::Xml { .. })
    ));
    assert!(matches!(
        decode(b"<a/><b/>"),
        Err(Mm7DecodeError::Xml { .. })
    ));
    assert!(matches!(
        decode(b"<a/>text"),
        Err(Mm7DecodeError::Xml { .. })
    ));
}

#[test]
fn limits_bound_the_work() {
    let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
    assert_eq!(
        decode(deep.as_bytes()),
        Err(Mm7DecodeError::TooDeep(MAX_DEPTH))
    );
    let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
    assert_eq!(
        decode(wide.as_bytes()),
        Err(Mm7DecodeError::TooManyElements(MAX_ELEMENTS))
    );
    let big = vec![b' '; MAX_INPUT + 1];
    assert_eq!(
        decode(&big),
        Err(Mm7DecodeError::TooLarge {
            len: MAX_INPUT + 1,
            max: MAX_INPUT
        })
    );
}

#[test]
fn every_truncation_of_every_message_is_an_error_not_a_panic() {
    let mut documents: Vec<Vec<u8>> = every_message()
        .into_iter()
        .map(|m| encode(&Mm7Envelope::new(Mm7Version::Rel6_1_4, "t", m)).expect("encodes"))
        .collect();
    documents.push(vector("ts23140_submit_req.xml"));
    documents.push(vector("fault_rs_error.xml"));
    for xml in documents {
        // The root element closes at the very end: any shorter prefix that
        // ends after the opening of the root is unfinished.
        let end = xml
            .windows(2)
            .rposition(|w| w == b"</")
            .expect("a closing tag");
        for cut in 0..end {
            assert!(
                decode(&xml[..cut]).is_err(),
                "prefix of {cut} octets decoded"
            );
        }
    }
}

#[test]
fn garbage_never_panics() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seed = encode(&Mm7Envelope::new(
        Mm7Version::Rel5_1_0,
        "t",
        Mm7Message::SubmitReq(full_submit()),
    ))
    .expect("encodes");
    for _ in 0..2000 {
        let mut xml = seed.clone();
        for _ in 0..(next() % 8 + 1) {
            let at = (next() as usize) % xml.len();
            xml[at] = next() as u8;
        }
        let _ = decode(&xml);
        let noise: Vec<u8> = (0..(next() % 200)).map(|_| next() as u8).collect();
        let _ = decode(&noise);
    }
}

/// Text as it survives a round trip: characters XML carries, without the
/// surrounding white space the decoder trims. Includes the markup
/// characters, quotes, CR/LF/TAB inside, and non-ASCII.
fn xml_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[a-zA-Z0-9 <>&\"'\\r\\n\\t;#=/:\\-\\]\\[éßЖ日本😀\u{2028}]{0,24}",
    )
    .expect("valid regex")
    .prop_map(|s| {
        s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
            .to_owned()
    })
}

fn address() -> impl Strategy<Value = Mm7Address> {
    (
        prop_oneof![
            Just(Mm7AddressKind::Number),
            Just(Mm7AddressKind::Rfc2822Address),
            Just(Mm7AddressKind::ShortCode),
        ],
        xml_text(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(kind, value, display_only)| Mm7Address {
            kind,
            value,
            display_only,
        })
}

fn content() -> impl Strategy<Value = Option<ContentRef>> {
    proptest::option::of((xml_text(), proptest::option::of(any::<bool>())).prop_map(
        |(href, allow_adaptations)| ContentRef {
            href,
            allow_adaptations,
        },
    ))
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(xml_text())
}

fn version() -> impl Strategy<Value = Mm7Version> {
    proptest::sample::select(Mm7Version::ALL.to_vec())
}

fn envelope_with(message: impl Strategy<Value = Mm7Message>) -> impl Strategy<Value = Mm7Envelope> {
    (version(), xml_text(), message).prop_map(|(v, tx, m)| Mm7Envelope::new(v, tx, m))
}

fn submit_req() -> impl Strategy<Value = Mm7Message> {
    let ids = (opt_text(), opt_text(), proptest::option::of(address()));
    let recipients = (
        proptest::collection::vec(address(), 1..4),
        proptest::collection::vec(address(), 0..3),
        proptest::collection::vec(address(), 0..3),
    );
    let texts = (
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
    );
    let flags = (
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    );
    let enums = (
        proptest::option::of(xml_text().prop_map(|t| MessageClass::from_text(&t))),
        proptest::option::of(xml_text().prop_map(|t| Mm7Priority::from_text(&t))),
        proptest::option::of(xml_text().prop_map(|t| ChargedParty::from_text(&t))),
    );
    (ids, recipients, texts, flags, enums, opt_text(), content()).prop_map(
        |(
            (vasp_id, vas_id, sender_address),
            (to, cc, bcc),
            (service_code, linked_id, time_stamp, expiry_date, subject, charged_party_id),
            (delivery_report, read_reply, distribution_indicator),
            (message_class, priority, charged_party),
            earliest_delivery_time,
            content,
        )| {
            Mm7Message::SubmitReq(SubmitReq {
                sender_identification: SenderIdentification {
                    vasp_id,
                    vas_id,
                    sender_address,
                },
                recipients: Recipients { to, cc, bcc },
                service_code,
                linked_id,
                message_class,
                time_stamp,
                earliest_delivery_time,
                expiry_date,
                delivery_report,
                read_reply,
                priority,
                subject,
                charged_party,
                charged_party_id,
                distribution_indicator,
                content,
            })
        },
    )
}

fn deliver_req() -> impl Strategy<Value = Mm7Message> {
    (
        (opt_text(), opt_text(), address()),
        proptest::option::of(proptest::collection::vec(address(), 0..3)),
        (opt_text(), opt_text(), opt_text()),
        proptest::option::of(xml_text().prop_map(|t| Mm7Priority::from_text(&t))),
        content(),
    )
        .prop_map(
            |(
                (mms_relay_server_id, linked_id, sender),
                to,
                (time_stamp, reply_charging_id, subject),
                priority,
                content,
            )| {
                Mm7Message::DeliverReq(DeliverReq {
                    mms_relay_server_id,
                    linked_id,
                    sender,
                    recipients: to.map(|to| Recipients {
                        to,
                        ..Recipients::default()
                    }),
                    time_stamp,
                    reply_charging_id,
                    priority,
                    subject,
                    content,
                })
            },
        )
}

fn delivery_report_req() -> impl Strategy<Value = Mm7Message> {
    (
        opt_text(),
        xml_text(),
        address(),
        address(),
        xml_text(),
        xml_text().prop_map(|t| MmStatus::from_text(&t)),
        opt_text(),
    )
        .prop_map(
            |(mms_relay_server_id, message_id, recipient, sender, date, mm_status, status_text)| {
                Mm7Message::DeliveryReportReq(DeliveryReportReq {
                    mms_relay_server_id,
                    message_id,
                    recipient,
                    sender,
                    date,
                    mm_status,
                    status_text,
                })
            },
        )
}

fn fault() -> impl Strategy<Value = Mm7Message> {
    (
        xml_text(),
        xml_text(),
        opt_text(),
        any::<u16>(),
        opt_text(),
        opt_text(),
        any::<bool>(),
    )
        .prop_map(|(code, string, actor, status_code, text, details, rs)| {
            let error = ErrorRsp {
                status: Mm7Status {
                    code: Mm7StatusCode::from_u16(status_code),
                    text,
                    details,
                },
            };
            Mm7Message::Fault(SoapFault {
                code,
                string,
                actor,
                detail: Some(if rs {
                    FaultDetail::RsError(error)
                } else {
                    FaultDetail::VaspError(error)
                }),
            })
        })
}

fn assert_round_trip(envelope: &Mm7Envelope) -> Result<(), TestCaseError> {
    let xml = encode(envelope).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back = decode(&xml)
        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&xml))))?;
    prop_assert_eq!(&back, envelope, "{}", String::from_utf8_lossy(&xml));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn submit_req_round_trips(envelope in envelope_with(submit_req())) {
        assert_round_trip(&envelope)?;
    }

    #[test]
    fn deliver_req_round_trips(envelope in envelope_with(deliver_req())) {
        assert_round_trip(&envelope)?;
    }

    #[test]
    fn delivery_report_req_round_trips(envelope in envelope_with(delivery_report_req())) {
        assert_round_trip(&envelope)?;
    }

    #[test]
    fn fault_round_trips(envelope in envelope_with(fault())) {
        assert_round_trip(&envelope)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
    }
}
