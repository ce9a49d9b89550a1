//! Carrier transports: the drivers that move outbound segments to carriers
//! and bring back their responses, receipts and inbound messages.
//!
//! The dispatcher talks to every transport through the same two channels:
//! it pushes [`SubmitJob`]s into a carrier's job queue (shared by all of the
//! carrier's connections, so an idle bind takes the next job), and reads
//! [`TransportEvent`]s back. No transport ever drops a job: what a dead
//! connection had in flight comes back as a retry.

pub mod smpp;

use std::sync::Arc;

use carrier_protocol::receipt::Receipt;
use carrier_protocol::smpp::CommandStatus;
use tokio::sync::oneshot;

/// One segment to submit.
#[derive(Debug)]
pub struct SubmitJob {
    /// The outbox message.
    pub message_id: Arc<str>,
    /// Segment index, 0-based.
    pub segment: u16,
    /// The request body (submit_sm for SMPP).
    pub body: carrier_protocol::smpp::Body,
}

/// Why a segment must be tried again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// The carrier answered with a transient status (throttling, queue full…).
    Status(CommandStatus),
    /// No response within the response timeout.
    Timeout,
    /// The connection died before the response.
    Disconnected,
}

impl RetryReason {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            RetryReason::Status(CommandStatus::Throttled) => "throttled",
            RetryReason::Status(CommandStatus::MessageQueueFull) => "queue_full",
            RetryReason::Status(_) => "transient_status",
            RetryReason::Timeout => "timeout",
            RetryReason::Disconnected => "disconnected",
        }
    }
}

/// What a transport reports.
#[derive(Debug)]
pub enum TransportEvent {
    /// The carrier accepted a segment.
    Accepted {
        /// The message.
        message_id: Arc<str>,
        /// The segment.
        segment: u16,
        /// The carrier's id for it.
        carrier_id: String,
    },
    /// The carrier refused a segment for good.
    Refused {
        /// The message.
        message_id: Arc<str>,
        /// The segment.
        segment: u16,
        /// The carrier's status.
        status: CommandStatus,
    },
    /// Try the segment again later.
    Retry {
        /// The message.
        message_id: Arc<str>,
        /// The segment.
        segment: u16,
        /// Why.
        reason: RetryReason,
    },
    /// A delivery receipt. The transport acknowledges it to the carrier once
    /// `ack` is answered, which the dispatcher does after the resulting
    /// state is on disk.
    Receipt {
        /// The carrier it came from.
        carrier: Arc<str>,
        /// The parsed receipt.
        receipt: Receipt<'static>,
        /// Answer when durable.
        ack: oneshot::Sender<()>,
    },
    /// A mobile-originated message (any deliver_sm or data_sm that is not a
    /// receipt). Acknowledged to the carrier once `ack` is answered, after
    /// it is stored in the inbox and fsync'd.
    Inbound {
        /// The carrier it came from.
        carrier: Arc<str>,
        /// The PDU as received.
        pdu: carrier_protocol::smpp::Pdu,
        /// Answer when durable.
        ack: oneshot::Sender<()>,
    },
    /// A connection's bind went up or down.
    BindState {
        /// The carrier.
        carrier: Arc<str>,
        /// Bound or not.
        up: bool,
    },
}
