//! The inbound half of the MM7 link: an HTTP server on the carrier's
//! `listen` address that takes the MMSC's posts, on any path.
//!
//! - `MM7_deliver.REQ` (an MO MMS): every media part is checked first (size,
//!   allowed kind by its bytes, declared type), so a refused message leaves
//!   nothing behind; then each is stored (fsync'd) and the message goes to
//!   the inbound path. `MM7_deliver.RES` is sent only once the inbound
//!   path has made the message durable; if it cannot, the answer is a
//!   transient Fault and the MMSC sends the message again.
//! - `MM7_delivery_report.REQ`: handed to the dispatcher as a receipt and
//!   answered once its effect is on disk.
//! - `MM7_read_reply.REQ` is acknowledged (the gateway has no use for it);
//!   anything else is refused with `4003` (unsupported operation).
//!
//! A body that does not decode (a truncated multipart, a wrong boundary,
//! bad XML) gets a `2007` Fault; one over the size limit a `413` before it
//! is read to the end.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use carrier_protocol::mime::MimeLimits;
use carrier_protocol::mm7::body::decode_body;
use carrier_protocol::mm7::{
    DeliverRsp, ErrorRsp, FaultDetail, Mm7Envelope, Mm7Message, Mm7Status, Mm7StatusCode,
    Mm7Version, SoapFault, StatusClass as Mm7Class, StatusRsp, encode,
};
use carrier_protocol::text::Encoding;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::Mm7LinkConfig;
use super::inbound::{MoMms, Refusal, mo_of, receipt_of};
use crate::media::{MediaError, MediaInfo, MediaStore};
use crate::transport::gauges::CarrierGauges;
use crate::transport::{InboundDelivery, InboundSms, LinkEvent, LinkOutputs};

/// How long a post may take to arrive, body included.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the answer waits for the message (or report) to be durable
/// before telling the MMSC to send it again.
const DURABLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Most parts of one post.
const MAX_PARTS: usize = 32;

/// What every connection's handler shares.
struct Context {
    carrier: Arc<Mm7LinkConfig>,
    media: MediaStore,
    outputs: LinkOutputs,
}

impl Context {
    /// The most raw bytes a post may have: two media items at the limit,
    /// base64-encoded, and the envelope.
    fn max_body(&self) -> usize {
        let media = self.carrier.max_media_bytes.saturating_mul(2);
        usize::try_from(media / 3 * 4 + (1 << 20)).unwrap_or(usize::MAX)
    }

    fn limits(&self) -> MimeLimits {
        MimeLimits {
            max_part_bytes: self.carrier.max_media_bytes,
            max_total_bytes: self.carrier.max_media_bytes.saturating_mul(2),
            max_parts: MAX_PARTS,
            max_depth: 3,
        }
    }
}

/// Serves the carrier's listener until shutdown. The carrier's gauge shows
/// it up while it listens.
pub async fn serve(
    socket: TcpListener,
    carrier: Arc<Mm7LinkConfig>,
    media: MediaStore,
    outputs: LinkOutputs,
    gauges: Arc<CarrierGauges>,
    mut shutdown: watch::Receiver<bool>,
) {
    let context = Arc::new(Context {
        carrier: carrier.clone(),
        media,
        outputs: outputs.clone(),
    });
    info!(listen = %carrier.listen, "MM7 listener up");
    gauges.set_bound(0, true);
    let _ = outputs
        .events
        .send(LinkEvent::State {
            carrier: carrier.name.clone(),
            up: true,
        })
        .await;
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = socket.accept() => match accepted {
                Ok((stream, peer)) => {
                    let context = context.clone();
                    connections.spawn(connection(stream, peer, context, shutdown.clone()));
                }
                Err(e) => {
                    warn!(error = %e, "MM7 listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = super::stopped(&mut shutdown) => break,
        }
    }
    gauges.set_bound(0, false);
    // Posts under way finish (their answers wait for durability); new
    // ones are not taken.
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DURABLE_TIMEOUT, drain).await.is_err() {
        connections.abort_all();
    }
    info!("MM7 listener down");
}

