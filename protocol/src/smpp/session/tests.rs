//! Session tests with simulated time: an ESME and an SMSC session wired back
//! to back through `poll_transmit` and the crate's [`Framer`], plus a
//! property test that throws arbitrary PDUs, garbage and time at one session.
//!
//! Time is an `Instant` taken once and advanced by hand, so every timeout is
//! checked to the microsecond and the whole file runs in milliseconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::smpp::pdu::{DataSm, DeliverSm, QuerySm, SubmitSm, SubmitSmResp};
use crate::smpp::{DecodeErrorKind, Framer};

const US: Duration = Duration::from_micros(1);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn cs(s: &str) -> COctetString {
    COctetString::try_from(s).expect("no NUL")
}

fn credentials() -> Bind {
    Bind {
        system_id: cs("gw"),
        password: cs("secret"),
        interface_version: InterfaceVersion::V34,
        ..Bind::default()
    }
}

fn submit(dest: &str) -> Body {
    Body::SubmitSm(SubmitSm {
        destination_addr: cs(dest),
        ..SubmitSm::default()
    })
}

fn deliver() -> Body {
    Body::DeliverSm(DeliverSm {
        source_addr: cs("15557654321"),
        ..DeliverSm::default()
    })
}

fn submit_resp(id: &str) -> Body {
    Body::SubmitSmResp(SubmitSmResp {
        message_id: cs(id),
        ..SubmitSmResp::default()
    })
}

fn decode_hex(s: &str) -> Result<Pdu, DecodeError> {
    Pdu::decode(&Bytes::from(
        crate::hex::decode(s).expect("test vector is hex"),
    ))
}

