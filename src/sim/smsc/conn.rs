//! The tokio driver of one SMSC-side connection: moves bytes between the
//! socket and the sans-IO [`Session`], and applies the simulator's
//! behaviour to what the session reports.
//!
//! The loop is built for throughput (the simulator is the peer of the
//! gateway's load benchmark): each wake-up reads whatever the socket has into
//! one `BytesMut`, runs every complete PDU through the session, answers the
//! submits, moves due receipts into the window, and writes everything queued
//! with as few `write` calls as the kernel allows — never one per PDU. One
//! `Sleep`, armed at the earlier of the session's next timer and the next
//! due receipt, is the connection's only timer.
//!
//! Reads and writes are both non-blocking and driven by readiness, so the
//! connection never stops reading because a write is pending (two peers that
//! both block in `write` with full buffers would deadlock). Only when more
//! than [`HIGH_WATER`] octets wait to be written does it stop reading, which
//! pushes back on a peer that submits without reading its responses.
//!
//! A connection ends in one of three ways: the peer or the session closes it
//! (what the session still has to say — an `unbind_resp`, a bind rejection —
//! is written first); `drop_after` fires (the responses already due are
//! written, the Nth submit is not answered); or it is dropped on command
//! (nothing more is written). In every case [`Connection::finish`] hands the
//! receipts and MO segments it still holds — queued, in flight, or sent
//! unanswered — back to the registry for another bind.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use carrier_protocol::segment::parse_udh;
use carrier_protocol::smpp::pdu::{Bind, Body, DataSmResp, DeliverSm, SubmitSmResp};
use carrier_protocol::smpp::session::{BindKind, Event, Session, SessionConfig, State};
use carrier_protocol::smpp::{
    COctetString, CommandStatus, DataCoding, EsmClass, Framer, MessageState, Npi, Pdu,
    RegisteredDelivery, SmscReceipt, Tlv, TlvTag, Tlvs, Ton,
};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{debug, info, warn};

use super::outgoing::{
    Address, DueQueue, Outgoing, ReceiptId, ReceiptJob, Scheduled, format_message_id, receipt_text,
    unix_now,
};
use super::record::{BindRecord, SubmitRecord};
use super::registry::{BindRefusal, ConnCommand, ConnId, SystemId};
use super::stats::bump;
use super::{Shared, next_message_id};

/// Free space below which the read buffer grows before a read.
const MIN_READ_SPACE: usize = 4 * 1024;
/// How much the read buffer grows by.
const READ_CHUNK: usize = 64 * 1024;
/// Stop reading (and delivering) while this much waits to be written.
const HIGH_WATER: usize = 1024 * 1024;
/// Retry a `deliver_sm` the ESME answered with a transient error after this.
const RETRY_DELAY: Duration = Duration::from_secs(1);
/// How long the last words (responses before a drop, an `unbind_resp`) may
/// take to write before the socket is closed anyway.
const FINAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Write what is queued, then close.
    Flush,
    /// Close now.
    Abrupt,
}

/// Runs one accepted connection to its end.
pub(super) async fn serve_connection(
    shared: Arc<Shared>,
    mut stream: TcpStream,
    peer: SocketAddr,
    id: ConnId,
    mut commands: UnboundedReceiver<ConnCommand>,
) {
    if let Err(error) = stream.set_nodelay(true) {
        debug!(%error, "cannot set TCP_NODELAY");
    }
    debug!("connected");
    let mut conn = Connection::new(shared, id, peer);
    let exit = conn.drive(&stream, &mut commands).await;
    if exit == Exit::Flush && !conn.wbuf.is_empty() {
        let write = tokio::time::timeout(FINAL_WRITE_TIMEOUT, stream.write_all(&conn.wbuf));
        if !matches!(write.await, Ok(Ok(()))) {
            debug!("could not write the last PDUs");
        }
    }
    drop(stream);
    conn.finish(&mut commands);
}

/// A submit_sm or data_sm, seen through the fields the simulator uses.
struct Submit<'a> {
    is_data_sm: bool,
    source_ton: Ton,
    source_npi: Npi,
    source: &'a COctetString,
    dest_ton: Ton,
    dest_npi: Npi,
    dest: &'a COctetString,
    esm_class: EsmClass,
    data_coding: DataCoding,
    registered_delivery: RegisteredDelivery,
    /// `short_message`, or `message_payload` when that carries the text.
    content: &'a [u8],
    tlvs: &'a Tlvs,
}

