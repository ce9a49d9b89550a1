//! What an event to the core is, and how its bytes are fixed once.
//!
//! docs/api.md makes the event id the core's dedup key and puts `id` and
//! `created_at` under the signature, so an event must be rendered exactly once,
//! when it is written to the event log, and every retry (after a 500, a timeout
//! or a restart) must send those same bytes. This module therefore renders the
//! complete JSON object at append time; nothing downstream re-serializes it.
//!
//! Ids are ULID-shaped (`evt_` + 26 Crockford base32 characters): 48 bits of
//! Unix milliseconds, 32 random bits drawn once per opened log, and the low
//! 48 bits of the log's sequence number. Within one process the sequence makes
//! them unique; across restarts the random part does (the sequence counter may
//! restart after the log has drained). They sort roughly by creation time,
//! which makes the core's logs easy to read.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use super::CoreLinkError;
use crate::message_status::{MessageStatus, StatusSet};

/// The event types of docs/api.md; their wire names are a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `message.status`: an outbound message changed status.
    MessageStatus,
    /// `message.received`: an inbound message (including STOP/HELP/START).
    MessageReceived,
    /// `session.started`.
    SessionStarted,
    /// `session.ended`.
    SessionEnded,
    /// `optout.changed`.
    OptoutChanged,
}

impl EventType {
    /// The `type` field on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MessageStatus => "message.status",
            EventType::MessageReceived => "message.received",
            EventType::SessionStarted => "session.started",
            EventType::SessionEnded => "session.ended",
            EventType::OptoutChanged => "optout.changed",
        }
    }

    /// One-byte code used in the event log's records (part of the on-disk format).
    pub(crate) fn code(self) -> u8 {
        match self {
            EventType::MessageStatus => 1,
            EventType::MessageReceived => 2,
            EventType::SessionStarted => 3,
            EventType::SessionEnded => 4,
            EventType::OptoutChanged => 5,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<EventType> {
        Some(match code {
            1 => EventType::MessageStatus,
            2 => EventType::MessageReceived,
            3 => EventType::SessionStarted,
            4 => EventType::SessionEnded,
            5 => EventType::OptoutChanged,
            _ => return None,
        })
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event as the gateway produces it, before it has an id and a timestamp.
#[derive(Clone, Debug)]
pub struct NewEvent {
    event_type: EventType,
    order_key: String,
    data: Value,
}

impl NewEvent {
    /// An event of `event_type` carrying `data` (the `data` object of §4.4).
    ///
    /// `order_key` says what the event must stay in order with: the session id
    /// for session-bound events, the message id for the status events of a
    /// session-less message. Events with the same key reach the core in the
    /// order they were appended; events with different keys may overtake
    /// each other.
    pub fn new(event_type: EventType, order_key: impl Into<String>, data: Value) -> NewEvent {
        NewEvent {
            event_type,
            order_key: order_key.into(),
            data,
        }
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// The key that orders it.
    pub fn order_key(&self) -> &str {
        &self.order_key
    }

    /// The `data` object.
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// `data.status` of a `message.status` event.
    fn message_status(&self) -> Option<&str> {
        match self.event_type {
            EventType::MessageStatus => self.data.get("status").and_then(Value::as_str),
            _ => None,
        }
    }
}

/// `[core] status_events`: which `message.status` transitions reach the core.
///
/// Applied when an event is appended, not when it is sent: a filtered
/// transition is never written, so it costs no disk space, no fsync share
/// and no backlog. The flip side: changing the filter affects only events
/// appended afterwards. Other event types always pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusFilter {
    statuses: StatusSet,
}

impl StatusFilter {
    /// Every transition is sent (the default).
    pub fn all() -> StatusFilter {
        StatusFilter {
            statuses: StatusSet::all(),
        }
    }

    /// Only the listed statuses are sent; an unknown name is an error (a typo
    /// in the config must not silently mute a status).
    pub fn only<I, S>(statuses: I) -> Result<StatusFilter, CoreLinkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let statuses = statuses
            .into_iter()
            .map(|name| {
                MessageStatus::from_name(name.as_ref())
                    .ok_or_else(|| CoreLinkError::UnknownStatus(name.as_ref().to_owned()))
            })
            .collect::<Result<StatusSet, _>>()?;
        Ok(StatusFilter { statuses })
    }

    /// Does `event` get through? A `message.status` event whose status is
    /// not a known one is sent only when the filter admits everything.
    pub fn admits(&self, event: &NewEvent) -> bool {
        if event.event_type != EventType::MessageStatus || self.statuses.is_all() {
            return true;
        }
        event
            .message_status()
            .and_then(MessageStatus::from_name)
            .is_some_and(|status| self.statuses.contains(status))
    }
}

/// The wire form of one event; field order is the order on the wire.
#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    created_at: &'a str,
    data: &'a Value,
}

/// Renders the complete event object: `{"id","type","created_at","data"}`.
pub(crate) fn render(
    id: &str,
    event_type: EventType,
    created_at: &str,
    data: &Value,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Envelope {
        id,
        event_type: event_type.as_str(),
        created_at,
        data,
    })
}

