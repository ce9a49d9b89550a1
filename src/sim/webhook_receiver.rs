//! A small webhook receiver: the demo's console sink and the tests' "core".
//!
//! It does what a careful core would do with our events (docs/api.md): verify
//! `X-Gateway-Signature` over the raw body before parsing (401 otherwise),
//! accept a single event or a `{"events": [...]}` batch, answer 200. It
//! records what it received so tests can check ids, bytes and order, can
//! print one line per event (`carrier-gateway demo`), and can misbehave on
//! request: fail the next N requests, answer from a test-supplied rule, stall,
//! or be unreachable (connections accepted and closed at once), which is how
//! the tests produce core outages on loopback.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

use crate::core_link::{SIGNATURE_HEADER, WebhookSecret, verify};

/// Largest request body read.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A test's rule for answering: a status to answer with instead of 200, or
/// `None` to accept. Only consulted for correctly signed requests.
pub type Responder = Arc<dyn Fn(&[u8]) -> Option<StatusCode> + Send + Sync>;

/// How the sink behaves.
#[derive(Clone)]
pub struct ReceiverOptions {
    /// The shared secret it verifies with.
    pub secret: WebhookSecret,
    /// Print one line per accepted event to stdout (the console sink).
    pub print: bool,
    /// Keep accepted events and every request's body (tests); without it
    /// only counts are kept (benchmarks).
    pub record: bool,
    /// Answer the first this-many signed requests with `fail_status`.
    pub fail_first: usize,
    /// Status for `fail_first` (default 500).
    pub fail_status: StatusCode,
}

