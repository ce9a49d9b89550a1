//! The outbound half of the MM7 link: workers that take MMS from the
//! carrier's queue and POST them to the MMSC, one request each, over a
//! pooled HTTP/1.1 client (rustls for `https://`).
//!
//! No work is dropped: whatever happens to a request (a refusal, a
//! timeout, a connection that fails, media gone from the store) becomes
//! exactly one [`LinkEvent`] for its part.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use carrier_protocol::mm7::body::encode_body;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use super::Mm7LinkConfig;
use super::submit::{self, SubmitOutcome};
use crate::media::MediaStore;
use crate::transport::gauges::CarrierGauges;
use crate::transport::{LinkEvent, LinkStatus, LinkWork, MmsPart, StatusClass, WorkContent};

/// The longest answer read from the MMSC (a submit response is a few
/// hundred bytes; a Fault a few more).
const MAX_ANSWER: usize = 256 * 1024;

/// Sends submits to one MMSC.
pub struct Submitter {
    carrier: Arc<Mm7LinkConfig>,
    media: MediaStore,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    authorization: Option<HeaderValue>,
    /// Makes transaction ids and MIME boundaries unique.
    sequence: AtomicU64,
    in_flight: AtomicUsize,
}

impl Submitter {
    /// Checks the URL and builds the pooled client.
    ///
    /// # Errors
    /// The URL does not parse, or the TLS roots cannot be loaded.
    pub fn new(carrier: Arc<Mm7LinkConfig>, media: MediaStore) -> anyhow::Result<Submitter> {
        let uri: Uri = carrier
            .url
            .parse()
            .map_err(|e| anyhow::anyhow!("carrier {}: url {:?}: {e}", carrier.name, carrier.url))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(carrier.response_timeout));
        connector.set_keepalive(Some(Duration::from_secs(60)));
        connector.enforce_http(false);
        let tls = crate::tls::client_config(None)
            .map_err(|e| anyhow::anyhow!("carrier {}: TLS roots: {e}", carrier.name))?;
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(super::SUBMIT_WORKERS)
            .build(connector);
        let authorization = match &carrier.credentials {
            Some((user, password)) => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                Some(
                    HeaderValue::try_from(format!("Basic {token}")).map_err(|e| {
                        anyhow::anyhow!("carrier {}: credentials: {e}", carrier.name)
                    })?,
                )
            }
            None => None,
        };
        Ok(Submitter {
            carrier,
            media,
            client,
            uri,
            authorization,
            sequence: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    /// Reads the media of `part` from the store (off the runtime's
    /// threads). A missing item fails the part for good: the store only
    /// forgets media after their retention, long after any message's
    /// validity.
    async fn read_media(
        &self,
        part: &MmsPart,
    ) -> Result<Vec<(crate::media::MediaInfo, Vec<u8>)>, LinkStatus> {
        let media = self.media.clone();
        let ids = part.media.clone();
        let read = tokio::task::spawn_blocking(move || {
            let mut items = Vec::with_capacity(ids.len());
            for id in ids.iter() {
                let info = media
                    .get(id)
                    .map_err(|e| (StatusClass::Transient, format!("media store: {e}")))?
                    .ok_or_else(|| {
                        (
                            StatusClass::Permanent,
                            format!("media {id} is no longer in the media store"),
                        )
                    })?;
                let bytes = std::fs::read(media.path_of(&info.sha256))
                    .map_err(|e| (StatusClass::Transient, format!("media {id}: {e}")))?;
                items.push((info, bytes));
            }
            Ok(items)
        })
        .await;
        match read {
            Ok(Ok(items)) => Ok(items),
            Ok(Err((class, message))) => Err(LinkStatus {
                class,
                raw: None,
                message,
                reason: if class == StatusClass::Permanent {
                    "permanent"
                } else {
                    "transient_status"
                },
            }),
            Err(e) => Err(LinkStatus {
                class: StatusClass::Transient,
                raw: None,
                message: format!("reading media: {e}"),
                reason: "transient_status",
            }),
        }
    }

    /// Sends one MMS and says what became of it.
    pub async fn send(&self, message_id: &str, part: &MmsPart) -> SubmitOutcome {
        let media = match self.read_media(part).await {
            Ok(media) => media,
            Err(status) => return SubmitOutcome::Failed(status),
        };
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let transaction_id = format!("{message_id}.{sequence}");
        let envelope = submit::envelope(&self.carrier, part, &transaction_id);
        let items = submit::content_items(&part.text, media);
        let (content_type, body) = match encode_body(envelope, &items, sequence) {
            Ok(encoded) => encoded,
            Err(e) => {
                return SubmitOutcome::Failed(LinkStatus {
                    class: StatusClass::Permanent,
                    raw: None,
                    message: format!("the MMS cannot be encoded: {e}"),
                    reason: "permanent",
                });
            }
        };
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        match HeaderValue::try_from(content_type) {
            Ok(value) => headers.insert(CONTENT_TYPE, value),
            Err(_) => return SubmitOutcome::Failed(LinkStatus::disconnected()),
        };
        headers.insert("SOAPAction", HeaderValue::from_static("\"\""));
        headers.insert(USER_AGENT, HeaderValue::from_static("carrier-gateway"));
        if let Some(authorization) = &self.authorization {
            headers.insert(AUTHORIZATION, authorization.clone());
        }
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                debug!(error = %e, "MM7 submit failed");
                LinkStatus::disconnected()
            })?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|_| LinkStatus::disconnected())?
                .to_bytes();
            Ok::<_, LinkStatus>(submit::outcome(status, content_type.as_deref(), &body))
        };
        match tokio::time::timeout(self.carrier.response_timeout, exchange).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(status)) => SubmitOutcome::Failed(status),
            Err(_) => SubmitOutcome::Failed(LinkStatus::timeout()),
        }
    }
}

