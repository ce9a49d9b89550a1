//! The SMPP transport: `binds` transceiver connections per carrier, each a
//! thin tokio driver around the protocol crate's sans-IO [`Session`].
//!
//! [`Session`]: carrier_protocol::smpp::session::Session

pub mod address;
mod bind;
pub mod classify;
pub mod inbound;
mod pacer;
pub mod submit;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use carrier_protocol::receipt::MessageIdMapping;
use carrier_protocol::smpp::InterfaceVersion;
use tokio::sync::watch;
use tracing::Instrument;

use super::gauges::CarrierGauges;
use super::{LinkOutputs, LinkWork};
pub use classify::StatusTable;
pub use submit::SubmitAddressing;

/// What the transport needs to know about one SMPP carrier.
#[derive(Debug, Clone, PartialEq)]
pub struct SmppLinkConfig {
    /// The carrier's name (metrics, logs, status).
    pub name: Arc<str>,
    /// SMSC host.
    pub host: String,
    /// SMSC port.
    pub port: u16,
    /// Whether to speak TLS.
    pub tls: bool,
    /// PEM file of CA certificates to trust instead of the system roots.
    pub tls_ca_file: Option<PathBuf>,
    /// bind system_id.
    pub system_id: String,
    /// bind password.
    pub password: String,
    /// bind system_type.
    pub system_type: String,
    /// The bind's `interface_version` (3.4 or 5.0).
    pub interface_version: InterfaceVersion,
    /// The longest TCP connect, TLS handshake and bind response may take
    /// together before the connection is dropped and retried with backoff.
    pub bind_timeout: Duration,
    /// The largest PDU accepted from the SMSC; a longer `command_length`
    /// closes the connection.
    pub max_pdu_len: usize,
    /// Transceiver connections to keep.
    pub binds: usize,
    /// Outstanding requests per connection.
    pub window: usize,
    /// enquire_link after this much silence.
    pub enquire_link_interval: Duration,
    /// A request without response after this is retried.
    pub response_timeout: Duration,
    /// First reconnect delay; doubles up to `reconnect_max_delay`.
    pub reconnect_delay: Duration,
    /// Longest reconnect delay.
    pub reconnect_max_delay: Duration,
    /// How submit_sm_resp ids and receipt ids are compared.
    pub id_mapping: MessageIdMapping,
    /// Which command_status values are transient.
    pub status_table: StatusTable,
    /// The agreed per-bind submit rate (`throughput`), if any.
    pub throughput: Option<u32>,
    /// TON/NPI of both sides of submits.
    pub addressing: SubmitAddressing,
}

/// A running SMPP carrier: its work queue and how many binds are up.
pub struct SmppTransport {
    /// Work for this carrier; shared by its connections.
    pub jobs: async_channel::Sender<LinkWork>,
    /// Its connections' live figures (how many are bound, windows, rates).
    pub gauges: Arc<CarrierGauges>,
}

impl SmppTransport {
    /// Starts the carrier's connections.
    pub fn spawn(
        carrier: SmppLinkConfig,
        outputs: LinkOutputs,
        shutdown: watch::Receiver<bool>,
    ) -> (SmppTransport, Vec<tokio::task::JoinHandle<()>>) {
        // A bounded queue: the dispatcher holds the rest in memory (and on
        // disk) and refills as binds drain it.
        let capacity = (carrier.window * carrier.binds).max(64) * 2;
        let (jobs, queue) = async_channel::bounded(capacity);
        let gauges = Arc::new(CarrierGauges::new(carrier.binds.max(1)));
        let carrier = Arc::new(carrier);
        let tasks = (0..carrier.binds.max(1))
            .map(|index| {
                let span = tracing::info_span!("bind", carrier = %carrier.name, index);
                tokio::spawn(
                    bind::run(
                        carrier.clone(),
                        index,
                        queue.clone(),
                        outputs.clone(),
                        gauges.clone(),
                        shutdown.clone(),
                    )
                    .instrument(span),
                )
            })
            .collect();
        (SmppTransport { jobs, gauges }, tasks)
    }
}
