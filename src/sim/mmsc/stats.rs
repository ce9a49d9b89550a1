//! The MMSC simulator's counters: what a test waits for and asserts on, and
//! what `sim mmsc` logs and prints as its summary.
//!
//! Plain relaxed atomics, as in the SMSC simulator: each counter is
//! independent, so a snapshot a few nanoseconds stale between fields is
//! fine.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the counters (see [`super::MmscSim::stats`]): totals since
/// the simulator started. A report or MO posted several times counts once
/// per attempt in `*_sent`, and once in `*_acked` or `*_gave_up`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MmscStats {
    /// HTTP requests received, whatever became of them.
    pub requests: u64,
    /// Submits answered 1000 with a message id.
    pub submits_accepted: u64,
    /// Submits refused on purpose (`refuse_every`).
    pub submits_refused: u64,
    /// Bodies that did not decode (answered 2007).
    pub malformed: u64,
    /// Requests other than submits (answered 4003).
    pub unsupported: u64,
    /// Requests without the configured credentials (401).
    pub unauthorized: u64,
    /// Bodies over `max_body` (413).
    pub too_large: u64,
    /// Delivery report posts (each attempt).
    pub reports_sent: u64,
    /// Delivery reports the VASP acknowledged.
    pub reports_acked: u64,
    /// Delivery reports abandoned after the last attempt.
    pub reports_gave_up: u64,
    /// Delivery reports never sent: too many were waiting.
    pub reports_dropped: u64,
    /// MO (`DeliverReq`) posts (each attempt).
    pub mo_sent: u64,
    /// MO MMS the VASP acknowledged.
    pub mo_acked: u64,
    /// MO MMS abandoned after the last attempt.
    pub mo_gave_up: u64,
}

impl fmt::Display for MmscStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "requests={} accepted={} refused={} malformed={} unsupported={} unauthorized={} \
             too_large={} reports_sent={} reports_acked={} reports_gave_up={} \
             reports_dropped={} mo_sent={} mo_acked={} mo_gave_up={}",
            self.requests,
            self.submits_accepted,
            self.submits_refused,
            self.malformed,
            self.unsupported,
            self.unauthorized,
            self.too_large,
            self.reports_sent,
            self.reports_acked,
            self.reports_gave_up,
            self.reports_dropped,
            self.mo_sent,
            self.mo_acked,
            self.mo_gave_up,
        )
    }
}

/// The live counters behind [`MmscStats`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub submits_accepted: AtomicU64,
    pub submits_refused: AtomicU64,
    pub malformed: AtomicU64,
    pub unsupported: AtomicU64,
    pub unauthorized: AtomicU64,
    pub too_large: AtomicU64,
    pub reports_sent: AtomicU64,
    pub reports_acked: AtomicU64,
    pub reports_gave_up: AtomicU64,
    pub reports_dropped: AtomicU64,
    pub mo_sent: AtomicU64,
    pub mo_acked: AtomicU64,
    pub mo_gave_up: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Stats {
    pub(crate) fn snapshot(&self) -> MmscStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MmscStats {
            requests: get(&self.requests),
            submits_accepted: get(&self.submits_accepted),
            submits_refused: get(&self.submits_refused),
            malformed: get(&self.malformed),
            unsupported: get(&self.unsupported),
            unauthorized: get(&self.unauthorized),
            too_large: get(&self.too_large),
            reports_sent: get(&self.reports_sent),
            reports_acked: get(&self.reports_acked),
            reports_gave_up: get(&self.reports_gave_up),
            reports_dropped: get(&self.reports_dropped),
            mo_sent: get(&self.mo_sent),
            mo_acked: get(&self.mo_acked),
            mo_gave_up: get(&self.mo_gave_up),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_every_counter_and_displays_them() {
        let stats = Stats::default();
        bump(&stats.submits_accepted);
        bump(&stats.submits_accepted);
        bump(&stats.mo_gave_up);
        let snap = stats.snapshot();
        assert_eq!(snap.submits_accepted, 2);
        assert_eq!(snap.mo_gave_up, 1);
        let line = snap.to_string();
        assert!(line.contains("accepted=2"), "{line}");
        assert!(line.contains("mo_gave_up=1"), "{line}");
    }
}
