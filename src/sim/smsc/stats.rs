//! The simulator's counters: what a test asserts on and what the CLI logs.
//!
//! Counters are plain relaxed atomics shared by every connection task: each
//! is independent (no invariant ties two of them together at one instant),
//! so a snapshot that is a few nanoseconds stale between fields is fine, and
//! an uncontended `fetch_add` costs far less than the PDU it counts.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the simulator's counters (see [`super::SmscSim::stats`]).
///
/// Counts are totals since the simulator started, except
/// `active_connections`. A receipt or MO segment that is sent again (after a
/// disconnect, a timeout or an error answer) counts once per transmission in
/// `*_sent` and once in `*_acknowledged` when an `ESME_ROK` answer arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SimStats {
    /// Binds accepted (all kinds).
    pub binds: u64,
    /// Binds refused (credentials, `max_connections`).
    pub bind_rejections: u64,
    /// TCP connections open now.
    pub active_connections: u64,
    /// `submit_sm` and `data_sm` received, whatever happened to them.
    pub submits_received: u64,
    /// Submits answered `ESME_ROK` with a message id.
    pub submits_accepted: u64,
    /// Submits answered `ESME_RTHROTTLED` (not accepted).
    pub submits_throttled: u64,
    /// Delivery receipts sent as `deliver_sm` (each transmission).
    pub receipts_sent: u64,
    /// Receipts the ESME answered with `ESME_ROK`.
    pub receipts_acknowledged: u64,
    /// Mobile-originated `deliver_sm` segments sent (each transmission).
    pub mo_sent: u64,
    /// MO segments the ESME answered with `ESME_ROK`.
    pub mo_acknowledged: u64,
    /// `deliver_sm` answered with an error status, a malformed response, or
    /// not answered in time (each is retried unless the error is permanent).
    pub deliver_errors: u64,
    /// Malformed requests answered with `generic_nack`.
    pub malformed_nacked: u64,
    /// Connections closed because their byte stream could not be framed.
    pub framing_errors: u64,
    /// Connections closed on purpose: `drop_after` or
    /// [`super::SmscSim::drop_connections`].
    pub connections_dropped: u64,
}

impl fmt::Display for SimStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connections={} binds={} bind_rejections={} submits={} accepted={} throttled={} \
             receipts_sent={} receipts_acked={} mo_sent={} mo_acked={} deliver_errors={} \
             nacked={} framing_errors={} dropped={}",
            self.active_connections,
            self.binds,
            self.bind_rejections,
            self.submits_received,
            self.submits_accepted,
            self.submits_throttled,
            self.receipts_sent,
            self.receipts_acknowledged,
            self.mo_sent,
            self.mo_acknowledged,
            self.deliver_errors,
            self.malformed_nacked,
            self.framing_errors,
            self.connections_dropped,
        )
    }
}

/// The live counters behind [`SimStats`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub binds: AtomicU64,
    pub bind_rejections: AtomicU64,
    pub active_connections: AtomicU64,
    pub submits_received: AtomicU64,
    pub submits_accepted: AtomicU64,
    pub submits_throttled: AtomicU64,
    pub receipts_sent: AtomicU64,
    pub receipts_acknowledged: AtomicU64,
    pub mo_sent: AtomicU64,
    pub mo_acknowledged: AtomicU64,
    pub deliver_errors: AtomicU64,
    pub malformed_nacked: AtomicU64,
    pub framing_errors: AtomicU64,
    pub connections_dropped: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Stats {
    pub(crate) fn snapshot(&self) -> SimStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SimStats {
            binds: get(&self.binds),
            bind_rejections: get(&self.bind_rejections),
            active_connections: get(&self.active_connections),
            submits_received: get(&self.submits_received),
            submits_accepted: get(&self.submits_accepted),
            submits_throttled: get(&self.submits_throttled),
            receipts_sent: get(&self.receipts_sent),
            receipts_acknowledged: get(&self.receipts_acknowledged),
            mo_sent: get(&self.mo_sent),
            mo_acknowledged: get(&self.mo_acknowledged),
            deliver_errors: get(&self.deliver_errors),
            malformed_nacked: get(&self.malformed_nacked),
            framing_errors: get(&self.framing_errors),
            connections_dropped: get(&self.connections_dropped),
        }
    }

    /// One connection closed (saturating: never wraps below zero).
    pub(crate) fn connection_closed(&self) {
        let _ = self
            .active_connections
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_every_counter_and_displays_them() {
        let stats = Stats::default();
        bump(&stats.binds);
        bump(&stats.submits_accepted);
        bump(&stats.submits_accepted);
        bump(&stats.active_connections);
        stats.connection_closed();
        stats.connection_closed();
        let snap = stats.snapshot();
        assert_eq!(snap.binds, 1);
        assert_eq!(snap.submits_accepted, 2);
        assert_eq!(snap.active_connections, 0);
        let line = snap.to_string();
        assert!(line.contains("accepted=2"), "{line}");
        assert!(line.contains("binds=1"), "{line}");
    }
}
