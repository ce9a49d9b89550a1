//! The core link: events to the contact-center core, at least once, signed,
//! in order per session, surviving restarts (docs/architecture.md,
//! docs/api.md, docs/metrics.md).
//!
//! The pieces, in the order an event meets them:
//!
//! - [`NewEvent`] (`event`): what the gateway reports; rendered once into its
//!   final bytes (`id`, `created_at` fixed) so retries are identical.
//! - [`EventLog`] (`log`): a sled tree of pending events in the daemon's
//!   database, written on its own or inside the daemon's batch/transaction
//!   together with the state change it reports; `[core] status_events` is
//!   applied here.
//! - [`Durability`] (`durability`): events leave only after an fsync covering
//!   them; the daemon's group commit implements it.
//! - [`CoreLink`] (`dispatch`): the task that batches, sends with several
//!   attempts in flight, keeps order per key, backs off, and removes what the
//!   core acknowledged.
//! - [`CoreSink`] (`sink`): the transport seam; [`HttpWebhook`] (`webhook`) is
//!   the first one, a NATS or Kafka sink can follow without touching the rest.
//!
//! The test double for the core (a receiver that checks signatures) is
//! `crate::sim::WebhookReceiver`, beside the carrier simulators.

mod dead_letters;
mod dispatch;
mod durability;
mod event;
mod log;
pub mod metric_names;
mod sign;
mod sink;
mod webhook;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

mod start;

pub use dead_letters::{DeadLetter, DeadLetters};
pub use dispatch::{CoreLink, DispatchConfig};
pub use durability::{BoxFuture, Durability, NoFsync};
pub use event::{EventType, NewEvent, StatusFilter};
pub use log::{Appended, Companion, EventLog, EventLogError, PreparedEvent};
pub use sign::{SIGNATURE_HEADER, WebhookSecret, sign, verify};
pub use sink::{CoreSink, DeliveryError, EventRef};
pub use start::{CoreLinkHandle, CoreLinkSettings, start};
pub use webhook::{HttpWebhook, WebhookConfig};

/// A `[core]` setting the core link cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum CoreLinkError {
    /// `webhook_url` is not a usable `http://` or `https://` URL, or its
    /// TLS configuration cannot be built.
    #[error("core.webhook_url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `status_events` names a status that does not exist.
    #[error(
        "core.status_events: unknown status {0:?} (known: queued, sending, submitted, delivered, failed, expired, rejected)"
    )]
    UnknownStatus(String),
    /// A numeric or duration setting out of range.
    #[error("core.{key}: {reason}")]
    InvalidSetting {
        /// The key under `[core]`.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The `[core]` section, as far as the core link is concerned.
#[derive(Clone, Debug)]
pub struct CoreLinkConfig {
    /// `webhook_url`.
    pub webhook_url: String,
    /// `webhook_secret`.
    pub webhook_secret: WebhookSecret,
    /// `batch_max` (default 1: one event per POST, in the single-event form).
    pub batch_max: usize,
    /// `status_events` (default: every status).
    pub status_events: Option<Vec<String>>,
    /// Attempts in flight at once (default 4).
    pub max_in_flight: usize,
    /// Limit on one attempt (default 10 s).
    pub request_timeout: Duration,
    /// First retry delay (default 500 ms).
    pub backoff_initial: Duration,
    /// Largest retry delay (default 60 s).
    pub backoff_max: Duration,
    /// CA certificates (PEM) for an `https://` webhook, instead of the
    /// system's roots.
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// Refusals of one event before it is parked (default 10).
    pub max_attempts: u32,
    /// How long one event may keep being refused before it is parked
    /// (default 1 h).
    pub max_age: Duration,
}

/// Largest `batch_max` accepted (bounds request bodies to a few megabytes).
pub const MAX_BATCH: usize = 10_000;
/// Largest `max_in_flight` accepted.
pub const MAX_IN_FLIGHT: usize = 256;

impl CoreLinkConfig {
    /// The defaults, with the two settings that have none.
    pub fn new(webhook_url: impl Into<String>, webhook_secret: impl Into<WebhookSecret>) -> Self {
        let dispatch = DispatchConfig::default();
        CoreLinkConfig {
            webhook_url: webhook_url.into(),
            webhook_secret: webhook_secret.into(),
            batch_max: dispatch.batch_max,
            status_events: None,
            max_in_flight: dispatch.max_in_flight,
            request_timeout: Duration::from_secs(10),
            backoff_initial: dispatch.backoff_initial,
            backoff_max: dispatch.backoff_max,
            tls_ca_file: None,
            max_attempts: dispatch.max_attempts,
            max_age: dispatch.max_age,
        }
    }

    /// Checks every setting; the first problem found is returned.
    pub fn validate(&self) -> Result<(), CoreLinkError> {
        let invalid = |key, reason: &str| {
            Err(CoreLinkError::InvalidSetting {
                key,
                reason: reason.to_owned(),
            })
        };
        webhook::HttpWebhook::new(&self.webhook())?;
        self.status_filter()?;
        if !(1..=MAX_BATCH).contains(&self.batch_max) {
            return invalid("batch_max", "must be between 1 and 10000");
        }
        if !(1..=MAX_IN_FLIGHT).contains(&self.max_in_flight) {
            return invalid("max_in_flight", "must be between 1 and 256");
        }
        if self.request_timeout.is_zero() {
            return invalid("request_timeout", "must be more than 0");
        }
        if self.backoff_initial.is_zero() || self.backoff_initial > self.backoff_max {
            return invalid(
                "backoff_initial",
                "must be more than 0 and at most backoff_max",
            );
        }
        Ok(())
    }

    /// The `status_events` filter.
    pub fn status_filter(&self) -> Result<StatusFilter, CoreLinkError> {
        match &self.status_events {
            None => Ok(StatusFilter::all()),
            Some(statuses) => StatusFilter::only(statuses),
        }
    }

    /// The engine's settings.
    pub fn dispatch(&self) -> DispatchConfig {
        DispatchConfig {
            batch_max: self.batch_max,
            max_in_flight: self.max_in_flight,
            backoff_initial: self.backoff_initial,
            backoff_max: self.backoff_max,
            shutdown_grace: self.request_timeout,
            max_attempts: self.max_attempts,
            max_age: self.max_age,
            ..DispatchConfig::default()
        }
    }

    /// The webhook sink's settings.
    pub fn webhook(&self) -> WebhookConfig {
        WebhookConfig {
            url: self.webhook_url.clone(),
            secret: self.webhook_secret.clone(),
            batched: self.batch_max > 1,
            request_timeout: self.request_timeout,
            max_idle_connections: self.max_in_flight,
            tls_ca_file: self.tls_ca_file.clone(),
        }
    }
}

impl CoreLink {
    /// Validates `config` and starts the core link with the HTTP webhook sink.
    pub fn spawn_webhook<F>(
        config: &CoreLinkConfig,
        log: EventLog,
        durability: Arc<dyn Durability>,
        shutdown: F,
    ) -> Result<JoinHandle<()>, CoreLinkError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        config.validate()?;
        let sink = Arc::new(HttpWebhook::new(&config.webhook())?);
        Ok(CoreLink::spawn(
            config.dispatch(),
            log,
            sink,
            durability,
            shutdown,
        ))
    }
}
