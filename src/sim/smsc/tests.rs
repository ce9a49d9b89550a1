//! The simulator over real loopback sockets, driven by [`TestEsme`]: each
//! behaviour a gateway test relies on (receipts that correlate, throttling,
//! drops, resending after reconnects, MO, recording, robustness against
//! garbage) is checked end to end here, plus an opt-in throughput run.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use carrier_protocol::receipt::Receipt;
use carrier_protocol::segment::parse_udh;
use carrier_protocol::smpp::pdu::{Body, DataSm};
use carrier_protocol::smpp::session::{BindKind, CloseReason};
use carrier_protocol::smpp::{
    COctetString, CommandStatus, DataCoding, EsmClass, MessageState, Npi, RegisteredDelivery,
    ShortMessage, Tlv, TlvTag, Ton,
};
use tokio::io::AsyncReadExt as _;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use super::esme::{TestEsme, submit_sm};
use super::*;

const T: Duration = Duration::from_secs(5);

fn config() -> SmscSimConfig {
    SmscSimConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
}

async fn start(config: SmscSimConfig) -> SmscSim {
    spawn(config).await.expect("the simulator starts")
}

async fn bind(sim: &SmscSim, kind: BindKind, system_id: &str) -> TestEsme {
    let esme = TestEsme::bind(sim.local_addr(), kind, system_id, "pw")
        .await
        .expect("connects");
    assert!(esme.is_bound(), "bind refused: {:?}", esme.bind_status);
    esme
}

fn receipt_id(sm: &carrier_protocol::smpp::pdu::DeliverSm) -> String {
    let tlv = sm.tlvs.receipted_message_id().unwrap_or_default();
    String::from_utf8_lossy(&tlv).into_owned()
}

#[tokio::test]
async fn bind_submit_and_receipt_correlate() {
    let sim = start(config()).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    esme.submit(submit_sm("Hello receipt world, long text", 1), 1);
    assert!(
        esme.until(T, |e| e.answers.len() == 1 && e.delivers.len() == 1)
            .await
            .expect("io")
    );
    let answer = esme.answers[0].clone();
    assert_eq!(answer.status, CommandStatus::Ok);
    assert_eq!(answer.message_id.len(), 16);
    assert!(answer.message_id.bytes().all(|b| b.is_ascii_hexdigit()));

    let (_, receipt) = &esme.delivers[0];
    assert_eq!(receipt.esm_class, EsmClass(0x04));
    assert_eq!(receipt.source_addr.as_bytes(), b"15557654321");
    assert_eq!(receipt.destination_addr.as_bytes(), b"15551230001");
    assert_eq!(receipt.source_addr_ton, Ton::International);
    assert_eq!(receipt_id(receipt), answer.message_id);
    assert_eq!(receipt.tlvs.message_state(), Some(MessageState::Delivered));
    let text = String::from_utf8_lossy(receipt.short_message.as_bytes()).into_owned();
    assert!(text.starts_with(&format!(
        "id:{} sub:001 dlvrd:001 submit date:",
        answer.message_id
    )));
    assert!(
        text.ends_with("stat:DELIVRD err:000 text:Hello receipt world,"),
        "{text}"
    );
    let parsed = Receipt::parse(receipt.short_message.as_bytes()).expect("Appendix B");
    assert_eq!(parsed.id, answer.message_id);
    let stats = sim
        .wait_for(T, |s| s.receipts_acknowledged == 1)
        .await
        .expect("the receipt is acknowledged");
    assert_eq!(
        (stats.binds, stats.submits_accepted, stats.receipts_sent),
        (1, 1, 1)
    );

    // No receipt when none is asked for (registered_delivery 0, or 2:
    // failure only).
    esme.submit(submit_sm("no receipt", 0), 2);
    esme.submit(submit_sm("failure only", 2), 3);
    assert!(esme.until(T, |e| e.answers.len() == 3).await.expect("io"));
    esme.idle(Duration::from_millis(100)).await.expect("io");
    assert_eq!(esme.delivers.len(), 1);

    // Ids stay unique on another connection.
    let mut other = bind(&sim, BindKind::Transmitter, "gw2").await;
    other.submit(submit_sm("again", 0), 1);
    assert!(other.until(T, |e| e.answers.len() == 1).await.expect("io"));
    let ids: HashSet<&str> = esme
        .answers
        .iter()
        .chain(&other.answers)
        .map(|a| a.message_id.as_str())
        .collect();
    assert_eq!(ids.len(), 4);
}