impl Submit<'_> {
    fn command(&self) -> &'static str {
        if self.is_data_sm {
            "data_sm"
        } else {
            "submit_sm"
        }
    }

    fn response(&self, message_id: COctetString) -> Body {
        if self.is_data_sm {
            Body::DataSmResp(DataSmResp {
                message_id,
                tlvs: Tlvs::new(),
            })
        } else {
            Body::SubmitSmResp(SubmitSmResp {
                message_id,
                tlvs: Tlvs::new(),
            })
        }
    }

    /// Bits 1-0 of registered_delivery ask for a receipt on success (1: on
    /// final outcome, 3: on success); the simulator always succeeds.
    fn wants_receipt(&self) -> bool {
        matches!(
            self.registered_delivery.smsc_receipt(),
            SmscReceipt::OnFinal | SmscReceipt::OnSuccess
        )
    }

    /// The message text (UDH skipped), or empty when it cannot be decoded.
    fn text(&self) -> String {
        let (body, national) = if self.esm_class.udhi() {
            match parse_udh(self.content) {
                Ok((udh, rest)) => (rest, udh.national()),
                Err(_) => return String::new(),
            }
        } else {
            (self.content, (None, None))
        };
        carrier_protocol::text::decode(self.data_coding.value(), body, national).unwrap_or_default()
    }
}

/// Content of a submit: `short_message`, or the `message_payload` TLV when
/// `short_message` is empty.
fn content<'a>(short_message: &'a [u8], tlvs: &'a Tlvs) -> &'a [u8] {
    if short_message.is_empty() {
        tlvs.message_payload().map_or(short_message, |p| p.as_ref())
    } else {
        short_message
    }
}

/// One connection's state (see the module docs).
struct Connection {
    shared: Arc<Shared>,
    id: ConnId,
    peer: SocketAddr,
    session: Session,
    framer: Framer,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// The account and kind, once bound.
    bound: Option<(SystemId, BindKind)>,
    /// Receipts and MO segments waiting to be sent here.
    queue: DueQueue,
    /// Sent, awaiting `deliver_sm_resp`, by session tag.
    in_flight: HashMap<u64, Outgoing>,
    next_tag: u64,
    /// Receipts for the account that this bind cannot receive (transmitter).
    to_route: Vec<Scheduled>,
    /// Items of a closed session, handed back at the end.
    orphans: Vec<Scheduled>,
    /// Record lines of the current batch.
    record_buf: Vec<u8>,
    /// Submits seen on this connection (for `drop_after`).
    submits_seen: u64,
    /// When the submits accepted in the last second were accepted, oldest
    /// first (for `max_rate`).
    recent_accepts: VecDeque<Instant>,
    /// `drop_after` fired: stop reading, write what is due, close.
    drop_now: bool,
    /// Dropped on command: close without writing.
    abrupt: bool,
    /// `oversize_pdu`: the bind was accepted and the oversize PDU is due
    /// (written after the bind response).
    oversize_due: bool,
}

impl Connection {
    fn new(shared: Arc<Shared>, id: ConnId, peer: SocketAddr) -> Connection {
        let config = SessionConfig {
            window: shared.config.window.max(1),
            ..SessionConfig::smsc()
        };
        Connection {
            session: Session::new(config, Instant::now()),
            shared,
            id,
            peer,
            framer: Framer::default(),
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: BytesMut::with_capacity(READ_CHUNK),
            bound: None,
            queue: DueQueue::default(),
            in_flight: HashMap::new(),
            next_tag: 0,
            to_route: Vec::new(),
            orphans: Vec::new(),
            record_buf: Vec::new(),
            submits_seen: 0,
            recent_accepts: VecDeque::new(),
            drop_now: false,
            abrupt: false,
            oversize_due: false,
        }
    }

