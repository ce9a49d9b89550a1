//! Non-INVITE transactions (RFC 3261 §17.1.2 and §17.2.2), sans-IO: the
//! client side retransmits a `MESSAGE` over UDP (Timer E, doubling to T2)
//! until a response or Timer F, and absorbs retransmitted responses until
//! Timer K; the server side absorbs retransmitted requests, answering them
//! from the transaction (Timer J), and sends `100 Trying` when its final
//! answer is slow. Each is told the time and returns what to send and when
//! to be woken, like the SMPP session; tests drive it with simulated time.

use std::time::{Duration, Instant};

use super::message::{HeaderField, SipMessage, StartLine};

/// The protocol's timer values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerValues {
    /// T1, the round-trip estimate (500 ms).
    pub t1: Duration,
    /// T2, the longest retransmit interval (4 s).
    pub t2: Duration,
    /// T4, how long a message may stay in the network (5 s).
    pub t4: Duration,
    /// A stream transport (TCP, TLS): no retransmissions, no lingering.
    pub reliable: bool,
    /// Server side: send `100 Trying` if the final response has not been
    /// given this long after the request (`None`: never).
    pub trying_after: Option<Duration>,
}

impl Default for TimerValues {
    fn default() -> Self {
        TimerValues {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            reliable: false,
            trying_after: Some(Duration::from_millis(200)),
        }
    }
}

/// What a transaction asks of its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionOutput {
    /// Send these bytes to the peer.
    Transmit(Vec<u8>),
    /// Client: a response for the transaction user (provisional or final;
    /// retransmissions are absorbed).
    Response(SipMessage),
    /// Client: Timer F fired without a final response (a `408`).
    TimedOut,
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// Client: request sent, nothing heard. Server: request passed up,
    /// nothing answered.
    Trying,
    /// A provisional response was seen (client) or sent (server).
    Proceeding,
    /// A final response was seen or sent; absorbing retransmissions.
    Completed,
    /// Done.
    Terminated,
}

/// A client non-INVITE transaction.
#[derive(Debug)]
pub struct ClientTransaction {
    timers: TimerValues,
    state: TransactionState,
    request: Vec<u8>,
    /// Timer E: next retransmission, and the interval after it.
    retransmit: Option<(Instant, Duration)>,
    /// Timer F.
    give_up: Instant,
    /// Timer K.
    linger: Option<Instant>,
}

impl ClientTransaction {
    /// Starts a transaction for `request` at `now`: the first
    /// transmission is in the outputs.
    pub fn start(
        request: &SipMessage,
        timers: TimerValues,
        now: Instant,
    ) -> (ClientTransaction, Vec<TransactionOutput>) {
        let bytes = request.to_bytes();
        let transaction = ClientTransaction {
            timers,
            state: TransactionState::Trying,
            retransmit: (!timers.reliable).then(|| (now + timers.t1, timers.t1)),
            give_up: now + timers.t1 * 64,
            linger: None,
            request: bytes.clone(),
        };
        (transaction, vec![TransactionOutput::Transmit(bytes)])
    }

    /// Its state.
    pub fn state(&self) -> TransactionState {
        self.state
    }

    /// A response matched to this transaction arrived.
    pub fn on_response(&mut self, response: SipMessage, now: Instant) -> Vec<TransactionOutput> {
        let StartLine::Response { code, .. } = response.start else {
            return Vec::new();
        };
        match self.state {
            TransactionState::Trying | TransactionState::Proceeding if code < 200 => {
                self.state = TransactionState::Proceeding;
                vec![TransactionOutput::Response(response)]
            }
            TransactionState::Trying | TransactionState::Proceeding => {
                self.state = TransactionState::Completed;
                self.retransmit = None;
                if self.timers.reliable {
                    self.state = TransactionState::Terminated;
                } else {
                    self.linger = Some(now + self.timers.t4);
                }
                vec![TransactionOutput::Response(response)]
            }
            // A retransmission of the final response: absorbed.
            TransactionState::Completed | TransactionState::Terminated => Vec::new(),
        }
    }