fn drain_events(session: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn drain_pdus(session: &mut Session) -> Vec<Pdu> {
    let mut buf = BytesMut::new();
    session.poll_transmit(&mut buf);
    let framer = Framer::default();
    let mut pdus = Vec::new();
    while let Some(pdu) = framer.next_pdu(&mut buf).expect("our framing is sound") {
        pdus.push(pdu.expect("our PDUs decode"));
    }
    assert!(buf.is_empty(), "a partial PDU was written");
    pdus
}

/// Two sessions connected back to back, with a shared simulated clock.
struct Link {
    t0: Instant,
    now: Instant,
    esme: Session,
    smsc: Session,
    esme_events: Vec<Event>,
    smsc_events: Vec<Event>,
    /// Every PDU each side wrote, in order.
    esme_wrote: Vec<Pdu>,
    smsc_wrote: Vec<Pdu>,
}

impl Link {
    fn new(esme: SessionConfig, smsc: SessionConfig) -> Link {
        let t0 = Instant::now();
        Link {
            t0,
            now: t0,
            esme: Session::new(esme, t0),
            smsc: Session::new(smsc, t0),
            esme_events: Vec::new(),
            smsc_events: Vec::new(),
            esme_wrote: Vec::new(),
            smsc_wrote: Vec::new(),
        }
    }

    /// A link whose ESME is bound as `kind`; events and PDUs so far are
    /// cleared.
    fn bound(kind: BindKind, esme: SessionConfig, smsc: SessionConfig) -> Link {
        let mut link = Link::new(esme, smsc);
        let seq = link
            .esme
            .bind(kind, credentials(), link.now)
            .expect("open ESME binds");
        link.pump();
        link.smsc
            .accept_bind(seq, cs("SMSC"), link.now)
            .expect("pending bind");
        link.pump();
        assert_eq!(link.esme.state(), State::Bound(kind));
        assert_eq!(link.smsc.state(), State::Bound(kind));
        link.clear();
        link
    }

    fn clear(&mut self) {
        self.esme_events.clear();
        self.smsc_events.clear();
        self.esme_wrote.clear();
        self.smsc_wrote.clear();
    }

    /// Moves bytes both ways until neither side has anything to write.
    fn pump(&mut self) {
        loop {
            let a = carry(
                &mut self.esme,
                &mut self.smsc,
                &mut self.esme_wrote,
                self.now,
            );
            let b = carry(
                &mut self.smsc,
                &mut self.esme,
                &mut self.smsc_wrote,
                self.now,
            );
            if a + b == 0 {
                break;
            }
        }
        self.esme_events.extend(drain_events(&mut self.esme));
        self.smsc_events.extend(drain_events(&mut self.smsc));
    }

    /// Sets the clock to `t0 + at`, runs both sessions' timers and pumps.
    fn run_until(&mut self, at: Duration) {
        self.now = self.t0 + at;
        self.esme.handle_timeout(self.now);
        self.smsc.handle_timeout(self.now);
        self.pump();
    }

    /// The SMSC application answers every surfaced submit_sm with `status`.
    fn smsc_answers_submits(&mut self, status: CommandStatus) -> usize {
        let requests: Vec<u32> = self
            .smsc_events
            .drain(..)
            .filter_map(|e| match e {
                Event::Request(pdu) if pdu.command_id() == CommandId::SubmitSm => {
                    Some(pdu.sequence_number)
                }
                _ => None,
            })
            .collect();
        for &seq in &requests {
            let body = submit_resp(&format!("m{seq}"));
            self.smsc.respond(seq, status, body).expect("pending");
        }
        self.pump();
        requests.len()
    }
}

fn carry(from: &mut Session, to: &mut Session, log: &mut Vec<Pdu>, now: Instant) -> usize {
    let mut buf = BytesMut::new();
    let n = from.poll_transmit(&mut buf);
    let framer = Framer::default();
    while let Some(pdu) = framer.next_pdu(&mut buf).expect("our framing is sound") {
        log.push(pdu.clone().expect("our PDUs decode"));
        to.handle_pdu(pdu, now);
    }
    assert!(buf.is_empty(), "a partial PDU was written");
    n
}

fn ids(pdus: &[Pdu]) -> Vec<CommandId> {
    pdus.iter().map(Pdu::command_id).collect()
}

// ---- binding ---------------------------------------------------------------

#[test]
fn bind_handshake_both_roles() {
    let mut link = Link::new(SessionConfig::esme(), SessionConfig::smsc());
    let seq = link
        .esme
        .bind(BindKind::Transceiver, credentials(), link.now)
        .expect("binds");
    assert_eq!(link.esme.state(), State::Binding(BindKind::Transceiver));
    assert_eq!(link.esme.window_available(), 0);
    link.pump();

    assert_eq!(
        link.smsc_events,
        vec![Event::BindRequest {
            seq,
            kind: BindKind::Transceiver,
            bind: credentials(),
        }]
    );
    assert_eq!(link.smsc.state(), State::Binding(BindKind::Transceiver));
    link.smsc
        .accept_bind(seq, cs("SMSC"), link.now)
        .expect("pending");
    link.pump();

    assert_eq!(
        link.esme_events,
        vec![Event::Bound {
            kind: BindKind::Transceiver,
            system_id: cs("SMSC"),
            interface_version: Some(InterfaceVersion::V34),
        }]
    );
    assert_eq!(link.esme.state(), State::Bound(BindKind::Transceiver));
    assert_eq!(link.smsc.state(), State::Bound(BindKind::Transceiver));
    assert_eq!(link.esme.window_available(), 64);
    // The bind timer is off once bound: only the enquire_link timer is left.
    assert_eq!(link.esme.poll_timeout(), Some(link.t0 + secs(30)));
}

#[test]
fn bind_of_a_3_3_esme_gets_no_tlv() {
    let mut link = Link::new(SessionConfig::esme(), SessionConfig::smsc());
    let bind = Bind {
        interface_version: InterfaceVersion::V33,
        ..credentials()
    };
    let seq = link
        .esme
        .bind(BindKind::Transmitter, bind, link.now)
        .expect("binds");
    link.pump();
    link.smsc
        .accept_bind(seq, cs("SMSC"), link.now)
        .expect("pending");
    link.pump();
    assert_eq!(
        link.esme_events,
        vec![Event::Bound {
            kind: BindKind::Transmitter,
            system_id: cs("SMSC"),
            interface_version: None,
        }]
    );
}

#[test]
fn bind_rejection_closes_both_sides() {
    let mut link = Link::new(SessionConfig::esme(), SessionConfig::smsc());
    let seq = link
        .esme
        .bind(BindKind::Receiver, credentials(), link.now)
        .expect("binds");
    link.pump();
    assert_eq!(
        link.smsc.reject_bind(seq, CommandStatus::Ok),
        Err(SessionError::OkRejection)
    );
    assert_eq!(
        link.smsc
            .reject_bind(seq + 1, CommandStatus::InvalidPassword),
        Err(SessionError::UnknownRequest { seq: seq + 1 })
    );
    link.smsc
        .reject_bind(seq, CommandStatus::InvalidPassword)
        .expect("pending");
    link.pump();

    assert_eq!(
        link.smsc_wrote,
        vec![Pdu::response(
            seq,
            CommandStatus::InvalidPassword,
            Body::BindReceiverResp(BindResp::default())
        )]
    );
    let reason = CloseReason::BindRejected(CommandStatus::InvalidPassword);
    assert_eq!(
        link.esme_events,
        vec![
            Event::BindRejected {
                status: CommandStatus::InvalidPassword
            },
            Event::Closed {
                reason: reason.clone()
            },
        ]
    );
    assert_eq!(link.smsc_events.last(), Some(&Event::Closed { reason }));
    assert!(link.esme.is_closed() && link.smsc.is_closed());
    assert_eq!(link.esme.poll_timeout(), None);
}

#[test]
fn bind_timeout_fires_at_the_deadline() {
    let mut link = Link::new(SessionConfig::esme(), SessionConfig::smsc());
    link.now = link.t0 + secs(2);
    link.esme
        .bind(BindKind::Transceiver, credentials(), link.now)
        .expect("binds");
    link.pump(); // the SMSC application never answers
    link.clear();
    // The ESME's timer restarted with its bind; the SMSC's runs from connect.
    assert_eq!(link.esme.poll_timeout(), Some(link.t0 + secs(12)));
    assert_eq!(link.smsc.poll_timeout(), Some(link.t0 + secs(10)));

    link.run_until(secs(10) - US);
    assert!(link.smsc_events.is_empty());
    link.run_until(secs(10));
    assert_eq!(
        link.smsc_events,
        vec![Event::Closed {
            reason: CloseReason::BindTimeout
        }]
    );
    link.run_until(secs(12) - US);
    assert!(link.esme_events.is_empty());
    link.run_until(secs(12));
    assert_eq!(
        link.esme_events,
        vec![Event::Closed {
            reason: CloseReason::BindTimeout
        }]
    );
}

#[test]
fn bind_is_refused_in_the_wrong_role_or_state() {
    let mut link = Link::bound(
        BindKind::Transceiver,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    // Binding twice locally.
    assert!(matches!(
        link.esme.bind(BindKind::Transceiver, credentials(), now),
        Err(SessionError::NotAllowed { .. })
    ));
    // An SMSC does not bind.
    let mut smsc = Session::new(SessionConfig::smsc(), now);
    assert!(matches!(
        smsc.bind(BindKind::Transmitter, credentials(), now),
        Err(SessionError::NotAllowed { .. })
    ));
    // A second bind from the peer: ESME_RALYBND.
    link.smsc.handle_pdu(
        Ok(Pdu::request(
            77,
            BindKind::Transmitter.request(credentials()),
        )),
        now,
    );
    assert_eq!(
        drain_pdus(&mut link.smsc),
        vec![Pdu::response(
            77,
            CommandStatus::AlreadyBound,
            Body::BindTransmitterResp(BindResp::default())
        )]
    );
    // A bind sent to an ESME: wrong role.
    link.esme.handle_pdu(
        Ok(Pdu::request(78, BindKind::Receiver.request(credentials()))),
        now,
    );
    assert_eq!(
        drain_pdus(&mut link.esme),
        vec![Pdu::response(
            78,
            CommandStatus::IncorrectBindStatus,
            Body::BindReceiverResp(BindResp::default())
        )]
    );
    assert_eq!(link.esme.state(), State::Bound(BindKind::Transceiver));
}

#[test]
fn outbind_is_surfaced_to_an_open_esme() {
    let mut link = Link::new(SessionConfig::esme(), SessionConfig::smsc());
    link.smsc
        .outbind(Outbind {
            system_id: cs("SMSC"),
            password: cs("pw"),
        })
        .expect("open SMSC");
    link.pump();
    assert_eq!(
        link.esme_events,
        vec![Event::OutbindReceived {
            system_id: cs("SMSC"),
            password: cs("pw"),
        }]
    );
    assert!(link.smsc_events.is_empty(), "outbind has no response");
    assert_eq!(link.esme.state(), State::Open);
}

// ---- the window ------------------------------------------------------------

#[test]
fn window_fills_then_frees_on_responses() {
    let esme = SessionConfig {
        window: 3,
        ..SessionConfig::esme()
    };
    let mut link = Link::bound(BindKind::Transmitter, esme, SessionConfig::smsc());
    let now = link.now;
    let seqs: Vec<u32> = (0..3)
        .map(|tag| link.esme.send_request(submit("1"), tag, now).expect("room"))
        .collect();
    assert_eq!(link.esme.window_available(), 0);
    assert_eq!(link.esme.outstanding(), 3);
    assert_eq!(
        link.esme.send_request(submit("1"), 9, now),
        Err(SessionError::WindowFull { window: 3 })
    );
    link.pump();
    assert_eq!(link.smsc_answers_submits(CommandStatus::Ok), 3);
    assert_eq!(link.esme.window_available(), 3);
    let responses: Vec<(u32, u64, bool)> = link
        .esme_events
        .iter()
        .filter_map(|e| match e {
            Event::Response {
                seq,
                tag,
                pdu,
                mismatched,
                command: CommandId::SubmitSm,
            } if pdu.command_status.is_ok() => Some((*seq, *tag, *mismatched)),
            _ => None,
        })
        .collect();
    assert_eq!(
        responses,
        vec![
            (seqs[0], 0, false),
            (seqs[1], 1, false),
            (seqs[2], 2, false)
        ]
    );
    assert!(link.esme.send_request(submit("1"), 10, now).is_ok());
}

#[test]
fn response_timeout_fires_exactly_at_the_deadline() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    link.now = link.t0 + secs(1);
    let seq = link
        .esme
        .send_request(submit("1"), 42, link.now)
        .expect("room");
    link.pump(); // the SMSC application sits on it
    link.clear();
    assert_eq!(link.esme.poll_timeout(), Some(link.t0 + secs(11)));

    link.run_until(secs(11) - US);
    assert!(link.esme_events.is_empty());
    assert_eq!(link.esme.outstanding(), 1);
    link.run_until(secs(11));
    assert_eq!(
        link.esme_events,
        vec![Event::ResponseTimeout {
            seq,
            tag: 42,
            command: CommandId::SubmitSm
        }]
    );
    assert_eq!(link.esme.outstanding(), 0);
    assert_eq!(link.esme.window_available(), 64);

    // The late answer matches nothing any more.
    link.clear();
    link.smsc
        .respond(seq, CommandStatus::Ok, submit_resp("late"))
        .expect("pending");
    link.pump();
    assert_eq!(
        link.esme_events,
        vec![Event::UnexpectedResponse(Pdu::response(
            seq,
            CommandStatus::Ok,
            submit_resp("late")
        ))]
    );
}

#[test]
fn deadlines_follow_send_order_even_if_the_clock_steps_back() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let t0 = link.t0;
    link.esme
        .send_request(submit("1"), 1, t0 + secs(5))
        .expect("room");
    // An earlier instant is taken as the session's latest one.
    link.esme
        .send_request(submit("1"), 2, t0 + secs(4))
        .expect("room");
    link.esme.handle_timeout(t0 + secs(15));
    let tags: Vec<u64> = drain_events(&mut link.esme)
        .iter()
        .filter_map(|e| match e {
            Event::ResponseTimeout { tag, .. } => Some(*tag),
            _ => None,
        })
        .collect();
    assert_eq!(tags, vec![1, 2]);
}

