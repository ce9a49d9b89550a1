//! The SIP link: texts to and from a SIP trunk as `MESSAGE` requests
//! (RFC 3428), over UDP or TCP.
//!
//! One [`endpoint`] task per trunk owns the sockets and every transaction
//! (the protocol crate's sans-IO non-INVITE transactions: Timer E
//! retransmissions over UDP, Timer F giving up, Timers J and K absorbing
//! retransmissions, `100 Trying` when an answer is slow):
//!
//! - **out**: a part from the carrier's queue becomes a `MESSAGE`
//!   ([`request`]); a final `2xx` makes it accepted (its Call-ID is the
//!   carrier id), a `401`/`407` is answered once with the digest
//!   credentials, and the other codes are transient or permanent as
//!   `transient_codes` says. Over UDP no request exceeds 1,300 bytes: the
//!   dispatcher cuts longer texts into several `MESSAGE`s
//!   ([`SipLinkConfig::text_max`]).
//! - **in**: a `MESSAGE` from the trunk ([`inbound`]) goes to the inbound
//!   path and is answered `200 OK` only once it is durable (a `503` if it
//!   cannot be stored, so the trunk sends it again); a retransmission is
//!   answered from its transaction and never passed on twice. `OPTIONS`
//!   (the trunk's keep-alive) gets `200`, other methods `405`. With
//!   `inbound_auth`, a request without valid digest credentials gets a
//!   `401` challenge ([`auth`]).

pub mod auth;
pub mod endpoint;
pub mod inbound;
pub mod request;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tracing::Instrument;

use super::gauges::CarrierGauges;
use super::{LinkOutputs, LinkWork};
use crate::config::SipTransport;

/// The largest request sent over UDP (RFC 3261 §18.1.1 keeps requests
/// within 200 bytes of the path MTU; 1,300 is the usual bound).
pub const UDP_MAX_REQUEST: usize = 1300;
/// Room kept beside our measured headers (a Content-Length of more
/// digits, say).
const HEADER_MARGIN: usize = 32;
/// The least text per part, whatever the headers take (a domain so long
/// that less would remain is a configuration no trunk accepts anyway).
const MIN_TEXT_PART: usize = 200;
/// Parts of text over TCP: no MTU to fit, but a bound all the same.
const STREAM_TEXT_MAX: usize = 16 * 1024;
/// Requests of ours waiting for their final responses, at most.
pub const WINDOW: usize = 32;

/// What the link needs to know about one trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipLinkConfig {
    /// The carrier's name.
    pub name: Arc<str>,
    /// The trunk's host.
    pub host: String,
    /// The trunk's port.
    pub port: u16,
    /// UDP or TCP, both ways.
    pub transport: SipTransport,
    /// Where we receive (and, over UDP, send from).
    pub listen: SocketAddr,
    /// The domain of `sip:+E164@domain` URIs.
    pub domain: String,
    /// Digest credentials, for the trunk's challenges.
    pub credentials: Option<(String, String)>,
    /// Final response codes after which a message is tried again.
    pub transient_codes: Vec<u16>,
    /// Challenge the trunk's requests (digest, realm `domain`).
    pub inbound_auth: bool,
    /// With TLS: CA certificates for the trunk's certificate (default: the
    /// system's roots), and our certificate and key for the listener.
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// Our certificate chain (PEM).
    pub tls_cert_file: Option<std::path::PathBuf>,
    /// Our private key (PEM).
    pub tls_key_file: Option<std::path::PathBuf>,
}

impl SipLinkConfig {
    /// The most bytes of text in one `MESSAGE`: over UDP, what our
    /// headers leave of [`UDP_MAX_REQUEST`] with the longest numbers (the
    /// headers are measured, not guessed: their tokens have fixed lengths),
    /// less a margin.
    pub fn text_max(&self) -> usize {
        match self.transport {
            SipTransport::Udp => {
                let longest = "+123456789012345";
                let empty = request::message(
                    self,
                    &super::TextPart {
                        from: std::sync::Arc::from(longest),
                        to: std::sync::Arc::from(longest),
                        text: std::sync::Arc::from(""),
                    },
                );
                let headers = empty.to_bytes().len() + HEADER_MARGIN;
                UDP_MAX_REQUEST.saturating_sub(headers).max(MIN_TEXT_PART)
            }
            _ => STREAM_TEXT_MAX,
        }
    }
}

/// The transport's name in `Via`.
pub(crate) fn via_name(transport: SipTransport) -> &'static str {
    match transport {
        SipTransport::Udp => "UDP",
        SipTransport::Tcp => "TCP",
        SipTransport::Tls => "TLS",
    }
}

/// A running trunk: its work queue and its gauge (one link: up while it
/// can send).
pub struct SipLinkTransport {
    /// Work for this carrier.
    pub jobs: async_channel::Sender<LinkWork>,
    /// Up or down, and the requests in flight.
    pub gauges: Arc<CarrierGauges>,
}

impl SipLinkTransport {
    /// Binds the listener and starts the endpoint.
    ///
    /// # Errors
    /// The listen address cannot be bound.
    pub async fn spawn(
        carrier: SipLinkConfig,
        outputs: LinkOutputs,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<(SipLinkTransport, Vec<tokio::task::JoinHandle<()>>)> {
        let (jobs, queue) = async_channel::bounded(WINDOW * 2);
        let gauges = Arc::new(CarrierGauges::new(1));
        let carrier = Arc::new(carrier);
        let span = tracing::info_span!("sip", carrier = %carrier.name);
        let endpoint =
            endpoint::Endpoint::bind(carrier.clone(), outputs, gauges.clone(), shutdown.clone())
                .await?;
        let task = tokio::spawn(endpoint.run(queue).instrument(span));
        Ok((SipLinkTransport { jobs, gauges }, vec![task]))
    }
}

/// Resolves once the daemon stops (without holding the watch's guard
/// across an await).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A UDP trunk, with digest credentials or without.
    pub fn carrier(credentials: bool) -> SipLinkConfig {
        SipLinkConfig {
            name: Arc::from("trunk"),
            host: "127.0.0.1".into(),
            port: 5070,
            transport: SipTransport::Udp,
            listen: "127.0.0.1:5060".parse().expect("address"),
            domain: "sip.example.net".into(),
            credentials: credentials.then(|| ("gw".to_owned(), "secret".to_owned())),
            transient_codes: vec![408, 480, 486, 500, 503],
            inbound_auth: false,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::tests_support::carrier;
    use super::*;

    #[test]
    fn no_udp_request_exceeds_the_limit() {
        let mut carrier = carrier(true);
        carrier.domain = "a-rather-long-domain-name.sip.carrier.example.net".into();
        let max = carrier.text_max();
        // The fullest part: the longest numbers and multi-byte text.
        let text = "é".repeat(max / 2);
        let request = request::message(
            &carrier,
            &crate::transport::TextPart {
                from: Arc::from("+123456789012345"),
                to: Arc::from("+123456789012345"),
                text: Arc::from(text.as_str()),
            },
        );
        assert!(
            request.to_bytes().len() <= UDP_MAX_REQUEST,
            "{}",
            request.to_bytes().len()
        );
        assert!(max >= 600, "{max}");
    }
}
