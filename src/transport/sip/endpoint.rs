//! One trunk's SIP endpoint on tokio: the sockets (a UDP socket on
//! `listen` that also sends; or a TCP listener on `listen` and a kept
//! connection to the trunk), and the one task that owns every
//! transaction. The protocol crate's transactions decide what to send and
//! when to be woken; this drives them.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use carrier_protocol::sip::message::{SipMessage, StartLine, frame_len};
use carrier_protocol::sip::transaction::{
    ClientTransaction, ServerTransaction, TimerValues, TransactionOutput, TransactionState,
    server_key,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::request::{self, Outcome};
use super::{SipLinkConfig, WINDOW, inbound};
use crate::config::SipTransport;
use crate::transport::gauges::CarrierGauges;
use crate::transport::{
    InboundDelivery, LinkEvent, LinkOutputs, LinkStatus, LinkWork, WorkContent,
};

/// How long an inbound message may take to become durable before the
/// trunk is told to send it again.
const DURABLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest datagram read.
const MAX_DATAGRAM: usize = 65_535;
/// The largest message read from a stream.
const MAX_STREAM_MESSAGE: usize = 256 * 1024;
/// The longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

static CONNECTIONS: AtomicU64 = AtomicU64::new(1);

/// Where a message came from, and where its answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Udp(SocketAddr),
    Tcp(u64),
}

/// What the socket tasks tell the endpoint.
enum Input {
    Message(Peer, SipMessage),
    Opened {
        id: u64,
        writer: mpsc::Sender<Vec<u8>>,
        outbound: bool,
    },
    Closed(u64),
}

type ServerKey = (String, String, String);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKey {
    Client(String),
    Server(ServerKey),
}

/// One of our requests.
struct Client {
    message_id: Arc<str>,
    part: u16,
    transaction: ClientTransaction,
    request: SipMessage,
    peer: Peer,
    /// Already answered a challenge: a second one fails the part.
    authorized: bool,
    started: std::time::Instant,
}

/// One of the trunk's requests.
struct Server {
    transaction: ServerTransaction,
    peer: Peer,
}

/// The endpoint of one trunk.
pub struct Endpoint {
    carrier: Arc<SipLinkConfig>,
    outputs: LinkOutputs,
    gauges: Arc<CarrierGauges>,
    shutdown: watch::Receiver<bool>,
    timers_values: TimerValues,
    udp: Option<Arc<UdpSocket>>,
    /// The trunk's address (UDP).
    trunk: Option<SocketAddr>,
    connections: HashMap<u64, mpsc::Sender<Vec<u8>>>,
    /// Our connection to the trunk (TCP).
    outbound: Option<u64>,
    clients: HashMap<String, Client>,
    servers: HashMap<ServerKey, Server>,
    timers: BTreeMap<(Instant, u64), TimerKey>,
    timer_seq: u64,
    inputs: mpsc::Receiver<Input>,
    answers: mpsc::Receiver<(ServerKey, bool)>,
    answers_tx: mpsc::Sender<(ServerKey, bool)>,
    /// Challenges the trunk's requests (`inbound_auth`).
    authenticator: Option<super::auth::Authenticator>,
}