/// One of the MMSC's connections. At shutdown a request under way is
/// answered (after its durability) and the connection then closes; an idle
/// kept-alive one closes at once.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    context: Arc<Context>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let context = context.clone();
        async move { Ok::<_, Infallible>(handle(request, &context).await) }
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = super::stopped(&mut shutdown) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        debug!(%peer, error = %e, "MM7 connection ended");
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// An MM7 answer: 200 for a response, 500 for a Fault (SOAP 1.1 §6.2).
fn soap(
    version: Mm7Version,
    transaction_id: Option<String>,
    message: Mm7Message,
) -> Response<Full<Bytes>> {
    let status = if matches!(message, Mm7Message::Fault(_)) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let envelope = Mm7Envelope {
        transaction_id,
        version,
        mm7_version: None,
        message,
    };
    match encode(&envelope) {
        Ok(body) => {
            let mut response = Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() = status;
            response.headers_mut().insert(
                CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            response
        }
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot encode the answer: {e}"),
        ),
    }
}

/// A Fault carrying our refusal (`VASPErrorRsp`): `Client` when sending the
/// same request again cannot help, `Server` when it can.
fn fault(
    version: Mm7Version,
    transaction_id: Option<String>,
    refusal: Refusal,
) -> Response<Full<Bytes>> {
    let code = if refusal.code.class() == Mm7Class::Permanent {
        "env:Client"
    } else {
        "env:Server"
    };
    soap(
        version,
        transaction_id,
        Mm7Message::Fault(SoapFault {
            code: code.to_owned(),
            string: refusal.text.clone(),
            actor: None,
            detail: Some(FaultDetail::VaspError(ErrorRsp {
                status: Mm7Status {
                    code: refusal.code,
                    text: Some(refusal.text),
                    details: None,
                },
            })),
        }),
    )
}

async fn handle(request: Request<Incoming>, context: &Context) -> Response<Full<Bytes>> {
    let version = context.carrier.version;
    if request.method() != Method::POST {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "MM7 requests are POSTs");
        response.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return response;
    }
    let Some(content_type) = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return fault(
            version,
            None,
            Refusal::new(Mm7StatusCode::MessageFormatCorrupt, "no Content-Type"),
        );
    };
    let max = context.max_body();
    let read = tokio::time::timeout(
        READ_TIMEOUT,
        Limited::new(request.into_body(), max).collect(),
    )
    .await;
    let body = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            warn!(carrier = %context.carrier.name, max, "MM7 post over the size limit refused");
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the post is larger than the limit of {max} bytes"),
            );
        }
        Ok(Err(e)) => {
            return plain(
                StatusCode::BAD_REQUEST,
                &format!("the body could not be read: {e}"),
            );
        }
        Err(_) => {
            return plain(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            );
        }
    };
    let (envelope, items) = match decode_body(&content_type, &body, context.limits()) {
        Ok(decoded) => decoded,
        Err(e) => {
            warn!(carrier = %context.carrier.name, error = %e, "an MM7 post that does not decode was refused");
            return fault(
                version,
                None,
                Refusal::new(
                    Mm7StatusCode::MessageFormatCorrupt,
                    format!("the body is not a readable MM7 request: {e}"),
                ),
            );
        }
    };
    let (version, transaction_id) = (envelope.version, envelope.transaction_id);
    match envelope.message {
        Mm7Message::DeliverReq(req) => {
            let outcome = match mo_of(&req, items) {
                Ok(mo) => deliver(context, mo).await,
                Err(refusal) => Err(refusal),
            };
            match outcome {
                Ok(()) => soap(
                    version,
                    transaction_id,
                    Mm7Message::DeliverRsp(DeliverRsp {
                        status: Mm7Status::success(),
                        service_code: None,
                    }),
                ),
                Err(refusal) => {
                    warn!(carrier = %context.carrier.name, code = %refusal.code, reason = %refusal.text, "an MO MMS was refused");
                    fault(version, transaction_id, refusal)
                }
            }
        }
        Mm7Message::DeliveryReportReq(req) => {
            let (ack, durable) = oneshot::channel();
            let report = LinkEvent::Report {
                carrier: context.carrier.name.clone(),
                receipt: receipt_of(&req),
                ack,
            };
            let applied = context.outputs.events.send(report).await.is_ok()
                && matches!(
                    tokio::time::timeout(DURABLE_TIMEOUT, durable).await,
                    Ok(Ok(()))
                );
            if applied {
                soap(
                    version,
                    transaction_id,
                    Mm7Message::DeliveryReportRsp(StatusRsp {
                        status: Mm7Status::success(),
                    }),
                )
            } else {
                fault(
                    version,
                    transaction_id,
                    Refusal::new(
                        Mm7StatusCode::ServerError,
                        "the report could not be recorded; send it again",
                    ),
                )
            }
        }
        Mm7Message::ReadReplyReq(_) => soap(
            version,
            transaction_id,
            Mm7Message::ReadReplyRsp(StatusRsp {
                status: Mm7Status::success(),
            }),
        ),
        other => fault(
            version,
            transaction_id,
            Refusal::new(
                Mm7StatusCode::UnsupportedOperation,
                format!("{} is not taken by this VASP", other.kind().element()),
            ),
        ),
    }
}

