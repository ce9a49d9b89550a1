//! The requests we sent and still await a response for, with their response
//! deadlines, and the allocation of sequence numbers.
//!
//! At ~50k requests/s with a window of a few hundred, per-PDU work must not
//! scan the window. Two structures share the bookkeeping:
//!
//! - a `HashMap` by sequence number, for matching a response (O(1));
//! - a `VecDeque` of deadlines in send order. The response timeout is one
//!   constant and the session never lets its clock go backwards, so send
//!   order *is* deadline order: the earliest deadline is at the front and
//!   expiry pops from the front (O(1) per expired request).
//!
//! A response removes its request from the map only; its deadline entry goes
//! stale and is recognised by a generation number (a sequence number can be
//! reused after the wrap, a generation never is). Stale entries at the front
//! are dropped at once, so the front is always live and
//! [`RequestWindow::next_deadline`] is O(1). Stale entries behind a request
//! that is slow to be answered are dropped by a compaction that runs when they
//! outnumber the live ones, which keeps memory at O(window) and costs O(1)
//! amortised per request.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::smpp::CommandId;

/// The largest sequence number; after it the session wraps to 1 (SMPP 5.0
/// §3.2: 0x00000001 to 0x7FFFFFFF).
pub const MAX_SEQUENCE_NUMBER: u32 = 0x7FFF_FFFF;

/// Hands out sequence numbers 1..=0x7FFF_FFFF, wrapping to 1, never 0, and
/// never one the caller says is still in use.
#[derive(Debug, Clone)]
pub(super) struct SequenceNumbers {
    next: u32,
}

impl SequenceNumbers {
    pub(super) const fn new() -> Self {
        SequenceNumbers { next: 1 }
    }

    /// The next free number. Terminates because fewer than
    /// [`MAX_SEQUENCE_NUMBER`] numbers are ever in use (the window is capped
    /// far below that, see [`super::MAX_WINDOW`]), and in practice skips at
    /// most the few hundred outstanding ones, only right after a wrap.
    pub(super) fn allocate(&mut self, in_use: impl Fn(u32) -> bool) -> u32 {
        loop {
            let seq = self.next;
            self.next = if seq >= MAX_SEQUENCE_NUMBER {
                1
            } else {
                seq + 1
            };
            if !in_use(seq) {
                return seq;
            }
        }
    }

    /// Sets the next number to hand out (clamped into 1..=MAX); tests use it
    /// to reach the wrap without sending two billion PDUs.
    #[cfg(test)]
    pub(super) fn set_next(&mut self, next: u32) {
        self.next = next.clamp(1, MAX_SEQUENCE_NUMBER);
    }
}

/// What the application needs back about a request that ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ended {
    pub seq: u32,
    pub tag: u64,
    pub command: CommandId,
}

#[derive(Debug, Clone, Copy)]
struct Outstanding {
    tag: u64,
    command: CommandId,
    generation: u64,
}

#[derive(Debug, Clone, Copy)]
struct Deadline {
    /// `None` when the timeout is too large to represent: never expires.
    at: Option<Instant>,
    seq: u32,
    generation: u64,
}

/// The application's outstanding requests.
#[derive(Debug, Clone)]
pub(super) struct RequestWindow {
    capacity: usize,
    by_seq: HashMap<u32, Outstanding>,
    by_deadline: VecDeque<Deadline>,
    next_generation: u64,
}

impl RequestWindow {
    pub(super) fn new(capacity: usize) -> Self {
        RequestWindow {
            capacity,
            // Both grow on demand: a large configured window costs nothing
            // until it is used.
            by_seq: HashMap::with_capacity(capacity.min(1024)),
            by_deadline: VecDeque::with_capacity(capacity.min(1024)),
            next_generation: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.by_seq.len()
    }

    pub(super) fn available(&self) -> usize {
        self.capacity.saturating_sub(self.by_seq.len())
    }

    pub(super) fn contains(&self, seq: u32) -> bool {
        self.by_seq.contains_key(&seq)
    }

    /// Records a request. The caller has checked `available() > 0` and that
    /// `seq` is not outstanding; `deadline` is not earlier than any recorded
    /// before (the session's clock is monotonic and the timeout constant).
    pub(super) fn insert(
        &mut self,
        seq: u32,
        tag: u64,
        command: CommandId,
        deadline: Option<Instant>,
    ) {
        let generation = self.next_generation;
        self.next_generation += 1;
        self.by_seq.insert(
            seq,
            Outstanding {
                tag,
                command,
                generation,
            },
        );
        self.by_deadline.push_back(Deadline {
            at: deadline,
            seq,
            generation,
        });
    }

    /// Removes the request `seq` (its response arrived).
    pub(super) fn remove(&mut self, seq: u32) -> Option<Ended> {
        let out = self.by_seq.remove(&seq)?;
        self.drop_stale();
        Some(Ended {
            seq,
            tag: out.tag,
            command: out.command,
        })
    }

    /// The earliest response deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.front().and_then(|d| d.at)
    }