    /// The event loop; returns how to close.
    async fn drive(
        &mut self,
        stream: &TcpStream,
        commands: &mut UnboundedReceiver<ConnCommand>,
    ) -> Exit {
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        let mut commands_open = true;
        loop {
            let now = Instant::now();
            // The select below prefers input, so under sustained load the
            // sleep branch may not get its turn; run due session timers
            // (response timeouts above all) here as well.
            if self.session.poll_timeout().is_some_and(|at| at <= now) {
                self.session.handle_timeout(now);
                self.drain_events(now);
            }
            self.pump(now);
            if let Err(error) = write_ready(stream, &mut self.wbuf) {
                debug!(%error, "write failed");
                self.session.handle_disconnect(now);
                self.drain_events(now);
                return Exit::Abrupt;
            }
            if self.abrupt {
                return Exit::Abrupt;
            }
            if self.drop_now || self.session.is_closed() {
                return Exit::Flush;
            }
            // An early wake-up is harmless (nothing is due, the timer is
            // re-armed), so the sleep is only moved when the deadline comes
            // closer: in steady state it is not touched per batch.
            if let Some(at) = self.next_deadline()
                && armed.is_none_or(|current| at < current)
            {
                sleep.as_mut().reset(tokio::time::Instant::from_std(at));
                armed = Some(at);
            }
            let can_read = self.wbuf.len() < HIGH_WATER;
            tokio::select! {
                biased;
                command = commands.recv(), if commands_open => match command {
                    Some(command) => self.on_command(command, Instant::now()),
                    None => commands_open = false,
                },
                ready = stream.readable(), if can_read => {
                    let now = Instant::now();
                    if let Err(error) = ready.and_then(|()| self.read(stream, now)) {
                        debug!(%error, "read failed");
                        self.session.handle_disconnect(now);
                        self.drain_events(now);
                        return Exit::Abrupt;
                    }
                }
                ready = stream.writable(), if !self.wbuf.is_empty() => {
                    if let Err(error) = ready {
                        debug!(%error, "socket failed");
                        self.session.handle_disconnect(Instant::now());
                        self.drain_events(Instant::now());
                        return Exit::Abrupt;
                    }
                }
                () = &mut sleep, if armed.is_some() => {
                    armed = None;
                    let now = Instant::now();
                    self.session.handle_timeout(now);
                    self.drain_events(now);
                }
            }
        }
    }

