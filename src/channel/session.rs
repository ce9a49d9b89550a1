//! A session: one conversation between a customer number and a business
//! number, and the two clocks that end it.
//!
//! This is the sans-IO half of sessions (the quinn-proto shape of
//! STYLE.md): a [`Session`] is a plain record that is told the time
//! (`now`, Unix milliseconds) and answers when it is due and why. It never
//! reads a clock, sleeps or writes sled. The inbound path keeps sessions in
//! sled ([`super::session_trees`]) and one task sleeps until the earliest
//! [`Session::deadline`] of all open sessions, so 100,000 open sessions
//! cost 100,000 small sled records and one timer, not 100,000 tokio sleeps.
//!
//! Wall-clock milliseconds rather than `Instant`s: deadlines are stored and
//! must mean the same thing after a restart.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Who opened a session (`origin` in the API and in `session.started`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOrigin {
    /// The customer's message opened it.
    Inbound,
    /// The gateway's message (service `outbound`) opened it.
    Outbound,
    /// An IVR call deflected to SMS opened it.
    Deflection,
}

impl SessionOrigin {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionOrigin::Inbound => "inbound",
            SessionOrigin::Outbound => "outbound",
            SessionOrigin::Deflection => "deflection",
        }
    }
}

/// Why a session ended (`reason` of `session.ended`, `end_reason` of the
/// API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No message for `idle_timeout`.
    IdleTimeout,
    /// `expiry` after it started, active or not.
    Expired,
    /// Closed on purpose.
    Closed,
}

impl EndReason {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Expired => "expired",
            EndReason::Closed => "closed",
        }
    }
}

/// A session as stored in the `sessions` tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// `ses_…`.
    pub id: String,
    /// The customer's number (E.164).
    pub customer: String,
    /// The business number.
    pub number: String,
    /// The number's line of business.
    pub line: String,
    /// The queue, once chosen (or the line's only queue).
    pub queue: Option<String>,
    /// The language of its system messages.
    pub language: String,
    /// Who opened it.
    pub origin: SessionOrigin,
    /// The IVR call it belongs to, if any.
    pub call_id: Option<String>,
    /// When it opened, Unix milliseconds.
    pub started_at: u64,
    /// The last customer message, Unix milliseconds.
    pub last_activity: u64,
    /// The line's `idle_timeout` when it opened, milliseconds.
    pub idle_timeout_ms: u64,
    /// The line's `expiry` when it opened, milliseconds.
    pub expiry_ms: u64,
    /// Times the menu prompt was repeated after a reply that matched no
    /// queue.
    pub menu_repeats: u8,
    /// When it ended.
    pub ended_at: Option<u64>,
    /// Why it ended.
    pub end_reason: Option<EndReason>,
}

/// What a new session starts with.
#[derive(Debug, Clone)]
pub struct SessionStart {
    /// `ses_…`.
    pub id: String,
    /// The customer's number.
    pub customer: String,
    /// The business number.
    pub number: String,
    /// Its line.
    pub line: String,
    /// The queue it starts in (a line with one queue, or preselected).
    pub queue: Option<String>,
    /// The line's language.
    pub language: String,
    /// Who opens it.
    pub origin: SessionOrigin,
    /// `idle_timeout`, milliseconds.
    pub idle_timeout_ms: u64,
    /// `expiry`, milliseconds.
    pub expiry_ms: u64,
}

impl Session {
    /// How long it lasted (until now for an open one: 0), milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.ended_at
            .map_or(0, |ended| ended.saturating_sub(self.started_at))
    }
}

/// The `ses_…` id of a generated number.
pub fn session_id(n: u64) -> String {
    format!("ses_{n:016x}")
}

impl Session {
    /// A session opened at `now`.
    pub fn open(start: SessionStart, now: u64) -> Session {
        Session {
            id: start.id,
            customer: start.customer,
            number: start.number,
            line: start.line,
            queue: start.queue,
            language: start.language,
            origin: start.origin,
            call_id: None,
            started_at: now,
            last_activity: now,
            idle_timeout_ms: start.idle_timeout_ms,
            expiry_ms: start.expiry_ms,
            menu_repeats: 0,
            ended_at: None,
            end_reason: None,
        }
    }

