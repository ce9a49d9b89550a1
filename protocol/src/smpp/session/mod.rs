//! The SMPP session as a sans-IO state machine, for both ends of the link.
//!
//! This is the quinn-proto shape: the [`Session`] is fed decoded PDUs
//! ([`Session::handle_pdu`]), transport failures and the current time, and
//! it returns PDUs to write ([`Session::poll_transmit`]), the next instant it
//! wants to be woken ([`Session::poll_timeout`]) and [`Event`]s. It never
//! touches a socket or reads a clock, so every rule below — bind states,
//! window accounting, sequence numbers, enquire_link and response timers — is
//! tested deterministically with simulated time. The tokio driver only moves
//! bytes between the socket and the session and sleeps until `poll_timeout`.
//!
//! A driver's loop, in outline:
//!
//! ```text
//! loop {
//!     session.poll_transmit(&mut write_buf);      // then write write_buf out
//!     while let Some(ev) = session.poll_event() { /* settle, requeue, log */ }
//!     if session.is_closed() && write_buf.is_empty() { break }
//!     select! {
//!         bytes read   => while let Some(pdu) = framer.next_pdu(&mut read_buf)? {
//!                             session.handle_pdu(pdu, Instant::now())
//!                         }                        // Err(e) => session.handle_fatal(e, now)
//!         EOF / error  => session.handle_disconnect(Instant::now()),
//!         sleep_until(session.poll_timeout()) => session.handle_timeout(Instant::now()),
//!         outbox entry, if session.window_available() > 0
//!                      => session.send_request(body, entry_id, Instant::now()),
//!     }
//! }
//! ```
//!
//! Decisions worth knowing (each is also documented where it is made):
//!
//! - The window counts only the application's requests. The session's own
//!   `bind`, `enquire_link` and `unbind` are tracked separately (at most one
//!   of each), so keep-alive works even with a full window.
//! - The session's clock never runs backwards: an `Instant` earlier than one
//!   already seen is taken as the latest one. That keeps response deadlines in
//!   send order, which the O(1) timer bookkeeping relies on.
//! - A timer whose duration overflows `Instant` never fires: a huge duration
//!   disables it.
//! - When the session closes, requests still queued for transmission are
//!   dropped from the queue (they are reported [`Event::Abandoned`] and will be
//!   requeued, so they must not reach the wire as well); responses stay queued.

mod event;
mod state;
mod window;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::pdu::{Bind, BindResp, Body, Outbind, Pdu};
use super::{COctetString, CommandId, CommandStatus, DecodeError, InterfaceVersion, Tlv, TlvTag};

pub use event::{CloseReason, Event, SessionError};
pub use state::{BindKind, Role, State};
pub use window::MAX_SEQUENCE_NUMBER;

use window::{Ended, RequestWindow, SequenceNumbers};

/// The largest window a session accepts; larger configured values are cut to
/// it. Far above any carrier's limit, and far below the 2^31 sequence
/// numbers, so the allocator always finds a free one quickly.
pub const MAX_WINDOW: usize = 1 << 20;

/// A session's tunables. The defaults are chosen for a carrier link; each
/// field says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Which end we are.
    pub role: Role,
    /// The most requests we have sent and not yet seen answered. Default 64:
    /// the gateway's default `window` per bind (docs/configuration.md); carriers
    /// commonly allow 10–100 and answer excess with `ESME_RTHROTTLED` or
    /// `ESME_RMSGQFUL`. Capped at [`MAX_WINDOW`].
    pub window: usize,
    /// How long we wait for the response to one of our requests (and to
    /// `enquire_link`). Default 10 s: a loaded SMSC answers within a second
    /// or two, so 10 s is a clear failure, and a stuck window slot is freed
    /// (and its message retried) soon enough not to stall a number's queue.
    pub response_timeout: Duration,
    /// Send `enquire_link` after this long without any PDU from the peer.
    /// Default 30 s: the common carrier setting, well under the 60–300 s
    /// after which NATs and firewalls drop idle TCP flows, and what Kannel
    /// and most SMSCs use.
    pub enquire_link_interval: Duration,
    /// How long a connection may stay unbound (SMPP 5.0 session_init_timer):
    /// from [`Session::new`] until a bind completes, renewed when the ESME
    /// sends its bind. Default 10 s: a bind is one round trip; the SMSC role
    /// must not keep idle, never-binding connections forever.
    pub bind_timeout: Duration,
    /// How long we wait for `unbind_resp` before closing anyway. Default 5 s:
    /// we are leaving either way; this only bounds a graceful shutdown.
    pub unbind_timeout: Duration,
    /// The most requests of the peer that may await the application's
    /// answer; beyond it the session answers by itself with
    /// `ESME_RTHROTTLED` (SMSC role) or `ESME_RX_T_APPN` (ESME role), both
    /// "try again later". Default `Some(1024)`: bounds memory against a peer
    /// that ignores flow control, far above any sane peer window. `None`
    /// disables the limit.
    pub max_inbound_unanswered: Option<usize>,
    /// (SMSC role) The `sc_interface_version` we put in bind responses to
    /// ESMEs that bind with version 3.4 or later. Default 3.4 (0x34).
    pub interface_version: InterfaceVersion,
}