impl Endpoint {
    /// Binds the carrier's `listen` address and starts the socket tasks.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind(
        carrier: Arc<SipLinkConfig>,
        outputs: LinkOutputs,
        gauges: Arc<CarrierGauges>,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<Endpoint> {
        let (inputs_tx, inputs) = mpsc::channel(1024);
        let (answers_tx, answers) = mpsc::channel(1024);
        let reliable = carrier.transport != SipTransport::Udp;
        let mut endpoint = Endpoint {
            carrier: carrier.clone(),
            outputs,
            gauges,
            shutdown: shutdown.clone(),
            timers_values: TimerValues {
                reliable,
                ..TimerValues::default()
            },
            udp: None,
            trunk: None,
            connections: HashMap::new(),
            outbound: None,
            clients: HashMap::new(),
            servers: HashMap::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            inputs,
            answers,
            answers_tx,
            authenticator: carrier
                .credentials
                .as_ref()
                .filter(|_| carrier.inbound_auth)
                .map(|(user, password)| {
                    super::auth::Authenticator::new(&carrier.domain, user, password)
                }),
        };
        let cannot = |e: std::io::Error| {
            anyhow::anyhow!(
                "carrier {}: cannot listen on {}: {e}",
                carrier.name,
                carrier.listen
            )
        };
        match carrier.transport {
            SipTransport::Udp => {
                let socket = Arc::new(UdpSocket::bind(carrier.listen).await.map_err(cannot)?);
                tokio::spawn(read_datagrams(socket.clone(), inputs_tx, shutdown));
                endpoint.udp = Some(socket);
                endpoint.gauges.set_bound(0, true);
            }
            SipTransport::Tcp | SipTransport::Tls => {
                let tls = match carrier.transport {
                    SipTransport::Tls => Some(
                        super::tls::load(&carrier)
                            .map_err(|e| anyhow::anyhow!("carrier {}: TLS: {e}", carrier.name))?,
                    ),
                    _ => None,
                };
                let listener = TcpListener::bind(carrier.listen).await.map_err(cannot)?;
                tokio::spawn(accept(
                    listener,
                    tls.clone(),
                    inputs_tx.clone(),
                    shutdown.clone(),
                ));
                tokio::spawn(dial(carrier.clone(), tls, inputs_tx, shutdown));
            }
        }
        info!(listen = %carrier.listen, transport = super::via_name(carrier.transport), "SIP endpoint up");
        Ok(endpoint)
    }

    /// Whether a request can go to the trunk now.
    fn can_send(&self) -> bool {
        match self.carrier.transport {
            SipTransport::Udp => self.udp.is_some(),
            _ => self.outbound.is_some(),
        }
    }