#[test]
fn sequence_numbers_wrap_to_one_and_skip_outstanding() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    // The bind used 1; 2 stays outstanding across the wrap.
    link.esme.set_next_sequence(2);
    assert_eq!(link.esme.send_request(submit("1"), 0, now), Ok(2));
    link.esme.set_next_sequence(MAX_SEQUENCE_NUMBER);
    assert_eq!(
        link.esme.send_request(submit("1"), 1, now),
        Ok(MAX_SEQUENCE_NUMBER)
    );
    assert_eq!(link.esme.send_request(submit("1"), 2, now), Ok(1));
    assert_eq!(link.esme.send_request(submit("1"), 3, now), Ok(3));
    link.pump();
    assert_eq!(link.smsc_answers_submits(CommandStatus::Ok), 4);
    let tags: Vec<(u32, u64)> = link
        .esme_events
        .iter()
        .filter_map(|e| match e {
            Event::Response { seq, tag, .. } => Some((*seq, *tag)),
            _ => None,
        })
        .collect();
    assert_eq!(tags, vec![(2, 0), (MAX_SEQUENCE_NUMBER, 1), (1, 2), (3, 3)]);
}

#[test]
fn generic_nack_answers_an_outstanding_submit() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let seq = link
        .esme
        .send_request(submit("1"), 5, link.now)
        .expect("room");
    drain_pdus(&mut link.esme);
    let nack = Pdu::generic_nack(seq, CommandStatus::Throttled);
    link.esme.handle_pdu(Ok(nack.clone()), link.now);
    assert_eq!(
        drain_events(&mut link.esme),
        vec![Event::Response {
            seq,
            tag: 5,
            command: CommandId::SubmitSm,
            pdu: nack,
            mismatched: false,
        }]
    );
    assert_eq!(link.esme.outstanding(), 0);
}

#[test]
fn mismatched_and_unexpected_responses() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let seq = link
        .esme
        .send_request(submit("1"), 5, link.now)
        .expect("room");
    drain_pdus(&mut link.esme);
    // A response to nothing we sent.
    let stray = Pdu::response(999, CommandStatus::Ok, submit_resp("x"));
    link.esme.handle_pdu(Ok(stray.clone()), link.now);
    // The right number, the wrong command: ends the request, flagged.
    let wrong = Pdu::response(seq, CommandStatus::Ok, Body::DataSmResp(Default::default()));
    link.esme.handle_pdu(Ok(wrong.clone()), link.now);
    assert_eq!(
        drain_events(&mut link.esme),
        vec![
            Event::UnexpectedResponse(stray),
            Event::Response {
                seq,
                tag: 5,
                command: CommandId::SubmitSm,
                pdu: wrong,
                mismatched: true,
            },
        ]
    );
    assert!(
        drain_pdus(&mut link.esme).is_empty(),
        "responses are never nacked"
    );
}