    /// Still open.
    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }

    /// When it ends unless the customer writes again: the earlier of the
    /// idle deadline and the expiry.
    pub fn deadline(&self) -> u64 {
        self.idle_deadline().min(self.expiry_deadline())
    }

    fn idle_deadline(&self) -> u64 {
        self.last_activity.saturating_add(self.idle_timeout_ms)
    }

    fn expiry_deadline(&self) -> u64 {
        self.started_at.saturating_add(self.expiry_ms)
    }

    /// Why it must end at `now`, if it must. Expiry wins when both are due:
    /// it is the reason that holds regardless of activity.
    pub fn due(&self, now: u64) -> Option<EndReason> {
        if !self.is_open() {
            None
        } else if now >= self.expiry_deadline() {
            Some(EndReason::Expired)
        } else if now >= self.idle_deadline() {
            Some(EndReason::IdleTimeout)
        } else {
            None
        }
    }

    /// A customer message at `now` restarts the idle clock (never the
    /// expiry).
    pub fn touch(&mut self, now: u64) {
        self.last_activity = self.last_activity.max(now);
    }

    /// Ends it at `now`.
    pub fn end(&mut self, reason: EndReason, now: u64) {
        if self.is_open() {
            self.ended_at = Some(now);
            self.end_reason = Some(reason);
        }
    }

    /// The `data` of `session.started` and `session.ended` (DESIGN §4.4).
    pub fn event_data(&self) -> Value {
        json!({
            "id": self.id,
            "customer": self.customer,
            "number": self.number,
            "line": self.line,
            "queue": self.queue,
            "language": self.language,
            "origin": self.origin.as_str(),
            "call_id": self.call_id,
            "reason": self.end_reason.map(EndReason::as_str),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    fn opened(now: u64) -> Session {
        Session::open(
            SessionStart {
                id: session_id(1),
                customer: "+15557654321".into(),
                number: "+15551230001".into(),
                line: "support".into(),
                queue: None,
                language: "en".into(),
                origin: SessionOrigin::Inbound,
                idle_timeout_ms: 30 * MIN,
                expiry_ms: 24 * 60 * MIN,
            },
            now,
        )
    }

    #[test]
    fn idle_timeout_counts_from_the_last_customer_message() {
        let t0 = 1_000_000;
        let mut s = opened(t0);
        assert_eq!(s.deadline(), t0 + 30 * MIN);
        assert_eq!(s.due(t0 + 30 * MIN - 1), None);
        s.touch(t0 + 20 * MIN);
        assert_eq!(s.deadline(), t0 + 50 * MIN);
        assert_eq!(s.due(t0 + 49 * MIN), None);
        assert_eq!(s.due(t0 + 50 * MIN), Some(EndReason::IdleTimeout));
    }

    #[test]
    fn expiry_ends_an_active_session() {
        let t0 = 5;
        let mut s = opened(t0);
        // A message every 20 minutes keeps it from idling out ...
        let mut now = t0;
        while now + 20 * MIN < t0 + 24 * 60 * MIN {
            now += 20 * MIN;
            assert_eq!(s.due(now), None, "at {now}");
            s.touch(now);
        }
        // ... but not from expiring.
        assert_eq!(s.deadline(), t0 + 24 * 60 * MIN);
        assert_eq!(s.due(t0 + 24 * 60 * MIN), Some(EndReason::Expired));
    }

    #[test]
    fn expiry_wins_when_both_are_due() {
        let mut s = opened(0);
        s.expiry_ms = 10 * MIN;
        assert_eq!(s.deadline(), 10 * MIN);
        assert_eq!(s.due(40 * MIN), Some(EndReason::Expired));
    }

    #[test]
    fn an_ended_session_is_never_due_and_ends_once() {
        let mut s = opened(0);
        s.end(EndReason::IdleTimeout, 30 * MIN);
        s.end(EndReason::Expired, 50 * MIN);
        assert_eq!(s.due(u64::MAX), None);
        assert_eq!(s.end_reason, Some(EndReason::IdleTimeout));
        assert_eq!(s.ended_at, Some(30 * MIN));
        assert!(!s.is_open());
        assert_eq!(s.event_data()["reason"], "idle_timeout");
    }

    #[test]
    fn a_late_touch_never_moves_the_clock_back() {
        let mut s = opened(10 * MIN);
        s.touch(5 * MIN);
        assert_eq!(s.last_activity, 10 * MIN);
    }
}