    /// Runs until shutdown or until the queue closes.
    pub async fn run(mut self, queue: async_channel::Receiver<LinkWork>) {
        let mut shutdown = self.shutdown.clone();
        loop {
            let deadline = self.timers.first_key_value().map(|((at, _), _)| *at);
            let room = self.can_send() && self.clients.len() < WINDOW;
            tokio::select! {
                () = super::stopped(&mut shutdown) => break,
                Some(input) = self.inputs.recv() => self.on_input(input).await,
                Some((key, durable)) = self.answers.recv() => self.answer(key, durable).await,
                work = queue.recv(), if room => match work {
                    Ok(work) => self.send_work(work).await,
                    Err(_) => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => self.fire_timers().await,
            }
        }
        // What is still in flight comes back as retries.
        for (_, client) in self.clients.drain() {
            let _ = self
                .outputs
                .events
                .send(LinkEvent::Failed {
                    message_id: client.message_id,
                    part: client.part,
                    status: LinkStatus::disconnected(),
                })
                .await;
        }
        self.gauges.set_bound(0, false);
        info!("SIP endpoint down");
    }

    fn schedule(&mut self, at: Option<std::time::Instant>, key: TimerKey) {
        if let Some(at) = at {
            self.timer_seq += 1;
            self.timers
                .insert((Instant::from_std(at), self.timer_seq), key);
        }
    }

    async fn transmit(&mut self, peer: Peer, bytes: Vec<u8>) -> bool {
        match peer {
            Peer::Udp(addr) => match &self.udp {
                Some(socket) => socket.send_to(&bytes, addr).await.is_ok(),
                None => false,
            },
            Peer::Tcp(id) => match self.connections.get(&id) {
                Some(writer) => writer.try_send(bytes).is_ok(),
                None => false,
            },
        }
    }

    async fn run_outputs(
        &mut self,
        peer: Peer,
        outputs: Vec<TransactionOutput>,
    ) -> Vec<TransactionOutput> {
        let mut rest = Vec::new();
        for output in outputs {
            match output {
                TransactionOutput::Transmit(bytes) => {
                    self.transmit(peer, bytes).await;
                }
                other => rest.push(other),
            }
        }
        rest
    }

    async fn trunk_peer(&mut self) -> Option<Peer> {
        match self.carrier.transport {
            SipTransport::Udp => {
                if self.trunk.is_none() {
                    let target = format!("{}:{}", self.carrier.host, self.carrier.port);
                    self.trunk = tokio::net::lookup_host(target).await.ok()?.next();
                }
                self.trunk.map(Peer::Udp)
            }
            _ => self.outbound.map(Peer::Tcp),
        }
    }

    async fn send_work(&mut self, work: LinkWork) {
        let LinkWork {
            message_id,
            part,
            content,
        } = work;
        let WorkContent::Text(text) = content else {
            self.report(LinkEvent::Failed {
                message_id,
                part,
                status: LinkStatus {
                    class: crate::transport::StatusClass::Permanent,
                    raw: None,
                    message: "a SIP trunk carries text, not SMS segments or MMS".into(),
                    reason: "permanent",
                },
            })
            .await;
            return;
        };
        let Some(peer) = self.trunk_peer().await else {
            self.report(LinkEvent::Failed {
                message_id,
                part,
                status: LinkStatus::disconnected(),
            })
            .await;
            return;
        };
        let message = request::message(&self.carrier, &text);
        self.start_client(
            message_id,
            part,
            message,
            peer,
            false,
            std::time::Instant::now(),
        )
        .await;
    }

    async fn start_client(
        &mut self,
        message_id: Arc<str>,
        part: u16,
        message: SipMessage,
        peer: Peer,
        authorized: bool,
        started: std::time::Instant,
    ) {
        let Some(branch) = request::branch_of(&message) else {
            return;
        };
        let now = std::time::Instant::now();
        let (transaction, outputs) = ClientTransaction::start(&message, self.timers_values, now);
        let deadline = transaction.poll_timeout();
        self.clients.insert(
            branch.clone(),
            Client {
                message_id,
                part,
                transaction,
                request: message,
                peer,
                authorized,
                started,
            },
        );
        self.run_outputs(peer, outputs).await;
        self.schedule(deadline, TimerKey::Client(branch));
        self.gauges.link(0).set_window_in_use(self.clients.len());
    }

    async fn report(&mut self, event: LinkEvent) {
        let _ = self.outputs.events.send(event).await;
    }

    async fn on_input(&mut self, input: Input) {
        match input {
            Input::Opened {
                id,
                writer,
                outbound,
            } => {
                self.connections.insert(id, writer);
                if outbound {
                    self.outbound = Some(id);
                    self.gauges.set_bound(0, true);
                    self.report(LinkEvent::State {
                        carrier: self.carrier.name.clone(),
                        up: true,
                    })
                    .await;
                }
            }
            Input::Closed(id) => {
                self.connections.remove(&id);
                if self.outbound == Some(id) {
                    self.outbound = None;
                    self.gauges.set_bound(0, false);
                    self.report(LinkEvent::State {
                        carrier: self.carrier.name.clone(),
                        up: false,
                    })
                    .await;
                }
                // Our requests on it will get no answer: they go again.
                let lost: Vec<String> = self
                    .clients
                    .iter()
                    .filter(|(_, c)| c.peer == Peer::Tcp(id))
                    .map(|(b, _)| b.clone())
                    .collect();
                for branch in lost {
                    if let Some(client) = self.clients.remove(&branch) {
                        self.report(LinkEvent::Failed {
                            message_id: client.message_id,
                            part: client.part,
                            status: LinkStatus::disconnected(),
                        })
                        .await;
                    }
                }
            }
            Input::Message(peer, message) => match &message.start {
                StartLine::Response { .. } => self.on_response(message).await,
                StartLine::Request { .. } => self.on_request(peer, message).await,
            },
        }
    }

    async fn on_response(&mut self, response: SipMessage) {
        let Some(branch) = request::branch_of(&response) else {
            return;
        };
        let Some(client) = self.clients.get_mut(&branch) else {
            debug!(%branch, "a response to no transaction of ours");
            return;
        };
        let outputs = client
            .transaction
            .on_response(response, std::time::Instant::now());
        let peer = client.peer;
        for output in self.run_outputs(peer, outputs).await {
            if let TransactionOutput::Response(response) = output {
                self.on_final(&branch, response).await;
            }
        }
    }

    /// A response passed up by a client transaction.
    async fn on_final(&mut self, branch: &str, response: SipMessage) {
        let StartLine::Response { code, .. } = response.start else {
            return;
        };
        if code < 200 {
            return;
        }
        let Some(client) = self.clients.remove(branch) else {
            return;
        };
        if matches!(code, 401 | 407)
            && !client.authorized
            && let Some(retry) = request::authorized(&self.carrier, &client.request, &response)
        {
            self.start_client(
                client.message_id,
                client.part,
                retry,
                client.peer,
                true,
                client.started,
            )
            .await;
            return;
        }
        crate::metrics::submit_latency(&self.carrier.name, client.started.elapsed().as_secs_f64());
        let event = match request::outcome(&self.carrier, &client.request, &response) {
            Outcome::Accepted(carrier_id) => LinkEvent::Accepted {
                message_id: client.message_id,
                part: client.part,
                carrier_id,
            },
            Outcome::Failed(status) => LinkEvent::Failed {
                message_id: client.message_id,
                part: client.part,
                status,
            },
        };
        self.report(event).await;
        self.gauges.link(0).set_window_in_use(self.clients.len());
    }

    async fn on_request(&mut self, peer: Peer, message: SipMessage) {
        let Some(key) = server_key(&message) else {
            debug!("a request without a usable Via branch");
            return;
        };
        if let Some(server) = self.servers.get_mut(&key) {
            // A retransmission: answered from its transaction.
            let outputs = server.transaction.on_retransmission();
            let peer = server.peer;
            self.run_outputs(peer, outputs).await;
            return;
        }
        let StartLine::Request { method, .. } = &message.start else {
            return;
        };
        let method = method.clone();
        if method == "ACK" {
            return;
        }
        let now = std::time::Instant::now();
        // A server transaction lingers (Timer J) over TCP too: a trunk that
        // sends a request again on a new connection, or again on the same
        // one, gets the answer it missed, and the text is not passed on
        // twice.
        let server_timers = TimerValues {
            reliable: false,
            ..self.timers_values
        };
        let transaction = ServerTransaction::new(message.clone(), server_timers, now);
        let deadline = transaction.poll_timeout();
        self.servers
            .insert(key.clone(), Server { transaction, peer });
        self.schedule(deadline, TimerKey::Server(key.clone()));
        if method == "MESSAGE"
            && let Some(authenticator) = self.authenticator.as_mut()
            && let super::auth::Verdict::Challenge(header) = authenticator.check(&message, now)
        {
            self.respond_with(&key, 401, "Unauthorized", vec![header])
                .await;
            return;
        }
        if method == "MESSAGE"
            && let Some(body) = carrier_protocol::sip::imdn::imdn_body(&message)
        {
            match carrier_protocol::sip::imdn::parse(body) {
                Ok(imdn) => {
                    let (ack, applied) = oneshot::channel();
                    let report = LinkEvent::Report {
                        carrier: self.carrier.name.clone(),
                        receipt: inbound::receipt_of(&imdn),
                        ack,
                    };
                    if self.outputs.events.send(report).await.is_err() {
                        self.respond(&key, 503, "Service Unavailable").await;
                        return;
                    }
                    self.answer_when(key, applied);
                }
                Err(e) => {
                    warn!(error = %e, "an IMDN from the trunk was refused");
                    self.respond(&key, 400, "Bad Request (IMDN)").await;
                }
            }
            return;
        }
        match method.as_str() {
            "MESSAGE" => match inbound::message_of(&message, crate::store::outbox::now_ms()) {
                Ok(sms) => {
                    let (ack, durable) = oneshot::channel();
                    let delivery = InboundDelivery {
                        carrier: self.carrier.name.clone(),
                        sms,
                        ack,
                    };
                    if self.outputs.inbound.send(delivery).await.is_err() {
                        self.respond(&key, 503, "Service Unavailable").await;
                        return;
                    }
                    self.answer_when(key, durable);
                }
                Err(refusal) => {
                    warn!(code = refusal.code, reason = %refusal.reason, "a MESSAGE from the trunk was refused");
                    self.respond(&key, refusal.code, &refusal.reason).await;
                }
            },
            "OPTIONS" => self.respond(&key, 200, "OK").await,
            _ => self.respond(&key, 405, "Method Not Allowed").await,
        }
    }

    /// Answers the request `key` once `durable` says what it carried is on
    /// disk (200), or that it could not be (503).
    fn answer_when(&self, key: ServerKey, durable: oneshot::Receiver<()>) {
        let answers = self.answers_tx.clone();
        tokio::spawn(async move {
            let stored = matches!(
                tokio::time::timeout(DURABLE_TIMEOUT, durable).await,
                Ok(Ok(()))
            );
            let _ = answers.send((key, stored)).await;
        });
    }

    async fn answer(&mut self, key: ServerKey, durable: bool) {
        if durable {
            self.respond(&key, 200, "OK").await;
        } else {
            self.respond(&key, 503, "Service Unavailable").await;
        }
    }

    async fn respond(&mut self, key: &ServerKey, code: u16, reason: &str) {
        self.respond_with(key, code, reason, Vec::new()).await;
    }

    async fn respond_with(
        &mut self,
        key: &ServerKey,
        code: u16,
        reason: &str,
        extra: Vec<carrier_protocol::sip::message::HeaderField>,
    ) {
        let Some(server) = self.servers.get_mut(key) else {
            return;
        };
        let outputs = server.transaction.respond_with(
            code,
            reason,
            &request::random_token(),
            extra,
            std::time::Instant::now(),
        );
        let peer = server.peer;
        let state = server.transaction.state();
        let deadline = server.transaction.poll_timeout();
        self.run_outputs(peer, outputs).await;
        if state == TransactionState::Terminated {
            self.servers.remove(key);
        } else {
            self.schedule(deadline, TimerKey::Server(key.clone()));
        }
    }

    async fn fire_timers(&mut self) {
        let now = Instant::now();
        let due: Vec<TimerKey> = {
            let mut due = Vec::new();
            while let Some(entry) = self.timers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            due
        };
        let now = now.into_std();
        for key in due {
            match key {
                TimerKey::Client(branch) => {
                    let Some(client) = self.clients.get_mut(&branch) else {
                        continue;
                    };
                    if client.transaction.poll_timeout().is_none_or(|at| at > now) {
                        continue;
                    }
                    let outputs = client.transaction.on_timeout(now);
                    let peer = client.peer;
                    let rest = self.run_outputs(peer, outputs).await;
                    if rest
                        .iter()
                        .any(|o| matches!(o, TransactionOutput::TimedOut))
                    {
                        if let Some(client) = self.clients.remove(&branch) {
                            self.report(LinkEvent::Failed {
                                message_id: client.message_id,
                                part: client.part,
                                status: LinkStatus::timeout(),
                            })
                            .await;
                        }
                        continue;
                    }
                    if let Some(client) = self.clients.get(&branch) {
                        let deadline = client.transaction.poll_timeout();
                        self.schedule(deadline, TimerKey::Client(branch));
                    }
                }
                TimerKey::Server(key) => {
                    let Some(server) = self.servers.get_mut(&key) else {
                        continue;
                    };
                    if server.transaction.poll_timeout().is_none_or(|at| at > now) {
                        continue;
                    }
                    let outputs = server.transaction.on_timeout(now);
                    let peer = server.peer;
                    let state = server.transaction.state();
                    let deadline = server.transaction.poll_timeout();
                    self.run_outputs(peer, outputs).await;
                    if state == TransactionState::Terminated {
                        self.servers.remove(&key);
                    } else {
                        self.schedule(deadline, TimerKey::Server(key));
                    }
                }
            }
        }
        self.gauges.link(0).set_window_in_use(self.clients.len());
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Reads datagrams; each that parses is one message.
async fn read_datagrams(
    socket: Arc<UdpSocket>,
    inputs: mpsc::Sender<Input>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            () = super::stopped(&mut shutdown) => return,
        };
        let Ok((n, from)) = received else {
            continue;
        };
        let Some(datagram) = buffer.get(..n) else {
            continue;
        };
        // Keep-alive CRLFs and garbage are dropped (RFC 5626 §4.4.1 pings
        // need no answer over UDP).
        match SipMessage::parse(datagram) {
            Ok(message) => {
                if inputs
                    .send(Input::Message(Peer::Udp(from), message))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(e) => debug!(%from, error = %e, "an unreadable datagram was dropped"),
        }
    }
}

/// Accepts the trunk's connections (with the TLS handshake, over TLS).
async fn accept(
    listener: TcpListener,
    tls: Option<super::tls::SipTls>,
    inputs: mpsc::Sender<Input>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = super::stopped(&mut shutdown) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let (inputs, shutdown) = (inputs.clone(), shutdown.clone());
                match &tls {
                    None => {
                        tokio::spawn(connection(stream, inputs, false, shutdown));
                    }
                    Some(tls) => {
                        let acceptor = tls.acceptor.clone();
                        tokio::spawn(async move {
                            let handshake =
                                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                                    .await;
                            match handshake {
                                Ok(Ok(stream)) => connection(stream, inputs, false, shutdown).await,
                                Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                                Err(_) => debug!(%peer, "TLS handshake timed out"),
                            }
                        });
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, "SIP listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Keeps a connection to the trunk (TLS over it, with TLS), reconnecting
/// with backoff.
async fn dial(
    carrier: Arc<SipLinkConfig>,
    tls: Option<super::tls::SipTls>,
    inputs: mpsc::Sender<Input>,
    mut shutdown: watch::Receiver<bool>,
) {
    let target = format!("{}:{}", carrier.host, carrier.port);
    let mut delay = Duration::from_millis(200);
    loop {
        let connected = tokio::select! {
            connected = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&target)) => connected,
            () = super::stopped(&mut shutdown) => return,
        };
        match connected {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                match &tls {
                    None => {
                        delay = Duration::from_millis(200);
                        info!(%target, "connected to the SIP trunk");
                        connection(stream, inputs.clone(), true, shutdown.clone()).await;
                        info!(%target, "the connection to the SIP trunk closed");
                    }
                    Some(tls) => {
                        let handshake = tokio::time::timeout(
                            HANDSHAKE_TIMEOUT,
                            tls.connector.connect(tls.server_name.clone(), stream),
                        )
                        .await;
                        match handshake {
                            Ok(Ok(stream)) => {
                                delay = Duration::from_millis(200);
                                info!(%target, "connected to the SIP trunk over TLS");
                                connection(stream, inputs.clone(), true, shutdown.clone()).await;
                                info!(%target, "the connection to the SIP trunk closed");
                            }
                            Ok(Err(e)) => {
                                warn!(%target, error = %e, "TLS to the SIP trunk failed")
                            }
                            Err(_) => {
                                warn!(%target, "the TLS handshake with the SIP trunk timed out")
                            }
                        }
                    }
                }
            }
            Ok(Err(e)) => debug!(%target, error = %e, "cannot connect to the SIP trunk"),
            Err(_) => debug!(%target, "connecting to the SIP trunk timed out"),
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = super::stopped(&mut shutdown) => return,
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// One stream connection (TCP or TLS): frames in (by Content-Length),
/// bytes out.
async fn connection<S>(
    stream: S,
    inputs: mpsc::Sender<Input>,
    outbound: bool,
    mut shutdown: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let id = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (writer_tx, mut writer_rx) = mpsc::channel::<Vec<u8>>(256);
    if inputs
        .send(Input::Opened {
            id,
            writer: writer_tx,
            outbound,
        })
        .await
        .is_err()
    {
        return;
    }
    let writing = tokio::spawn(async move {
        while let Some(bytes) = writer_rx.recv().await {
            if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                break;
            }
        }
    });
    let mut buffer = BytesMut::with_capacity(8 * 1024);
    'reading: loop {
        let read = tokio::select! {
            read = reader.read_buf(&mut buffer) => read,
            () = super::stopped(&mut shutdown) => break,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        loop {
            // Keep-alive CRLFs between messages (RFC 5626 §3.5.1).
            while buffer.first().is_some_and(|b| *b == b'\r' || *b == b'\n') {
                let _ = buffer.split_to(1);
            }
            match frame_len(&buffer) {
                Ok(Some(len)) if len <= buffer.len() => {
                    let frame = buffer.split_to(len);
                    match SipMessage::parse(&frame) {
                        Ok(message) => {
                            if inputs
                                .send(Input::Message(Peer::Tcp(id), message))
                                .await
                                .is_err()
                            {
                                break 'reading;
                            }
                        }
                        Err(e) => {
                            debug!(error = %e, "an unreadable SIP message closes its connection");
                            break 'reading;
                        }
                    }
                }
                Ok(_) if buffer.len() > MAX_STREAM_MESSAGE => break 'reading,
                Ok(_) => break,
                Err(e) => {
                    debug!(error = %e, "unframeable input closes the SIP connection");
                    break 'reading;
                }
            }
        }
    }
    let _ = inputs.send(Input::Closed(id)).await;
    writing.abort();
}
