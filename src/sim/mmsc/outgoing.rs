//! What the MMSC sends to the VASP: delivery reports
//! (`MM7_delivery_report.REQ`) and mobile-originated MMS
//! (`MM7_deliver.REQ`), posted to `deliver_to` with `SOAPAction: ""`.
//!
//! Each is posted again until the VASP answers HTTP 200 with the matching
//! response (`DeliveryReportRsp`, `DeliverRsp`) and a success status, at
//! most `mo_attempts` times, `mo_retry` apart; any other answer, a
//! connection error or no answer within [`ANSWER_TIMEOUT`] is one failed
//! attempt. A gateway killed between our post and its answer so gets the
//! same message again after its restart, which is the at-least-once
//! behaviour of real MMSCs that its dedupe (by `LinkedID`, `MessageID`)
//! must handle.
//!
//! Bounds: reports wait in their own tasks, at most
//! [`super::MAX_PENDING_REPORTS`] at once (a semaphore; one more is dropped
//! and counted); MO go one at a time, in order, from one task; at most
//! [`MAX_IN_FLIGHT`] posts are open at once.

use std::error::Error as _;
use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use carrier_protocol::mime::MimeLimits;
use carrier_protocol::mm7::body::{ContentItem, decode_body, encode_body};
use carrier_protocol::mm7::{
    DeliverReq, DeliveryReportReq, Mm7Address, Mm7AddressKind, Mm7Envelope, Mm7Message,
    Mm7MessageKind, Mm7Version, MmStatus, Recipients, SubmitReq,
};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Semaphore, mpsc};
use tracing::{Instrument as _, debug, info, warn};

use super::Shared;
use super::mo_file::MoMms;
use super::record::RecordLine;
use super::stats::bump;

/// How long the VASP has to answer one post.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Most posts open at once (reports and MO together).
const MAX_IN_FLIGHT: usize = 32;
/// Largest answer read from the VASP (an MM7 response is a few hundred
/// bytes).
const MAX_ANSWER: usize = 64 * 1024;
/// Our `MMSRelayServerID`.
const RELAY_SERVER_ID: &str = "carrier-gateway-sim";
/// The schema of MO MMS (the VASP's own version is not known before it
/// submits; every MM7 decoder reads every version).
const MO_VERSION: Mm7Version = Mm7Version::Rel6_1_4;
/// The `SOAPAction` header MM7 over SOAP 1.1 sends: present, empty.
const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");

/// The VASP's MM7 endpoint and a pooled HTTP client for it.
#[derive(Debug)]
pub(crate) struct VaspClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    in_flight: Semaphore,
}

/// How posting one request ended.
enum Outcome {
    /// Acknowledged at this attempt.
    Acked(u32),
    /// Not acknowledged after this many attempts.
    GaveUp(u32),
}

impl VaspClient {
    /// Checks `url` (http or https, with a host) and builds the client.
    pub(crate) fn new(url: &str) -> io::Result<VaspClient> {
        let invalid = |reason: String| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("deliver_to {url:?}: {reason}"),
            )
        };
        let uri: Uri = url.parse().map_err(|e| invalid(format!("{e}")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(invalid("the scheme must be http or https".to_owned()));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("no host".to_owned()));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(ANSWER_TIMEOUT));
        connector.enforce_http(false);
        let tls = crate::tls::client_config(None).map_err(invalid)?;
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(VaspClient {
            client,
            uri,
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
        })
    }

    /// Posts `body` until the VASP acknowledges it with `expect` (see the
    /// module documentation), counting each attempt in `sent`.
    async fn post_until_acked(
        &self,
        shared: &Shared,
        sent: &AtomicU64,
        content_type: &str,
        body: Bytes,
        expect: Mm7MessageKind,
    ) -> Outcome {
        let attempts = shared.config.mo_attempts.max(1);
        let Ok(content_type) = HeaderValue::from_str(content_type) else {
            warn!(content_type, "cannot send this Content-Type");
            return Outcome::GaveUp(0);
        };
        for attempt in 1..=attempts {
            let result = {
                let _permit = self.in_flight.acquire().await.ok();
                bump(sent);
                self.attempt(&content_type, body.clone(), expect).await
            };
            match result {
                Ok(()) => return Outcome::Acked(attempt),
                Err(reason) if attempt == 1 => info!(%reason, "not acknowledged; retrying"),
                Err(reason) => debug!(attempt, %reason, "not acknowledged"),
            }
            if attempt < attempts {
                tokio::time::sleep(shared.config.mo_retry).await;
            }
        }
        warn!(
            attempts,
            "{} never acknowledged; giving up",
            expect.element()
        );
        Outcome::GaveUp(attempts)
    }

    /// One post: `Ok` when the VASP acknowledged it.
    async fn attempt(
        &self,
        content_type: &HeaderValue,
        body: Bytes,
        expect: Mm7MessageKind,
    ) -> Result<(), String> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, content_type.clone());
        headers.insert(SOAP_ACTION, HeaderValue::from_static("\"\""));
        headers.insert(USER_AGENT, HeaderValue::from_static("carrier-gateway-sim"));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| error_chain(&e))?;
            let status = response.status();
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/xml")
                .to_owned();
            let body = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, content_type, body))
        };
        let (status, content_type, body) =
            tokio::time::timeout(ANSWER_TIMEOUT, exchange)
                .await
                .map_err(|_| format!("no answer within {}s", ANSWER_TIMEOUT.as_secs()))??;
        if status != StatusCode::OK {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        let (envelope, _) = decode_body(&content_type, &body, MimeLimits::default())
            .map_err(|e| format!("the answer does not decode: {e}"))?;
        let kind = envelope.message.kind();
        if kind != expect {
            return Err(format!("answered {} instead", kind.element()));
        }
        match envelope.message.status() {
            Some(status) if status.code.is_success() => Ok(()),
            Some(status) => Err(format!(
                "status {} {}",
                status.code,
                status.text.as_deref().unwrap_or_default()
            )),
            None => Err("no status".to_owned()),
        }
    }
}