    /// When it next needs [`ClientTransaction::on_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            TransactionState::Trying | TransactionState::Proceeding => {
                let retransmit = self.retransmit.map(|(at, _)| at);
                Some(retransmit.map_or(self.give_up, |at| at.min(self.give_up)))
            }
            TransactionState::Completed => self.linger,
            TransactionState::Terminated => None,
        }
    }

    /// Fires the timers due at `now`.
    pub fn on_timeout(&mut self, now: Instant) -> Vec<TransactionOutput> {
        let mut out = Vec::new();
        match self.state {
            TransactionState::Trying | TransactionState::Proceeding => {
                if now >= self.give_up {
                    self.state = TransactionState::Terminated;
                    self.retransmit = None;
                    out.push(TransactionOutput::TimedOut);
                    return out;
                }
                if let Some((at, interval)) = self.retransmit
                    && now >= at
                {
                    out.push(TransactionOutput::Transmit(self.request.clone()));
                    // Doubling up to T2 while trying; T2 once proceeding.
                    let next = if self.state == TransactionState::Proceeding {
                        self.timers.t2
                    } else {
                        (interval * 2).min(self.timers.t2)
                    };
                    self.retransmit = Some((now + next, next));
                }
            }
            TransactionState::Completed => {
                if self.linger.is_some_and(|at| now >= at) {
                    self.state = TransactionState::Terminated;
                    self.linger = None;
                }
            }
            TransactionState::Terminated => {}
        }
        out
    }
}

/// A server non-INVITE transaction.
#[derive(Debug)]
pub struct ServerTransaction {
    timers: TimerValues,
    state: TransactionState,
    request: SipMessage,
    /// The last response sent, resent to retransmitted requests.
    last_response: Option<Vec<u8>>,
    /// When to send `100 Trying`.
    trying_at: Option<Instant>,
    /// Timer J.
    linger: Option<Instant>,
}

impl ServerTransaction {
    /// A transaction for a new request received at `now` (which the
    /// caller passes to its transaction user).
    pub fn new(request: SipMessage, timers: TimerValues, now: Instant) -> ServerTransaction {
        ServerTransaction {
            trying_at: timers.trying_after.map(|d| now + d),
            timers,
            state: TransactionState::Trying,
            request,
            last_response: None,
            linger: None,
        }
    }

    /// Its state.
    pub fn state(&self) -> TransactionState {
        self.state
    }

    /// The request.
    pub fn request(&self) -> &SipMessage {
        &self.request
    }

    /// The same request arrived again: answered from the transaction (the
    /// last response, if any), never passed up again.
    pub fn on_retransmission(&mut self) -> Vec<TransactionOutput> {
        match (&self.state, &self.last_response) {
            (TransactionState::Proceeding | TransactionState::Completed, Some(last)) => {
                vec![TransactionOutput::Transmit(last.clone())]
            }
            _ => Vec::new(),
        }
    }

    /// The transaction user answers with `code` (`reason`), adding a `To`
    /// tag to a final response.
    pub fn respond(
        &mut self,
        code: u16,
        reason: &str,
        to_tag: &str,
        now: Instant,
    ) -> Vec<TransactionOutput> {
        self.respond_with(code, reason, to_tag, Vec::new(), now)
    }

    /// [`ServerTransaction::respond`] with more header fields (a
    /// challenge's `WWW-Authenticate`, say).
    pub fn respond_with(
        &mut self,
        code: u16,
        reason: &str,
        to_tag: &str,
        extra: Vec<HeaderField>,
        now: Instant,
    ) -> Vec<TransactionOutput> {
        if matches!(
            self.state,
            TransactionState::Completed | TransactionState::Terminated
        ) {
            return Vec::new();
        }
        let tag = (code >= 200).then_some(to_tag);
        let mut response = response_to(&self.request, code, reason, tag);
        response.headers.extend(extra);
        let bytes = response.to_bytes();
        self.last_response = Some(bytes.clone());
        self.trying_at = None;
        if code < 200 {
            self.state = TransactionState::Proceeding;
        } else {
            self.state = TransactionState::Completed;
            if self.timers.reliable {
                self.state = TransactionState::Terminated;
            } else {
                self.linger = Some(now + self.timers.t1 * 64);
            }
        }
        vec![TransactionOutput::Transmit(bytes)]
    }

