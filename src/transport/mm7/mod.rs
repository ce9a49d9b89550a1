//! The MM7 link: the gateway as the VASP of an MMSC (3GPP TS 23.140).
//!
//! MM7 is SOAP over HTTP, in both directions, so the link is two halves
//! that share nothing but the carrier's name and outputs:
//!
//! - **out** ([`client`]): a few workers take MMS from the carrier's work
//!   queue, read their media from the media store, and POST an
//!   `MM7_submit.REQ` to the MMSC's `url`; the `MM7_submit.RES` (or a SOAP
//!   Fault) becomes an accepted part, with the MMSC's `MessageID`, or a
//!   failure classified by its 3GPP status code ([`submit`]);
//! - **in** ([`listener`]): an HTTP server on the carrier's `listen`
//!   address takes the MMSC's `MM7_deliver.REQ` (an MO MMS: its media are
//!   checked and stored, fsync'd, then the message is handed to the
//!   inbound path, and answered once that is durable) and
//!   `MM7_delivery_report.REQ` (handed to the dispatcher as a receipt, and
//!   answered once applied) ([`inbound`] holds the pure translations).
//!
//! The SOAP and MIME codecs are the protocol crate's
//! (`carrier_protocol::mm7`); nothing here parses XML.

pub mod client;
pub mod inbound;
pub mod listener;
pub mod submit;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use carrier_protocol::mm7::Mm7Version;
use tokio::sync::watch;
use tracing::Instrument;

use super::gauges::CarrierGauges;
use super::{LinkOutputs, LinkWork};
use crate::media::MediaStore;

/// Concurrent submits per MM7 carrier: HTTP/1.1 requests in flight, each on
/// its own kept-alive connection.
pub const SUBMIT_WORKERS: usize = 4;

/// What the link needs to know about one MMSC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm7LinkConfig {
    /// The carrier's name (metrics, logs, status, receipts).
    pub name: Arc<str>,
    /// The MMSC's MM7 endpoint (`http://` or `https://`).
    pub url: String,
    /// Our `VASPID`.
    pub vasp_id: String,
    /// Our `VASID`, if any.
    pub vas_id: Option<String>,
    /// Where the MMSC posts to us.
    pub listen: SocketAddr,
    /// HTTP Basic credentials for our requests to the MMSC.
    pub credentials: Option<(String, String)>,
    /// How long the MMSC may take to answer a submit.
    pub response_timeout: Duration,
    /// The schema our requests are written in (any is read).
    pub version: Mm7Version,
    /// The largest media item accepted from the MMSC (`[media] max_bytes`).
    pub max_media_bytes: u64,
}

/// A running MM7 carrier: its work queue and its gauges (one "link": the
/// listener, up while it listens).
pub struct Mm7Transport {
    /// Work for this carrier.
    pub jobs: async_channel::Sender<LinkWork>,
    /// Whether it listens, and the submits in flight.
    pub gauges: Arc<CarrierGauges>,
}

impl Mm7Transport {
    /// Binds the listener and starts the submit workers.
    ///
    /// # Errors
    /// The listen address cannot be bound, or the TLS roots cannot be
    /// loaded.
    pub async fn spawn(
        carrier: Mm7LinkConfig,
        media: MediaStore,
        outputs: LinkOutputs,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<(Mm7Transport, Vec<tokio::task::JoinHandle<()>>)> {
        let (jobs, queue) = async_channel::bounded(SUBMIT_WORKERS * 4);
        let gauges = Arc::new(CarrierGauges::new(1));
        let carrier = Arc::new(carrier);
        let socket = tokio::net::TcpListener::bind(carrier.listen)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "carrier {}: cannot listen on {}: {e}",
                    carrier.name,
                    carrier.listen
                )
            })?;
        let mut tasks = Vec::new();
        let span = tracing::info_span!("mm7", carrier = %carrier.name);
        tasks.push(tokio::spawn(
            listener::serve(
                socket,
                carrier.clone(),
                media.clone(),
                outputs.clone(),
                gauges.clone(),
                shutdown.clone(),
            )
            .instrument(span.clone()),
        ));
        let sender = Arc::new(client::Submitter::new(carrier.clone(), media)?);
        for _ in 0..SUBMIT_WORKERS {
            tasks.push(tokio::spawn(
                client::run(
                    sender.clone(),
                    queue.clone(),
                    outputs.events.clone(),
                    gauges.clone(),
                    shutdown.clone(),
                )
                .instrument(span.clone()),
            ));
        }
        Ok((Mm7Transport { jobs, gauges }, tasks))
    }
}

/// Resolves once the daemon stops (without holding the watch's guard
/// across an await).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