/// One worker: takes work until the queue closes or the daemon stops.
pub async fn run(
    submitter: Arc<Submitter>,
    queue: async_channel::Receiver<LinkWork>,
    events: mpsc::Sender<LinkEvent>,
    gauges: Arc<CarrierGauges>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let work = tokio::select! {
            work = queue.recv() => match work {
                Ok(work) => work,
                Err(_) => return,
            },
            () = super::stopped(&mut shutdown) => return,
        };
        let LinkWork {
            message_id,
            part,
            content,
        } = work;
        let outcome = match &content {
            WorkContent::Mms(mms) => {
                let n = submitter.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                gauges.link(0).set_window_in_use(n);
                let started = std::time::Instant::now();
                let outcome = submitter.send(&message_id, mms).await;
                crate::metrics::submit_latency(
                    &submitter.carrier.name,
                    started.elapsed().as_secs_f64(),
                );
                let n = submitter.in_flight.fetch_sub(1, Ordering::Relaxed) - 1;
                gauges.link(0).set_window_in_use(n);
                outcome
            }
            WorkContent::Sms(_) | WorkContent::Text(_) => SubmitOutcome::Failed(LinkStatus {
                class: StatusClass::Permanent,
                raw: None,
                message: "an MM7 carrier sends MMS, not SMS segments".into(),
                reason: "permanent",
            }),
        };
        let event = match outcome {
            SubmitOutcome::Accepted(carrier_id) => LinkEvent::Accepted {
                message_id,
                part,
                carrier_id,
            },
            SubmitOutcome::Failed(status) => {
                if status.class == StatusClass::Permanent {
                    warn!(id = %message_id, error = %status.message, "the MMSC refused an MMS");
                } else {
                    debug!(id = %message_id, error = %status.message, "an MMS will be retried");
                }
                LinkEvent::Failed {
                    message_id,
                    part,
                    status,
                }
            }
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}
