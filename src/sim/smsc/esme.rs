//! A small ESME over a real loopback socket, driving the protocol crate's
//! [`Session`] in the ESME role: the client of the simulator's tests and of
//! its throughput measurement.
//!
//! It is deliberately independent of the simulator's driver (a different
//! loop shape: write everything, then read once), so the tests exercise the
//! simulator the way a separate program would, and it batches like a real
//! gateway so the throughput measurement is not limited by the client.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use carrier_protocol::smpp::pdu::{Bind, Body, DeliverSm, DeliverSmResp, SubmitSm};
use carrier_protocol::smpp::session::{BindKind, CloseReason, Event, Session, SessionConfig};
use carrier_protocol::smpp::{
    COctetString, CommandStatus, Framer, Npi, RegisteredDelivery, ShortMessage, Ton,
};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

/// The answer to one of our requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Answer {
    pub tag: u64,
    pub status: CommandStatus,
    pub message_id: String,
}

/// See the module docs.
pub(super) struct TestEsme {
    stream: TcpStream,
    pub session: Session,
    framer: Framer,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// Answer every `deliver_sm` with `ESME_ROK` at once.
    pub auto_ack: bool,
    /// Keep answers and deliveries (off for the throughput run: count only).
    pub keep: bool,
    pub answers: Vec<Answer>,
    pub answered: usize,
    /// `deliver_sm` received, with their sequence numbers.
    pub delivers: Vec<(u32, DeliverSm)>,
    pub delivered: usize,
    /// With `keep`: what arrived, in order (`'a'` an answer, `'d'` a
    /// deliver_sm).
    pub arrivals: String,
    pub bind_status: Option<CommandStatus>,
    pub closed: Option<CloseReason>,
}

/// A submit from `+15551230001` to `+15557654321`.
pub(super) fn submit_sm(text: &str, registered_delivery: u8) -> SubmitSm {
    SubmitSm {
        source_addr_ton: Ton::International,
        source_addr_npi: Npi::Isdn,
        source_addr: COctetString::try_from("15551230001").unwrap_or_default(),
        dest_addr_ton: Ton::International,
        dest_addr_npi: Npi::Isdn,
        destination_addr: COctetString::try_from("15557654321").unwrap_or_default(),
        registered_delivery: RegisteredDelivery(registered_delivery),
        short_message: ShortMessage::new(Bytes::copy_from_slice(text.as_bytes()))
            .unwrap_or_default(),
        ..SubmitSm::default()
    }
}