#[tokio::test]
async fn data_sm_is_accepted_and_receipted() {
    let sim = start(config()).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    let mut tlvs = carrier_protocol::smpp::Tlvs::new();
    tlvs.push(Tlv::new(TlvTag::MessagePayload, Bytes::from_static(b"payload text")).expect("tlv"));
    let data_sm = DataSm {
        source_addr: COctetString::try_from("15551230001").expect("addr"),
        destination_addr: COctetString::try_from("15557654321").expect("addr"),
        registered_delivery: RegisteredDelivery(1),
        tlvs,
        ..DataSm::default()
    };
    esme.request(Body::DataSm(data_sm), 1);
    assert!(
        esme.until(T, |e| e.answers.len() == 1 && e.delivers.len() == 1)
            .await
            .expect("io")
    );
    assert_eq!(esme.answers[0].status, CommandStatus::Ok);
    let (_, receipt) = &esme.delivers[0];
    assert_eq!(receipt_id(receipt), esme.answers[0].message_id);
    assert!(
        String::from_utf8_lossy(receipt.short_message.as_bytes()).ends_with("text:payload text")
    );
}

#[tokio::test]
async fn throttle_every_third_submit() {
    let mut cfg = config();
    cfg.throttle_every = Some(3);
    let sim = start(cfg).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    for tag in 1..=9 {
        esme.submit(submit_sm("throttle me", 1), tag);
    }
    assert!(
        esme.until(T, |e| e.answers.len() == 9 && e.delivers.len() == 6)
            .await
            .expect("io")
    );
    for answer in &esme.answers {
        let expected = if answer.tag % 3 == 0 {
            CommandStatus::Throttled
        } else {
            CommandStatus::Ok
        };
        assert_eq!(answer.status, expected, "tag {}", answer.tag);
    }
    esme.idle(Duration::from_millis(50)).await.expect("io");
    assert_eq!(esme.delivers.len(), 6, "throttled submits get no receipt");
    let stats = sim.stats();
    assert_eq!(stats.submits_received, 9);
    assert_eq!(stats.submits_throttled, 3);
    assert_eq!(stats.submits_accepted, 6);
}

#[tokio::test]
async fn receipt_first_writes_the_receipt_before_the_response() {
    let mut cfg = config();
    cfg.receipt_first = true;
    // Ignored with receipt_first: the receipt goes at once.
    cfg.dlr_delay = Some(Duration::from_secs(60));
    let sim = start(cfg).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    for tag in 1..=3 {
        esme.submit(submit_sm("early receipt", 1), tag);
    }
    esme.submit(submit_sm("no receipt asked", 0), 4);
    assert!(
        esme.until(T, |e| e.answers.len() == 4 && e.delivers.len() == 3)
            .await
            .expect("io")
    );
    assert_eq!(esme.arrivals, "dadadaa");
    for (answer, (_, receipt)) in esme.answers.iter().zip(&esme.delivers) {
        assert_eq!(answer.status, CommandStatus::Ok);
        assert_eq!(receipt_id(receipt), answer.message_id);
        assert_eq!(receipt.tlvs.message_state(), Some(MessageState::Delivered));
    }
    sim.wait_for(T, |s| s.receipts_acknowledged == 3)
        .await
        .expect("acknowledged");

    // A transmitter cannot receive: its receipts go the usual way, to a
    // receiver of the account, after the response.
    let mut rx = bind(&sim, BindKind::Receiver, "gw2").await;
    let mut tx = bind(&sim, BindKind::Transmitter, "gw2").await;
    tx.submit(submit_sm("via the receiver", 1), 1);
    assert!(tx.until(T, |e| e.answers.len() == 1).await.expect("io"));
    assert!(rx.until(T, |e| e.delivers.len() == 1).await.expect("io"));
    assert_eq!(receipt_id(&rx.delivers[0].1), tx.answers[0].message_id);
}

