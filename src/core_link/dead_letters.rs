//! Dead letters: an event the core keeps refusing is parked instead of
//! retried forever, so it stops holding back the events after it in its
//! conversation, and operators can look at it and send it again once the
//! core is fixed (`GET /v1/events/dead`, `POST
//! /v1/events/dead/{id}/requeue`, `carrier-gateway events`).
//!
//! An event is parked after `[core] max_attempts` refusals of its own (a
//! `4xx` or `500` for it while sent alone), or when it has been refused for
//! longer than `[core] max_age`, and only if the core accepted other events
//! since its first refusal: a core that refuses everything (down, or broken
//! for every event) parks nothing, it pauses the link instead.
//!
//! The tree `dead_events` is keyed like the event log (the sequence number
//! the event had); the value is `[u32 BE length][metadata JSON][the event's
//! log record]`, so a requeue puts back the exact bytes (same id and
//! signature input) under a new number at the end of the log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::log::{EventLog, EventLogError, dead_parts, decode_record};
use super::metric_names as names;
use crate::store::outbox::rfc3339;

/// Why and when an event was parked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ParkedMeta {
    /// The last refusal, e.g. `HTTP 422`.
    pub error: String,
    /// Refusals counted.
    pub attempts: u32,
    /// Unix ms of the first refusal.
    pub first_failed_ms: u64,
    /// Unix ms of the parking.
    pub parked_ms: u64,
}

/// A parked event, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// The event id (`evt_…`).
    pub id: String,
    /// Its type, e.g. `message.received`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The order key (session or message id) it was held under.
    pub order_key: String,
    /// The last refusal.
    pub error: String,
    /// Refusals counted.
    pub attempts: u32,
    /// RFC 3339.
    pub first_failed_at: String,
    /// RFC 3339.
    pub parked_at: String,
    /// The event as it is sent.
    pub event: Value,
}

/// The dead letters of an event log.
#[derive(Clone)]
pub struct DeadLetters {
    log: EventLog,
}

impl DeadLetters {
    /// The dead letters of `log` (which must have a dead-letter tree).
    pub fn new(log: EventLog) -> DeadLetters {
        DeadLetters { log }
    }

    /// Parked events, oldest first, at most `limit`.
    pub fn list(&self, limit: usize) -> Result<Vec<DeadLetter>, EventLogError> {
        let Some(tree) = self.log.dead_tree() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for item in tree.iter().take(limit) {
            let (_, value) = item?;
            if let Some(letter) = describe(&value) {
                out.push(letter);
            }
        }
        Ok(out)
    }

    /// How many events are parked.
    pub fn count(&self) -> usize {
        self.log.dead_tree().map_or(0, sled::Tree::len)
    }

    /// Sends the parked event `id` again (at the end of the log, same
    /// bytes). Returns false if no parked event has that id.
    pub fn requeue(&self, id: &str) -> Result<bool, EventLogError> {
        let Some(tree) = self.log.dead_tree() else {
            return Ok(false);
        };
        let mut found = None;
        for item in tree.iter() {
            let (key, value) = item?;
            if describe(&value).is_some_and(|letter| letter.id == id) {
                found = <[u8; 8]>::try_from(&key[..]).ok().map(u64::from_be_bytes);
                break;
            }
        }
        let Some(seq) = found else {
            return Ok(false);
        };
        let requeued = self.log.requeue(seq)?.is_some();
        self.publish();
        Ok(requeued)
    }

    /// Sets the gauge.
    pub fn publish(&self) {
        metrics::gauge!(names::DEAD_LETTERS).set(self.count() as f64);
    }
}

/// Parks event `seq` of `log`.
pub(crate) fn park(log: &EventLog, seq: u64, meta: &ParkedMeta) -> Result<bool, EventLogError> {
    let bytes = serde_json::to_vec(meta)?;
    let parked = log.park(seq, &bytes)?;
    if parked {
        metrics::counter!(names::DEAD_LETTERED).increment(1);
        DeadLetters::new(log.clone()).publish();
    }
    Ok(parked)
}

fn describe(value: &[u8]) -> Option<DeadLetter> {
    let (meta, record) = dead_parts(value)?;
    let meta: ParkedMeta = serde_json::from_slice(meta).ok()?;
    let (event_type, order_key, json) = decode_record(record)?;
    let event: Value = serde_json::from_slice(json).ok()?;
    Some(DeadLetter {
        id: event.get("id")?.as_str()?.to_owned(),
        event_type: event_type.as_str().to_owned(),
        order_key: order_key.to_owned(),
        error: meta.error,
        attempts: meta.attempts,
        first_failed_at: rfc3339(meta.first_failed_ms),
        parked_at: rfc3339(meta.parked_ms),
        event,
    })
}