/// Crockford's base32 alphabet (ULID).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `evt_` + the ULID-shaped id described in the module doc.
pub(crate) fn event_id(unix_millis: u64, nonce: u32, seq: u64) -> String {
    let value: u128 = (u128::from(unix_millis & 0xffff_ffff_ffff) << 80)
        | (u128::from(nonce) << 48)
        | u128::from(seq & 0xffff_ffff_ffff);
    let mut id = String::with_capacity(30);
    id.push_str("evt_");
    // 26 characters of 5 bits cover 130 bits; the first carries the top 3.
    for index in (0..26).rev() {
        let digit = (value >> (index * 5)) & 0x1f;
        id.push(char::from(CROCKFORD[digit as usize]));
    }
    id
}

/// Milliseconds since the Unix epoch, and the RFC 3339 UTC form with
/// milliseconds (`2025-01-31T12:00:00.123Z`) of the same instant.
pub(crate) fn timestamp(now: SystemTime) -> (u64, String) {
    let millis = now
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    (millis, humantime::format_rfc3339_millis(now).to_string())
}

/// The `id` of a rendered event: it is the first field, so this is a prefix
/// match, not a JSON parse.
pub(crate) fn id_of(json: &[u8]) -> Option<&str> {
    let rest = json.strip_prefix(br#"{"id":""#)?;
    let end = rest.iter().position(|b| *b == b'"')?;
    std::str::from_utf8(rest.get(..end)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_names_are_the_contract() {
        let names: Vec<&str> = [
            EventType::MessageStatus,
            EventType::MessageReceived,
            EventType::SessionStarted,
            EventType::SessionEnded,
            EventType::OptoutChanged,
        ]
        .iter()
        .map(|t| t.as_str())
        .collect();
        assert_eq!(
            names,
            [
                "message.status",
                "message.received",
                "session.started",
                "session.ended",
                "optout.changed"
            ]
        );
        for code in 0..=255u8 {
            if let Some(t) = EventType::from_code(code) {
                assert_eq!(t.code(), code);
            }
        }
    }

    #[test]
    fn render_puts_fields_in_contract_order() {
        let data = json!({"id": "msg_1", "status": "delivered"});
        let bytes = render(
            "evt_X",
            EventType::MessageStatus,
            "2025-01-01T00:00:00.000Z",
            &data,
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"id":"evt_X","type":"message.status","created_at":"2025-01-01T00:00:00.000Z","data":{"id":"msg_1","status":"delivered"}}"#
        );
        assert_eq!(id_of(&bytes), Some("evt_X"));
        assert_eq!(id_of(b"{\"type\":1}"), None);
    }

    #[test]
    fn ids_are_ulid_shaped_unique_and_time_ordered() {
        let a = event_id(1_700_000_000_000, 7, 1);
        let b = event_id(1_700_000_000_000, 7, 2);
        let c = event_id(1_700_000_000_001, 0, 0);
        let d = event_id(1_700_000_000_000, 8, 1);
        assert_eq!(a.len(), 30);
        assert!(a.starts_with("evt_"));
        assert!(a[4..].bytes().all(|b| CROCKFORD.contains(&b)));
        assert_ne!(a, b);
        assert_ne!(a, d);
        assert!(a < b && b < c);
        // The canonical ULID of 0 is 26 zeros; its first character holds 3 bits.
        assert_eq!(event_id(0, 0, 0), "evt_00000000000000000000000000");
        assert_eq!(
            event_id(u64::MAX, u32::MAX, u64::MAX),
            "evt_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let (millis, text) = timestamp(t);
        assert_eq!(millis, 1_700_000_000_123);
        assert_eq!(text, "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn status_filter_narrows_only_message_status() {
        let filter = StatusFilter::only(["submitted", "delivered", "failed"]).unwrap();
        let status = |s: &str| NewEvent::new(EventType::MessageStatus, "m", json!({"status": s}));
        assert!(filter.admits(&status("delivered")));
        assert!(filter.admits(&status("failed")));
        assert!(!filter.admits(&status("queued")));
        assert!(!filter.admits(&status("sending")));
        assert!(!filter.admits(&status("bogus")));
        assert!(!filter.admits(&NewEvent::new(EventType::MessageStatus, "m", json!({}))));
        let other = NewEvent::new(EventType::SessionStarted, "s", json!({"status": "queued"}));
        assert!(filter.admits(&other));
        assert!(StatusFilter::all().admits(&status("bogus")));
        assert!(StatusFilter::default().admits(&status("queued")));
        assert!(matches!(
            StatusFilter::only(["delivred"]),
            Err(CoreLinkError::UnknownStatus(s)) if s == "delivred"
        ));
        let none = StatusFilter::only(Vec::<String>::new()).unwrap();
        assert!(!none.admits(&status("delivered")));
        assert!(none.admits(&other));
    }
}