/// "client error (Connect): tcp connect error: Connection refused (os error 111)".
fn error_chain(error: &hyper_util::client::legacy::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// RFC 3339 UTC, to the second.
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// An address as a report names it: typed (a Rel-5 text `SenderAddress`
/// becomes a `Number`), without `displayOnly`.
fn typed(address: &Mm7Address) -> Mm7Address {
    let kind = match address.kind {
        Mm7AddressKind::Plain => Mm7AddressKind::Number,
        kind => kind,
    };
    Mm7Address {
        kind,
        value: address.value.clone(),
        display_only: None,
    }
}

/// Schedules the delivery report of the accepted submit `req`, answered
/// with `message_id`: posted `report_delay` from now in the namespace and
/// with the `MM7Version` of the submit's `envelope`, saying `Rejected` when
/// `rejected`, else `Retrieved`. Dropped (and counted) when
/// [`super::MAX_PENDING_REPORTS`] are already waiting.
pub(super) fn schedule_report(
    shared: &Arc<Shared>,
    envelope: &Mm7Envelope,
    message_id: &str,
    req: &SubmitReq,
    rejected: bool,
) {
    let Ok(permit) = Arc::clone(&shared.pending_reports).try_acquire_owned() else {
        bump(&shared.stats.reports_dropped);
        warn!(
            message_id,
            "too many delivery reports waiting; this one is dropped"
        );
        return;
    };
    let recipients = &req.recipients;
    let recipient = recipients
        .to
        .iter()
        .chain(&recipients.cc)
        .chain(&recipients.bcc)
        .next()
        .map_or_else(|| Mm7Address::number(""), typed);
    let identification = &req.sender_identification;
    let sender = identification.sender_address.as_ref().map_or_else(
        || Mm7Address::number(identification.vasp_id.clone().unwrap_or_default()),
        typed,
    );
    let (mm_status, status_text) = if rejected {
        (MmStatus::Rejected, "Rejected (simulated failure)")
    } else {
        (MmStatus::Retrieved, "Retrieved by the recipient")
    };
    let report = DeliveryReportReq {
        mms_relay_server_id: Some(RELAY_SERVER_ID.to_owned()),
        message_id: message_id.to_owned(),
        recipient,
        sender,
        date: String::new(),
        mm_status,
        status_text: Some(status_text.to_owned()),
    };
    let report = Mm7Envelope {
        transaction_id: None,
        version: envelope.version,
        mm7_version: envelope.mm7_version.clone(),
        message: Mm7Message::DeliveryReportReq(report),
    };
    let shared = Arc::clone(shared);
    let span = tracing::info_span!("mm7_report", message_id);
    tokio::spawn(
        async move {
            let _permit = permit;
            let cancel = shared.cancel.clone();
            tokio::select! {
                () = cancel.cancelled() => {}
                () = send_report(&shared, report) => {}
            }
        }
        .instrument(span),
    );
}

/// Waits `report_delay`, then posts the report (`envelope`, whose date and
/// `TransactionID` are set now) until acknowledged.
async fn send_report(shared: &Shared, mut envelope: Mm7Envelope) {
    let Some(vasp) = &shared.vasp else { return };
    let Mm7Message::DeliveryReportReq(report) = &mut envelope.message else {
        return;
    };
    let delay = shared.config.report_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    report.date = now_rfc3339();
    let message_id = report.message_id.clone();
    let mm_status = report.mm_status.clone();
    envelope.transaction_id = Some(shared.next_transaction_id());
    let outcome = match encode_body(envelope, &[], 0) {
        Ok((content_type, body)) => {
            vasp.post_until_acked(
                shared,
                &shared.stats.reports_sent,
                &content_type,
                Bytes::from(body),
                Mm7MessageKind::DeliveryReportRsp,
            )
            .await
        }
        Err(error) => {
            warn!(%error, "cannot encode a delivery report");
            Outcome::GaveUp(0)
        }
    };
    let line = match outcome {
        Outcome::Acked(attempts) => {
            bump(&shared.stats.reports_acked);
            RecordLine::ReportAcked {
                message_id: &message_id,
                mm_status: mm_status.as_str(),
                attempts,
            }
        }
        Outcome::GaveUp(attempts) => {
            bump(&shared.stats.reports_gave_up);
            RecordLine::ReportGaveUp {
                message_id: &message_id,
                mm_status: mm_status.as_str(),
                attempts,
            }
        }
    };
    line.write_to(shared.record.as_ref());
}

/// Posts the configured MO MMS, then the injected ones, one at a time in
/// order, until the simulator is cancelled.
pub(super) async fn play_mo(
    shared: Arc<Shared>,
    scripted: Vec<MoMms>,
    mut injected: mpsc::Receiver<(u64, MoMms)>,
) {
    let cancel = shared.cancel.clone();
    let play = async {
        if !scripted.is_empty() {
            info!(messages = scripted.len(), "posting the MO MMS");
        }
        for (line, mo) in (0u64..).zip(scripted) {
            deliver_mo(&shared, line, mo).await;
        }
        while let Some((line, mo)) = injected.recv().await {
            deliver_mo(&shared, line, mo).await;
        }
    };
    tokio::select! {
        () = cancel.cancelled() => {}
        () = play => {}
    }
}

/// The content items of `mo`: its text first, then its media, each with a
/// Content-ID unique in the message.
fn mo_items(line: u64, mo: &mut MoMms) -> Vec<ContentItem> {
    let mut items = Vec::with_capacity(mo.media.len() + 1);
    if let Some(text) = mo.text.take() {
        items.push(ContentItem {
            content_type: "text/plain; charset=utf-8".to_owned(),
            content_id: format!("mo{line}-text@{RELAY_SERVER_ID}"),
            content_location: Some("text.txt".to_owned()),
            data: text.into_bytes(),
        });
    }
    for (i, mut item) in std::mem::take(&mut mo.media).into_iter().enumerate() {
        if item.content_id.is_empty() {
            item.content_id = format!("mo{line}-{i}@{RELAY_SERVER_ID}");
        }
        items.push(item);
    }
    items
}

/// Waits `mo.delay`, then posts it until acknowledged.
async fn deliver_mo(shared: &Shared, line: u64, mut mo: MoMms) {
    let Some(vasp) = &shared.vasp else { return };
    if !mo.delay.is_zero() {
        tokio::time::sleep(mo.delay).await;
    }
    let linked_id = format!("mo-{}", line + 1);
    let items = mo_items(line, &mut mo);
    let mut req = DeliverReq::new(Mm7Address::number(mo.from));
    req.recipients = Some(Recipients {
        to: vec![Mm7Address::number(mo.to)],
        ..Recipients::default()
    });
    req.time_stamp = Some(now_rfc3339());
    req.linked_id = Some(linked_id.clone());
    req.mms_relay_server_id = Some(RELAY_SERVER_ID.to_owned());
    req.subject = mo.subject;
    let envelope = Mm7Envelope::new(
        MO_VERSION,
        shared.next_transaction_id(),
        Mm7Message::DeliverReq(req),
    );
    let outcome = match encode_body(envelope, &items, rand::random()) {
        Ok((content_type, body)) => {
            vasp.post_until_acked(
                shared,
                &shared.stats.mo_sent,
                &content_type,
                Bytes::from(body),
                Mm7MessageKind::DeliverRsp,
            )
            .instrument(tracing::info_span!("mm7_mo", line, linked_id = %linked_id))
            .await
        }
        Err(error) => {
            warn!(%error, line, "cannot encode an MO MMS");
            Outcome::GaveUp(0)
        }
    };
    let record = match outcome {
        Outcome::Acked(attempts) => {
            bump(&shared.stats.mo_acked);
            RecordLine::MoAcked {
                line,
                attempts,
                linked_id: &linked_id,
            }
        }
        Outcome::GaveUp(attempts) => {
            bump(&shared.stats.mo_gave_up);
            RecordLine::MoGaveUp { line, attempts }
        }
    };
    record.write_to(shared.record.as_ref());
}
