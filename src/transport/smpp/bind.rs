//! One SMPP connection: connect, bind as transceiver, then pump bytes
//! between the socket and the sans-IO session until the link ends, and
//! reconnect with exponential backoff and jitter.
//!
//! The task owns the socket, a read buffer, a write buffer and the
//! [`Session`]; everything protocol-related (window, sequence numbers,
//! timers, enquire_link, generic_nack) is the session's. Each loop turn
//! reads what is available, feeds every complete PDU to the session,
//! takes as many jobs as the window allows, and writes everything queued
//! in one `write_all`. Jobs in flight when a link dies come back to the
//! dispatcher as retries, never lost.
//!
//! Jobs are taken only when the link's [`Pacer`] allows: after the carrier
//! answers `ESME_RTHROTTLED` or `ESME_RMSGQFUL` the bind slows itself down
//! (see `pacer.rs`); jobs it leaves in the carrier's shared queue are taken
//! by the other binds, each pacing itself. A new connection starts
//! unlimited.
//!
//! Delivery receipts arrive as deliver_sm or data_sm with the receipt
//! esm_class (`classify_request`); both are answered only once the receipt
//! is durable, like inbound messages.
//!
//! `bind_timeout` bounds the whole way to a bound link — TCP connect, TLS
//! handshake and bind_resp — as one deadline, not three: an operator sets
//! "how long may connecting take", and an SMSC that accepts TCP but stalls
//! in TLS or never answers the bind must cost no more than that before the
//! next attempt. Connect and handshake run under the deadline here; what is
//! left of it becomes the session's own bind timer (the sans-IO session
//! closes with `BindTimeout` when it fires). Every expiry drops the
//! connection, is logged, and reconnects with the usual backoff.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use carrier_protocol::receipt::{Receipt, ReceiptError, ReceiptTlvs};
use carrier_protocol::smpp::pdu::{Bind, SubmitSmResp};
use carrier_protocol::smpp::session::{BindKind, CloseReason, Event, Session, SessionConfig};
use carrier_protocol::smpp::{Body, COctetString, CommandStatus, Framer, Pdu, Tlvs};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::SmppLinkConfig;
use super::pacer::{Change, Pacer, PacerConfig};
use crate::transport::gauges::CarrierGauges;
use crate::transport::{
    InboundDelivery, LinkEvent, LinkOutputs, LinkStatus, LinkWork, WorkContent,
};

/// Drives connection number `index` of `carrier` until shutdown.
pub(super) async fn run(
    carrier: Arc<SmppLinkConfig>,
    index: usize,
    jobs: async_channel::Receiver<LinkWork>,
    outputs: LinkOutputs,
    gauges: Arc<CarrierGauges>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Failed attempts since the link was last bound.
    let mut failures = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let addr = format!("{}:{}", carrier.host, carrier.port);
        let bind_deadline = Instant::now() + carrier.bind_timeout;
        let late = |what: &str| {
            format!(
                "{what} {addr} took longer than bind_timeout ({}); dropped",
                humantime::format_duration(carrier.bind_timeout)
            )
        };
        let outcome = match tokio::time::timeout_at(bind_deadline, TcpStream::connect(&addr)).await
        {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                let mut link = Link::new(&carrier, index, &outputs, &gauges, bind_deadline);
                if carrier.tls {
                    match tokio::time::timeout_at(bind_deadline, super::tls::connect(&carrier, tcp))
                        .await
                    {
                        Ok(Ok(stream)) => link.serve(stream, &jobs, &mut shutdown).await,
                        Ok(Err(e)) => Err(format!("TLS handshake with {addr}: {e}")),
                        Err(_) => Err(late("TLS handshake with")),
                    }
                } else {
                    link.serve(tcp, &jobs, &mut shutdown).await
                }
            }
            Ok(Err(e)) => Err(format!("connect to {addr}: {e}")),
            Err(_) => Err(late("connecting to")),
        };
        match outcome {
            Ok(Ended::Shutdown) => return,
            Ok(Ended::WasBound) => failures = 0,
            Ok(Ended::NeverBound) => {}
            Err(reason) => warn!(%reason, "SMPP link down"),
        }
        if *shutdown.borrow() {
            // Stopping (the change was already seen inside the link).
            return;
        }
        // Jittered, so binds of many gateways (or many binds of one) do not
        // reconnect in lockstep.
        failures = failures.saturating_add(1);
        let wait = crate::backoff::backoff_delay(
            carrier.reconnect_delay,
            carrier.reconnect_max_delay,
            failures,
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The longest a stopping bind waits for outstanding responses before it
/// unbinds anyway (the carrier's `response_timeout` if shorter).
const MAX_DRAIN: Duration = Duration::from_secs(10);

/// How a connection ended.
enum Ended {
    /// The daemon is stopping; the link was unbound.
    Shutdown,
    /// It had been bound (reconnect with the initial delay).
    WasBound,
    /// It never got bound (keep backing off).
    NeverBound,
}

/// A segment in flight on this link.
struct InFlight {
    message_id: Arc<str>,
    part: u16,
    /// When the submit was handed to the session (latency metric).
    sent: Instant,
}

/// State of one connection.
struct Link<'a> {
    carrier: &'a SmppLinkConfig,
    /// Which of the carrier's binds this is (the `bind` metric label).
    index: usize,
    outputs: &'a LinkOutputs,
    /// The carrier's live figures; this link writes its own.
    gauges: &'a CarrierGauges,
    session: Session,
    in_flight: HashMap<u64, InFlight>,
    next_tag: u64,
    is_bound: bool,
    was_bound: bool,
    /// Inbound requests waiting for their data to be durable.
    pending_acks: Vec<(u32, Body, oneshot::Receiver<()>)>,
    /// Jobs the session refused, to hand back to the dispatcher.
    handed_back: Vec<LinkEvent>,
    /// When the next submit may go (adaptive rate after throttling).
    pacer: Pacer,
}