#[tokio::test]
async fn fail_every_second_accepted_submit_is_undeliverable() {
    let mut cfg = config();
    cfg.fail_every = Some(2);
    let sim = start(cfg).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    // The third asks for no receipt but still counts.
    esme.submit(submit_sm("one", 1), 1);
    esme.submit(submit_sm("two", 1), 2);
    esme.submit(submit_sm("three", 0), 3);
    esme.submit(submit_sm("four", 1), 4);
    esme.submit(submit_sm("five", 1), 5);
    esme.submit(submit_sm("six", 1), 6);
    assert!(
        esme.until(T, |e| e.answers.len() == 6 && e.delivers.len() == 5)
            .await
            .expect("io")
    );
    let tag_of: std::collections::HashMap<String, u64> = esme
        .answers
        .iter()
        .map(|a| (a.message_id.clone(), a.tag))
        .collect();
    for (_, receipt) in &esme.delivers {
        let tag = tag_of[&receipt_id(receipt)];
        let text = String::from_utf8_lossy(receipt.short_message.as_bytes()).into_owned();
        let parsed = Receipt::parse(receipt.short_message.as_bytes()).expect("Appendix B");
        if tag.is_multiple_of(2) {
            assert_eq!(
                receipt.tlvs.message_state(),
                Some(MessageState::Undeliverable),
                "tag {tag}"
            );
            assert!(text.contains("stat:UNDELIV err:001"), "{text}");
            assert_eq!(
                parsed.stat,
                carrier_protocol::receipt::ReceiptState::Undeliverable
            );
        } else {
            assert_eq!(receipt.tlvs.message_state(), Some(MessageState::Delivered));
            assert!(text.contains("stat:DELIVRD err:000"), "{text}");
        }
    }
}

#[tokio::test]
async fn receipts_for_any_id_from_the_mo_file_and_the_handle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mo.jsonl");
    std::fs::write(
        &path,
        "{\"receipt_for\": \"never-sent-1\", \"stat\": \"EXPIRED\", \"delay_ms\": 0}\n\
         {\"receipt_for\": \"never-sent-2\", \"from\": \"+15557654321\", \"to\": \"+15551230001\"}\n",
    )
    .expect("write");
    let mut cfg = config();
    cfg.mo_file = Some(path);
    let sim = start(cfg).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    assert!(esme.until(T, |e| e.delivers.len() == 2).await.expect("io"));
    let (_, first) = &esme.delivers[0];
    assert_eq!(first.esm_class, EsmClass(0x04));
    assert_eq!(receipt_id(first), "never-sent-1");
    assert_eq!(first.tlvs.message_state(), Some(MessageState::Expired));
    assert_eq!(first.source_addr.as_bytes(), b"");
    let parsed = Receipt::parse(first.short_message.as_bytes()).expect("Appendix B");
    assert_eq!(parsed.id, "never-sent-1");
    let (_, second) = &esme.delivers[1];
    assert_eq!(receipt_id(second), "never-sent-2");
    assert_eq!(second.tlvs.message_state(), Some(MessageState::Delivered));
    assert_eq!(second.source_addr.as_bytes(), b"15557654321");
    assert_eq!(second.destination_addr.as_bytes(), b"15551230001");

    sim.inject_receipt("by-hand", MessageState::Rejected, None, None)
        .expect("valid");
    assert!(esme.until(T, |e| e.delivers.len() == 3).await.expect("io"));
    assert_eq!(receipt_id(&esme.delivers[2].1), "by-hand");
    assert_eq!(
        esme.delivers[2].1.tlvs.message_state(),
        Some(MessageState::Rejected)
    );
    assert!(matches!(
        sim.inject_receipt("", MessageState::Delivered, None, None),
        Err(MoError::InvalidReceiptId(_))
    ));
    let stats = sim
        .wait_for(T, |s| s.receipts_acknowledged == 3)
        .await
        .expect("acknowledged");
    assert_eq!(stats.receipts_sent, 3);
}