#[test]
fn malformed_response_ends_its_request() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let seq = link
        .esme
        .send_request(submit("1"), 8, link.now)
        .expect("room");
    drain_pdus(&mut link.esme);
    // submit_sm_resp whose message_id has no NUL within 65 octets.
    let mut wire = BytesMut::new();
    wire.extend_from_slice(&(16u32 + 70).to_be_bytes());
    wire.extend_from_slice(&CommandId::SubmitSmResp.value().to_be_bytes());
    wire.extend_from_slice(&0u32.to_be_bytes());
    wire.extend_from_slice(&seq.to_be_bytes());
    wire.extend_from_slice(&[b'7'; 70]);
    let error = Pdu::decode(&wire.freeze()).expect_err("unterminated message_id");
    link.esme.handle_pdu(Err(error.clone()), link.now);
    assert_eq!(
        drain_events(&mut link.esme),
        vec![Event::MalformedResponse {
            seq,
            tag: 8,
            command: CommandId::SubmitSm,
            error,
        }]
    );
    assert!(drain_pdus(&mut link.esme).is_empty());
}

// ---- keep-alive ------------------------------------------------------------

#[test]
fn enquire_link_after_idle_interval_keeps_the_link_up() {
    let mut link = Link::bound(
        BindKind::Transceiver,
        SessionConfig::esme(),
        SessionConfig {
            // The SMSC would probe later; keep it out of the way.
            enquire_link_interval: secs(300),
            ..SessionConfig::smsc()
        },
    );
    link.run_until(secs(30) - US);
    assert!(link.esme_wrote.is_empty());
    link.run_until(secs(30));
    assert_eq!(ids(&link.esme_wrote), vec![CommandId::EnquireLink]);
    assert_eq!(ids(&link.smsc_wrote), vec![CommandId::EnquireLinkResp]);
    assert!(link.esme_events.is_empty());
    // The response reset the idle timer: next probe 30 s after it.
    assert_eq!(link.esme.poll_timeout(), Some(link.t0 + secs(60)));
    link.run_until(secs(60));
    assert_eq!(link.esme_wrote.len(), 2);
    assert_eq!(link.esme.state(), State::Bound(BindKind::Transceiver));
}

#[test]
fn inbound_traffic_postpones_enquire_link() {
    let mut link = Link::bound(
        BindKind::Transceiver,
        SessionConfig::esme(),
        SessionConfig {
            enquire_link_interval: secs(300),
            ..SessionConfig::smsc()
        },
    );
    link.now = link.t0 + secs(20);
    link.smsc
        .send_request(deliver(), 1, link.now)
        .expect("transceiver");
    link.pump();
    link.run_until(secs(30));
    assert!(!ids(&link.esme_wrote).contains(&CommandId::EnquireLink));
    assert_eq!(link.esme.poll_timeout(), Some(link.t0 + secs(50)));
}

#[test]
fn unanswered_enquire_link_means_link_dead_and_abandons_requests() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    // From here the SMSC is silent: the ESME's PDUs go nowhere.
    link.esme.handle_timeout(link.t0 + secs(30));
    assert_eq!(
        ids(&drain_pdus(&mut link.esme)),
        vec![CommandId::EnquireLink]
    );
    link.now = link.t0 + secs(35);
    let a = link
        .esme
        .send_request(submit("1"), 1, link.now)
        .expect("room");
    let b = link
        .esme
        .send_request(submit("2"), 2, link.now)
        .expect("room");
    drain_pdus(&mut link.esme);
    drain_events(&mut link.esme);
    assert_eq!(link.esme.poll_timeout(), Some(link.t0 + secs(40)));

    link.esme.handle_timeout(link.t0 + secs(40) - US);
    assert_eq!(drain_events(&mut link.esme), vec![]);
    link.esme.handle_timeout(link.t0 + secs(40));
    assert_eq!(
        drain_events(&mut link.esme),
        vec![
            Event::LinkDead,
            Event::Abandoned {
                seq: a,
                tag: 1,
                command: CommandId::SubmitSm
            },
            Event::Abandoned {
                seq: b,
                tag: 2,
                command: CommandId::SubmitSm
            },
            Event::Closed {
                reason: CloseReason::LinkDead
            },
        ]
    );
    assert!(link.esme.is_closed());
    assert_eq!(link.esme.poll_timeout(), None);
    assert_eq!(
        link.esme.send_request(submit("1"), 3, link.now),
        Err(SessionError::Closed)
    );
}

#[test]
fn ignored_enquire_link_with_other_traffic_is_not_link_dead() {
    let mut esme = Session::new(SessionConfig::esme(), Instant::now());
    let t0 = esme.now;
    let seq = esme
        .bind(BindKind::Transceiver, credentials(), t0)
        .expect("binds");
    let ok = Pdu::response(
        seq,
        CommandStatus::Ok,
        BindKind::Transceiver.response(BindResp::default()),
    );
    esme.handle_pdu(Ok(ok), t0);
    assert_eq!(
        ids(&drain_pdus(&mut esme)),
        vec![CommandId::BindTransceiver]
    );
    esme.handle_timeout(t0 + secs(30));
    assert_eq!(ids(&drain_pdus(&mut esme)), vec![CommandId::EnquireLink]);
    // A deliver_sm arrives, but the enquire_link is never answered.
    esme.handle_pdu(Ok(Pdu::request(5, deliver())), t0 + secs(31));
    esme.handle_timeout(t0 + secs(40));
    assert!(!esme.is_closed());
    assert!(!drain_events(&mut esme).contains(&Event::LinkDead));
    // The next probe is due 30 s after the deliver_sm.
    assert_eq!(esme.poll_timeout(), Some(t0 + secs(61)));
}

// ---- state restrictions ------------------------------------------------------

