//! The HTTP webhook: the first [`CoreSink`], docs/api.md
//!
//! One POST per attempt to `[core] webhook_url`: the event object itself when
//! `batch_max = 1`, `{"events": [event, …]}` when `batch_max > 1` (that shape
//! even for a batch of one, so a receiver configured for batches always sees
//! it). The body is assembled from the stored bytes of each event, so it is
//! byte-for-byte the same on every retry of the same events, and signed with
//! `X-Gateway-Signature`. Any 2xx acknowledges.
//!
//! hyper-util's pooled client keeps connections alive; the dispatcher runs up
//! to `max_in_flight` attempts at once and the pool keeps that many idle
//! connections, so a steady stream reuses them instead of reconnecting.
//! HTTP/1.1 has no usable pipelining, so concurrency is connections.
//! `https://` goes through rustls (`crate::tls`): the system's roots, or
//! `[core] tls_ca_file`; `message.received` carries customers' numbers and
//! texts, which should not cross a network in clear.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::CoreLinkError;
use super::durability::BoxFuture;
use super::sign::{SIGNATURE_HEADER, Signer, WebhookSecret};
use super::sink::{CoreSink, DeliveryError, EventRef};

/// How much of a response body is read (and discarded) so the connection can
/// be reused; a longer body closes the connection instead.
const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// What the webhook sink needs from `[core]`.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// `[core] webhook_url`.
    pub url: String,
    /// `[core] webhook_secret`.
    pub secret: WebhookSecret,
    /// `batch_max > 1`: bodies are `{"events": [...]}`.
    pub batched: bool,
    /// Limit on one attempt, connecting included.
    pub request_timeout: Duration,
    /// Idle connections kept (the dispatcher's `max_in_flight`).
    pub max_idle_connections: usize,
    /// CA certificates (PEM) for `https://`, instead of the system's roots.
    pub tls_ca_file: Option<std::path::PathBuf>,
}

/// POSTs events to the core's webhook.
pub struct HttpWebhook {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    signer: Signer,
    batched: bool,
    timeout: Duration,
}

impl HttpWebhook {
    /// Checks the URL and builds the pooled client.
    pub fn new(config: &WebhookConfig) -> Result<HttpWebhook, CoreLinkError> {
        let uri = parse_url(&config.url)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(config.request_timeout));
        connector.set_keepalive(Some(Duration::from_secs(60)));
        connector.enforce_http(false);
        let tls = crate::tls::client_config(config.tls_ca_file.as_deref()).map_err(|reason| {
            CoreLinkError::InvalidUrl {
                url: config.url.clone(),
                reason,
            }
        })?;
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(config.max_idle_connections.max(1))
            .build(connector);
        Ok(HttpWebhook {
            client,
            uri,
            signer: Signer::new(&config.secret),
            batched: config.batched,
            timeout: config.request_timeout,
        })
    }

    /// The body for `events`: deterministic, so a retry sends the same bytes.
    pub fn body(&self, events: &[EventRef]) -> Bytes {
        match events {
            [single] if !self.batched => single.json().clone(),
            _ => batch_body(events),
        }
    }

    async fn post(&self, body: Bytes) -> Result<(), DeliveryError> {
        let signature = HeaderValue::try_from(self.signer.sign(&body))
            .map_err(|e| DeliveryError::Unreachable(format!("signature header: {e}")))?;
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static("carrier-gateway"));
        headers.insert(SIGNATURE_HEADER, signature);

        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| DeliveryError::Unreachable(error_chain(&e)))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // Read the (small) answer so the connection goes back to the pool.
            let _ = Limited::new(response.into_body(), MAX_RESPONSE_BODY)
                .collect()
                .await;
            Ok::<_, DeliveryError>((status, retry_after))
        };
        let (status, retry_after) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| DeliveryError::Timeout(self.timeout))??;
        if status.is_success() {
            return Ok(());
        }
        Err(DeliveryError::Rejected {
            reason: format!("HTTP {}", status.as_u16()),
            core_wide: is_core_wide(status),
            retry_after,
        })
    }
}

impl CoreSink for HttpWebhook {
    fn deliver<'a>(&'a self, events: &'a [EventRef]) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            if self.batched || events.len() <= 1 {
                return self.post(self.body(events)).await;
            }
            // Unbatched mode never gets more than one event from the
            // dispatcher; should it, the events go one by one, in order.
            for event in events {
                self.post(event.json().clone()).await?;
            }
            Ok(())
        })
    }
}

/// `{"events":[e1,e2,…]}` from the stored event bytes.
fn batch_body(events: &[EventRef]) -> Bytes {
    let len: usize = events.iter().map(|e| e.json().len() + 1).sum();
    let mut body = BytesMut::with_capacity(len + 12);
    body.put_slice(br#"{"events":["#);
    for (index, event) in events.iter().enumerate() {
        if index > 0 {
            body.put_u8(b',');
        }
        body.put_slice(event.json());
    }
    body.put_slice(b"]}");
    body.freeze()
}

/// Answers that concern the link rather than the events (see
/// [`DeliveryError::Rejected`]).
fn is_core_wide(status: StatusCode) -> bool {
    status.is_redirection()
        || matches!(
            status.as_u16(),
            401 | 403 | 404 | 405 | 407 | 408 | 421 | 426 | 429 | 502 | 503 | 504
        )
}

fn parse_url(url: &str) -> Result<Uri, CoreLinkError> {
    let invalid = |reason: &str| CoreLinkError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("the scheme must be http or https")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    Ok(uri)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core_link::event::EventType;
    use std::sync::Arc;

    fn event(json: &str) -> EventRef {
        EventRef {
            seq: 1,
            event_type: EventType::MessageStatus,
            order_key: Arc::from("k"),
            json: Bytes::copy_from_slice(json.as_bytes()),
        }
    }

    fn webhook(batched: bool) -> HttpWebhook {
        HttpWebhook::new(&WebhookConfig {
            url: "http://127.0.0.1:9/events".into(),
            secret: WebhookSecret::from("s"),
            batched,
            request_timeout: Duration::from_secs(1),
            max_idle_connections: 4,
            tls_ca_file: None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn body_shapes() {
        let a = event(r#"{"id":"evt_A"}"#);
        let b = event(r#"{"id":"evt_B"}"#);
        assert_eq!(
            &webhook(false).body(std::slice::from_ref(&a))[..],
            br#"{"id":"evt_A"}"#
        );
        assert_eq!(
            &webhook(true).body(std::slice::from_ref(&a))[..],
            br#"{"events":[{"id":"evt_A"}]}"#
        );
        assert_eq!(
            &webhook(true).body(&[a, b])[..],
            br#"{"events":[{"id":"evt_A"},{"id":"evt_B"}]}"#
        );
    }

    #[test]
    fn urls_are_checked() {
        assert!(parse_url("http://127.0.0.1:8081/events").is_ok());
        assert!(parse_url("https://core.example/events").is_ok());
        for bad in ["ftp://x/", "/events", "http://", "not a url"] {
            assert!(
                matches!(parse_url(bad), Err(CoreLinkError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn status_scopes() {
        for code in [301, 401, 404, 429, 502, 503, 504] {
            assert!(is_core_wide(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 409, 413, 422, 500, 501] {
            assert!(!is_core_wide(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }
}
