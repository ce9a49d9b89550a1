//! Which SMPP `command_status` values are worth retrying.
//!
//! A gateway that retries a permanent error wastes throughput and can get a
//! number flagged; one that gives up on a transient error loses messages.
//! The default table follows SMPP 3.4 §5.1.3 and carrier practice: throttling,
//! queue-full, system errors and the "temporary" application error are
//! transient; address, format and authorization errors are permanent; an
//! unknown (vendor) status is transient, because retrying until the validity
//! ends costs less than losing a message to a code we did not know. Carriers
//! override single codes in their config (`error_policy`).

use carrier_protocol::smpp::CommandStatus;

use crate::config::{ErrorClass, ErrorPolicy as Overrides};
use crate::transport::{LinkStatus, StatusClass};

/// The classification of one carrier: its overrides over the built-in table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusTable {
    overrides: Overrides,
}

impl StatusTable {
    /// The built-in table with a carrier's overrides.
    pub fn new(overrides: Overrides) -> Self {
        StatusTable { overrides }
    }

    /// Whether a response with this status should be retried.
    pub fn is_transient(&self, status: CommandStatus) -> bool {
        match self.overrides.classify(status) {
            Some(ErrorClass::Transient) => true,
            Some(ErrorClass::Permanent) => false,
            None => default_is_transient(status),
        }
    }

    /// A refusal in the link contract's terms: throttling and a full queue
    /// slow the link down; the rest is transient or permanent per the table.
    pub fn link_status(&self, status: CommandStatus) -> LinkStatus {
        let (class, reason) = if !self.is_transient(status) {
            (StatusClass::Permanent, "permanent")
        } else {
            match status {
                CommandStatus::Throttled => (StatusClass::Throttled, "throttled"),
                CommandStatus::MessageQueueFull => (StatusClass::Throttled, "queue_full"),
                _ => (StatusClass::Transient, "transient_status"),
            }
        };
        LinkStatus {
            class,
            raw: Some(status.value()),
            message: status.to_string(),
            reason,
        }
    }
}

/// The built-in table.
pub fn default_is_transient(status: CommandStatus) -> bool {
    use CommandStatus as S;
    // An unknown (vendor) status is transient: retrying until the validity
    // ends costs less than losing a message to a code we did not know.
    matches!(
        status,
        S::Throttled
            | S::MessageQueueFull
            | S::SystemError
            | S::TemporaryAppError
            | S::SubmitFailed
            | S::DeliveryFailure
            | S::UnknownError
            | S::IncorrectBindStatus
            | S::InvalidCommandLength
            | S::InvalidCommandId
            | S::Other(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let policy = StatusTable::default();
        assert!(policy.is_transient(CommandStatus::Throttled));
        assert!(policy.is_transient(CommandStatus::MessageQueueFull));
        assert!(!policy.is_transient(CommandStatus::InvalidDestinationAddress));
        assert!(policy.is_transient(CommandStatus::Other(0x401)));
    }

    #[test]
    fn link_statuses_keep_the_raw_code() {
        let table = StatusTable::default();
        let throttled = table.link_status(CommandStatus::Throttled);
        assert_eq!(throttled.class, StatusClass::Throttled);
        assert_eq!(throttled.raw, Some(0x58));
        assert!(
            throttled.message.contains("ESME_RTHROTTLED"),
            "{}",
            throttled.message
        );
        let bad = table.link_status(CommandStatus::InvalidDestinationAddress);
        assert_eq!(bad.class, StatusClass::Permanent);
        assert!(!bad.is_retryable());
        assert_eq!(
            table.link_status(CommandStatus::SystemError).reason,
            "transient_status"
        );
    }
}
