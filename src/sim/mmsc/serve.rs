//! The MMSC's HTTP side: every POST, whatever its path, is an MM7 request
//! from the VASP, answered in the SOAP namespace it came in (its
//! `TransactionID` and `MM7Version` echoed).
//!
//! Order of checks, cheapest first: method (405), HTTP Basic (401),
//! declared length (413), then the body, read through `Limited` so no more
//! than `max_body` bytes are ever buffered (413 past it). What does not
//! decode gets a Fault with 2007 and a StatusText saying why; nothing a
//! peer sends can panic a connection task.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use carrier_protocol::mime::MimeLimits;
use carrier_protocol::mime::TransferEncoding;
use carrier_protocol::mime::transfer::BodyDecoder;
use carrier_protocol::mm7::body::{ContentItem, decode_body};
use carrier_protocol::mm7::{
    ErrorRsp, FaultDetail, Mm7Envelope, Mm7Message, Mm7Status, Mm7StatusCode, Mm7Version,
    SoapFault, SubmitReq, SubmitRsp, encode,
};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::Shared;
use super::outgoing;
use super::record::{RecordLine, SubmitRecord};
use super::stats::bump;

/// How long a connection may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a request may take to send its body.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// The namespace of answers to bodies too broken to show theirs.
const FALLBACK_VERSION: Mm7Version = Mm7Version::Rel6_1_4;

/// The accept loop; owns every connection task, and ends them all when the
/// simulator is cancelled.
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shared.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let shared = Arc::clone(&shared);
                            async move { Ok::<_, Infallible>(handle(&shared, request).await) }
                        });
                        let served = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                        if let Err(error) = served {
                            debug!(%error, %peer, "MM7 connection ended with an error");
                        }
                    });
                }
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(joined) = connections.join_next(), if !connections.is_empty() => {
                if let Err(error) = joined && error.is_panic() {
                    warn!(%error, "an MM7 connection task panicked");
                }
            }
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Answers one request.
async fn handle(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    bump(&shared.stats.requests);
    if request.method() != Method::POST {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "MM7 requests are POSTs\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let Ok(basic_user) = authenticate(shared, request.headers()) else {
        bump(&shared.stats.unauthorized);
        let mut response = plain(
            StatusCode::UNAUTHORIZED,
            "HTTP Basic credentials required\n",
        );
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"mmsc\""),
        );
        return response;
    };
    let max_body = shared.config.max_body;
    if request
        .body()
        .size_hint()
        .exact()
        .is_some_and(|len| len > max_body as u64)
    {
        bump(&shared.stats.too_large);
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/xml")
        .to_owned();
    let read = Limited::new(request.into_body(), max_body).collect();
    let body = match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            bump(&shared.stats.too_large);
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
        }
        Ok(Err(error)) => {
            debug!(%error, "cannot read a request body");
            return plain(StatusCode::BAD_REQUEST, "cannot read the body\n");
        }
        Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "body too slow\n"),
    };
    let limits = MimeLimits {
        max_part_bytes: max_body as u64,
        max_total_bytes: max_body as u64,
        ..MimeLimits::default()
    };
    let (envelope, items) = match decode_body(&content_type, &body, limits) {
        Ok(decoded) => decoded,
        Err(error) => {
            bump(&shared.stats.malformed);
            info!(%error, "refusing a request that does not decode");
            return fault(
                version_hint(&body),
                None,
                None,
                Mm7StatusCode::MessageFormatCorrupt,
                format!("Message format corrupt: {error}"),
            );
        }
    };
    match &envelope.message {
        Mm7Message::SubmitReq(req) => submit(shared, &envelope, req, &items, basic_user),
        other => {
            bump(&shared.stats.unsupported);
            fault(
                envelope.version,
                envelope.mm7_version.clone(),
                envelope.transaction_id.clone(),
                Mm7StatusCode::UnsupportedOperation,
                format!(
                    "Unsupported operation: this MMSC answers SubmitReq, not {}",
                    other.kind().element()
                ),
            )
        }
    }
}

/// Accepts (or refuses, per `refuse_every`) a submit, records it, and
/// schedules its delivery report.
fn submit(
    shared: &Arc<Shared>,
    envelope: &Mm7Envelope,
    req: &SubmitReq,
    items: &[ContentItem],
    basic_user: Option<String>,
) -> Response<Full<Bytes>> {
    let config = &shared.config;
    let seen = shared.submits_seen.fetch_add(1, Ordering::Relaxed) + 1;
    if config
        .refuse_every
        .is_some_and(|n| n > 0 && seen.is_multiple_of(n))
    {
        bump(&shared.stats.submits_refused);
        RecordLine::Refused {
            transaction_id: envelope.transaction_id.as_deref(),
            code: config.refuse_code,
        }
        .write_to(shared.record.as_ref());
        return fault(
            envelope.version,
            envelope.mm7_version.clone(),
            envelope.transaction_id.clone(),
            Mm7StatusCode::from_u16(config.refuse_code),
            format!(
                "Refused by the simulator (every {} submits)",
                config.refuse_every.unwrap_or_default()
            ),
        );
    }
    let n = shared.submits_accepted.fetch_add(1, Ordering::Relaxed) + 1;
    let message_id = format!("mmsc-{n:06}");
    let record = SubmitRecord::new(message_id.clone(), envelope, req, items, basic_user);
    RecordLine::Submit(&record).write_to(shared.record.as_ref());
    shared.keep_submit(record);
    bump(&shared.stats.submits_accepted);
    if req.delivery_report == Some(true) && config.reports && shared.vasp.is_some() {
        let rejected = config
            .fail_every
            .is_some_and(|every| every > 0 && n.is_multiple_of(every));
        outgoing::schedule_report(shared, envelope, &message_id, req, rejected);
    }
    let answer = Mm7Envelope {
        transaction_id: envelope.transaction_id.clone(),
        version: envelope.version,
        mm7_version: envelope.mm7_version.clone(),
        message: Mm7Message::SubmitRsp(SubmitRsp {
            status: Mm7Status::success(),
            message_id: Some(message_id),
        }),
    };
    soap(StatusCode::OK, &answer)
}

