//! Where events go: the seam between the delivery engine and a transport.
//!
//! A shared event bus (NATS JetStream, Kafka) is planned next to the HTTP
//! webhook (docs/architecture.md, "Beyond one machine"). Everything about
//! *when* to send (ordering per key, batching, concurrency, backoff,
//! acknowledgement) lives in the event pump; a
//! [`CoreSink`] only turns a batch of already-rendered events into one
//! delivery attempt and says how it went. A bus sink would publish each
//! event's bytes (its id as the message id for the bus's dedup) and report
//! the broker's ack the same way.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::durability::BoxFuture;
use super::event::{self, EventType};

/// One event as stored: its final bytes and what orders it.
#[derive(Clone, Debug)]
pub struct EventRef {
    pub(crate) seq: u64,
    pub(crate) event_type: EventType,
    pub(crate) order_key: Arc<str>,
    pub(crate) json: Bytes,
}

impl EventRef {
    /// Its sequence number in the event log.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Its type.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// The key it is ordered by (session or message id).
    pub fn order_key(&self) -> &str {
        &self.order_key
    }

    /// The complete event object, exactly as first rendered.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// Its event id (`evt_…`).
    pub fn id(&self) -> &str {
        event::id_of(&self.json).unwrap_or("?")
    }
}

/// How a delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The core could not be reached: connection refused or reset, a closed
    /// connection before an answer.
    #[error("core unreachable: {0}")]
    Unreachable(String),
    /// No answer within the request timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The core answered, and not with success.
    #[error("core answered {reason}")]
    Rejected {
        /// What it answered, e.g. "HTTP 503".
        reason: String,
        /// The answer is about the link, not these events: the core is busy
        /// or down (429, 502, 503, …) or refuses us whatever we send (401,
        /// 404, a redirect: a wrong URL or secret). The whole link backs off.
        /// Otherwise (400, 422, 500, …) only these events' keys back off and
        /// other keys go on.
        core_wide: bool,
        /// The core's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
}

impl DeliveryError {
    /// True when the whole link should back off, false when only the keys of
    /// the events in this attempt should.
    pub fn is_core_wide(&self) -> bool {
        match self {
            DeliveryError::Unreachable(_) | DeliveryError::Timeout(_) => true,
            DeliveryError::Rejected { core_wide, .. } => *core_wide,
        }
    }

    /// The `outcome` label of `carrier_gateway_webhook_deliveries_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            DeliveryError::Unreachable(_) | DeliveryError::Timeout(_) => "network_error",
            DeliveryError::Rejected { .. } => "http_error",
        }
    }

    /// How long the core asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::Rejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A destination for events (the HTTP webhook; later a message bus).
pub trait CoreSink: Send + Sync + 'static {
    /// Delivers `events` (1 to `batch_max` of them, in sequence order) in one
    /// attempt. `Ok` means the core has them all; an error means it may have
    /// none, some or all of them (they will be sent again, with the same
    /// bytes). Must give up by itself within its timeout.
    fn deliver<'a>(&'a self, events: &'a [EventRef]) -> BoxFuture<'a, Result<(), DeliveryError>>;
}