    /// Reads what the socket has and processes every complete PDU. An EOF
    /// is reported as a disconnect of the session, not an error.
    fn read(&mut self, stream: &TcpStream, now: Instant) -> io::Result<()> {
        if self.rbuf.capacity() - self.rbuf.len() < MIN_READ_SPACE {
            self.rbuf.reserve(READ_CHUNK);
        }
        match stream.try_read_buf(&mut self.rbuf) {
            Ok(0) => {
                debug!("peer closed the connection");
                self.session.handle_disconnect(now);
                self.drain_events(now);
                Ok(())
            }
            Ok(_) => {
                self.process_input(now);
                Ok(())
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Runs every complete PDU of the read buffer through the session.
    fn process_input(&mut self, now: Instant) {
        while !self.drop_now && !self.session.is_closed() {
            match self.framer.next_pdu(&mut self.rbuf) {
                Ok(Some(pdu)) => {
                    self.session.handle_pdu(pdu, now);
                    self.drain_events(now);
                }
                Ok(None) => break,
                Err(error) => {
                    warn!(peer = %self.peer, %error, "cannot frame the byte stream; closing the connection");
                    bump(&self.shared.stats.framing_errors);
                    self.session.handle_fatal(error, now);
                    self.drain_events(now);
                    break;
                }
            }
        }
    }

    /// After input: sends due deliveries, collects the session's output,
    /// appends this batch's record lines (before the responses leave), and
    /// routes receipts this bind cannot receive.
    fn pump(&mut self, now: Instant) {
        self.deliver_due(now);
        self.session.poll_transmit(&mut self.wbuf);
        if std::mem::take(&mut self.oversize_due)
            && let Some(len) = self.shared.config.oversize_pdu
        {
            // Around the session, which would never send a PDU the peer
            // cannot take: that is the point.
            match oversize_deliver_sm(len) {
                Some(pdu) => {
                    info!(octets = len, "sending the oversize PDU");
                    self.wbuf.extend_from_slice(&pdu);
                }
                None => warn!(octets = len, "cannot build an oversize PDU of this size"),
            }
        }
        self.flush_records();
        if !self.to_route.is_empty() {
            let items = std::mem::take(&mut self.to_route);
            match &self.bound {
                Some((system_id, _)) => self.shared.registry().route_receipts(system_id, items),
                None => self.orphans.extend(items),
            }
        }
    }

    fn flush_records(&mut self) {
        if self.record_buf.is_empty() {
            return;
        }
        if let Some(sink) = &self.shared.record
            && let Err(error) = sink.append(&self.record_buf)
        {
            warn!(%error, "cannot write the record file");
        }
        self.record_buf.clear();
    }

    /// Whether `deliver_sm` may be sent on this session now.
    fn receives(&self) -> bool {
        matches!(self.session.state(), State::Bound(kind) if kind.esme_receives())
    }

    /// Moves due receipts and MO segments into the window.
    fn deliver_due(&mut self, now: Instant) {
        if self.drop_now || !self.receives() {
            return;
        }
        let mut unix_secs = None;
        while self.session.window_available() > 0 {
            let Some(scheduled) = self.queue.pop_due(now) else {
                break;
            };
            let secs = *unix_secs.get_or_insert_with(|| unix_now().0);
            if let Some(item) = self.send_deliver(scheduled.item, secs, now) {
                self.queue.push(Scheduled {
                    due: scheduled.due,
                    item,
                });
                break;
            }
        }
    }

    /// Sends one receipt or MO segment as a `deliver_sm` now (the window
    /// must have room); returns it if the session refuses (an `Option`, not
    /// a large `Err`).
    fn send_deliver(&mut self, item: Outgoing, unix_secs: u64, now: Instant) -> Option<Outgoing> {
        let body = Body::DeliverSm(item.to_deliver_sm(unix_secs));
        self.next_tag += 1;
        let tag = self.next_tag;
        match self.session.send_request(body, tag, now) {
            Ok(_) => {
                let stats = &self.shared.stats;
                bump(if item.is_receipt() {
                    &stats.receipts_sent
                } else {
                    &stats.mo_sent
                });
                self.in_flight.insert(tag, item);
                None
            }
            Err(error) => {
                debug!(%error, "cannot send deliver_sm now");
                Some(item)
            }
        }
    }

    /// The earlier of the session's next timer and the next due delivery
    /// (when one could be sent).
    fn next_deadline(&self) -> Option<Instant> {
        let session = self.session.poll_timeout();
        let deliveries = if self.receives()
            && self.session.window_available() > 0
            && self.wbuf.len() < HIGH_WATER
        {
            self.queue.next_due()
        } else {
            None
        };
        match (session, deliveries) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn drain_events(&mut self, now: Instant) {
        while let Some(event) = self.session.poll_event() {
            self.on_event(event, now);
        }
    }

    fn on_event(&mut self, event: Event, now: Instant) {
        match event {
            Event::BindRequest { seq, kind, bind } => self.on_bind(seq, kind, &bind, now),
            Event::Request(pdu) => self.on_request(pdu, now),
            Event::Response {
                tag,
                pdu,
                mismatched,
                ..
            } => self.on_delivery_answer(tag, pdu.command_status, mismatched, now),
            Event::MalformedResponse { tag, error, .. } => {
                debug!(%error, "malformed deliver_sm_resp; will resend");
                if let Some(item) = self.in_flight.remove(&tag) {
                    bump(&self.shared.stats.deliver_errors);
                    self.queue.push(Scheduled {
                        due: now + RETRY_DELAY,
                        item,
                    });
                }
            }
            Event::ResponseTimeout { tag, .. } => {
                debug!("deliver_sm not answered in time; resending");
                if let Some(item) = self.in_flight.remove(&tag) {
                    bump(&self.shared.stats.deliver_errors);
                    self.queue.push(Scheduled { due: now, item });
                }
            }
            Event::Abandoned { tag, .. } => {
                if let Some(item) = self.in_flight.remove(&tag) {
                    self.orphans.push(Scheduled { due: now, item });
                }
            }
            Event::UnexpectedResponse(pdu) => {
                debug!(command = %pdu.command_id(), seq = pdu.sequence_number, "unexpected response");
            }
            Event::Malformed(error) => {
                let is_response = error.command_id.is_some_and(|id| id.is_response());
                if !is_response {
                    bump(&self.shared.stats.malformed_nacked);
                }
                info!(%error, "malformed PDU");
            }
            Event::RequestRefused {
                seq,
                command,
                status,
            } => debug!(seq, %command, %status, "request refused by the session"),
            Event::LinkDead => info!("the ESME stopped answering enquire_link"),
            Event::Closed { reason } => info!(%reason, "session closed"),
            // ESME-role events; never produced in the SMSC role.
            Event::Bound { .. } | Event::BindRejected { .. } | Event::OutbindReceived { .. } => {}
        }
    }

    /// The configured credentials' verdict on `bind`, `None` when accepted.
    fn check_credentials(&self, bind: &Bind) -> Option<CommandStatus> {
        let accounts = &self.shared.config.accounts;
        if accounts.is_empty() {
            return None;
        }
        let account = accounts
            .iter()
            .find(|a| a.system_id.as_bytes() == bind.system_id.as_bytes());
        match account {
            None => Some(CommandStatus::InvalidSystemId),
            Some(account) => match &account.password {
                Some(password) if password.as_bytes() != bind.password.as_bytes() => {
                    Some(CommandStatus::InvalidPassword)
                }
                _ => None,
            },
        }
    }

    /// Appends a line to the bind record file, when there is one.
    fn record_bind(&self, kind: BindKind, bind: &Bind, outcome: &'static str) {
        let Some(sink) = &self.shared.bind_record else {
            return;
        };
        let line = BindRecord {
            command: kind.request_id().name().unwrap_or("bind"),
            system_id: bind.system_id.as_bytes(),
            interface_version: bind.interface_version.value(),
            outcome,
            conn: self.id,
            at_ms: unix_now().1,
        }
        .line();
        if let Err(error) = sink.append(&line) {
            warn!(%error, "cannot write the bind record file");
        }
    }

    fn on_bind(&mut self, seq: u32, kind: BindKind, bind: &Bind, now: Instant) {
        let shown = String::from_utf8_lossy(bind.system_id.as_bytes()).into_owned();
        tracing::Span::current().record("system_id", shown.as_str());
        if self.shared.config.stall_binds {
            info!(system_id = %shown, %kind, "stall_binds: leaving the bind unanswered");
            self.record_bind(kind, bind, "stalled");
            return;
        }
        let refusal = self.check_credentials(bind).map(Err).unwrap_or(Ok(()));
        let system_id: SystemId = Bytes::copy_from_slice(bind.system_id.as_bytes());
        let registered = refusal.and_then(|()| {
            self.shared
                .registry()
                .bind(
                    self.id,
                    &system_id,
                    kind,
                    self.shared.config.max_connections,
                )
                .map_err(|BindRefusal::TooMany| CommandStatus::BindFailed)
        });
        let handed = match registered {
            Ok(handed) => handed,
            Err(status) => {
                info!(system_id = %shown, %kind, %status, "bind rejected");
                bump(&self.shared.stats.bind_rejections);
                self.record_bind(kind, bind, "rejected");
                if let Err(error) = self.session.reject_bind(seq, status) {
                    debug!(%error, "cannot reject the bind");
                }
                return;
            }
        };
        if let Err(error) = self
            .session
            .accept_bind(seq, self.shared.smsc_system_id.clone(), now)
        {
            warn!(%error, "cannot accept the bind; closing");
            self.session.close();
            self.queue_all(handed);
            self.bound = Some((system_id, kind));
            return;
        }
        info!(system_id = %shown, %kind, handed_over = handed.len(), "bound");
        bump(&self.shared.stats.binds);
        self.record_bind(kind, bind, "accepted");
        self.oversize_due = self.shared.config.oversize_pdu.is_some();
        self.queue_all(handed);
        self.bound = Some((system_id, kind));
        if kind.esme_receives() {
            self.shared.receiver_bound.send_if_modified(|bound| {
                let first = !*bound;
                *bound = true;
                first
            });
        }
    }

    fn queue_all(&mut self, items: Vec<Scheduled>) {
        for item in items {
            self.queue.push(item);
        }
    }

    fn on_request(&mut self, pdu: Pdu, now: Instant) {
        let seq = pdu.sequence_number;
        match &pdu.body {
            Body::SubmitSm(sm) => self.on_submit(
                seq,
                &Submit {
                    is_data_sm: false,
                    source_ton: sm.source_addr_ton,
                    source_npi: sm.source_addr_npi,
                    source: &sm.source_addr,
                    dest_ton: sm.dest_addr_ton,
                    dest_npi: sm.dest_addr_npi,
                    dest: &sm.destination_addr,
                    esm_class: sm.esm_class,
                    data_coding: sm.data_coding,
                    registered_delivery: sm.registered_delivery,
                    content: content(sm.short_message.as_bytes(), &sm.tlvs),
                    tlvs: &sm.tlvs,
                },
                now,
            ),
            Body::DataSm(sm) => self.on_submit(
                seq,
                &Submit {
                    is_data_sm: true,
                    source_ton: sm.source_addr_ton,
                    source_npi: sm.source_addr_npi,
                    source: &sm.source_addr,
                    dest_ton: sm.dest_addr_ton,
                    dest_npi: sm.dest_addr_npi,
                    dest: &sm.destination_addr,
                    esm_class: sm.esm_class,
                    data_coding: sm.data_coding,
                    registered_delivery: sm.registered_delivery,
                    content: content(&[], &sm.tlvs),
                    tlvs: &sm.tlvs,
                },
                now,
            ),
            // The simulator keeps no message store to query, cancel or
            // replace in; say so with each command's own failure status.
            Body::QuerySm(_) => self.refuse(seq, CommandStatus::QueryFailed),
            Body::CancelSm(_) => self.refuse(seq, CommandStatus::CancelFailed),
            Body::ReplaceSm(_) => self.refuse(seq, CommandStatus::ReplaceFailed),
            // No response exists (and the session only surfaces it when the
            // bind allows it).
            Body::AlertNotification(_) => {}
            _ => self.refuse(seq, CommandStatus::Prohibited),
        }
    }

    fn refuse(&mut self, seq: u32, status: CommandStatus) {
        if let Err(error) = self.session.respond_error(seq, status) {
            debug!(%error, "cannot answer");
        }
    }

    /// Whether accepting one more submit now would go beyond `max_rate`
    /// in the last second; counts it as accepted when it would not.
    fn over_rate(&mut self, max_rate: u32, now: Instant) -> bool {
        let window = Duration::from_secs(1);
        while self
            .recent_accepts
            .front()
            .is_some_and(|at| now.duration_since(*at) >= window)
        {
            self.recent_accepts.pop_front();
        }
        if max_rate == 0 || self.recent_accepts.len() >= max_rate as usize {
            return true;
        }
        self.recent_accepts.push_back(now);
        false
    }

    fn on_submit(&mut self, seq: u32, submit: &Submit<'_>, now: Instant) {
        let shared = self.shared.clone();
        let shared = &*shared;
        let config = &shared.config;
        bump(&shared.stats.submits_received);
        self.submits_seen += 1;
        if config
            .drop_after
            .is_some_and(|n| n > 0 && self.submits_seen >= n)
        {
            info!(
                submits = self.submits_seen,
                "drop_after reached: closing without answering this submit"
            );
            bump(&shared.stats.connections_dropped);
            self.drop_now = true;
            return;
        }
        // While we unbind (shutting down) nothing new is accepted: its
        // receipt could never be delivered.
        let unbinding = matches!(self.session.state(), State::Unbinding(_));
        let max_rate = config.max_rate;
        let throttle = unbinding
            || config.throttle_every.is_some_and(|n| {
                let count = shared.throttle_count.fetch_add(1, Ordering::Relaxed) + 1;
                n > 0 && count.is_multiple_of(n)
            })
            || max_rate.is_some_and(|n| self.over_rate(n, now));
        if throttle {
            bump(&shared.stats.submits_throttled);
            if let Err(error) = self.session.respond_error(seq, CommandStatus::Throttled) {
                debug!(%error, "cannot answer");
            }
            return;
        }
        let number = next_message_id();
        let id = format_message_id(number);
        let nth = shared.id_count.fetch_add(1, Ordering::Relaxed) + 1;
        let every = |n: Option<u64>| n.is_some_and(|n| n > 0 && nth.is_multiple_of(n));
        // What the response says (the receipt always names the real id).
        let told: Bytes = if every(config.empty_message_id_every) {
            Bytes::new()
        } else if every(config.repeat_message_id_every) && number > 0 {
            Bytes::copy_from_slice(&format_message_id(number - 1))
        } else {
            Bytes::copy_from_slice(&id)
        };
        let Ok(message_id) = COctetString::new(told) else {
            // Hex digits never contain NUL.
            return;
        };
        let receipt_first = config.receipt_first;
        // Every accepted submit counts for `fail_every`, whether it asks for
        // a receipt or not.
        let failed = config.fail_every.is_some_and(|n| {
            let count = shared.fail_count.fetch_add(1, Ordering::Relaxed) + 1;
            n > 0 && count.is_multiple_of(n)
        });
        let receipt = match config.dlr_delay {
            Some(delay) if submit.wants_receipt() => {
                Some((delay, receipt_job(number, submit, failed)))
            }
            _ => None,
        };
        // `receipt_first`: the receipt goes out ahead of the response that
        // tells the ESME its id, on this connection when it can receive.
        let receipt = match receipt {
            Some((_, job))
                if receipt_first && self.receives() && self.session.window_available() > 0 =>
            {
                self.send_deliver(Outgoing::Receipt(job), unix_now().0, now)
                    .map(|item| (Duration::ZERO, item))
            }
            // A bind that cannot receive: at once (receipt_first) through
            // the account's receivers, necessarily after the response.
            Some((_, job)) if receipt_first => Some((Duration::ZERO, Outgoing::Receipt(job))),
            Some((delay, job)) => Some((delay, Outgoing::Receipt(job))),
            None => None,
        };
        if let Err(error) =
            self.session
                .respond(seq, CommandStatus::Ok, submit.response(message_id))
        {
            debug!(%error, "cannot answer");
            return;
        }
        let shared = &*self.shared;
        bump(&shared.stats.submits_accepted);
        if shared.record.is_some() {
            let system_id = self.bound.as_ref().map_or(&b""[..], |(s, _)| s.as_ref());
            SubmitRecord {
                message_id: &id,
                command: submit.command(),
                system_id,
                source_addr: submit.source,
                source_ton_npi: (submit.source_ton.value(), submit.source_npi.value()),
                destination_addr: submit.dest,
                dest_ton_npi: (submit.dest_ton.value(), submit.dest_npi.value()),
                data_coding: submit.data_coding,
                esm_class: submit.esm_class,
                registered_delivery: submit.registered_delivery,
                content: submit.content,
                tlvs: submit.tlvs,
                conn: self.id,
                at_ms: unix_now().1,
            }
            .write_line(&mut self.record_buf);
        }
        let Some((delay, item)) = receipt else {
            return;
        };
        let scheduled = Scheduled {
            due: now.checked_add(delay).unwrap_or(now),
            item,
        };
        if self.receives() {
            self.queue.push(scheduled);
        } else {
            self.to_route.push(scheduled);
        }
    }
}

/// The receipt of accepted submit `number`: undeliverable when `failed`.
fn receipt_job(number: u64, submit: &Submit<'_>, failed: bool) -> ReceiptJob {
    ReceiptJob {
        message_id: ReceiptId::Counter(number),
        source: Address {
            ton: submit.dest_ton,
            npi: submit.dest_npi,
            addr: submit.dest.clone(),
        },
        dest: Address {
            ton: submit.source_ton,
            npi: submit.source_npi,
            addr: submit.source.clone(),
        },
        submitted_unix: unix_now().0,
        text: receipt_text(&submit.text()),
        state: if failed {
            MessageState::Undeliverable
        } else {
            MessageState::Delivered
        },
    }
}

impl Connection {
    /// The ESME answered a `deliver_sm`.
    fn on_delivery_answer(
        &mut self,
        tag: u64,
        status: CommandStatus,
        mismatched: bool,
        now: Instant,
    ) {
        let Some(item) = self.in_flight.remove(&tag) else {
            return;
        };
        let stats = &self.shared.stats;
        if status.is_ok() && !mismatched {
            bump(if item.is_receipt() {
                &stats.receipts_acknowledged
            } else {
                &stats.mo_acknowledged
            });
            return;
        }
        bump(&stats.deliver_errors);
        let permanent = matches!(
            status,
            CommandStatus::PermanentAppError | CommandStatus::RejectedAppError
        );
        if permanent {
            warn!(%status, "the ESME refused a deliver_sm permanently; dropping it");
        } else {
            debug!(%status, mismatched, "deliver_sm answered with an error; will resend");
            self.queue.push(Scheduled {
                due: now + RETRY_DELAY,
                item,
            });
        }
    }

    fn on_command(&mut self, command: ConnCommand, now: Instant) {
        match command {
            ConnCommand::Deliver(items) => self.queue_all(items),
            ConnCommand::Drop => {
                info!("dropping the connection on request");
                bump(&self.shared.stats.connections_dropped);
                self.abrupt = true;
            }
            ConnCommand::Unbind => {
                match self.session.state() {
                    State::Bound(_) => {
                        if let Err(error) = self.session.unbind(now) {
                            debug!(%error, "cannot unbind");
                        }
                    }
                    State::Open | State::Binding(_) => self.session.close(),
                    State::Unbinding(_) | State::Closed => {}
                }
                self.drain_events(now);
            }
        }
    }

    /// Hands everything undelivered back to the registry and leaves it.
    fn finish(&mut self, commands: &mut UnboundedReceiver<ConnCommand>) {
        let now = Instant::now();
        if !self.session.is_closed() {
            self.session.close();
        }
        self.drain_events(now);
        self.flush_records();
        let mut orphans = std::mem::take(&mut self.orphans);
        orphans.extend(
            self.in_flight
                .drain()
                .map(|(_, item)| Scheduled { due: now, item }),
        );
        orphans.extend(self.queue.drain_all());
        orphans.append(&mut self.to_route);
        let handed_back = orphans.len();
        {
            let mut registry = self.shared.registry();
            registry.remove(self.id);
            // Nothing can be sent to us any more; collect what already was.
            commands.close();
            while let Ok(command) = commands.try_recv() {
                if let ConnCommand::Deliver(items) = command {
                    orphans.extend(items);
                }
            }
            let (receipts, mo): (Vec<_>, Vec<_>) =
                orphans.into_iter().partition(|s| s.item.is_receipt());
            match &self.bound {
                Some((system_id, _)) => registry.route_receipts(system_id, receipts),
                None if !receipts.is_empty() => {
                    // Receipts exist only on bound connections.
                    warn!(
                        count = receipts.len(),
                        "receipts without an account dropped"
                    );
                }
                None => {}
            }
            registry.route_mo(mo);
        }
        self.shared.stats.connection_closed();
        info!(handed_back, "connection closed");
    }
}

/// A `deliver_sm` of exactly `len` octets, its `message_payload` filling what
/// the empty PDU leaves; `None` when `len` is below the empty PDU or above
/// what one TLV holds.
fn oversize_deliver_sm(len: usize) -> Option<BytesMut> {
    // Far from any sequence number the session allocates, so it cannot be
    // mistaken for one of its requests.
    const SEQUENCE: u32 = 0x7FFF_FFF0;
    let empty = Pdu::request(SEQUENCE, Body::DeliverSm(DeliverSm::default())).encoded_len();
    // The TLV's tag and length.
    let payload_len = len.checked_sub(empty + 4)?;
    let mut tlvs = Tlvs::new();
    tlvs.push(Tlv::new(TlvTag::MessagePayload, vec![b'x'; payload_len]).ok()?);
    let pdu = Pdu::request(
        SEQUENCE,
        Body::DeliverSm(DeliverSm {
            tlvs,
            ..DeliverSm::default()
        }),
    );
    let mut out = BytesMut::with_capacity(len);
    pdu.encode(&mut out);
    (out.len() == len).then_some(out)
}

/// Writes as much of `wbuf` as the socket takes without blocking.
fn write_ready(stream: &TcpStream, wbuf: &mut BytesMut) -> io::Result<()> {
    while !wbuf.is_empty() {
        match stream.try_write(wbuf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => wbuf.advance(n),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod oversize_tests {
    use super::*;

    #[test]
    fn oversize_pdu_has_exactly_the_asked_length_and_decodes() {
        for len in [*super::super::OVERSIZE_PDU_RANGE.start(), 2048, 65_535] {
            let bytes = oversize_deliver_sm(len).expect("buildable");
            assert_eq!(bytes.len(), len);
            let claimed = bytes.first_chunk::<4>().map(|b| u32::from_be_bytes(*b));
            assert_eq!(claimed, u32::try_from(len).ok());
            assert_eq!(bytes.len(), len);
            let pdu = Pdu::decode(&bytes.freeze()).expect("a valid deliver_sm");
            assert!(matches!(pdu.body, Body::DeliverSm(_)));
        }
        assert!(oversize_deliver_sm(20).is_none());
    }
}