impl ReceiverOptions {
    /// Records everything, prints nothing, fails nothing.
    pub fn new(secret: impl Into<WebhookSecret>) -> ReceiverOptions {
        ReceiverOptions {
            secret: secret.into(),
            print: false,
            record: true,
            fail_first: 0,
            fail_status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// One request as it arrived, whatever was answered.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// The raw body.
    pub body: Bytes,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `X-Gateway-Signature` header.
    pub signature: Option<String>,
    /// What the sink answered.
    pub status: u16,
}

/// One event from an accepted (2xx) request.
#[derive(Clone, Debug)]
pub struct ReceivedEvent {
    /// `id`.
    pub id: String,
    /// `type`.
    pub event_type: String,
    /// `created_at`.
    pub created_at: String,
    /// `data`.
    pub data: Value,
    /// Index of the request it came in (into [`WebhookReceiver::requests`]).
    pub request: usize,
}

struct SinkState {
    secret: WebhookSecret,
    print: bool,
    record: bool,
    fail_remaining: AtomicUsize,
    fail_status: Mutex<StatusCode>,
    responder: Mutex<Option<Responder>>,
    available: AtomicBool,
    delay_ms: AtomicU64,
    accepted_events: AtomicUsize,
    refused_connections: AtomicUsize,
    requests_seen: AtomicUsize,
    requests: Mutex<Vec<RecordedRequest>>,
    events: Mutex<Vec<ReceivedEvent>>,
    changed: Notify,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running webhook receiver; stops when dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    state: Arc<SinkState>,
    task: JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebhookReceiver {
    /// Listens on `listen` (port 0 picks one) and serves until dropped.
    pub async fn spawn(
        listen: SocketAddr,
        options: ReceiverOptions,
    ) -> std::io::Result<WebhookReceiver> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(SinkState {
            secret: options.secret,
            print: options.print,
            record: options.record,
            fail_remaining: AtomicUsize::new(options.fail_first),
            fail_status: Mutex::new(options.fail_status),
            responder: Mutex::new(None),
            available: AtomicBool::new(true),
            delay_ms: AtomicU64::new(0),
            accepted_events: AtomicUsize::new(0),
            refused_connections: AtomicUsize::new(0),
            requests_seen: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            events: Mutex::new(Vec::new()),
            changed: Notify::new(),
        });
        let task = tokio::spawn(serve(listener, state.clone()));
        Ok(WebhookReceiver { addr, state, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/events`.
    pub fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }

    /// Answer the next `n` signed requests with `status`.
    pub fn fail_next(&self, n: usize, status: StatusCode) {
        *locked(&self.state.fail_status) = status;
        self.state.fail_remaining.store(n, Ordering::SeqCst);
    }

    /// Decide answers with `responder` (after the signature check and
    /// `fail_next`); `None` removes it.
    pub fn set_responder(&self, responder: Option<Responder>) {
        *locked(&self.state.responder) = responder;
    }

    /// `false`: accept connections and close them at once, and drop requests
    /// on open connections unanswered (the core is down).
    pub fn set_available(&self, available: bool) {
        self.state.available.store(available, Ordering::SeqCst);
    }

    /// Wait this long before answering each request.
    pub fn set_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(millis, Ordering::SeqCst);
    }

    /// Events accepted so far (duplicates included).
    pub fn accepted(&self) -> usize {
        self.state.accepted_events.load(Ordering::SeqCst)
    }

    /// Requests seen so far, whatever the answer (connections refused while
    /// unavailable are not requests).
    pub fn requests_seen(&self) -> usize {
        self.state.requests_seen.load(Ordering::SeqCst)
    }

    /// Connections and requests dropped while unavailable.
    pub fn refused_connections(&self) -> usize {
        self.state.refused_connections.load(Ordering::SeqCst)
    }

    /// Accepted events, in the order they were accepted (when recording).
    pub fn events(&self) -> Vec<ReceivedEvent> {
        locked(&self.state.events).clone()
    }

    /// Every request, in arrival order (when recording).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        locked(&self.state.requests).clone()
    }

    /// Waits until at least `n` events were accepted; false on timeout.
    pub async fn wait_for_events(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.changed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.accepted() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.accepted() >= n;
            }
        }
    }
}

async fn serve(listener: TcpListener, state: Arc<SinkState>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "webhook sink: accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        if !state.available.load(Ordering::SeqCst) {
            state.refused_connections.fetch_add(1, Ordering::SeqCst);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct Unavailable;

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sink unavailable")
    }
}

impl std::error::Error for Unavailable {}

async fn handle(
    state: Arc<SinkState>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Unavailable> {
    if !state.available.load(Ordering::SeqCst) {
        state.refused_connections.fetch_add(1, Ordering::SeqCst);
        return Err(Unavailable);
    }
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    state.requests_seen.fetch_add(1, Ordering::SeqCst);
    if request.method() != Method::POST {
        return Ok(answer(StatusCode::METHOD_NOT_ALLOWED));
    }
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = header(SIGNATURE_HEADER);
    let content_type = header(CONTENT_TYPE.as_str());
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(answer(StatusCode::PAYLOAD_TOO_LARGE)),
    };
    let status = decide(&state, &body, signature.as_deref());
    let events = if status == StatusCode::OK {
        parse(&body).unwrap_or_default()
    } else {
        Vec::new()
    };
    let status = if status == StatusCode::OK && events.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let accepted = events.len();
    if state.print {
        print_events(&events);
    }
    if state.record {
        // One lock order (requests, then events) so indices line up.
        let mut requests = locked(&state.requests);
        let index = requests.len();
        requests.push(RecordedRequest {
            body,
            content_type,
            signature,
            status: status.as_u16(),
        });
        if accepted > 0 {
            let mut recorded = locked(&state.events);
            recorded.extend(events.into_iter().map(|event| received(event, index)));
        }
    }
    if accepted > 0 {
        state.accepted_events.fetch_add(accepted, Ordering::SeqCst);
    }
    state.changed.notify_waiters();
    Ok(answer(status))
}

/// The answer for a request, before looking at its JSON.
fn decide(state: &SinkState, body: &[u8], signature: Option<&str>) -> StatusCode {
    if !signature.is_some_and(|s| verify(state.secret.expose(), body, s)) {
        return StatusCode::UNAUTHORIZED;
    }
    let failing = state
        .fail_remaining
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        return *locked(&state.fail_status);
    }
    let responder = locked(&state.responder).clone();
    responder
        .and_then(|responder| responder(body))
        .unwrap_or(StatusCode::OK)
}

/// The events of a single-event or batch body; `None` if it is neither.
fn parse(body: &[u8]) -> Option<Vec<Value>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let events = match value {
        Value::Object(mut object) if !object.contains_key("id") => match object.remove("events") {
            Some(Value::Array(events)) => events,
            _ => return None,
        },
        single @ Value::Object(_) => vec![single],
        _ => return None,
    };
    events
        .iter()
        .all(|e| {
            e.get("id").is_some_and(Value::is_string) && e.get("type").is_some_and(Value::is_string)
        })
        .then_some(events)
}

fn received(mut event: Value, request: usize) -> ReceivedEvent {
    let mut text = |field: &str| match event.get_mut(field).map(Value::take) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    let id = text("id");
    let event_type = text("type");
    let created_at = text("created_at");
    ReceivedEvent {
        id,
        event_type,
        created_at,
        data: event
            .get_mut("data")
            .map(Value::take)
            .unwrap_or(Value::Null),
        request,
    }
}

fn print_events(events: &[Value]) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for event in events {
        let field = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or("-");
        let data = event.get("data").map(Value::to_string).unwrap_or_default();
        // A closed stdout must not take the sink down.
        let _ = writeln!(
            out,
            "{} {:<16} {} {}",
            field("created_at"),
            field("type"),
            field("id"),
            data
        );
    }
}

fn answer(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