#[tokio::test]
async fn drop_after_closes_without_answering_and_repeats_per_connection() {
    let mut cfg = config();
    cfg.drop_after = Some(3);
    cfg.dlr_delay = None;
    let sim = start(cfg).await;
    for round in 1..=2u64 {
        let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
        for tag in 1..=5 {
            esme.submit(submit_sm("drop me", 1), tag);
        }
        assert!(
            !esme.until(T, |_| false).await.expect("io"),
            "the connection closes"
        );
        assert_eq!(esme.closed, Some(CloseReason::Disconnected));
        let tags: Vec<u64> = esme.answers.iter().map(|a| a.tag).collect();
        assert_eq!(
            tags,
            vec![1, 2],
            "round {round}: only the first two answered"
        );
        assert!(esme.answers.iter().all(|a| a.status == CommandStatus::Ok));
        let stats = sim
            .wait_for(T, |s| s.active_connections == 0)
            .await
            .expect("closed");
        assert_eq!(stats.connections_dropped, round);
        assert_eq!(stats.submits_accepted, 2 * round);
        assert_eq!(stats.submits_received, 3 * round);
    }
}

#[tokio::test]
async fn unacknowledged_receipts_are_resent_after_reconnect() {
    let sim = start(config()).await;
    let mut first = bind(&sim, BindKind::Transceiver, "gw").await;
    first.auto_ack = false;
    for tag in 1..=3 {
        first.submit(submit_sm("resend me", 1), tag);
    }
    assert!(
        first
            .until(T, |e| e.answers.len() == 3 && e.delivers.len() == 3)
            .await
            .expect("io")
    );
    // Acknowledge one; the other two stay pending when the link dies.
    let (seq, acked) = first.delivers[0].clone();
    first.ack(seq, CommandStatus::Ok);
    first.flush().await.expect("io");
    sim.wait_for(T, |s| s.receipts_acknowledged == 1)
        .await
        .expect("the first receipt is acknowledged");
    assert_eq!(sim.drop_connections(), 1);
    assert!(!first.until(T, |_| false).await.expect("io"));
    sim.wait_for(T, |s| s.active_connections == 0)
        .await
        .expect("dropped");
    assert_eq!(sim.parked(), 2, "kept for the account");

    let mut second = bind(&sim, BindKind::Receiver, "gw").await;
    assert!(
        second
            .until(T, |e| e.delivers.len() == 2)
            .await
            .expect("io")
    );
    let resent: HashSet<String> = second
        .delivers
        .iter()
        .map(|(_, sm)| receipt_id(sm))
        .collect();
    let expected: HashSet<String> = first
        .answers
        .iter()
        .map(|a| a.message_id.clone())
        .filter(|id| *id != receipt_id(&acked))
        .collect();
    assert_eq!(resent, expected);
    let stats = sim
        .wait_for(T, |s| s.receipts_acknowledged == 3)
        .await
        .expect("all acknowledged");
    assert_eq!(stats.receipts_sent, 5);
    assert_eq!(sim.parked(), 0);
}

#[tokio::test]
async fn receipts_answered_with_errors_are_retried_unless_permanent() {
    let sim = start(config()).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    esme.auto_ack = false;
    esme.submit(submit_sm("transient", 1), 1);
    esme.submit(submit_sm("permanent", 1), 2);
    assert!(esme.until(T, |e| e.delivers.len() == 2).await.expect("io"));
    let (seq_a, first) = esme.delivers[0].clone();
    let (seq_b, _) = esme.delivers[1].clone();
    esme.ack(seq_a, CommandStatus::TemporaryAppError);
    esme.ack(seq_b, CommandStatus::PermanentAppError);
    let answered = Instant::now();
    assert!(esme.until(T, |e| e.delivers.len() == 3).await.expect("io"));
    assert!(
        answered.elapsed() >= Duration::from_millis(900),
        "retried after a pause"
    );
    let (seq_c, again) = esme.delivers[2].clone();
    assert_eq!(receipt_id(&again), receipt_id(&first));
    esme.ack(seq_c, CommandStatus::Ok);
    esme.flush().await.expect("io");
    let stats = sim
        .wait_for(T, |s| s.receipts_acknowledged == 1)
        .await
        .expect("acknowledged");
    assert_eq!((stats.deliver_errors, stats.receipts_sent), (2, 3));
    esme.idle(Duration::from_millis(1200)).await.expect("io");
    assert_eq!(esme.delivers.len(), 3, "a permanent refusal is not retried");
}