impl<'a> Link<'a> {
    /// A link on a fresh connection whose bind must complete by
    /// `bind_deadline` (what connecting left of `bind_timeout`).
    fn new(
        carrier: &'a SmppLinkConfig,
        index: usize,
        outputs: &'a LinkOutputs,
        gauges: &'a CarrierGauges,
        bind_deadline: Instant,
    ) -> Self {
        let config = SessionConfig {
            window: carrier.window,
            response_timeout: carrier.response_timeout,
            enquire_link_interval: carrier.enquire_link_interval,
            bind_timeout: bind_deadline.saturating_duration_since(Instant::now()),
            ..SessionConfig::esme()
        };
        Link {
            carrier,
            index,
            outputs,
            gauges,
            session: Session::new(config, Instant::now().into_std()),
            in_flight: HashMap::new(),
            next_tag: 0,
            is_bound: false,
            was_bound: false,
            pending_acks: Vec::new(),
            handed_back: Vec::new(),
            pacer: Pacer::with_config(
                PacerConfig {
                    ceiling: carrier.throughput.map(f64::from),
                    ..PacerConfig::default()
                },
                Instant::now().into_std(),
            ),
        }
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        mut stream: S,
        jobs: &async_channel::Receiver<LinkWork>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Ended, String> {
        let bind = Bind {
            system_id: cstr(&self.carrier.system_id),
            password: cstr(&self.carrier.password),
            system_type: cstr(&self.carrier.system_type),
            interface_version: self.carrier.interface_version,
            ..Bind::default()
        };
        self.session
            .bind(BindKind::Transceiver, bind, Instant::now().into_std())
            .map_err(|e| format!("bind: {e}"))?;
        // A command_length above the carrier's max_pdu_len is a framing
        // error: logged with the peer below, and fatal to this connection
        // only (docs/architecture.md, "Bad input").
        let framer = Framer::new(self.carrier.max_pdu_len);
        let mut rbuf = BytesMut::with_capacity(64 * 1024);
        let mut wbuf = BytesMut::with_capacity(64 * 1024);
        // Shutdown drains: no new submits, the outstanding ones get their
        // responses (or time out), then unbind.
        let mut stopping = false;
        let mut drain_until: Option<Instant> = None;
        let mut unbinding = false;
        let window = self.gauges.link(self.index);
        let result = loop {
            window.set_window_in_use(self.in_flight.len());
            let drained = self.in_flight.is_empty() && self.pending_acks.is_empty();
            if stopping && !unbinding {
                debug!(
                    in_flight = self.in_flight.len(),
                    pending_acks = self.pending_acks.len(),
                    handed_back = self.handed_back.len(),
                    "draining"
                );
            }
            if stopping
                && !unbinding
                && (drained || drain_until.is_some_and(|d| Instant::now() >= d))
            {
                unbinding = true;
                if !drained {
                    warn!(
                        outstanding = self.in_flight.len(),
                        unacknowledged = self.pending_acks.len(),
                        "unbinding before every submit was answered and every receipt acknowledged; \
                         they are resent after the restart"
                    );
                }
                if self.is_bound {
                    let _ = self.session.unbind(Instant::now().into_std());
                } else {
                    self.session.close();
                }
            }
            self.flush_acks();
            if let Some(ended) = self.drain_events().await {
                break Ok(ended);
            }
            self.session.poll_transmit(&mut wbuf);
            if !wbuf.is_empty() {
                if let Err(e) = stream.write_all(&wbuf).await {
                    break Err(format!("write: {e}"));
                }
                wbuf.clear();
            }
            if self.session.is_closed() {
                break Ok(self.ended(stopping));
            }
            let deadline = self
                .session
                .poll_timeout()
                .map(Instant::from_std)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            let can_take = self.is_bound && !stopping && self.session.window_available() > 0;
            // Unlimited (never throttled), both pacer calls are one branch.
            let now = Instant::now().into_std();
            if let Some(change) = self.pacer.poll(now) {
                self.on_pace_change(change);
            }
            let paced_until = if can_take {
                self.pacer.next_send_at(now).map(Instant::from_std)
            } else {
                None
            };
            let can_take_now = can_take && paced_until.is_none();
            let ack_wait = !self.pending_acks.is_empty();
            tokio::select! {
                read = stream.read_buf(&mut rbuf) => match read {
                    Ok(0) => break Err("connection closed by the carrier".into()),
                    Ok(_) => {
                        let now = Instant::now().into_std();
                        loop {
                            match framer.next_pdu(&mut rbuf) {
                                Ok(Some(pdu)) => self.session.handle_pdu(pdu, now),
                                Ok(None) => break,
                                Err(e) => {
                                    warn!(
                                        peer = %format_args!("{}:{}", self.carrier.host, self.carrier.port),
                                        error = %e,
                                        "framing lost; closing the connection"
                                    );
                                    self.session.handle_fatal(e, now);
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => break Err(format!("read: {e}")),
                },
                job = jobs.recv(), if can_take_now => {
                    if let Ok(job) = job {
                        self.submit(job);
                        // Take what else is queued, up to the window and
                        // what the pacer allows, in this turn: one write for
                        // the whole burst.
                        while self.session.window_available() > 0 && self.may_send_now() {
                            match jobs.try_recv() {
                                Ok(job) => self.submit(job),
                                Err(_) => break,
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(paced_until.unwrap_or(deadline)), if paced_until.is_some() => {}
                _ = tokio::time::sleep_until(deadline) => {
                    self.session.handle_timeout(Instant::now().into_std());
                }
                _ = tokio::time::sleep(Duration::from_millis(2)), if ack_wait => {}
                _ = tokio::time::sleep_until(drain_until.unwrap_or(deadline)), if drain_until.is_some() && !unbinding => {}
                _ = shutdown.changed(), if !stopping => {
                    stopping = true;
                    drain_until = Some(Instant::now() + self.carrier.response_timeout.min(MAX_DRAIN));
                }
            }
        };
        // Whatever is still in flight goes back to the dispatcher.
        self.session.handle_disconnect(Instant::now().into_std());
        if self.pacer.limit().is_some() && self.carrier.throughput.is_none() {
            // The next connection starts unlimited.
            self.publish_rate(None);
        }
        let _ = self.drain_events().await;
        self.set_bound(false).await;
        result
    }

    fn ended(&self, stopping: bool) -> Ended {
        if stopping {
            Ended::Shutdown
        } else if self.was_bound {
            Ended::WasBound
        } else {
            Ended::NeverBound
        }
    }

    /// Whether the pacer lets another submit go now (one branch when the
    /// bind was never throttled).
    fn may_send_now(&self) -> bool {
        self.pacer.limit().is_none() || self.pacer.next_send_at(Instant::now().into_std()).is_none()
    }

    /// Logs a change of the pacer's limit and updates its metrics: info when
    /// pacing starts or ends, debug for the steps in between.
    fn on_pace_change(&self, change: Change) {
        let carrier = &self.carrier.name;
        match change {
            Change::Decreased { from: None, to } => {
                info!(limit = to, "carrier throttling: pacing this bind");
                crate::metrics::bind_rate_decrease(carrier);
            }
            Change::Decreased {
                from: Some(from),
                to,
            } => {
                debug!(from, to, "carrier throttling: bind rate lowered");
                crate::metrics::bind_rate_decrease(carrier);
            }
            Change::Increased { from, to } => debug!(from, to, "bind rate raised"),
            Change::Unlimited { from } => {
                info!(last_limit = from, "no throttling for a while: bind unpaced");
            }
        }
        self.publish_rate(self.pacer.limit());
    }

    /// The bind's paced rate, to the metric and the status view.
    fn publish_rate(&self, limit: Option<f64>) {
        crate::metrics::bind_rate_limit(&self.carrier.name, self.index, limit);
        self.gauges.link(self.index).set_paced_rate(limit);
    }

    fn submit(&mut self, job: LinkWork) {
        let tag = self.next_tag;
        self.next_tag += 1;
        let now = Instant::now();
        let body = match &job.content {
            WorkContent::Sms(part) => super::submit::submit_sm(part, self.carrier.addressing),
            // An MMS routed to an SMPP carrier (a number whose carriers
            // changed under a stored message): not something SMPP carries.
            WorkContent::Mms(_) | WorkContent::Text(_) => None,
        };
        let Some(body) = body else {
            // The planner only makes SMS parts a submit_sm can carry.
            warn!(message_id = %job.message_id, part = job.part, "part cannot be carried by submit_sm");
            self.handed_back.push(LinkEvent::Failed {
                message_id: job.message_id,
                part: job.part,
                status: LinkStatus {
                    class: crate::transport::StatusClass::Permanent,
                    raw: None,
                    message: "the part does not fit a submit_sm".into(),
                    reason: "permanent",
                },
            });
            return;
        };
        match self.session.send_request(body, tag, now.into_std()) {
            Ok(_) => {
                self.pacer.on_submit(now.into_std());
                self.in_flight.insert(
                    tag,
                    InFlight {
                        message_id: job.message_id,
                        part: job.part,
                        sent: now,
                    },
                );
            }
            Err(e) => {
                // Handed back on the next drain_events (which may wait for
                // room in the channel; dropping it would strand the message).
                debug!(error = %e, "could not submit; handing the job back");
                self.handed_back.push(LinkEvent::Failed {
                    message_id: job.message_id,
                    part: job.part,
                    status: LinkStatus::disconnected(),
                });
            }
        }
    }

    /// Answers inbound requests whose data became durable.
    fn flush_acks(&mut self) {
        let session = &mut self.session;
        self.pending_acks
            .retain_mut(|(seq, resp, rx)| match rx.try_recv() {
                Ok(()) => {
                    let body = std::mem::replace(resp, Body::GenericNack);
                    let _ = session.respond(*seq, CommandStatus::Ok, body);
                    false
                }
                Err(oneshot::error::TryRecvError::Empty) => true,
                Err(oneshot::error::TryRecvError::Closed) => {
                    // The dispatcher could not store it: let the carrier retry.
                    let _ = session.respond_error(*seq, CommandStatus::TemporaryAppError);
                    false
                }
            });
    }

    async fn set_bound(&mut self, up: bool) {
        if self.is_bound == up {
            return;
        }
        self.is_bound = up;
        if up {
            self.was_bound = true;
        }
        self.gauges.set_bound(self.index, up);
        // A step, not a value: two binds changing at once must not leave
        // the gauge at whichever computed count was written last.
        crate::metrics::bind_state_changed(&self.carrier.name, up);
        if up {
            // The series exists (at 0, unpaced) from the first bind on.
            self.publish_rate(self.pacer.limit());
        }
        let _ = self
            .outputs
            .events
            .send(LinkEvent::State {
                carrier: self.carrier.name.clone(),
                up,
            })
            .await;
    }

    /// Turns session events into transport events. Returns when the link
    /// should end.
    async fn drain_events(&mut self) -> Option<Ended> {
        for event in std::mem::take(&mut self.handed_back) {
            self.send(event).await;
        }
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Bound {
                    system_id,
                    interface_version,
                    ..
                } => {
                    // SMPP 3.4 §5.3.2.25: no sc_interface_version means the
                    // SMSC does not do TLVs (3.3). Nothing here depends on
                    // 5.0-only features, so an older answer to a 5.0 bind is
                    // only worth knowing, not a reason to unbind.
                    info!(
                        smsc = ?system_id,
                        interface_version = ?self.carrier.interface_version,
                        sc_interface_version = ?interface_version,
                        "bound as transceiver"
                    );
                    self.set_bound(true).await;
                }
                Event::BindRejected { status } => {
                    warn!(%status, "bind rejected");
                }
                Event::Response {
                    tag,
                    pdu,
                    mismatched,
                    ..
                } => {
                    self.on_response(tag, pdu, mismatched).await;
                }
                Event::MalformedResponse { tag, error, .. } => {
                    // The carrier answered but we cannot read the answer:
                    // resending could duplicate, so treat it as refused.
                    warn!(%error, "undecodable submit response");
                    if let Some(job) = self.in_flight.remove(&tag) {
                        let mut status = self.carrier.status_table.link_status(error.status);
                        status.class = crate::transport::StatusClass::Permanent;
                        status.reason = "permanent";
                        self.send(LinkEvent::Failed {
                            message_id: job.message_id,
                            part: job.part,
                            status,
                        })
                        .await;
                    }
                }
                Event::ResponseTimeout { tag, .. } => self.retry(tag, LinkStatus::timeout()).await,
                Event::Abandoned { tag, .. } => self.retry(tag, LinkStatus::disconnected()).await,
                Event::Request(pdu) => self.on_request(pdu).await,
                Event::UnexpectedResponse(pdu) => {
                    debug!(command = %pdu.command_id(), seq = pdu.sequence_number, "unexpected response");
                }
                Event::Malformed(error) => {
                    warn!(%error, "malformed PDU from the carrier (answered with generic_nack)")
                }
                Event::RequestRefused {
                    command, status, ..
                } => {
                    warn!(%command, %status, "refused a request the carrier may not send in this state");
                }
                Event::OutbindReceived { .. } | Event::BindRequest { .. } => {}
                Event::LinkDead => warn!("no answer to enquire_link: link dead"),
                Event::Closed {
                    reason: CloseReason::BindTimeout,
                } => {
                    warn!(
                        peer = %format_args!("{}:{}", self.carrier.host, self.carrier.port),
                        bind_timeout = %humantime::format_duration(self.carrier.bind_timeout),
                        "no bind_resp within bind_timeout; dropping the connection to reconnect"
                    );
                }
                Event::Closed { reason } => {
                    info!(?reason, "session closed");
                    self.set_bound(false).await;
                }
            }
        }
        None
    }

    async fn send(&self, event: LinkEvent) {
        let _ = self.outputs.events.send(event).await;
    }

    async fn retry(&mut self, tag: u64, status: LinkStatus) {
        if let Some(job) = self.in_flight.remove(&tag) {
            self.send(LinkEvent::Failed {
                message_id: job.message_id,
                part: job.part,
                status,
            })
            .await;
        }
    }

    async fn on_response(&mut self, tag: u64, pdu: Pdu, mismatched: bool) {
        let Some(job) = self.in_flight.remove(&tag) else {
            return;
        };
        crate::metrics::submit_latency(&self.carrier.name, job.sent.elapsed().as_secs_f64());
        let status = pdu.command_status;
        if !mismatched
            && matches!(
                status,
                CommandStatus::Throttled | CommandStatus::MessageQueueFull
            )
            && let Some(change) = self.pacer.on_throttle(Instant::now().into_std())
        {
            self.on_pace_change(change);
        }
        let event = if mismatched {
            LinkEvent::Failed {
                message_id: job.message_id,
                part: job.part,
                status: LinkStatus {
                    class: crate::transport::StatusClass::Permanent,
                    raw: None,
                    message: "the response did not match the request".into(),
                    reason: "permanent",
                },
            }
        } else if status.is_ok() {
            let carrier_id = match &pdu.body {
                Body::SubmitSmResp(r) => lossy(r.message_id.as_bytes()),
                Body::DataSmResp(r) => lossy(r.message_id.as_bytes()),
                _ => String::new(),
            };
            LinkEvent::Accepted {
                message_id: job.message_id,
                part: job.part,
                carrier_id,
            }
        } else {
            LinkEvent::Failed {
                message_id: job.message_id,
                part: job.part,
                status: self.carrier.status_table.link_status(status),
            }
        };
        self.send(event).await;
    }

    async fn on_request(&mut self, pdu: Pdu) {
        let seq = pdu.sequence_number;
        let resp = match &pdu.body {
            Body::DataSm(_) => Body::DataSmResp(carrier_protocol::smpp::pdu::DataSmResp::default()),
            _ => Body::DeliverSmResp(SubmitSmResp::default()),
        };
        let (tx, rx) = oneshot::channel();
        match classify_request(&pdu.body) {
            Request::Receipt(receipt) => {
                self.send(LinkEvent::Report {
                    carrier: self.carrier.name.clone(),
                    receipt,
                    ack: tx,
                })
                .await;
            }
            Request::UnreadableReceipt(e) => {
                // Marked as a receipt, but without an id or state we can
                // read: it is not a customer's message, and the carrier
                // would resend a refused one forever. Log it whole.
                warn!(error = %e, pdu = ?pdu.body, "unreadable delivery receipt acknowledged and dropped");
                crate::metrics::receipt_unreadable(&self.carrier.name);
                let _ = tx.send(());
            }
            Request::Inbound => {
                let Some(sms) =
                    super::inbound::normalize(&pdu.body, crate::store::outbox::now_ms())
                else {
                    return;
                };
                let delivery = InboundDelivery {
                    carrier: self.carrier.name.clone(),
                    sms,
                    ack: tx,
                };
                // Dropped only when the inbound path is gone (stopping):
                // the closed ack channel then refuses it for a resend.
                let _ = self.outputs.inbound.send(delivery).await;
            }
            Request::Unsupported => {
                let _ = self
                    .session
                    .respond_error(seq, CommandStatus::InvalidCommandId);
                return;
            }
        }
        self.pending_acks.push((seq, resp, rx));
    }
}

/// What an inbound request from the carrier is.
#[derive(Debug)]
enum Request {
    /// A delivery receipt (deliver_sm or data_sm with the receipt esm_class).
    Receipt(Receipt<'static>),
    /// Marked as a receipt, but without a readable id and state.
    UnreadableReceipt(ReceiptError),
    /// A mobile-originated message (any other deliver_sm or data_sm).
    Inbound,
    /// Not something a carrier sends us.
    Unsupported,
}

/// Sorts an inbound request. A receipt's id and state come from the
/// `receipted_message_id` / `message_state` TLVs when present (they win),
/// otherwise from the Appendix B text: the `short_message` of a deliver_sm
/// or, when that is empty and for every data_sm (which has no
/// short_message), the `message_payload` TLV.
fn classify_request(body: &Body) -> Request {
    let (short_message, tlvs): (&[u8], &Tlvs) = match body {
        Body::DeliverSm(sm) if sm.esm_class.is_receipt() => (sm.short_message.as_bytes(), &sm.tlvs),
        Body::DataSm(sm) if sm.esm_class.is_receipt() => (&[], &sm.tlvs),
        Body::DeliverSm(_) | Body::DataSm(_) => return Request::Inbound,
        _ => return Request::Unsupported,
    };
    let text = if short_message.is_empty() {
        tlvs.message_payload().map_or(short_message, |p| p.as_ref())
    } else {
        short_message
    };
    let id = tlvs.receipted_message_id();
    let receipt_tlvs = ReceiptTlvs {
        receipted_message_id: id.as_deref(),
        message_state: tlvs.message_state().map(|s| s.value()),
        network_error_code: tlvs.network_error_code(),
    };
    match Receipt::from_deliver_sm(text, receipt_tlvs) {
        Ok(receipt) => Request::Receipt(receipt.into_owned()),
        Err(e) => Request::UnreadableReceipt(e),
    }
}

fn cstr(s: &str) -> COctetString {
    COctetString::try_from(s).unwrap_or_default()
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use carrier_protocol::receipt::{IdSource, ReceiptState};
    use carrier_protocol::smpp::pdu::{DataSm, DeliverSm, QuerySm};
    use carrier_protocol::smpp::{EsmClass, MessageState, ShortMessage, Tlv, TlvTag};

    use super::*;

    fn receipt_tlvs(id: &[u8], state: MessageState) -> Tlvs {
        let mut tlvs = Tlvs::new();
        tlvs.push(Tlv::c_string(TlvTag::ReceiptedMessageId, id).expect("tlv"));
        tlvs.push(Tlv::u8(TlvTag::MessageState, state.value()));
        tlvs
    }

    fn data_sm(esm_class: u8, tlvs: Tlvs) -> Body {
        Body::DataSm(DataSm {
            esm_class: EsmClass(esm_class),
            tlvs,
            ..DataSm::default()
        })
    }

    #[test]
    fn data_sm_receipt_from_tlvs_alone() {
        let mut tlvs = receipt_tlvs(b"abc123", MessageState::Undeliverable);
        tlvs.push(Tlv::new(TlvTag::NetworkErrorCode, Bytes::from_static(&[3, 0, 1])).expect("tlv"));
        let Request::Receipt(receipt) =
            classify_request(&data_sm(EsmClass::DELIVERY_RECEIPT, tlvs))
        else {
            panic!("expected a receipt");
        };
        assert_eq!(receipt.id, "abc123");
        assert_eq!(receipt.id_source, IdSource::Tlv);
        assert_eq!(receipt.stat, ReceiptState::Undeliverable);
        assert!(receipt.network_error.is_some());
    }

    #[test]
    fn data_sm_receipt_text_in_message_payload() {
        let mut tlvs = Tlvs::new();
        tlvs.push(
            Tlv::new(
                TlvTag::MessagePayload,
                Bytes::from_static(b"id:0042 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:hi"),
            )
            .expect("tlv"),
        );
        let Request::Receipt(receipt) =
            classify_request(&data_sm(EsmClass::DELIVERY_RECEIPT, tlvs))
        else {
            panic!("expected a receipt");
        };
        assert_eq!(receipt.id, "0042");
        assert_eq!(receipt.id_source, IdSource::Text);
        assert_eq!(receipt.stat, ReceiptState::Delivered);
        assert_eq!(receipt.delivered, Some(1));
    }

    #[test]
    fn data_sm_without_the_receipt_esm_class_is_inbound() {
        let tlvs = receipt_tlvs(b"abc123", MessageState::Delivered);
        assert!(matches!(
            classify_request(&data_sm(0, tlvs)),
            Request::Inbound
        ));
    }

    #[test]
    fn data_sm_receipt_without_a_state_goes_to_the_inbox() {
        let mut tlvs = Tlvs::new();
        tlvs.push(Tlv::c_string(TlvTag::ReceiptedMessageId, b"abc123").expect("tlv"));
        assert!(matches!(
            classify_request(&data_sm(EsmClass::DELIVERY_RECEIPT, tlvs)),
            Request::UnreadableReceipt(ReceiptError::MissingStat)
        ));
    }

    #[test]
    fn deliver_sm_receipts_still_work_and_others_are_sorted() {
        let body = Body::DeliverSm(DeliverSm {
            esm_class: EsmClass(EsmClass::DELIVERY_RECEIPT),
            short_message: ShortMessage::new(Bytes::from_static(
                b"id:7 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:EXPIRED err:000 text:",
            ))
            .expect("short"),
            ..DeliverSm::default()
        });
        let Request::Receipt(receipt) = classify_request(&body) else {
            panic!("expected a receipt");
        };
        assert_eq!(receipt.id, "7");
        assert_eq!(receipt.stat, ReceiptState::Expired);
        assert!(matches!(
            classify_request(&Body::DeliverSm(DeliverSm::default())),
            Request::Inbound
        ));
        assert!(matches!(
            classify_request(&Body::QuerySm(QuerySm::default())),
            Request::Unsupported
        ));
    }
}
