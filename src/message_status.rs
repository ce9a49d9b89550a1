//! A message's status: the one vocabulary that the outbox stores, the API
//! reports, `message.status` events carry and `[core] status_events`
//! filters.

use serde::{Deserialize, Serialize};

/// Where an outbound message is in its life, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted and durable; waiting for its turn.
    Queued,
    /// Handed to a carrier link; no answer yet.
    Sending,
    /// Every part was accepted by the carrier.
    Submitted,
    /// Every part was delivered.
    Delivered,
    /// The carrier refused or failed it permanently.
    Failed,
    /// Its validity ended before it could be delivered.
    Expired,
    /// Refused by the gateway before sending.
    Rejected,
}

impl MessageStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [MessageStatus; 7] = [
        MessageStatus::Queued,
        MessageStatus::Sending,
        MessageStatus::Submitted,
        MessageStatus::Delivered,
        MessageStatus::Failed,
        MessageStatus::Expired,
        MessageStatus::Rejected,
    ];

    /// The API's name, e.g. `"delivered"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Submitted => "submitted",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Failed => "failed",
            MessageStatus::Expired => "expired",
            MessageStatus::Rejected => "rejected",
        }
    }

    /// The status with this API name.
    pub fn from_name(name: &str) -> Option<MessageStatus> {
        MessageStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// No further change will happen.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            MessageStatus::Delivered
                | MessageStatus::Failed
                | MessageStatus::Expired
                | MessageStatus::Rejected
        )
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl std::fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of statuses, e.g. the transitions that produce events.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusSet {
    bits: u8,
}

impl StatusSet {
    /// Every status.
    pub const fn all() -> StatusSet {
        StatusSet { bits: 0x7f }
    }

    /// No status.
    pub const fn none() -> StatusSet {
        StatusSet { bits: 0 }
    }

    /// Adds `status`.
    pub fn insert(&mut self, status: MessageStatus) {
        self.bits |= status.bit();
    }

    /// Whether `status` is in the set.
    pub const fn contains(&self, status: MessageStatus) -> bool {
        self.bits & status.bit() != 0
    }

    /// Whether every status is in the set.
    pub const fn is_all(&self) -> bool {
        self.bits == StatusSet::all().bits
    }

    /// The statuses in the set, in lifecycle order.
    pub fn iter(&self) -> impl Iterator<Item = MessageStatus> + '_ {
        MessageStatus::ALL.into_iter().filter(|s| self.contains(*s))
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        StatusSet::all()
    }
}

impl FromIterator<MessageStatus> for StatusSet {
    fn from_iter<I: IntoIterator<Item = MessageStatus>>(iter: I) -> Self {
        let mut set = StatusSet::none();
        for status in iter {
            set.insert(status);
        }
        set
    }
}

impl std::fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sets_hold_what_was_put_in() {
        for status in MessageStatus::ALL {
            assert_eq!(MessageStatus::from_name(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).expect("json");
            assert_eq!(json, format!("\"{status}\""));
        }
        assert_eq!(MessageStatus::from_name("Delivered"), None);
        let set: StatusSet = [MessageStatus::Delivered, MessageStatus::Failed]
            .into_iter()
            .collect();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [MessageStatus::Delivered, MessageStatus::Failed]
        );
        assert!(!set.is_all());
        assert!(StatusSet::all().is_all());
        assert_eq!(StatusSet::all().iter().count(), 7);
    }
}