impl SessionConfig {
    /// The defaults, for the ESME role.
    pub fn esme() -> SessionConfig {
        SessionConfig {
            role: Role::Esme,
            window: 64,
            response_timeout: Duration::from_secs(10),
            enquire_link_interval: Duration::from_secs(30),
            bind_timeout: Duration::from_secs(10),
            unbind_timeout: Duration::from_secs(5),
            max_inbound_unanswered: Some(1024),
            interface_version: InterfaceVersion::V34,
        }
    }

    /// The defaults, for the SMSC role.
    pub fn smsc() -> SessionConfig {
        SessionConfig {
            role: Role::Smsc,
            ..SessionConfig::esme()
        }
    }
}

impl Default for SessionConfig {
    /// [`SessionConfig::esme`].
    fn default() -> Self {
        SessionConfig::esme()
    }
}

/// One of the session's own requests (bind, enquire_link, unbind).
#[derive(Debug, Clone, Copy)]
struct Control {
    seq: u32,
    deadline: Option<Instant>,
    /// How many PDUs had arrived when it was sent (see `handle_timeout`).
    inbound_mark: u64,
}

/// (SMSC) A bind awaiting the application's decision.
#[derive(Debug, Clone, Copy)]
struct PendingBind {
    seq: u32,
    kind: BindKind,
    /// The ESME's `interface_version`: no TLVs for 3.3 and earlier.
    interface_version: InterfaceVersion,
}

/// A request of the peer awaiting the application's answer.
#[derive(Debug, Clone, Copy)]
struct Inbound {
    command: CommandId,
    /// Copies with this sequence number awaiting an answer (a peer that
    /// retransmits before we answered sends the same number again).
    count: u32,
}

/// One SMPP session (one TCP connection), either role. See the module docs.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    /// The latest instant seen; the session's clock.
    now: Instant,
    sequences: SequenceNumbers,
    window: RequestWindow,
    /// (ESME) Our bind, awaiting its response.
    bind_request: Option<Control>,
    /// (SMSC) The peer's bind, awaiting the application.
    pending_bind: Option<PendingBind>,
    /// Our enquire_link, awaiting its response.
    enquire_link: Option<Control>,
    /// Our unbind, awaiting its response.
    unbind_request: Option<Control>,
    /// Open/Binding: when the session gives up waiting for a bind.
    bind_deadline: Option<Instant>,
    inbound: HashMap<u32, Inbound>,
    inbound_unanswered: usize,
    /// When the last PDU arrived, and how many have.
    last_inbound: Instant,
    inbound_count: u64,
    transmit: VecDeque<Pdu>,
    events: VecDeque<Event>,
}