#[tokio::test]
async fn receipts_follow_the_account_to_a_receiver_bind() {
    let mut cfg = config();
    cfg.dlr_delay = Some(Duration::from_millis(20));
    let sim = start(cfg).await;
    let mut tx = bind(&sim, BindKind::Transmitter, "gw").await;
    tx.submit(submit_sm("one", 1), 1);
    tx.submit(submit_sm("two", 1), 2);
    assert!(tx.until(T, |e| e.answers.len() == 2).await.expect("io"));
    tokio::time::timeout(T, async {
        while sim.parked() < 2 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("parked while no receiver of the account is bound");

    let mut stranger = bind(&sim, BindKind::Receiver, "other").await;
    let mut rx = bind(&sim, BindKind::Receiver, "gw").await;
    assert!(rx.until(T, |e| e.delivers.len() == 2).await.expect("io"));
    let got: HashSet<String> = rx.delivers.iter().map(|(_, sm)| receipt_id(sm)).collect();
    let sent: HashSet<String> = tx.answers.iter().map(|a| a.message_id.clone()).collect();
    assert_eq!(got, sent);

    // Later receipts go straight to the receiver, never to the stranger.
    tx.submit(submit_sm("three", 1), 3);
    tx.flush().await.expect("io");
    assert!(rx.until(T, |e| e.delivers.len() == 3).await.expect("io"));
    stranger.idle(Duration::from_millis(50)).await.expect("io");
    assert!(stranger.delivers.is_empty());
    tx.idle(Duration::from_millis(10)).await.expect("io");
    assert!(
        tx.delivers.is_empty(),
        "a transmitter never gets deliver_sm"
    );
}

#[tokio::test]
async fn receipts_wait_for_the_delay_and_respect_a_small_window() {
    let mut cfg = config();
    cfg.dlr_delay = Some(Duration::from_millis(150));
    cfg.window = 2;
    let sim = start(cfg).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    let started = Instant::now();
    for tag in 1..=10 {
        esme.submit(submit_sm("later", 1), tag);
    }
    assert!(esme.until(T, |e| e.answers.len() == 10).await.expect("io"));
    assert!(esme.delivers.is_empty() || started.elapsed() >= Duration::from_millis(150));
    assert!(esme.until(T, |e| e.delivers.len() == 10).await.expect("io"));
    assert!(started.elapsed() >= Duration::from_millis(150));
    let ids: HashSet<String> = esme.delivers.iter().map(|(_, sm)| receipt_id(sm)).collect();
    assert_eq!(ids.len(), 10);
}

fn reassemble(parts: &[(u32, carrier_protocol::smpp::pdu::DeliverSm)]) -> String {
    let mut text = String::new();
    for (_, sm) in parts {
        let (body, national) = if sm.esm_class.udhi() {
            let (udh, rest) = parse_udh(sm.short_message.as_bytes()).expect("udh");
            (rest, udh.national())
        } else {
            (sm.short_message.as_bytes(), (None, None))
        };
        text.push_str(
            &carrier_protocol::text::decode(sm.data_coding.value(), body, national)
                .expect("decodes"),
        );
    }
    text
}

#[tokio::test]
async fn injected_mo_arrives_as_deliver_sm() {
    let sim = start(config()).await;
    let mut esme = bind(&sim, BindKind::Receiver, "gw").await;
    assert_eq!(
        sim.inject_mo("+15557654321", "+15551230001", "Hello"),
        Ok(1)
    );
    assert!(esme.until(T, |e| e.delivers.len() == 1).await.expect("io"));
    let (_, sm) = &esme.delivers[0];
    assert_eq!(sm.source_addr.as_bytes(), b"15557654321");
    assert_eq!(
        (sm.source_addr_ton, sm.source_addr_npi),
        (Ton::International, Npi::Isdn)
    );
    assert_eq!(sm.destination_addr.as_bytes(), b"15551230001");
    assert_eq!(sm.data_coding, DataCoding::SmscDefault);
    assert_eq!(sm.esm_class, EsmClass(0));
    assert_eq!(sm.short_message.as_bytes(), b"Hello");

    let long = "¿Dónde está mi pedido? Привет! ".repeat(5);
    let segments = sim
        .inject_mo("+15557654321", "+15551230001", &long)
        .expect("valid");
    assert!(segments > 1);
    assert!(
        esme.until(T, |e| e.delivers.len() == 1 + segments)
            .await
            .expect("io")
    );
    let parts = &esme.delivers[1..];
    assert!(
        parts
            .iter()
            .all(|(_, sm)| sm.data_coding == DataCoding::Ucs2)
    );
    assert_eq!(reassemble(parts), long);
    sim.wait_for(T, |s| s.mo_acknowledged == 1 + segments as u64)
        .await
        .expect("acknowledged");
    assert!(sim.inject_mo("+", "+15551230001", "x").is_err());
}

#[tokio::test]
async fn mo_waits_for_a_receiving_bind() {
    let sim = start(config()).await;
    assert_eq!(sim.inject_mo("+15557654321", "12345", "STOP"), Ok(1));
    assert_eq!(sim.parked(), 1);
    let mut tx = bind(&sim, BindKind::Transmitter, "gw").await;
    tx.idle(Duration::from_millis(20)).await.expect("io");
    assert_eq!(sim.parked(), 1, "a transmitter cannot take it");
    let mut rx = bind(&sim, BindKind::Transceiver, "gw").await;
    assert!(rx.until(T, |e| e.delivers.len() == 1).await.expect("io"));
    let (_, sm) = &rx.delivers[0];
    assert_eq!(sm.destination_addr.as_bytes(), b"12345");
    assert_eq!(sm.dest_addr_ton, Ton::NetworkSpecific);
}

#[tokio::test]
async fn mo_file_plays_in_order_after_the_first_receiving_bind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mo.jsonl");
    std::fs::write(
        &path,
        "{\"from\": \"+15557654321\", \"to\": \"+15551230001\", \"text\": \"Hello\", \"delay_ms\": 0}\n\
         {\"from\": \"+15557654321\", \"to\": \"+15551230001\", \"text\": \"1\", \"delay_ms\": 30}\n",
    )
    .expect("write");
    let mut cfg = config();
    cfg.mo_file = Some(path);
    let sim = start(cfg).await;
    let mut tx = bind(&sim, BindKind::Transmitter, "gw").await;
    tx.idle(Duration::from_millis(50)).await.expect("io");
    assert_eq!(
        sim.stats().mo_sent,
        0,
        "a transmitter does not start the script"
    );
    let mut rx = bind(&sim, BindKind::Receiver, "gw").await;
    assert!(rx.until(T, |e| e.delivers.len() == 2).await.expect("io"));
    let texts: Vec<&[u8]> = rx
        .delivers
        .iter()
        .map(|(_, sm)| sm.short_message.as_bytes())
        .collect();
    assert_eq!(texts, vec![&b"Hello"[..], &b"1"[..]]);

    let mut bad = config();
    let bad_path = dir.path().join("bad.jsonl");
    std::fs::write(&bad_path, "{\"from\": \"+1\"}\n").expect("write");
    bad.mo_file = Some(bad_path);
    let error = spawn(bad).await.expect_err("invalid MO file");
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("line 1"), "{error}");
}