/// The Basic user of the request: `Err` when credentials are configured and
/// the request does not carry them, else the user it carries, if any.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Option<String>, ()> {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic);
    match (&shared.config.credentials, presented) {
        (None, presented) => Ok(presented.map(|(user, _)| user)),
        (Some((user, password)), Some((u, p)))
            if same(user.as_bytes(), u.as_bytes()) & same(password.as_bytes(), p.as_bytes()) =>
        {
            Ok(Some(u))
        }
        (Some(_), _) => Err(()),
    }
}

/// `Basic <base64(user:password)>` → (user, password).
pub(super) fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let mut decoder = BodyDecoder::new(TransferEncoding::Base64);
    let mut decoded = Vec::new();
    decoder.push(token.trim().as_bytes(), &mut decoded).ok()?;
    decoder.finish(&mut decoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Equality whose time does not depend on where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The MM7 version a body's namespace names, for answering a body that
/// does not decode in its own version when its namespace is readable.
fn version_hint(body: &[u8]) -> Mm7Version {
    const MARK: &[u8] = b"23.140/schema/";
    body.windows(MARK.len())
        .position(|w| w == MARK)
        .and_then(|at| body.get(at + MARK.len()..at + MARK.len() + 13))
        .and_then(|release| std::str::from_utf8(release).ok())
        .and_then(|release| {
            Mm7Version::ALL
                .into_iter()
                .find(|v| v.release().eq_ignore_ascii_case(release))
        })
        .unwrap_or(FALLBACK_VERSION)
}

/// HTTP 500 with a SOAP Fault whose detail is an `RSErrorRsp` with `code`
/// and `text`: how TS 23.140 §8.7 (and real MMSCs) refuse a request.
fn fault(
    version: Mm7Version,
    mm7_version: Option<String>,
    transaction_id: Option<String>,
    code: Mm7StatusCode,
    text: String,
) -> Response<Full<Bytes>> {
    // Client: the request is at fault (2xxx); Server: we are (3xxx, 4xxx).
    let faultcode = if code.as_u16() / 1000 == 2 {
        "env:Client"
    } else {
        "env:Server"
    };
    let envelope = Mm7Envelope {
        transaction_id,
        version,
        mm7_version,
        message: Mm7Message::Fault(SoapFault {
            code: faultcode.to_owned(),
            string: text.clone(),
            actor: None,
            detail: Some(FaultDetail::RsError(ErrorRsp {
                status: Mm7Status {
                    code,
                    text: Some(text),
                    details: None,
                },
            })),
        }),
    };
    soap(StatusCode::INTERNAL_SERVER_ERROR, &envelope)
}

/// A SOAP answer.
fn soap(status: StatusCode, envelope: &Mm7Envelope) -> Response<Full<Bytes>> {
    match encode(envelope) {
        Ok(xml) => {
            let mut response = Response::new(Full::new(Bytes::from(xml)));
            *response.status_mut() = status;
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            response
        }
        Err(error) => {
            // Only an echoed value the encoder refuses could get here.
            warn!(%error, "cannot encode an MM7 answer");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the answer\n",
            )
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse() {
        // "vasp:s3cr:et" — the password may hold a colon.
        assert_eq!(
            parse_basic("Basic dmFzcDpzM2NyOmV0"),
            Some(("vasp".to_owned(), "s3cr:et".to_owned()))
        );
        assert_eq!(
            parse_basic("basic  dmFzcDpzM2NyOmV0 "),
            Some(("vasp".to_owned(), "s3cr:et".to_owned()))
        );
        assert_eq!(parse_basic("Bearer dmFzcDpzM2NyOmV0"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic("Basic bm9jb2xvbg=="), None, "no colon");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }

    #[test]
    fn the_version_of_a_broken_body_is_read_from_its_namespace() {
        let body = br#"<env:Envelope><SubmitReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2"><MM7Ver"#;
        assert_eq!(version_hint(body), Mm7Version::Rel5_1_2);
        assert_eq!(version_hint(b"garbage"), FALLBACK_VERSION);
        assert_eq!(version_hint(b"23.140/schema/REL"), FALLBACK_VERSION);
    }
}