/// `now + d`, or `None` (never) when that is beyond what `Instant` holds.
fn deadline(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

fn is_due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|at| at <= now)
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A known response id (a response with an unknown id is answered with
/// `generic_nack` like any unknown command).
fn is_known_response(id: CommandId) -> bool {
    id.is_response() && !matches!(id, CommandId::Other(_))
}

/// The `BindResp` of any of the three bind responses.
fn into_bind_resp(body: Body) -> Option<BindResp> {
    match body {
        Body::BindTransmitterResp(r) | Body::BindReceiverResp(r) | Body::BindTransceiverResp(r) => {
            Some(r)
        }
        _ => None,
    }
}

impl Session {
    /// A session on a freshly connected transport, in [`State::Open`]. The
    /// bind timer (`bind_timeout`) starts now.
    pub fn new(config: SessionConfig, now: Instant) -> Session {
        let window = RequestWindow::new(config.window.min(MAX_WINDOW));
        Session {
            bind_deadline: deadline(now, config.bind_timeout),
            config,
            state: State::Open,
            now,
            sequences: SequenceNumbers::new(),
            window,
            bind_request: None,
            pending_bind: None,
            enquire_link: None,
            unbind_request: None,
            inbound: HashMap::new(),
            inbound_unanswered: 0,
            last_inbound: now,
            inbound_count: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    // ---- inspection ------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Our requests awaiting a response (the application's only; see the
    /// module docs). A driver draining for shutdown waits for this to reach
    /// 0, up to a bound, before [`Session::unbind`].
    pub fn outstanding(&self) -> usize {
        self.window.len()
    }

    /// How many more requests [`Session::send_request`] would accept now:
    /// the free window slots while bound, 0 in any other state.
    pub fn window_available(&self) -> usize {
        match self.state {
            State::Bound(_) => self.window.available(),
            _ => 0,
        }
    }

    /// Requests of the peer awaiting [`Session::respond`].
    pub fn unanswered_inbound(&self) -> usize {
        self.inbound_unanswered
    }

    // ---- the application's actions ----------------------------------------

    /// (ESME) Sends a bind of `kind`; the session moves to
    /// [`State::Binding`] and renews the bind timer. The outcome comes as
    /// [`Event::Bound`] or [`Event::BindRejected`]. Returns the bind's
    /// sequence number.
    pub fn bind(&mut self, kind: BindKind, bind: Bind, now: Instant) -> Result<u32, SessionError> {
        let now = self.advance(now);
        let command = kind.request_id();
        match self.state {
            State::Closed => return Err(SessionError::Closed),
            State::Open if self.config.role == Role::Esme => {}
            state => return Err(SessionError::NotAllowed { command, state }),
        }
        let seq = self.allocate_sequence();
        self.transmit
            .push_back(Pdu::request(seq, kind.request(bind)));
        let timeout = deadline(now, self.config.bind_timeout);
        self.bind_request = Some(Control {
            seq,
            deadline: timeout,
            inbound_mark: self.inbound_count,
        });
        self.bind_deadline = timeout;
        self.state = State::Binding(kind);
        Ok(seq)
    }

    /// (SMSC) Sends `outbind`, asking the ESME to bind to us. No response
    /// exists; the ESME answers with a bind. Returns its sequence number.
    pub fn outbind(&mut self, outbind: Outbind) -> Result<u32, SessionError> {
        match self.state {
            State::Closed => return Err(SessionError::Closed),
            State::Open if self.config.role == Role::Smsc => {}
            state => {
                return Err(SessionError::NotAllowed {
                    command: CommandId::Outbind,
                    state,
                });
            }
        }
        let seq = self.allocate_sequence();
        self.transmit
            .push_back(Pdu::request(seq, Body::Outbind(outbind)));
        Ok(seq)
    }

    /// (SMSC) Accepts the bind announced by [`Event::BindRequest`] `seq`:
    /// answers `bind_*_resp` with `ESME_ROK`, our `system_id` and (for an
    /// ESME of version 3.4 or later) the `sc_interface_version` TLV, and
    /// moves to [`State::Bound`]. No [`Event::Bound`] follows: the
    /// application made the decision itself.
    pub fn accept_bind(
        &mut self,
        seq: u32,
        system_id: COctetString,
        now: Instant,
    ) -> Result<(), SessionError> {
        let now = self.advance(now);
        let pending = self.take_pending_bind(seq)?;
        let mut resp = BindResp {
            system_id,
            ..BindResp::default()
        };
        if pending.interface_version.value() >= InterfaceVersion::V34.value() {
            resp.tlvs.push(Tlv::u8(
                TlvTag::ScInterfaceVersion,
                self.config.interface_version.value(),
            ));
        }
        self.transmit.push_back(Pdu::response(
            seq,
            CommandStatus::Ok,
            pending.kind.response(resp),
        ));
        self.state = State::Bound(pending.kind);
        self.bind_deadline = None;
        // The keep-alive interval starts with the session.
        self.last_inbound = now;
        Ok(())
    }

    /// (SMSC) Rejects the bind announced by [`Event::BindRequest`] `seq`
    /// with `status` (e.g. `ESME_RINVPASWD`); the response is queued and the
    /// session closes.
    pub fn reject_bind(&mut self, seq: u32, status: CommandStatus) -> Result<(), SessionError> {
        if status.is_ok() {
            return Err(SessionError::OkRejection);
        }
        let pending = self.take_pending_bind(seq)?;
        self.transmit.push_back(Pdu::response(
            seq,
            status,
            pending.kind.response(BindResp::default()),
        ));
        self.close_with(CloseReason::BindRejected(status));
        Ok(())
    }

    /// Sends a request (`submit_sm`, `deliver_sm` in the SMSC role,
    /// `query_sm`, `enquire_link`, …) and returns its sequence number. `tag`
    /// comes back in the event that ends the request.
    ///
    /// Binds, `unbind` and `outbind` have their own methods; responses go
    /// through [`Session::respond`].
    pub fn send_request(
        &mut self,
        body: Body,
        tag: u64,
        now: Instant,
    ) -> Result<u32, SessionError> {
        let now = self.advance(now);
        let command = body.command_id();
        let kind = match self.state {
            State::Closed => return Err(SessionError::Closed),
            State::Open | State::Binding(_) => {
                return Err(SessionError::NotBound {
                    command,
                    state: self.state,
                });
            }
            State::Unbinding(_) => {
                return Err(SessionError::NotAllowed {
                    command,
                    state: self.state,
                });
            }
            State::Bound(kind) => kind,
        };
        if command == CommandId::Unbind || !kind.permits(self.config.role, command) {
            return Err(SessionError::NotAllowed {
                command,
                state: self.state,
            });
        }
        if self.window.available() == 0 {
            return Err(SessionError::WindowFull {
                window: self.config.window.min(MAX_WINDOW),
            });
        }
        let seq = self.allocate_sequence();
        self.window.insert(
            seq,
            tag,
            command,
            deadline(now, self.config.response_timeout),
        );
        self.transmit.push_back(Pdu::request(seq, body));
        Ok(seq)
    }

    /// Answers the peer's request `seq` (from [`Event::Request`]) with
    /// `status` and `body`, which must be the request's response type or
    /// `generic_nack`. For an error without a body use
    /// [`Session::respond_error`].
    pub fn respond(
        &mut self,
        seq: u32,
        status: CommandStatus,
        body: Body,
    ) -> Result<(), SessionError> {
        if self.state == State::Closed {
            return Err(SessionError::Closed);
        }
        let Some(entry) = self.inbound.get_mut(&seq) else {
            return Err(SessionError::UnknownRequest { seq });
        };
        let got = body.command_id();
        if got != CommandId::GenericNack && Some(got) != entry.command.response() {
            return Err(SessionError::WrongResponse {
                request: entry.command,
                got,
            });
        }
        entry.count = entry.count.saturating_sub(1);
        if entry.count == 0 {
            self.inbound.remove(&seq);
        }
        self.inbound_unanswered = self.inbound_unanswered.saturating_sub(1);
        self.transmit.push_back(Pdu::response(seq, status, body));
        Ok(())
    }

    /// Answers the peer's request `seq` with its response type carrying
    /// `status` and no body (SMPP 3.4 §4: error responses omit the body).
    pub fn respond_error(&mut self, seq: u32, status: CommandStatus) -> Result<(), SessionError> {
        if self.state == State::Closed {
            return Err(SessionError::Closed);
        }
        let body = self
            .inbound
            .get(&seq)
            .and_then(|entry| entry.command.response())
            .and_then(Body::empty_for)
            .unwrap_or(Body::GenericNack);
        self.respond(seq, status, body)
    }

    /// Starts a graceful unbind: sends `unbind` and moves to
    /// [`State::Unbinding`], where new requests are refused and responses
    /// to outstanding ones still arrive. The session closes on `unbind_resp`
    /// or after `unbind_timeout`; requests still outstanding then are
    /// abandoned. To wait for them first, watch [`Session::outstanding`].
    pub fn unbind(&mut self, now: Instant) -> Result<(), SessionError> {
        let now = self.advance(now);
        let kind = match self.state {
            State::Closed => return Err(SessionError::Closed),
            State::Bound(kind) => kind,
            State::Open | State::Binding(_) => {
                return Err(SessionError::NotBound {
                    command: CommandId::Unbind,
                    state: self.state,
                });
            }
            State::Unbinding(_) => {
                return Err(SessionError::NotAllowed {
                    command: CommandId::Unbind,
                    state: self.state,
                });
            }
        };
        let seq = self.allocate_sequence();
        self.transmit.push_back(Pdu::request(seq, Body::Unbind));
        self.unbind_request = Some(Control {
            seq,
            deadline: deadline(now, self.config.unbind_timeout),
            inbound_mark: self.inbound_count,
        });
        // Liveness is now the unbind timer's business.
        self.enquire_link = None;
        self.state = State::Unbinding(kind);
        Ok(())
    }

    /// Ends the session at once, without unbinding (e.g. a drain that took
    /// too long, or a shutdown without a peer to tell). Outstanding
    /// requests are abandoned.
    pub fn close(&mut self) {
        self.close_with(CloseReason::Local);
    }

    // ---- input from the driver -------------------------------------------

    /// Feeds one PDU from the framer (the inner result of
    /// [`super::Framer::next_pdu`]). A malformed PDU is answered with
    /// `generic_nack` here; a framing error goes to
    /// [`Session::handle_fatal`] instead. Ignored once closed.
    pub fn handle_pdu(&mut self, input: Result<Pdu, DecodeError>, now: Instant) {
        let now = self.advance(now);
        if self.state == State::Closed {
            return;
        }
        self.last_inbound = now;
        self.inbound_count += 1;
        match input {
            Ok(pdu) if pdu.command_id().is_response() => self.on_response(pdu),
            Ok(pdu) => self.on_request(pdu),
            Err(error) => self.on_malformed(error),
        }
    }

    /// The byte stream cannot be framed any more (the framer's outer
    /// error). A `generic_nack` with the error's status is queued — the
    /// driver may write it before closing, as a courtesy to the peer's
    /// logs — and the session closes.
    pub fn handle_fatal(&mut self, error: DecodeError, now: Instant) {
        self.advance(now);
        if self.state == State::Closed {
            return;
        }
        self.transmit.push_back(Pdu::generic_nack(
            error.sequence_number.unwrap_or(0),
            error.status,
        ));
        self.close_with(CloseReason::Framing(error));
    }

    /// The connection is gone (EOF, reset, write error). Nothing more can be
    /// sent, so the transmit queue is emptied; outstanding requests are
    /// abandoned and the session closes.
    pub fn handle_disconnect(&mut self, now: Instant) {
        self.advance(now);
        self.transmit.clear();
        self.close_with(CloseReason::Disconnected);
    }

    /// The earliest instant at which [`Session::handle_timeout`] has work:
    /// a response deadline, the next `enquire_link`, the bind or unbind
    /// timer. `None` when closed or when no timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let requests = self.window.next_deadline();
        let session = match self.state {
            State::Closed => return None,
            State::Open | State::Binding(_) => self.bind_deadline,
            State::Unbinding(_) => self.unbind_request.and_then(|c| c.deadline),
            State::Bound(_) => match self.enquire_link {
                Some(control) => control.deadline,
                None => self.enquire_link_due(),
            },
        };
        earliest(requests, session)
    }

    /// Runs every timer due at or before `now`: expired requests yield
    /// [`Event::ResponseTimeout`]; the bind, unbind and link timers may close
    /// the session; an idle link gets an `enquire_link`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.advance(now);
        if self.state == State::Closed {
            return;
        }
        while let Some(Ended { seq, tag, command }) = self.window.expire(now) {
            self.events
                .push_back(Event::ResponseTimeout { seq, tag, command });
        }
        match self.state {
            State::Closed => {}
            State::Open | State::Binding(_) => {
                if is_due(self.bind_deadline, now) {
                    self.close_with(CloseReason::BindTimeout);
                }
            }
            State::Unbinding(_) => {
                if is_due(self.unbind_request.and_then(|c| c.deadline), now) {
                    self.close_with(CloseReason::UnbindTimeout);
                }
            }
            State::Bound(_) => self.keep_alive(now),
        }
    }

    // ---- output to the driver --------------------------------------------

    /// Appends the encoding of every queued PDU to `out` (the driver's write
    /// buffer: one encode, no intermediate copy) and returns the number of
    /// octets appended.
    pub fn poll_transmit(&mut self, out: &mut BytesMut) -> usize {
        let before = out.len();
        for pdu in self.transmit.drain(..) {
            pdu.encode(out);
        }
        out.len() - before
    }

    /// The next queued PDU, for drivers that write through a codec
    /// (`Framed<_, SmppCodec>`) rather than a byte buffer.
    pub fn poll_transmit_pdu(&mut self) -> Option<Pdu> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ---- internals -------------------------------------------------------

    /// Moves the session's clock to `now` unless that would go backwards;
    /// returns the session's now.
    fn advance(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    fn allocate_sequence(&mut self) -> u32 {
        let window = &self.window;
        let controls = [self.bind_request, self.enquire_link, self.unbind_request];
        self.sequences
            .allocate(|seq| window.contains(seq) || controls.iter().flatten().any(|c| c.seq == seq))
    }

    fn enquire_link_due(&self) -> Option<Instant> {
        deadline(self.last_inbound, self.config.enquire_link_interval)
    }

    /// Bound-state liveness: judge an outstanding `enquire_link`, or send
    /// one when the link has been quiet for `enquire_link_interval`.
    fn keep_alive(&mut self, now: Instant) {
        if let Some(control) = self.enquire_link {
            if !is_due(control.deadline, now) {
                return;
            }
            if self.inbound_count == control.inbound_mark {
                // Not a single PDU since we asked: the link is dead.
                self.events.push_back(Event::LinkDead);
                self.close_with(CloseReason::LinkDead);
                return;
            }
            // The peer ignored the enquire_link but is sending other PDUs,
            // which proves the link as well; a late enquire_link_resp will
            // be an UnexpectedResponse.
            self.enquire_link = None;
        }
        if is_due(self.enquire_link_due(), now) {
            let seq = self.allocate_sequence();
            self.transmit
                .push_back(Pdu::request(seq, Body::EnquireLink));
            self.enquire_link = Some(Control {
                seq,
                deadline: deadline(now, self.config.response_timeout),
                inbound_mark: self.inbound_count,
            });
        }
    }

    fn take_pending_bind(&mut self, seq: u32) -> Result<PendingBind, SessionError> {
        match (self.state, self.pending_bind) {
            (State::Closed, _) => Err(SessionError::Closed),
            (State::Binding(_), Some(pending)) if pending.seq == seq => {
                self.pending_bind = None;
                Ok(pending)
            }
            _ => Err(SessionError::UnknownRequest { seq }),
        }
    }

    /// Answers `pdu` (a request) with `status`: its own response type, or a
    /// `generic_nack` for requests that have none.
    fn refuse(&mut self, pdu: &Pdu, status: CommandStatus) {
        let command = pdu.command_id();
        let seq = pdu.sequence_number;
        let answer = command.response().and_then(Body::empty_for).map_or_else(
            || Pdu::generic_nack(seq, status),
            |body| Pdu::response(seq, status, body),
        );
        self.transmit.push_back(answer);
        self.events.push_back(Event::RequestRefused {
            seq,
            command,
            status,
        });
    }

    fn on_request(&mut self, pdu: Pdu) {
        let command = pdu.command_id();
        let seq = pdu.sequence_number;
        match command {
            // Any state (SMPP 5.0 §2.4 allows it before binding too).
            CommandId::EnquireLink => {
                self.transmit.push_back(Pdu::response(
                    seq,
                    CommandStatus::Ok,
                    Body::EnquireLinkResp,
                ));
            }
            CommandId::Unbind => match self.state {
                // Also while we are unbinding ourselves: both sides agree.
                State::Bound(_) | State::Unbinding(_) => {
                    self.transmit.push_back(Pdu::response(
                        seq,
                        CommandStatus::Ok,
                        Body::UnbindResp,
                    ));
                    self.close_with(CloseReason::PeerUnbound);
                }
                _ => self.refuse(&pdu, CommandStatus::IncorrectBindStatus),
            },
            CommandId::BindTransmitter | CommandId::BindReceiver | CommandId::BindTransceiver => {
                self.on_bind_request(pdu);
            }
            CommandId::Outbind => match (self.config.role, self.state, pdu.body) {
                (Role::Esme, State::Open, Body::Outbind(outbind)) => {
                    self.events.push_back(Event::OutbindReceived {
                        system_id: outbind.system_id,
                        password: outbind.password,
                    });
                }
                (_, _, body) => {
                    let pdu = Pdu::request(seq, body);
                    self.refuse(&pdu, CommandStatus::IncorrectBindStatus);
                }
            },
            _ => self.on_application_request(pdu),
        }
    }

    fn on_bind_request(&mut self, pdu: Pdu) {
        let seq = pdu.sequence_number;
        let command = pdu.command_id();
        let status = match (self.config.role, self.state) {
            (Role::Esme, _) => CommandStatus::IncorrectBindStatus,
            (Role::Smsc, State::Open) => {
                match (BindKind::from_request(command), pdu.body) {
                    (
                        Some(kind),
                        Body::BindTransmitter(bind)
                        | Body::BindReceiver(bind)
                        | Body::BindTransceiver(bind),
                    ) => {
                        self.pending_bind = Some(PendingBind {
                            seq,
                            kind,
                            interface_version: bind.interface_version,
                        });
                        self.state = State::Binding(kind);
                        self.events
                            .push_back(Event::BindRequest { seq, kind, bind });
                    }
                    // Unreachable: the command id fixes the body type.
                    (_, body) => {
                        self.refuse(&Pdu::request(seq, body), CommandStatus::SystemError);
                    }
                }
                return;
            }
            // A bind is pending or done: SMPP 3.4 §5.1.3 ESME_RALYBND.
            (Role::Smsc, _) => CommandStatus::AlreadyBound,
        };
        self.refuse(&pdu, status);
    }

    /// Requests the application answers; surfaced if the bind state allows
    /// them, refused with `ESME_RINVBNDSTS` otherwise.
    fn on_application_request(&mut self, pdu: Pdu) {
        let command = pdu.command_id();
        let seq = pdu.sequence_number;
        let allowed = self
            .state
            .bound_kind()
            .is_some_and(|kind| kind.permits(self.config.role.peer(), command));
        if !allowed {
            self.refuse(&pdu, CommandStatus::IncorrectBindStatus);
            return;
        }
        if command.response().is_none() {
            // alert_notification: nothing to answer.
            self.events.push_back(Event::Request(pdu));
            return;
        }
        let busy = self
            .config
            .max_inbound_unanswered
            .is_some_and(|max| self.inbound_unanswered >= max);
        if busy {
            let status = match self.config.role {
                Role::Smsc => CommandStatus::Throttled,
                Role::Esme => CommandStatus::TemporaryAppError,
            };
            self.refuse(&pdu, status);
            return;
        }
        match self.inbound.get_mut(&seq) {
            None => {
                self.inbound.insert(seq, Inbound { command, count: 1 });
            }
            Some(entry) if entry.command == command => entry.count += 1,
            // The number awaits an answer to a different command: the peer
            // reused it too early. Answering would be ambiguous.
            Some(_) => {
                self.refuse(&pdu, CommandStatus::SystemError);
                return;
            }
        }
        self.inbound_unanswered += 1;
        self.events.push_back(Event::Request(pdu));
    }

    fn on_response(&mut self, pdu: Pdu) {
        let seq = pdu.sequence_number;
        if self.bind_request.is_some_and(|c| c.seq == seq) {
            self.bind_request = None;
            self.on_bind_response(pdu);
        } else if self.enquire_link.is_some_and(|c| c.seq == seq) {
            // Any answer, even a generic_nack, proves the link.
            self.enquire_link = None;
        } else if self.unbind_request.is_some_and(|c| c.seq == seq) {
            self.unbind_request = None;
            self.close_with(CloseReason::Unbound);
        } else if let Some(Ended { seq, tag, command }) = self.window.remove(seq) {
            let got = pdu.command_id();
            let mismatched = got != CommandId::GenericNack && Some(got) != command.response();
            self.events.push_back(Event::Response {
                seq,
                tag,
                command,
                pdu,
                mismatched,
            });
        } else {
            self.events.push_back(Event::UnexpectedResponse(pdu));
        }
    }

    fn on_bind_response(&mut self, pdu: Pdu) {
        let State::Binding(kind) = self.state else {
            // A bind request exists only while Binding; be safe anyway.
            self.events.push_back(Event::UnexpectedResponse(pdu));
            return;
        };
        let status = pdu.command_status;
        if status.is_ok() && pdu.command_id() == kind.response_id() {
            if let Some(resp) = into_bind_resp(pdu.body) {
                self.state = State::Bound(kind);
                self.bind_deadline = None;
                self.events.push_back(Event::Bound {
                    kind,
                    interface_version: resp.tlvs.sc_interface_version().map(InterfaceVersion::from),
                    system_id: resp.system_id,
                });
                return;
            }
            // Unreachable: the command id fixes the body type.
            self.reject(CommandStatus::BindFailed);
        } else if status.is_ok() {
            // ESME_ROK on the wrong response: we cannot know what the SMSC
            // thinks we are bound as, so we do not stay.
            self.events.push_back(Event::UnexpectedResponse(pdu));
            self.reject(CommandStatus::BindFailed);
        } else {
            self.reject(status);
        }
    }

    fn reject(&mut self, status: CommandStatus) {
        self.events.push_back(Event::BindRejected { status });
        self.close_with(CloseReason::BindRejected(status));
    }

    fn on_malformed(&mut self, error: DecodeError) {
        let is_response = error.command_id.is_some_and(is_known_response);
        if !is_response {
            // A request, an unknown command, or a header we could not read.
            self.transmit.push_back(Pdu::generic_nack(
                error.sequence_number.unwrap_or(0),
                error.status,
            ));
            self.events.push_back(Event::Malformed(error));
            return;
        }
        // A response is never nacked (the peer has nothing to match it
        // with); it still ends the request it answers.
        let Some(seq) = error.sequence_number else {
            self.events.push_back(Event::Malformed(error));
            return;
        };
        if self.bind_request.is_some_and(|c| c.seq == seq) {
            self.bind_request = None;
            let status = error.status;
            self.events.push_back(Event::Malformed(error));
            self.reject(status);
        } else if self.enquire_link.is_some_and(|c| c.seq == seq) {
            self.enquire_link = None;
            self.events.push_back(Event::Malformed(error));
        } else if self.unbind_request.is_some_and(|c| c.seq == seq) {
            self.unbind_request = None;
            self.events.push_back(Event::Malformed(error));
            self.close_with(CloseReason::Unbound);
        } else if let Some(Ended { seq, tag, command }) = self.window.remove(seq) {
            self.events.push_back(Event::MalformedResponse {
                seq,
                tag,
                command,
                error,
            });
        } else {
            self.events.push_back(Event::Malformed(error));
        }
    }

    /// Closes: abandons outstanding requests (in send order), drops queued
    /// requests from the transmit queue, forgets everything pending, and
    /// emits [`Event::Closed`] last. Idempotent.
    fn close_with(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        for Ended { seq, tag, command } in self.window.drain() {
            self.events
                .push_back(Event::Abandoned { seq, tag, command });
        }
        // A request still queued is reported abandoned (or is the session's
        // own); writing it now could make the requeued copy a duplicate.
        self.transmit.retain(|pdu| pdu.command_id().is_response());
        self.bind_request = None;
        self.pending_bind = None;
        self.enquire_link = None;
        self.unbind_request = None;
        self.bind_deadline = None;
        self.inbound.clear();
        self.inbound_unanswered = 0;
        self.events.push_back(Event::Closed { reason });
    }

    /// Makes the next allocated sequence number `next` (for wrap tests).
    #[cfg(test)]
    fn set_next_sequence(&mut self, next: u32) {
        self.sequences.set_next(next);
    }
}