/// Reads one PDU header (16 octets) and its body from a raw socket.
async fn read_pdu(stream: &mut TcpStream) -> Option<(u32, u32, u32)> {
    let mut header = [0u8; 16];
    tokio::time::timeout(T, stream.read_exact(&mut header))
        .await
        .ok()?
        .ok()?;
    let word =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let mut rest = vec![0u8; (word(0) as usize).saturating_sub(16)];
    stream.read_exact(&mut rest).await.ok()?;
    Some((word(4), word(8), word(12)))
}

async fn reads_to_eof(stream: &mut TcpStream) -> bool {
    let mut sink = Vec::new();
    matches!(
        tokio::time::timeout(T, stream.read_to_end(&mut sink)).await,
        Ok(Ok(_)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn garbage_does_not_disturb_other_connections() {
    let sim = start(config()).await;
    let mut good = bind(&sim, BindKind::Transceiver, "gw").await;

    // A well-framed PDU with an unknown command id: generic_nack, and the
    // connection stays usable.
    let mut raw = TcpStream::connect(sim.local_addr()).await.expect("connect");
    raw.write_all(&[0, 0, 0, 16, 0, 0, 0x09, 0x99, 0, 0, 0, 0, 0, 0, 0, 7])
        .await
        .expect("write");
    assert_eq!(read_pdu(&mut raw).await, Some((0x8000_0000, 0x03, 7)));
    // enquire_link still answered on the same connection.
    raw.write_all(&[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 8])
        .await
        .expect("write");
    assert_eq!(read_pdu(&mut raw).await, Some((0x8000_0015, 0, 8)));

    // Bytes that cannot be framed (an HTTP request: command_length is
    // ~1.2 GB) close that connection only.
    raw.write_all(b"GET / HTTP/1.1\r\nHost: smsc\r\n\r\n")
        .await
        .expect("write");
    assert!(reads_to_eof(&mut raw).await);
    let mut tiny = TcpStream::connect(sim.local_addr()).await.expect("connect");
    tiny.write_all(&[0, 0, 0, 3, 1, 2, 3, 4])
        .await
        .expect("write");
    assert!(reads_to_eof(&mut tiny).await);
    // A truncated submit_sm (well framed, body cut short) is nacked too.
    let mut cut = TcpStream::connect(sim.local_addr()).await.expect("connect");
    cut.write_all(&[0, 0, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, b'x', b'y'])
        .await
        .expect("write");
    let (id, status, seq) = read_pdu(&mut cut).await.expect("an answer");
    assert_eq!((id & 0x8000_0000, seq), (0x8000_0000, 9));
    assert_ne!(status, 0);

    good.submit(submit_sm("still here", 1), 1);
    assert!(
        good.until(T, |e| e.answers.len() == 1 && e.delivers.len() == 1)
            .await
            .expect("io")
    );
    assert_eq!(good.answers[0].status, CommandStatus::Ok);
    let stats = sim
        .wait_for(T, |s| s.framing_errors == 2)
        .await
        .expect("both framing errors counted");
    assert!(stats.malformed_nacked >= 1, "{stats}");
}

#[tokio::test]
async fn record_has_one_line_per_accepted_submit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("record.jsonl");
    let mut cfg = config();
    cfg.record = Some(path.clone());
    cfg.throttle_every = Some(4);
    let sim = start(cfg).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    // A UDH-concatenated part and a SAR part first (throttle_every 4 hits
    // the 4th and 8th submits, plain ones).
    let mut udh = submit_sm("", 1);
    udh.esm_class = EsmClass(EsmClass::UDHI);
    udh.short_message =
        ShortMessage::new(Bytes::from_static(b"\x05\x00\x03\x2a\x02\x01part one")).expect("short");
    esme.submit(udh, 1);
    let mut sar = submit_sm("sar part", 1);
    sar.tlvs.push(Tlv::u16(TlvTag::SarMsgRefNum, 300));
    sar.tlvs.push(Tlv::u8(TlvTag::SarTotalSegments, 2));
    sar.tlvs.push(Tlv::u8(TlvTag::SarSegmentSeqnum, 2));
    esme.submit(sar, 2);
    for tag in 3..=8 {
        esme.submit(submit_sm(&format!("plain {tag}"), 1), tag);
    }
    assert!(esme.until(T, |e| e.answers.len() == 8).await.expect("io"));

    // The lines are in the file by the time the responses arrived.
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let accepted: Vec<&str> = esme
        .answers
        .iter()
        .filter(|a| a.status == CommandStatus::Ok)
        .map(|a| a.message_id.as_str())
        .collect();
    assert_eq!(accepted.len(), 6, "two of eight throttled");
    assert_eq!(lines.len(), accepted.len());
    let recorded: HashSet<&str> = lines
        .iter()
        .filter_map(|l| l["message_id"].as_str())
        .collect();
    assert_eq!(recorded, accepted.iter().copied().collect());
    for line in &lines {
        assert_eq!(line["source_addr"], "15551230001");
        assert_eq!(line["destination_addr"], "15557654321");
        assert_eq!(line["conn"], 1);
        assert!(line["at_ms"].as_u64().is_some());
    }
    let udh_line = lines
        .iter()
        .find(|l| l["esm_class"] == 64)
        .expect("the UDH part was accepted");
    assert_eq!(udh_line["udh_concat"], serde_json::json!([42, 2, 1]));
    assert_eq!(udh_line["sar"], serde_json::Value::Null);
    let sar_line = lines
        .iter()
        .find(|l| !l["sar"].is_null())
        .expect("the SAR part was accepted");
    assert_eq!(sar_line["sar"], serde_json::json!([300, 2, 2]));
    assert_eq!(
        sar_line["short_message_hex"],
        carrier_protocol::hex::encode(b"sar part")
    );
}

#[tokio::test]
async fn credentials_and_the_bind_cap_are_enforced() {
    let mut cfg = config();
    cfg.accounts = vec![Account {
        system_id: "gw".into(),
        password: Some("secret".into()),
    }];
    cfg.max_connections = Some(1);
    let sim = start(cfg).await;
    let addr = sim.local_addr();
    let try_bind = |system_id: &'static str, password: &'static str| async move {
        TestEsme::bind(addr, BindKind::Transceiver, system_id, password)
            .await
            .expect("connects")
    };
    assert_eq!(
        try_bind("gw", "wrong").await.bind_status,
        Some(CommandStatus::InvalidPassword)
    );
    assert_eq!(
        try_bind("nobody", "secret").await.bind_status,
        Some(CommandStatus::InvalidSystemId)
    );
    let first = try_bind("gw", "secret").await;
    assert!(first.is_bound());
    assert_eq!(
        try_bind("gw", "secret").await.bind_status,
        Some(CommandStatus::BindFailed)
    );
    let stats = sim.stats();
    assert_eq!((stats.binds, stats.bind_rejections), (1, 3));
}

#[tokio::test]
async fn shutdown_unbinds_bound_clients() {
    let sim = start(config()).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "gw").await;
    let stopping = tokio::spawn(sim.shutdown());
    assert!(!esme.until(T, |_| false).await.expect("io"));
    assert_eq!(esme.closed, Some(CloseReason::PeerUnbound));
    let stats = tokio::time::timeout(T, stopping)
        .await
        .expect("stops in time")
        .expect("no panic");
    assert_eq!(stats.active_connections, 0);
}

#[tokio::test]
async fn run_cli_runs_until_the_signal() {
    let stop = tokio::time::sleep(Duration::from_millis(100));
    let stats = run_cli(config(), stop).await.expect("runs");
    assert_eq!(stats.binds, 0);
    let mut taken = config();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    taken.listen = holder.local_addr().expect("addr");
    let error = run_cli(taken, std::future::pending())
        .await
        .expect_err("address in use");
    assert!(format!("{error:#}").contains("cannot start"), "{error:#}");
}

/// Pushes `MESSAGES` submits through one transceiver bind with window 256,
/// every one asking for a receipt, until every receipt is acknowledged;
/// returns messages per second.
async fn measure_throughput(label: &str, config: SmscSimConfig) -> f64 {
    const MESSAGES: u64 = 100_000;
    let sim = start(config).await;
    let mut esme = bind(&sim, BindKind::Transceiver, "bench").await;
    esme.keep = false;
    let template = submit_sm("Load test message with a typical length of text.", 1);
    let started = Instant::now();
    let mut sent = 0u64;
    while (esme.answered as u64) < MESSAGES || (esme.delivered as u64) < MESSAGES {
        while sent < MESSAGES && esme.session.window_available() > 0 {
            sent += 1;
            esme.submit(template.clone(), sent);
        }
        assert!(esme.step(T).await.expect("io"), "connection closed");
        assert!(started.elapsed() < Duration::from_secs(120), "too slow");
    }
    let elapsed = started.elapsed();
    let stats = sim
        .wait_for(T, |s| s.receipts_acknowledged == MESSAGES)
        .await
        .expect("all receipts acknowledged");
    assert_eq!(stats.submits_accepted, MESSAGES);
    let rate = MESSAGES as f64 / elapsed.as_secs_f64();
    println!(
        "smsc_throughput ({label}): {MESSAGES} submits + {MESSAGES} receipts in {:.3} s = {rate:.0} msg/s",
        elapsed.as_secs_f64()
    );
    rate
}

/// Throughput with receipts at once, then with `--record` too. Run in
/// release: `cargo test --release -j1 --lib -- --ignored --nocapture
/// smsc_throughput`. Client and simulator share the runtime's two workers,
/// as they share the machine's two cores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "throughput measurement; run in release with --ignored --nocapture"]
async fn smsc_throughput() {
    measure_throughput("receipts", config()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut recording = config();
    recording.record = Some(dir.path().join("record.jsonl"));
    measure_throughput("receipts + record", recording).await;
}
