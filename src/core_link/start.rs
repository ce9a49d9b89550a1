//! Starting the core link inside the daemon: the settings it takes from the
//! configuration, the group commit as its durability, and the adapter
//! through which the dispatcher stages `message.status` events.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{
    BoxFuture, Companion, CoreLink, CoreLinkConfig, DeadLetters, Durability, EventLog, EventType,
    NewEvent,
};
use crate::outbound::StatusEvents;
use crate::store::outbox::MessageRecord;
use crate::store::{GroupCommit, Store, StoreError};

/// What the daemon configures of the core link (`[core]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreLinkSettings {
    /// `webhook_url`.
    pub webhook_url: String,
    /// `webhook_secret`.
    pub webhook_secret: String,
    /// `batch_max`.
    pub batch_max: usize,
    /// `status_events`: the `message.status` transitions to send.
    pub status_events: Vec<String>,
    /// `tls_ca_file`: the CA an https webhook is verified against.
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// `max_attempts`: refusals of one event before it is parked.
    pub max_attempts: u32,
    /// `max_age`: how long one event may be refused before it is parked.
    pub max_age: Duration,
}

/// The store's group commit is the core link's durability.
impl Durability for GroupCommit {
    fn sync(&self) -> BoxFuture<'_, std::io::Result<()>> {
        Box::pin(async move {
            GroupCommit::sync(self)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
    }
}

/// Stages `message.status` events in the event log.
struct StatusEventLog(EventLog);

impl StatusEvents for StatusEventLog {
    fn message_status(&self, record: &MessageRecord) -> Result<(), StoreError> {
        let data = json!({
            "id": record.id,
            "status": record.status.as_str(),
            "error": record.error,
            "carrier_message_ids": record.carrier_message_ids(),
        });
        self.0
            .append(NewEvent::new(
                EventType::MessageStatus,
                record.id.clone(),
                data,
            ))
            .map(|_| ())
            .map_err(|e| StoreError::Corrupt {
                tree: "events",
                detail: e.to_string(),
            })
    }
}

/// The running core link.
pub struct CoreLinkHandle {
    log: EventLog,
    task: JoinHandle<()>,
}

/// Starts the core link over the store's `events` tree; `companions` are
/// retired with their events (the inbox).
pub fn start(
    store: &Store,
    settings: &CoreLinkSettings,
    companions: Vec<Companion>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<CoreLinkHandle> {
    let mut config = CoreLinkConfig::new(
        settings.webhook_url.clone(),
        settings.webhook_secret.clone(),
    );
    config.batch_max = settings.batch_max.max(1);
    config.status_events = Some(settings.status_events.clone());
    config.tls_ca_file = settings.tls_ca_file.clone();
    config.max_attempts = settings.max_attempts.max(1);
    config.max_age = settings.max_age;
    let log = EventLog::open_with(store.events.clone(), config.status_filter()?, companions)?
        .with_dead_letters(store.dead_events.clone());
    DeadLetters::new(log.clone()).publish();
    let durability: Arc<dyn Durability> = Arc::new(store.group_commit().clone());
    let shutdown = async move {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    };
    let task = CoreLink::spawn_webhook(&config, log.clone(), durability, shutdown)?;
    Ok(CoreLinkHandle { log, task })
}

impl CoreLinkHandle {
    /// Where the dispatcher stages status events.
    pub fn status_events(&self) -> Arc<dyn StatusEvents> {
        Arc::new(StatusEventLog(self.log.clone()))
    }

    /// The parked events (the API lists and re-queues them).
    pub fn dead_letters(&self) -> DeadLetters {
        DeadLetters::new(self.log.clone())
    }

    /// The event log, for the producers of other events than `message.status`.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// Waits (a bounded time) for the link to finish its in-flight posts.
    pub async fn stop(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}