    /// Removes and returns one request whose deadline is at or before `now`.
    pub(super) fn expire(&mut self, now: Instant) -> Option<Ended> {
        let front = *self.by_deadline.front()?;
        if front.at.is_none_or(|at| at > now) {
            return None;
        }
        self.by_deadline.pop_front();
        // The front is always live (see `drop_stale`).
        let out = self.by_seq.remove(&front.seq)?;
        self.drop_stale();
        Some(Ended {
            seq: front.seq,
            tag: out.tag,
            command: out.command,
        })
    }

    /// Removes every request, in the order they were sent.
    pub(super) fn drain(&mut self) -> Vec<Ended> {
        let deadlines = std::mem::take(&mut self.by_deadline);
        let mut ended = Vec::with_capacity(self.by_seq.len());
        for d in deadlines {
            // Every live request has exactly one live deadline entry.
            if self.is_live(&d)
                && let Some(out) = self.by_seq.remove(&d.seq)
            {
                ended.push(Ended {
                    seq: d.seq,
                    tag: out.tag,
                    command: out.command,
                });
            }
        }
        self.by_seq.clear();
        ended
    }

    fn is_live(&self, d: &Deadline) -> bool {
        self.by_seq
            .get(&d.seq)
            .is_some_and(|o| o.generation == d.generation)
    }

    /// Keeps the front live and the stale entries fewer than the live ones.
    fn drop_stale(&mut self) {
        while let Some(front) = self.by_deadline.front() {
            if self.is_live(front) {
                break;
            }
            self.by_deadline.pop_front();
        }
        if self.by_deadline.len() > 2 * self.by_seq.len() + 32 {
            let by_seq = &self.by_seq;
            self.by_deadline.retain(|d| {
                by_seq
                    .get(&d.seq)
                    .is_some_and(|o| o.generation == d.generation)
            });
        }
    }

    #[cfg(test)]
    pub(super) fn deadline_entries(&self) -> usize {
        self.by_deadline.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sequence_numbers_wrap_and_skip_in_use() {
        let mut seqs = SequenceNumbers::new();
        assert_eq!(seqs.allocate(|_| false), 1);
        seqs.set_next(MAX_SEQUENCE_NUMBER);
        assert_eq!(seqs.allocate(|_| false), MAX_SEQUENCE_NUMBER);
        // Wraps to 1, never 0; 1 and 2 are still outstanding.
        assert_eq!(seqs.allocate(|s| s == 1 || s == 2), 3);
        seqs.set_next(0);
        assert_eq!(seqs.allocate(|_| false), 1);
    }

    #[test]
    fn expiry_is_in_deadline_order_and_skips_answered() {
        let t0 = Instant::now();
        let mut w = RequestWindow::new(8);
        for seq in 1..=4u32 {
            w.insert(
                seq,
                u64::from(seq) * 10,
                CommandId::SubmitSm,
                Some(t0 + Duration::from_secs(u64::from(seq))),
            );
        }
        assert_eq!(w.available(), 4);
        assert_eq!(w.remove(1).map(|e| e.tag), Some(10));
        assert_eq!(w.next_deadline(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(w.remove(3).map(|e| e.tag), Some(30));
        assert_eq!(w.expire(t0 + Duration::from_millis(1999)), None);
        let e = w.expire(t0 + Duration::from_secs(10)).map(|e| e.seq);
        assert_eq!(e, Some(2));
        // 3 was answered: the next to expire is 4.
        let e = w.expire(t0 + Duration::from_secs(10)).map(|e| e.seq);
        assert_eq!(e, Some(4));
        assert_eq!(w.expire(t0 + Duration::from_secs(10)), None);
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn stale_entries_stay_bounded_behind_a_stuck_request() {
        let t0 = Instant::now();
        let mut w = RequestWindow::new(4);
        // Request 1 is never answered; a hundred thousand others are, one by one.
        w.insert(1, 1, CommandId::SubmitSm, Some(t0));
        let mut seq = 2;
        for i in 0..100_000u64 {
            w.insert(seq, i, CommandId::SubmitSm, Some(t0));
            assert!(w.remove(seq).is_some());
            seq = if seq >= 1000 { 2 } else { seq + 1 };
            assert!(w.deadline_entries() <= 2 * w.len() + 33);
        }
        assert_eq!(w.next_deadline(), Some(t0));
        let drained = w.drain();
        assert_eq!(drained.len(), 1);
        assert_eq!(drained.first().map(|e| e.seq), Some(1));
    }

    #[test]
    fn drain_keeps_send_order_across_reused_numbers() {
        let t0 = Instant::now();
        let mut w = RequestWindow::new(8);
        w.insert(7, 1, CommandId::SubmitSm, Some(t0));
        w.insert(8, 2, CommandId::SubmitSm, Some(t0));
        assert!(w.remove(7).is_some());
        w.insert(9, 3, CommandId::SubmitSm, Some(t0));
        // 7 reused after its stale entry (which sits behind the live 8).
        w.insert(7, 4, CommandId::QuerySm, Some(t0));
        let tags: Vec<u64> = w.drain().iter().map(|e| e.tag).collect();
        assert_eq!(tags, vec![2, 3, 4]);
    }
}