#[test]
fn submit_before_bind_is_refused_locally_and_by_the_smsc() {
    let mut link = Link::new(SessionConfig::esme(), SessionConfig::smsc());
    let now = link.now;
    assert_eq!(
        link.esme.send_request(submit("1"), 1, now),
        Err(SessionError::NotBound {
            command: CommandId::SubmitSm,
            state: State::Open
        })
    );
    // A submit_sm that reaches an unbound SMSC anyway.
    link.smsc.handle_pdu(Ok(Pdu::request(9, submit("1"))), now);
    assert_eq!(
        drain_pdus(&mut link.smsc),
        vec![Pdu::response(
            9,
            CommandStatus::IncorrectBindStatus,
            Body::SubmitSmResp(SubmitSmResp::default())
        )]
    );
    assert_eq!(
        drain_events(&mut link.smsc),
        vec![Event::RequestRefused {
            seq: 9,
            command: CommandId::SubmitSm,
            status: CommandStatus::IncorrectBindStatus
        }]
    );
    // An enquire_link is fine before binding.
    link.smsc
        .handle_pdu(Ok(Pdu::request(10, Body::EnquireLink)), now);
    assert_eq!(
        drain_pdus(&mut link.smsc),
        vec![Pdu::response(10, CommandStatus::Ok, Body::EnquireLinkResp)]
    );
}