/// Checks and stores an MO's media, then hands the message to the inbound
/// path and waits until it is durable.
async fn deliver(context: &Context, mo: MoMms) -> Result<(), Refusal> {
    // Every item is checked before any is stored: a refused message leaves
    // nothing behind.
    for (index, (declared, data)) in mo.media.iter().enumerate() {
        let declared = declared.split(';').next().unwrap_or_default().trim();
        if let Err(e) = context.media.check(Some(declared), data) {
            return Err(Refusal::new(
                Mm7StatusCode::ContentRefused,
                format!("media part {} ({declared}) is refused: {e}", index + 1),
            ));
        }
    }
    let media = context.media.clone();
    let items = mo.media;
    let stored = tokio::task::spawn_blocking(move || {
        items
            .iter()
            .map(|(declared, data)| {
                let declared = declared.split(';').next().unwrap_or_default().trim();
                media.put(Some(declared), data)
            })
            .collect::<Result<Vec<MediaInfo>, MediaError>>()
    })
    .await;
    let media = match stored {
        Ok(Ok(media)) => media,
        Ok(Err(e)) => {
            warn!(error = %e, "an MO MMS's media could not be stored");
            return Err(Refusal::new(
                Mm7StatusCode::ServerError,
                format!("the media could not be stored ({e}); send the message again"),
            ));
        }
        Err(e) => {
            return Err(Refusal::new(
                Mm7StatusCode::ServerError,
                format!("the media could not be stored ({e}); send the message again"),
            ));
        }
    };
    let user_data: Vec<u8> = mo.text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let sms = InboundSms {
        from: mo.from,
        to: mo.to,
        encoding: Encoding::Ucs2,
        national: (None, None),
        user_data: Bytes::from(user_data),
        concat: None,
        carrier_ids: mo.linked_id.into_iter().collect(),
        received_at: crate::store::outbox::now_ms(),
        media,
    };
    let (ack, durable) = oneshot::channel();
    let delivery = InboundDelivery {
        carrier: context.carrier.name.clone(),
        sms,
        ack,
    };
    if context.outputs.inbound.send(delivery).await.is_err() {
        return Err(Refusal::new(
            Mm7StatusCode::ServerError,
            "the gateway is stopping; send the message again",
        ));
    }
    match tokio::time::timeout(DURABLE_TIMEOUT, durable).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Refusal::new(
            Mm7StatusCode::ServerError,
            "the message could not be stored; send it again",
        )),
    }
}