    /// When it next needs [`ServerTransaction::on_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            TransactionState::Trying => self.trying_at,
            TransactionState::Completed => self.linger,
            _ => None,
        }
    }

    /// Fires the timers due at `now`.
    pub fn on_timeout(&mut self, now: Instant) -> Vec<TransactionOutput> {
        match self.state {
            TransactionState::Trying if self.trying_at.is_some_and(|at| now >= at) => {
                self.respond(100, "Trying", "", now)
            }
            TransactionState::Completed if self.linger.is_some_and(|at| now >= at) => {
                self.state = TransactionState::Terminated;
                self.linger = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

/// A response to `request` (RFC 3261 §8.2.6.2): its `Via`s, `From`,
/// `To` (with `to_tag` when it has none), `Call-ID` and `CSeq`.
pub fn response_to(
    request: &SipMessage,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
) -> SipMessage {
    let mut headers = Vec::new();
    for field in &request.headers {
        let copied = ["Via", "From", "To", "Call-ID", "CSeq"]
            .iter()
            .any(|n| field.name.eq_ignore_ascii_case(n));
        if !copied {
            continue;
        }
        let mut value = field.value.clone();
        if field.name.eq_ignore_ascii_case("To")
            && let Some(tag) = to_tag.filter(|t| !t.is_empty())
            && !value.to_ascii_lowercase().contains(";tag=")
        {
            value.push_str(";tag=");
            value.push_str(tag);
        }
        headers.push(HeaderField {
            name: field.name.clone(),
            value,
        });
    }
    SipMessage {
        start: StartLine::Response {
            code,
            reason: reason.to_owned(),
        },
        headers,
        body: Vec::new(),
    }
}

/// What matches a request to its server transaction (RFC 3261 §17.2.3):
/// the top `Via`'s branch and sent-by, and the method.
pub fn server_key(request: &SipMessage) -> Option<(String, String, String)> {
    let StartLine::Request { method, .. } = &request.start else {
        return None;
    };
    let via = request.vias().ok()?.into_iter().next()?;
    let branch = via.branch()?.to_owned();
    let sent_by = match via.port {
        Some(port) => format!("{}:{port}", via.host),
        None => via.host.clone(),
    };
    Some((branch, sent_by, method.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SipMessage {
        SipMessage::parse(
            b"MESSAGE sip:+15557654321@trunk.example.net SIP/2.0\r\n\
              Via: SIP/2.0/UDP gw.example.net:5060;branch=z9hG4bKa1\r\n\
              Max-Forwards: 70\r\nFrom: <sip:+15551230001@gw.example.net>;tag=f1\r\n\
              To: <sip:+15557654321@trunk.example.net>\r\nCall-ID: c1@gw\r\n\
              CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
        )
        .expect("valid")
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Drives `client` to `until`, waking it whenever it asks; returns the
    /// instants of its retransmissions.
    fn run(client: &mut ClientTransaction, start: Instant, until: Duration) -> (Vec<u64>, bool) {
        let mut sent = Vec::new();
        let mut timed_out = false;
        while let Some(at) = client.poll_timeout() {
            if at > start + until {
                break;
            }
            for output in client.on_timeout(at) {
                match output {
                    TransactionOutput::Transmit(_) => sent.push((at - start).as_millis() as u64),
                    TransactionOutput::TimedOut => timed_out = true,
                    TransactionOutput::Response(_) => {}
                }
            }
        }
        (sent, timed_out)
    }

    #[test]
    fn over_udp_a_request_is_retransmitted_doubling_to_t2_until_timer_f() {
        let start = Instant::now();
        let (mut client, first) =
            ClientTransaction::start(&request(), TimerValues::default(), start);
        assert!(matches!(first.as_slice(), [TransactionOutput::Transmit(_)]));
        let (sent, timed_out) = run(&mut client, start, Duration::from_secs(40));
        // E: 500, 1000, 2000, 4000, then every 4 s, until F at 32 s.
        assert_eq!(&sent[..6], &[500, 1500, 3500, 7500, 11500, 15500]);
        assert!(sent.iter().all(|&t| t < 32_000));
        assert!(timed_out);
        assert_eq!(client.state(), TransactionState::Terminated);
    }

    #[test]
    fn a_final_response_completes_and_retransmissions_are_absorbed() {
        let start = Instant::now();
        let (mut client, _) = ClientTransaction::start(&request(), TimerValues::default(), start);
        let trying = response_to(&request(), 100, "Trying", None);
        assert_eq!(client.on_response(trying, start + ms(100)).len(), 1);
        assert_eq!(client.state(), TransactionState::Proceeding);
        // Proceeding: retransmit every T2.
        let (sent, _) = run(&mut client, start, ms(9_000));
        assert_eq!(sent, [500, 4500, 8500]);
        let ok = response_to(&request(), 200, "OK", Some("t9"));
        let delivered = client.on_response(ok.clone(), start + ms(9_100));
        assert!(
            matches!(delivered.as_slice(), [TransactionOutput::Response(r)] if r.start == ok.start)
        );
        assert!(
            client.on_response(ok, start + ms(9_200)).is_empty(),
            "absorbed"
        );
        assert_eq!(
            client.poll_timeout(),
            Some(start + ms(9_100) + Duration::from_secs(5))
        );
        client.on_timeout(start + ms(14_100));
        assert_eq!(client.state(), TransactionState::Terminated);
    }

    #[test]
    fn over_tcp_nothing_is_retransmitted() {
        let start = Instant::now();
        let timers = TimerValues {
            reliable: true,
            ..TimerValues::default()
        };
        let (mut client, _) = ClientTransaction::start(&request(), timers, start);
        let (sent, timed_out) = run(&mut client, start, Duration::from_secs(40));
        assert!(sent.is_empty());
        assert!(timed_out);
        let (mut client, _) = ClientTransaction::start(&request(), timers, start);
        client.on_response(response_to(&request(), 202, "Accepted", Some("t")), start);
        assert_eq!(client.state(), TransactionState::Terminated);
    }

    #[test]
    fn a_server_answers_retransmissions_from_the_transaction() {
        let start = Instant::now();
        let mut server = ServerTransaction::new(request(), TimerValues::default(), start);
        assert!(
            server.on_retransmission().is_empty(),
            "nothing to resend yet"
        );
        // Slow to answer: 100 Trying after 200 ms, resent to a retransmission.
        assert_eq!(server.poll_timeout(), Some(start + ms(200)));
        let trying = server.on_timeout(start + ms(200));
        assert!(
            matches!(trying.as_slice(), [TransactionOutput::Transmit(b)] if b.starts_with(b"SIP/2.0 100 Trying"))
        );
        assert_eq!(server.on_retransmission(), trying);
        let ok = server.respond(200, "OK", "gw-tag", start + ms(300));
        let TransactionOutput::Transmit(bytes) = &ok[0] else {
            panic!("{ok:?}")
        };
        let parsed = SipMessage::parse(bytes).expect("a valid response");
        assert_eq!(parsed.to_header().expect("To").tag(), Some("gw-tag"));
        assert_eq!(parsed.call_id().as_deref(), Some("c1@gw"));
        assert_eq!(server.on_retransmission(), ok);
        // Timer J: 64 × T1 later the transaction ends.
        assert_eq!(
            server.poll_timeout(),
            Some(start + ms(300) + Duration::from_secs(32))
        );
        server.on_timeout(start + ms(300) + Duration::from_secs(32));
        assert_eq!(server.state(), TransactionState::Terminated);
        assert_eq!(
            server_key(&request()),
            Some((
                "z9hG4bKa1".into(),
                "gw.example.net:5060".into(),
                "MESSAGE".into()
            ))
        );
    }
}