#[test]
fn receiver_may_not_submit_transmitter_may_not_receive() {
    let mut link = Link::bound(
        BindKind::Receiver,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    assert_eq!(
        link.esme.send_request(submit("1"), 1, now),
        Err(SessionError::NotAllowed {
            command: CommandId::SubmitSm,
            state: State::Bound(BindKind::Receiver)
        })
    );
    // But the SMSC may deliver to it.
    assert!(link.smsc.send_request(deliver(), 1, now).is_ok());

    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    assert!(matches!(
        link.smsc.send_request(deliver(), 1, now),
        Err(SessionError::NotAllowed { .. })
    ));
    // A deliver_sm that reaches a transmitter anyway: ESME_RINVBNDSTS.
    link.esme.handle_pdu(Ok(Pdu::request(44, deliver())), now);
    assert_eq!(
        drain_pdus(&mut link.esme),
        vec![Pdu::response(
            44,
            CommandStatus::IncorrectBindStatus,
            Body::DeliverSmResp(SubmitSmResp::default())
        )]
    );
    // alert_notification has no response type: generic_nack.
    link.esme.handle_pdu(
        Ok(Pdu::request(
            45,
            Body::AlertNotification(Default::default()),
        )),
        now,
    );
    assert_eq!(
        drain_pdus(&mut link.esme),
        vec![Pdu::generic_nack(45, CommandStatus::IncorrectBindStatus)]
    );
    // data_sm goes from a transmitter to the SMSC only.
    assert!(
        link.esme
            .send_request(Body::DataSm(DataSm::default()), 2, now)
            .is_ok()
    );
    assert!(
        link.smsc
            .send_request(Body::DataSm(DataSm::default()), 2, now)
            .is_err()
    );
}

#[test]
fn requests_with_their_own_method_are_refused_by_send_request() {
    let mut link = Link::bound(
        BindKind::Transceiver,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    for body in [
        Body::Unbind,
        BindKind::Transceiver.request(credentials()),
        Body::SubmitSmResp(SubmitSmResp::default()),
        Body::GenericNack,
    ] {
        assert!(matches!(
            link.esme.send_request(body, 0, now),
            Err(SessionError::NotAllowed { .. })
        ));
    }
    assert_eq!(link.esme.outstanding(), 0);
}

// ---- answering the peer ------------------------------------------------------

#[test]
fn inbound_requests_are_surfaced_and_answered_by_the_application() {
    let mut link = Link::bound(
        BindKind::Transceiver,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    let seq = link.smsc.send_request(deliver(), 7, now).expect("room");
    link.pump();
    assert_eq!(
        link.esme_events,
        vec![Event::Request(Pdu::request(seq, deliver()))]
    );
    assert_eq!(link.esme.unanswered_inbound(), 1);
    assert_eq!(
        link.esme.respond(seq, CommandStatus::Ok, submit_resp("")),
        Err(SessionError::WrongResponse {
            request: CommandId::DeliverSm,
            got: CommandId::SubmitSmResp
        })
    );
    assert_eq!(
        link.esme.respond(
            seq + 1,
            CommandStatus::Ok,
            Body::DeliverSmResp(SubmitSmResp::default())
        ),
        Err(SessionError::UnknownRequest { seq: seq + 1 })
    );
    link.esme
        .respond_error(seq, CommandStatus::TemporaryAppError)
        .expect("pending");
    assert_eq!(link.esme.unanswered_inbound(), 0);
    link.pump();
    assert_eq!(
        link.smsc_events,
        vec![Event::Response {
            seq,
            tag: 7,
            command: CommandId::DeliverSm,
            pdu: Pdu::response(
                seq,
                CommandStatus::TemporaryAppError,
                Body::DeliverSmResp(SubmitSmResp::default())
            ),
            mismatched: false,
        }]
    );
    // Answered once; a second answer is refused.
    assert_eq!(
        link.esme.respond_error(seq, CommandStatus::Ok),
        Err(SessionError::UnknownRequest { seq })
    );
}

#[test]
fn too_many_unanswered_inbound_requests_are_throttled() {
    let smsc = SessionConfig {
        max_inbound_unanswered: Some(2),
        ..SessionConfig::smsc()
    };
    let mut link = Link::bound(BindKind::Transmitter, SessionConfig::esme(), smsc);
    let now = link.now;
    for tag in 0..3 {
        link.esme.send_request(submit("1"), tag, now).expect("room");
    }
    link.pump();
    let responses: Vec<(u64, CommandStatus)> = link
        .esme_events
        .iter()
        .filter_map(|e| match e {
            Event::Response { tag, pdu, .. } => Some((*tag, pdu.command_status)),
            _ => None,
        })
        .collect();
    assert_eq!(responses, vec![(2, CommandStatus::Throttled)]);
    assert_eq!(link.smsc.unanswered_inbound(), 2);
    assert_eq!(link.smsc_answers_submits(CommandStatus::Ok), 2);
    assert_eq!(link.esme.outstanding(), 0);
}

#[test]
fn malformed_inbound_request_gets_generic_nack_with_its_status() {
    let mut smsc = Session::new(SessionConfig::smsc(), Instant::now());
    let now = smsc.now;
    // submit_sm, sequence 3, whose source_addr has no NUL within 21 octets.
    let mut wire = BytesMut::new();
    let body = [&[0u8, 1, 1][..], &[b'1'; 30]].concat();
    wire.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
    wire.extend_from_slice(&CommandId::SubmitSm.value().to_be_bytes());
    wire.extend_from_slice(&0u32.to_be_bytes());
    wire.extend_from_slice(&3u32.to_be_bytes());
    wire.extend_from_slice(&body);
    let error = Pdu::decode(&wire.freeze()).expect_err("malformed");
    smsc.handle_pdu(Err(error.clone()), now);
    assert_eq!(
        drain_pdus(&mut smsc),
        vec![Pdu::generic_nack(3, CommandStatus::InvalidSourceAddress)]
    );
    assert_eq!(drain_events(&mut smsc), vec![Event::Malformed(error)]);

    // A header cut short: the sequence number is unknown, so 0.
    let error = decode_hex("0000000c 00000004 00000000").expect_err("short");
    assert_eq!(error.sequence_number, None);
    smsc.handle_pdu(Err(error), now);
    assert_eq!(
        drain_pdus(&mut smsc),
        vec![Pdu::generic_nack(0, CommandStatus::InvalidCommandLength)]
    );
    assert_eq!(smsc.state(), State::Open);
}

#[test]
fn unknown_command_id_gets_generic_nack_invcmdid() {
    let mut link = Link::bound(
        BindKind::Transceiver,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    for wire in [
        "00000010 00000099 00000000 0000002a",
        "00000010 80000099 00000000 0000002a",
    ] {
        let error = decode_hex(wire).expect_err("unknown id");
        assert!(matches!(error.kind, DecodeErrorKind::UnknownCommandId(_)));
        link.esme.handle_pdu(Err(error), link.now);
        assert_eq!(
            drain_pdus(&mut link.esme),
            vec![Pdu::generic_nack(42, CommandStatus::InvalidCommandId)]
        );
    }
    assert_eq!(link.esme.state(), State::Bound(BindKind::Transceiver));
}

#[test]
fn framing_error_closes_after_a_courtesy_nack() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let seq = link
        .esme
        .send_request(submit("1"), 4, link.now)
        .expect("room");
    let mut buf = BytesMut::from(&crate::hex::decode("00100000 00000004").expect("hex")[..]);
    let error = Framer::new(1024).next_pdu(&mut buf).expect_err("too long");
    link.esme.handle_fatal(error.clone(), link.now);
    // The queued submit_sm is withdrawn (it is abandoned); the nack stays.
    assert_eq!(
        drain_pdus(&mut link.esme),
        vec![Pdu::generic_nack(0, CommandStatus::InvalidCommandLength)]
    );
    assert_eq!(
        drain_events(&mut link.esme),
        vec![
            Event::Abandoned {
                seq,
                tag: 4,
                command: CommandId::SubmitSm
            },
            Event::Closed {
                reason: CloseReason::Framing(error)
            },
        ]
    );
}

// ---- unbinding and disconnects -----------------------------------------------

#[test]
fn peer_unbind_is_answered_and_abandons_outstanding() {
    let mut link = Link::bound(
        BindKind::Transceiver,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    let a = link.esme.send_request(submit("1"), 1, now).expect("room");
    let q = link
        .esme
        .send_request(Body::QuerySm(QuerySm::default()), 2, now)
        .expect("room");
    carry(&mut link.esme, &mut link.smsc, &mut link.esme_wrote, now);
    link.smsc.unbind(now).expect("bound");
    assert_eq!(link.smsc.state(), State::Unbinding(BindKind::Transceiver));
    assert!(matches!(
        link.smsc.send_request(deliver(), 1, now),
        Err(SessionError::NotAllowed { .. })
    ));
    link.pump();
    assert_eq!(
        link.esme_events,
        vec![
            Event::Abandoned {
                seq: a,
                tag: 1,
                command: CommandId::SubmitSm
            },
            Event::Abandoned {
                seq: q,
                tag: 2,
                command: CommandId::QuerySm
            },
            Event::Closed {
                reason: CloseReason::PeerUnbound
            },
        ]
    );
    assert_eq!(ids(&link.esme_wrote[2..]), vec![CommandId::UnbindResp]);
    assert_eq!(
        link.smsc_events.last(),
        Some(&Event::Closed {
            reason: CloseReason::Unbound
        })
    );
    // The requests the SMSC surfaced can no longer be answered.
    assert_eq!(
        link.smsc.respond(a, CommandStatus::Ok, submit_resp("m")),
        Err(SessionError::Closed)
    );
}

#[test]
fn local_unbind_lets_outstanding_responses_through_then_closes() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    let seq = link.esme.send_request(submit("1"), 1, now).expect("room");
    link.pump();
    link.esme.unbind(now).expect("bound");
    assert_eq!(link.esme.window_available(), 0);
    assert_eq!(
        link.esme.send_request(submit("1"), 2, now),
        Err(SessionError::NotAllowed {
            command: CommandId::SubmitSm,
            state: State::Unbinding(BindKind::Transmitter)
        })
    );
    // The SMSC answers the submit before it reads our unbind.
    link.smsc
        .respond(seq, CommandStatus::Ok, submit_resp("m1"))
        .expect("pending");
    link.pump();
    assert!(matches!(
        link.esme_events.first(),
        Some(Event::Response { seq: s, tag: 1, .. }) if *s == seq
    ));
    assert_eq!(
        link.esme_events.last(),
        Some(&Event::Closed {
            reason: CloseReason::Unbound
        })
    );
    assert_eq!(
        link.smsc_events.last(),
        Some(&Event::Closed {
            reason: CloseReason::PeerUnbound
        })
    );
}

#[test]
fn unbind_timeout_closes() {
    let mut esme_link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let esme = &mut esme_link.esme;
    let t0 = esme_link.t0;
    esme.unbind(t0 + secs(1)).expect("bound");
    assert_eq!(ids(&drain_pdus(esme)), vec![CommandId::Unbind]);
    assert_eq!(esme.poll_timeout(), Some(t0 + secs(6)));
    esme.handle_timeout(t0 + secs(6) - US);
    assert!(!esme.is_closed());
    esme.handle_timeout(t0 + secs(6));
    assert_eq!(
        drain_events(esme),
        vec![Event::Closed {
            reason: CloseReason::UnbindTimeout
        }]
    );
}

#[test]
fn disconnect_abandons_in_send_order_and_clears_transmit() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let now = link.now;
    let seqs: Vec<u32> = (10..15)
        .map(|tag| link.esme.send_request(submit("1"), tag, now).expect("room"))
        .collect();
    link.esme.handle_disconnect(now);
    assert!(drain_pdus(&mut link.esme).is_empty());
    let abandoned: Vec<(u32, u64)> = drain_events(&mut link.esme)
        .iter()
        .filter_map(|e| match e {
            Event::Abandoned { seq, tag, .. } => Some((*seq, *tag)),
            _ => None,
        })
        .collect();
    assert_eq!(abandoned, seqs.into_iter().zip(10..15).collect::<Vec<_>>());
    // Input after the end is ignored.
    link.esme
        .handle_pdu(Ok(Pdu::request(1, Body::EnquireLink)), now);
    assert!(drain_events(&mut link.esme).is_empty());
    assert!(drain_pdus(&mut link.esme).is_empty());
}

#[test]
fn poll_transmit_pdu_yields_the_same_pdus() {
    let mut link = Link::bound(
        BindKind::Transmitter,
        SessionConfig::esme(),
        SessionConfig::smsc(),
    );
    let seq = link
        .esme
        .send_request(submit("1"), 1, link.now)
        .expect("room");
    assert_eq!(
        link.esme.poll_transmit_pdu(),
        Some(Pdu::request(seq, submit("1")))
    );
    assert_eq!(link.esme.poll_transmit_pdu(), None);
    let mut out = BytesMut::new();
    assert_eq!(link.esme.poll_transmit(&mut out), 0);
}

// ---- property test -----------------------------------------------------------

/// One step of the property test.
#[derive(Debug, Clone)]
enum Op {
    /// The application sends a request of this sort.
    Send(u8),
    /// The peer answers one of our requests: which one, how, with what status.
    Answer(usize, u8, u32),
    /// The peer sends an arbitrary well-formed PDU.
    Feed(Box<Pdu>),
    /// The peer sends arbitrary octets as one frame.
    Garbage(Vec<u8>),
    /// Time passes (µs), then timers run.
    Wait(u64),
    /// The application answers one of the peer's requests.
    Respond(usize, u32),
    Bind(u8),
    AcceptBind(bool),
    Unbind,
    Disconnect,
    Fatal,
    Close,
}

fn arb_op() -> impl Strategy<Value = Op> {
    // Every command id, with its empty body: the session reads no field but
    // those of binds, outbind and bind responses. Sequence numbers are mostly
    // small, so they collide with ours.
    let pdu = (
        prop::sample::select(CommandId::ALL),
        prop_oneof![0u32..12, any::<u32>()],
        prop_oneof![Just(0u32), any::<u32>()],
    )
        .prop_map(|(id, seq, status)| {
            let status = if id.is_response() { status } else { 0 };
            let body = Body::empty_for(id).unwrap_or(Body::GenericNack);
            Pdu::response(seq, CommandStatus::from(status), body)
        });
    let status = prop_oneof![Just(0u32), Just(0x58), Just(0x14), any::<u32>()];
    prop_oneof![
        8 => any::<u8>().prop_map(Op::Send),
        8 => (any::<usize>(), any::<u8>(), status.clone()).prop_map(|(i, k, s)| Op::Answer(i, k, s)),
        4 => pdu.prop_map(|p| Op::Feed(Box::new(p))),
        2 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Op::Garbage),
        4 => prop_oneof![0u64..2_000_000, 0u64..40_000_000].prop_map(Op::Wait),
        3 => (any::<usize>(), status).prop_map(|(i, s)| Op::Respond(i, s)),
        1 => any::<u8>().prop_map(Op::Bind),
        1 => any::<bool>().prop_map(Op::AcceptBind),
        // Endings are rarer, so that most cases get some traffic first.
        1 => prop_oneof![
            Just(Op::Unbind),
            Just(Op::Disconnect),
            Just(Op::Fatal),
            Just(Op::Close)
        ],
    ]
}

fn arb_config() -> impl Strategy<Value = SessionConfig> {
    (
        any::<bool>(),
        0usize..8,
        1u64..5_000,
        1u64..20_000,
        1u64..8_000,
        1u64..8_000,
        prop::option::of(0usize..4),
    )
        .prop_map(
            |(smsc, window, resp, enq, bind, unbind, max_in)| SessionConfig {
                role: if smsc { Role::Smsc } else { Role::Esme },
                window,
                response_timeout: Duration::from_millis(resp),
                enquire_link_interval: Duration::from_millis(enq),
                bind_timeout: Duration::from_millis(bind),
                unbind_timeout: Duration::from_millis(unbind),
                max_inbound_unanswered: max_in,
                interface_version: InterfaceVersion::V34,
            },
        )
}

fn request_body(sort: u8) -> Body {
    match sort % 7 {
        0 | 1 => submit("1"),
        2 => deliver(),
        3 => Body::DataSm(DataSm::default()),
        4 => Body::QuerySm(QuerySm::default()),
        5 => Body::EnquireLink,
        _ => Body::Unbind,
    }
}

fn kind_of(n: u8) -> BindKind {
    match n % 3 {
        0 => BindKind::Transmitter,
        1 => BindKind::Receiver,
        _ => BindKind::Transceiver,
    }
}

/// What the property test knows about one session under test.
struct Harness {
    session: Session,
    now: Instant,
    next_tag: u64,
    /// tag → sequence number of every request `send_request` accepted.
    sent: HashMap<u64, u32>,
    /// tag → how many events ended it.
    ended: HashMap<u64, u32>,
    /// Requests we wrote, by sequence number (for answers).
    wrote: Vec<(u32, CommandId)>,
    /// Requests of the peer surfaced to us.
    surfaced: Vec<u32>,
    /// Binds surfaced (SMSC role).
    binds: Vec<u32>,
    closed_seen: bool,
}

impl Harness {
    fn settle(&mut self) -> Result<(), TestCaseError> {
        prop_assert!(self.session.outstanding() <= self.session.config().window);
        let mut buf = BytesMut::new();
        self.session.poll_transmit(&mut buf);
        let framer = Framer::default();
        while let Some(pdu) = framer
            .next_pdu(&mut buf)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
        {
            let pdu = pdu.map_err(|e| TestCaseError::fail(e.to_string()))?;
            if !pdu.command_id().is_response() {
                prop_assert!(pdu.sequence_number != 0);
                prop_assert!(pdu.sequence_number <= MAX_SEQUENCE_NUMBER);
                self.wrote.push((pdu.sequence_number, pdu.command_id()));
            }
        }
        prop_assert!(buf.is_empty());
        while let Some(event) = self.session.poll_event() {
            prop_assert!(!self.closed_seen, "event after Closed: {:?}", event);
            match event {
                Event::Response { seq, tag, .. }
                | Event::MalformedResponse { seq, tag, .. }
                | Event::ResponseTimeout { seq, tag, .. }
                | Event::Abandoned { seq, tag, .. } => {
                    prop_assert_eq!(self.sent.get(&tag), Some(&seq));
                    *self.ended.entry(tag).or_default() += 1;
                }
                Event::Request(pdu) => self.surfaced.push(pdu.sequence_number),
                Event::BindRequest { seq, .. } => self.binds.push(seq),
                Event::Closed { .. } => self.closed_seen = true,
                _ => {}
            }
        }
        Ok(())
    }

    fn step(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::Send(sort) => {
                let tag = self.next_tag;
                self.next_tag += 1;
                if let Ok(seq) = self.session.send_request(request_body(sort), tag, now) {
                    self.sent.insert(tag, seq);
                }
            }
            Op::Answer(pick, how, status) => {
                // Mostly one of the last few requests, which are likely
                // still outstanding.
                let back = pick % self.wrote.len().clamp(1, 6);
                let Some(&(seq, command)) = self.wrote.iter().rev().nth(back) else {
                    return;
                };
                let status = CommandStatus::from(status);
                let input = match how % 4 {
                    0 => Ok(Pdu::response(
                        seq,
                        status,
                        command
                            .response()
                            .and_then(Body::empty_for)
                            .unwrap_or(Body::GenericNack),
                    )),
                    1 => Ok(Pdu::generic_nack(seq, status)),
                    2 => Ok(Pdu::response(seq, status, Body::EnquireLinkResp)),
                    _ => {
                        let id = command.response().unwrap_or(CommandId::GenericNack);
                        let mut wire = BytesMut::new();
                        wire.extend_from_slice(&(16u32 + 70).to_be_bytes());
                        wire.extend_from_slice(&id.value().to_be_bytes());
                        wire.extend_from_slice(&0u32.to_be_bytes());
                        wire.extend_from_slice(&seq.to_be_bytes());
                        wire.extend_from_slice(&[b'7'; 70]);
                        Pdu::decode(&wire.freeze())
                    }
                };
                self.session.handle_pdu(input, now);
            }
            Op::Feed(pdu) => self.session.handle_pdu(Ok(*pdu), now),
            Op::Garbage(mut data) => {
                if data.len() >= 4 {
                    let len = (data.len() as u32).to_be_bytes();
                    data[..4].copy_from_slice(&len);
                }
                self.session
                    .handle_pdu(Pdu::decode(&Bytes::from(data)), now);
            }
            Op::Wait(us) => {
                self.now += Duration::from_micros(us);
                self.session.handle_timeout(self.now);
            }
            Op::Respond(pick, status) => {
                if let Some(&seq) = self.surfaced.get(pick % self.surfaced.len().max(1)) {
                    let _ = self.session.respond_error(seq, CommandStatus::from(status));
                }
            }
            Op::Bind(kind) => {
                let _ = self.session.bind(kind_of(kind), credentials(), now);
            }
            Op::AcceptBind(accept) => {
                if let Some(&seq) = self.binds.last() {
                    let _ = if accept {
                        self.session.accept_bind(seq, cs("SMSC"), now)
                    } else {
                        self.session.reject_bind(seq, CommandStatus::BindFailed)
                    };
                }
            }
            Op::Unbind => {
                let _ = self.session.unbind(now);
            }
            Op::Disconnect => self.session.handle_disconnect(now),
            Op::Fatal => {
                let mut buf = BytesMut::from(&[0u8, 0, 0, 1][..]);
                if let Err(e) = Framer::default().next_pdu(&mut buf) {
                    self.session.handle_fatal(e, now);
                }
            }
            Op::Close => self.session.close(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_input_keeps_the_invariants(
        config in arb_config(),
        bound in any::<u8>(),
        ops in prop::collection::vec(arb_op(), 0..100),
    ) {
        let t0 = Instant::now();
        let role = config.role;
        let mut h = Harness {
            session: Session::new(config, t0),
            now: t0,
            next_tag: 0,
            sent: HashMap::new(),
            ended: HashMap::new(),
            wrote: Vec::new(),
            surfaced: Vec::new(),
            binds: Vec::new(),
            closed_seen: false,
        };
        // Start bound most of the time, so requests flow.
        if bound % 4 != 0 {
            let kind = kind_of(bound);
            match role {
                Role::Esme => {
                    if let Ok(seq) = h.session.bind(kind, credentials(), t0) {
                        let resp = Pdu::response(seq, CommandStatus::Ok, kind.response(BindResp::default()));
                        h.session.handle_pdu(Ok(resp), t0);
                    }
                }
                Role::Smsc => {
                    h.session.handle_pdu(Ok(Pdu::request(1, kind.request(credentials()))), t0);
                    h.settle()?;
                    if let Some(&seq) = h.binds.last() {
                        let _ = h.session.accept_bind(seq, cs("SMSC"), t0);
                    }
                }
            }
            h.settle()?;
        }
        for op in ops {
            let waited = matches!(op, Op::Wait(_));
            h.step(op);
            h.settle()?;
            if waited {
                // Nothing is left due at or before the time just handled.
                if let Some(at) = h.session.poll_timeout() {
                    prop_assert!(at > h.now, "timer due at {:?} left after {:?}", at, h.now);
                }
            }
        }
        h.session.handle_disconnect(h.now);
        h.settle()?;
        prop_assert!(h.closed_seen);
        prop_assert_eq!(h.session.outstanding(), 0);
        for tag in h.sent.keys() {
            prop_assert_eq!(h.ended.get(tag), Some(&1), "request {} did not end exactly once", tag);
        }
    }
}