impl TestEsme {
    /// Connects and binds; check [`TestEsme::bind_status`] (`Some(Ok)` when
    /// bound).
    pub(super) async fn bind(
        addr: SocketAddr,
        kind: BindKind,
        system_id: &str,
        password: &str,
    ) -> io::Result<TestEsme> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let config = SessionConfig {
            window: 256,
            ..SessionConfig::esme()
        };
        let mut esme = TestEsme {
            stream,
            session: Session::new(config, Instant::now()),
            framer: Framer::default(),
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::with_capacity(64 * 1024),
            auto_ack: true,
            keep: true,
            answers: Vec::new(),
            answered: 0,
            delivers: Vec::new(),
            delivered: 0,
            arrivals: String::new(),
            bind_status: None,
            closed: None,
        };
        let bind = Bind {
            system_id: COctetString::try_from(system_id).unwrap_or_default(),
            password: COctetString::try_from(password).unwrap_or_default(),
            interface_version: carrier_protocol::smpp::InterfaceVersion::V34,
            ..Bind::default()
        };
        esme.session
            .bind(kind, bind, Instant::now())
            .map_err(|e| io::Error::other(e.to_string()))?;
        esme.until(Duration::from_secs(5), |e| e.bind_status.is_some())
            .await?;
        Ok(esme)
    }

    /// Whether the bind succeeded.
    pub(super) fn is_bound(&self) -> bool {
        self.bind_status == Some(CommandStatus::Ok)
    }

    /// Queues a submit_sm tagged `tag`.
    pub(super) fn submit(&mut self, sm: SubmitSm, tag: u64) {
        self.request(Body::SubmitSm(sm), tag);
    }

    /// Queues any request.
    pub(super) fn request(&mut self, body: Body, tag: u64) {
        if let Err(error) = self.session.send_request(body, tag, Instant::now()) {
            panic!("the test ESME cannot send: {error}");
        }
    }

    /// Answers a `deliver_sm` by hand.
    pub(super) fn ack(&mut self, seq: u32, status: CommandStatus) {
        let body = Body::DeliverSmResp(DeliverSmResp::default());
        if let Err(error) = self.session.respond(seq, status, body) {
            panic!("cannot answer deliver_sm {seq}: {error}");
        }
    }

    /// Writes what the session has queued.
    pub(super) async fn flush(&mut self) -> io::Result<()> {
        self.session.poll_transmit(&mut self.wbuf);
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }

    /// Flushes, then reads once (waiting at most `wait`) and processes what
    /// arrived. Returns false once the connection is closed.
    pub(super) async fn step(&mut self, wait: Duration) -> io::Result<bool> {
        self.flush().await?;
        if self.closed.is_some() {
            return Ok(false);
        }
        if self.rbuf.capacity() - self.rbuf.len() < 4096 {
            self.rbuf.reserve(64 * 1024);
        }
        let read = tokio::time::timeout(wait, async {
            self.stream.readable().await?;
            match self.stream.try_read_buf(&mut self.rbuf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                other => other.map(Some),
            }
        })
        .await;
        let now = Instant::now();
        match read {
            Err(_elapsed) => self.session.handle_timeout(now),
            Ok(Ok(None)) => {}
            Ok(Ok(Some(0))) | Ok(Err(_)) => self.session.handle_disconnect(now),
            Ok(Ok(Some(_))) => loop {
                match self.framer.next_pdu(&mut self.rbuf) {
                    Ok(Some(pdu)) => self.session.handle_pdu(pdu, now),
                    Ok(None) => break,
                    Err(error) => {
                        self.session.handle_fatal(error, now);
                        break;
                    }
                }
            },
        }
        self.drain_events();
        self.flush().await?;
        Ok(self.closed.is_none())
    }

    /// Steps until `done` holds (true), the connection closes or `timeout`
    /// passes (false).
    pub(super) async fn until(
        &mut self,
        timeout: Duration,
        done: impl Fn(&TestEsme) -> bool,
    ) -> io::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            if done(self) {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            if !self.step(left.min(Duration::from_millis(50))).await? {
                return Ok(done(self));
            }
        }
    }

    /// Steps for `period`, for checking that nothing (more) arrives.
    pub(super) async fn idle(&mut self, period: Duration) -> io::Result<()> {
        self.until(period, |_| false).await.map(|_| ())
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Bound { .. } => self.bind_status = Some(CommandStatus::Ok),
                Event::BindRejected { status } => self.bind_status = Some(status),
                Event::Request(pdu) => {
                    let seq = pdu.sequence_number;
                    if let Body::DeliverSm(sm) = pdu.body {
                        self.delivered += 1;
                        if self.keep {
                            self.delivers.push((seq, sm));
                            self.arrivals.push('d');
                        }
                        if self.auto_ack {
                            self.ack(seq, CommandStatus::Ok);
                        }
                    }
                }
                Event::Response { tag, pdu, .. } => {
                    self.answered += 1;
                    if self.keep {
                        let message_id = match &pdu.body {
                            Body::SubmitSmResp(r) => {
                                String::from_utf8_lossy(r.message_id.as_bytes()).into_owned()
                            }
                            Body::DataSmResp(r) => {
                                String::from_utf8_lossy(r.message_id.as_bytes()).into_owned()
                            }
                            _ => String::new(),
                        };
                        self.arrivals.push('a');
                        self.answers.push(Answer {
                            tag,
                            status: pdu.command_status,
                            message_id,
                        });
                    }
                }
                Event::Closed { reason } => self.closed = Some(reason),
                _ => {}
            }
        }
    }
}
