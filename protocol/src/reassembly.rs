//! Reassembly of concatenated SMS parts, as a sans-IO engine.
//!
//! Why it looks like this:
//!
//! * **Sans-IO, like `quinn-proto`.** The engine owns no clock, timer or socket. The
//!   driver feeds it parts together with an [`Instant`], asks [`Reassembler::poll_timeout`]
//!   when to wake up, and calls [`Reassembler::handle_timeout`] when that instant has
//!   passed. That keeps every behaviour (timeouts, eviction) testable with simulated time.
//! * **Parts are kept separate.** A [`Reassembled`] message hands back one [`Bytes`] per
//!   part in sequence order instead of one concatenated buffer, because each part carries
//!   its own UDH (national language shift tables, encoding) and must be decoded on its own
//!   before the texts are joined. [`Reassembled::concat`] exists for binary payloads.
//! * **Identity is `(key, reference, total)`.** The caller-chosen key (typically the
//!   source and destination addresses, plus the session if references are per bind)
//!   scopes the 8/16-bit reference, which phones reuse constantly. Including `total`
//!   means a reused reference with a different part count is a different message
//!   rather than a corrupt one.
//! * **Nothing is ever dropped silently.** Incomplete messages leave the engine only
//!   through one outbox, as [`Expired`] values with an [`ExpiryReason`]: timeout,
//!   eviction by the message-count bound, eviction by the byte bound, or an explicit
//!   [`Reassembler::flush`] at shutdown. Whether to deliver partial text with a marker or
//!   to discard it is the caller's policy. The outbox is drained by
//!   [`Reassembler::poll_expired`] or by the iterator [`Reassembler::handle_timeout`]
//!   returns; the driver is expected to drain it after every call that can fill it (it is
//!   the only buffer the bounds do not cover, and it only grows if the driver never
//!   drains).
//! * **Bounded memory.** `max_pending_messages` and `max_pending_bytes` (payload bytes) are
//!   enforced after every insert by evicting the *oldest* pending message first, which is
//!   also the one closest to its timeout. If the message being added to is the oldest, it
//!   is the one evicted and the insert reports [`Insert::Evicted`]. Per-part bookkeeping
//!   is proportional to the parts actually received (a sorted `Vec`, not a 255-slot
//!   table), so a flood of bogus `total = 255` parts costs what it carries. Payloads are
//!   counted by `len()`; a [`Bytes`] that is a slice of a larger buffer keeps that buffer
//!   alive, so the PDU decoder should hand over compact buffers.
//! * **O(1) amortised per operation.** The timeout is one constant, so deadlines are in
//!   first-part order and a FIFO ([`VecDeque`]) orders them; no `BTreeMap` or heap is
//!   needed. Completed messages leave their FIFO entry behind (lazy deletion, validated by
//!   a per-message stamp); stale entries are popped when they reach the front and the
//!   FIFO is compacted when stale entries outnumber live ones, so it stays within a
//!   constant factor of the pending count. To keep the FIFO sorted even when a driver
//!   passes instants out of order, the engine's notion of "now" never moves backwards:
//!   a deadline is computed from the latest instant seen so far.
//! * **std's `HashMap` hasher on purpose.** Keys are addresses chosen by remote parties;
//!   SipHash with a random seed keeps crafted collisions from degrading lookups.
//! * **Late duplicates are not remembered.** Once a message completes its state is
//!   dropped, so a reference can be reused immediately. The flip side: a retransmitted
//!   part arriving after completion starts a new message that will expire with that single
//!   part. Deduplicating retransmitted `deliver_sm` PDUs is the session's job.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

/// Limits and timeout of a [`Reassembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// How long a message may wait for its missing parts, counted from its first part.
    pub timeout: Duration,
    /// Maximum number of incomplete messages held at once.
    pub max_pending_messages: usize,
    /// Maximum payload bytes held across all incomplete messages.
    pub max_pending_bytes: usize,
}

impl Default for Config {
    /// Five minutes, 10 000 messages, 4 MiB.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            max_pending_messages: 10_000,
            max_pending_bytes: 4 * 1024 * 1024,
        }
    }
}

/// One part of a concatenated message, as taken from its UDH (IEI 0x00 or 0x08) or from
/// the `sar_*` TLVs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<K> {
    /// Caller-chosen conversation key, e.g. `(source, destination)`.
    pub key: K,
    /// Concatenation reference number (8-bit references widened).
    pub reference: u16,
    /// Total number of parts, 1..=255.
    pub total: u8,
    /// This part's 1-based sequence number, 1..=`total`.
    pub seq: u8,
    /// The part's user data without its UDH.
    pub payload: Bytes,
}

/// Why a part was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    /// `total` was 0.
    #[error("concatenated SMS part announces 0 parts in total")]
    ZeroTotal,
    /// `seq` was 0 (sequence numbers are 1-based).
    #[error("concatenated SMS part has sequence number 0")]
    ZeroSeq,
    /// `seq` was greater than `total`.
    #[error("concatenated SMS part {seq} is beyond the announced total of {total}")]
    SeqOutOfRange {
        /// The part's sequence number.
        seq: u8,
        /// The announced total.
        total: u8,
    },
}

/// Result of [`Reassembler::insert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insert<K> {
    /// The part completed its message (or was a single-part message).
    Complete(Reassembled<K>),
    /// The part was stored; the message still misses parts.
    Pending,
    /// A part with the same sequence number was already held; the first one is kept and
    /// this one is discarded (and counted in [`Stats::duplicates`]).
    Duplicate,
    /// The part was accepted, but its message was evicted during this same call to honour
    /// the memory bounds (it was the oldest pending message, or alone exceeds
    /// `max_pending_bytes`). It is waiting in the expired outbox.
    Evicted,
}

/// A complete message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled<K> {
    /// The conversation key of its parts.
    pub key: K,
    /// Its concatenation reference.
    pub reference: u16,
    /// One payload per part, in sequence order (`parts[0]` is part 1).
    pub parts: Vec<Bytes>,
    /// The instant passed with its first part.
    pub first_seen: Instant,
}

impl<K> Reassembled<K> {
    /// Total payload length over all parts.
    pub fn payload_len(&self) -> usize {
        self.parts.iter().map(Bytes::len).sum()
    }

    /// The parts joined into one buffer (no copy for a single part). Only meaningful for
    /// payloads that need no per-part decoding, e.g. 8-bit binary data.
    pub fn concat(&self) -> Bytes {
        match self.parts.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => {
                let mut out = BytesMut::with_capacity(self.payload_len());
                for part in many {
                    out.extend_from_slice(part);
                }
                out.freeze()
            }
        }
    }
}

/// Why an incomplete message left the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryReason {
    /// Its missing parts did not arrive within [`Config::timeout`].
    Timeout,
    /// Evicted (oldest first) because `max_pending_messages` was exceeded.
    MessageLimit,
    /// Evicted (oldest first) because `max_pending_bytes` was exceeded.
    ByteLimit,
    /// Handed over by [`Reassembler::flush`].
    Flushed,
}

/// An incomplete message handed back to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired<K> {
    /// The conversation key of its parts.
    pub key: K,
    /// Its concatenation reference.
    pub reference: u16,
    /// The announced number of parts.
    pub total: u8,
    /// The parts received, as `(seq, payload)` sorted by `seq`, without duplicates.
    pub received: Vec<(u8, Bytes)>,
    /// The instant passed with its first part.
    pub first_seen: Instant,
    /// Why it left.
    pub reason: ExpiryReason,
}

impl<K> Expired<K> {
    /// The sequence numbers that never arrived, ascending.
    pub fn missing(&self) -> impl Iterator<Item = u8> + '_ {
        let mut received = self.received.iter().map(|(seq, _)| *seq).peekable();
        (1..=self.total).filter(move |seq| {
            while received.next_if(|got| got < seq).is_some() {}
            received.next_if_eq(seq).is_none()
        })
    }
}

/// Counters since the engine was created, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages completed (including single-part ones).
    pub completed: u64,
    /// Duplicate parts discarded.
    pub duplicates: u64,
    /// Incomplete messages expired by timeout.
    pub timed_out: u64,
    /// Incomplete messages evicted by a memory bound.
    pub evicted: u64,
    /// Incomplete messages handed over by [`Reassembler::flush`].
    pub flushed: u64,
}

/// The identity of a concatenated message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Ident<K> {
    key: K,
    reference: u16,
    total: u8,
}

/// An incomplete message.
#[derive(Debug)]
struct Pending {
    /// Unique per message incarnation; validates FIFO entries.
    stamp: u64,
    first_seen: Instant,
    /// `None` if `now + timeout` is not representable: never expires by time.
    deadline: Option<Instant>,
    /// Received parts sorted by sequence number.
    parts: Vec<(u8, Bytes)>,
    /// Sum of the payload lengths in `parts`.
    bytes: usize,
}

/// Puts concatenated SMS parts back together. See the module documentation.
#[derive(Debug)]
pub struct Reassembler<K> {
    config: Config,
    pending: HashMap<Ident<K>, Pending>,
    /// `(stamp, ident)` in deadline order; may contain stale entries, but never at the front.
    order: VecDeque<(u64, Ident<K>)>,
    outbox: VecDeque<Expired<K>>,
    bytes: usize,
    next_stamp: u64,
    /// The latest instant observed; the engine's time never goes backwards.
    clock: Option<Instant>,
    stats: Stats,
}

/// Stale FIFO entries tolerated beyond twice the live count before compacting.
const COMPACT_SLACK: usize = 32;

/// Initial part capacity of a pending message; most concatenated SMS have 2–4 parts.
const INITIAL_PARTS: usize = 4;

impl<K: Eq + Hash + Clone> Reassembler<K> {
    /// An empty engine.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            pending: HashMap::new(),
            order: VecDeque::new(),
            outbox: VecDeque::new(),
            bytes: 0,
            next_stamp: 0,
            clock: None,
            stats: Stats::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of incomplete messages held.
    pub fn pending_messages(&self) -> usize {
        self.pending.len()
    }

    /// Payload bytes held across incomplete messages.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Number of [`Expired`] messages waiting in the outbox.
    pub fn queued_expired(&self) -> usize {
        self.outbox.len()
    }

    /// Counters since creation.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Feeds one part received at `now`.
    ///
    /// Afterwards the driver should drain [`Reassembler::poll_expired`] (this call may
    /// have evicted messages) and re-arm its timer from [`Reassembler::poll_timeout`].
    ///
    /// # Errors
    ///
    /// [`PartError`] if `total` is 0, `seq` is 0 or `seq > total`; the engine is unchanged.
    pub fn insert(&mut self, part: Part<K>, now: Instant) -> Result<Insert<K>, PartError> {
        let Part {
            key,
            reference,
            total,
            seq,
            payload,
        } = part;
        if total == 0 {
            return Err(PartError::ZeroTotal);
        }
        if seq == 0 {
            return Err(PartError::ZeroSeq);
        }
        if seq > total {
            return Err(PartError::SeqOutOfRange { seq, total });
        }
        let clock = self.observe(now);

        if total == 1 {
            self.stats.completed += 1;
            return Ok(Insert::Complete(Reassembled {
                key,
                reference,
                parts: vec![payload],
                first_seen: now,
            }));
        }

        let len = payload.len();
        let stamp = match self.pending.entry(Ident {
            key,
            reference,
            total,
        }) {
            Entry::Occupied(mut occupied) => {
                let message = occupied.get_mut();
                let Err(at) = message.parts.binary_search_by_key(&seq, |(s, _)| *s) else {
                    self.stats.duplicates += 1;
                    return Ok(Insert::Duplicate);
                };
                if message.parts.len() + 1 < usize::from(total) {
                    message.parts.insert(at, (seq, payload));
                    message.bytes = message.bytes.saturating_add(len);
                    message.stamp
                } else {
                    // Every other sequence number is present: this part completes it.
                    let (ident, mut message) = occupied.remove_entry();
                    message.parts.insert(at, (seq, payload));
                    self.bytes = self.bytes.saturating_sub(message.bytes);
                    self.stats.completed += 1;
                    self.after_removal();
                    return Ok(Insert::Complete(Reassembled {
                        key: ident.key,
                        reference,
                        parts: message.parts.into_iter().map(|(_, b)| b).collect(),
                        first_seen: message.first_seen,
                    }));
                }
            }
            Entry::Vacant(vacant) => {
                let stamp = self.next_stamp;
                self.next_stamp += 1;
                self.order.push_back((stamp, vacant.key().clone()));
                let mut parts = Vec::with_capacity(usize::from(total).min(INITIAL_PARTS));
                parts.push((seq, payload));
                vacant.insert(Pending {
                    stamp,
                    first_seen: now,
                    deadline: clock.checked_add(self.config.timeout),
                    parts,
                    bytes: len,
                });
                stamp
            }
        };
        self.bytes = self.bytes.saturating_add(len);

        Ok(if self.enforce_bounds(stamp) {
            Insert::Evicted
        } else {
            Insert::Pending
        })
    }

    /// The earliest instant at which a pending message expires, for the driver's timer.
    /// `None` when nothing is pending (or no deadline is representable).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let (stamp, ident) = self.order.front()?;
        self.pending
            .get(ident)
            .filter(|message| message.stamp == *stamp)
            .and_then(|message| message.deadline)
    }

    /// Expires every message whose deadline is at or before `now` and returns an iterator
    /// that drains the whole outbox (earlier evictions included), oldest first. Items the
    /// iterator does not yield stay queued for [`Reassembler::poll_expired`].
    pub fn handle_timeout(&mut self, now: Instant) -> ExpiredDrain<'_, K> {
        let now = self.observe(now);
        while self.poll_timeout().is_some_and(|deadline| deadline <= now) {
            if !self.expire_oldest(ExpiryReason::Timeout) {
                break;
            }
        }
        ExpiredDrain {
            outbox: &mut self.outbox,
        }
    }

    /// Takes the next expired or evicted message from the outbox.
    pub fn poll_expired(&mut self) -> Option<Expired<K>> {
        self.outbox.pop_front()
    }

    /// Hands every pending message over (reason [`ExpiryReason::Flushed`], oldest first),
    /// e.g. at shutdown, and returns the outbox drain.
    pub fn flush(&mut self) -> ExpiredDrain<'_, K> {
        while self.expire_oldest(ExpiryReason::Flushed) {}
        ExpiredDrain {
            outbox: &mut self.outbox,
        }
    }

    /// Advances the monotonic clock and returns the engine's current time.
    fn observe(&mut self, now: Instant) -> Instant {
        let clock = match self.clock {
            Some(clock) if clock > now => clock,
            _ => now,
        };
        self.clock = Some(clock);
        clock
    }

    /// Evicts oldest-first until both bounds hold. Returns whether the message with
    /// `current` stamp was among the evicted.
    fn enforce_bounds(&mut self, current: u64) -> bool {
        let mut evicted_current = false;
        loop {
            let reason = if self.pending.len() > self.config.max_pending_messages {
                ExpiryReason::MessageLimit
            } else if self.bytes > self.config.max_pending_bytes {
                ExpiryReason::ByteLimit
            } else {
                break;
            };
            if self
                .order
                .front()
                .is_some_and(|(stamp, _)| *stamp == current)
            {
                evicted_current = true;
            }
            if !self.expire_oldest(reason) {
                break;
            }
        }
        evicted_current
    }

    /// Moves the oldest pending message to the outbox. Returns `false` if none is pending.
    fn expire_oldest(&mut self, reason: ExpiryReason) -> bool {
        while let Some((stamp, ident)) = self.order.pop_front() {
            let live = self
                .pending
                .get(&ident)
                .is_some_and(|message| message.stamp == stamp);
            if !live {
                continue;
            }
            let Some((ident, message)) = self.pending.remove_entry(&ident) else {
                continue;
            };
            self.bytes = self.bytes.saturating_sub(message.bytes);
            match reason {
                ExpiryReason::Timeout => self.stats.timed_out += 1,
                ExpiryReason::MessageLimit | ExpiryReason::ByteLimit => self.stats.evicted += 1,
                ExpiryReason::Flushed => self.stats.flushed += 1,
            }
            self.outbox.push_back(Expired {
                key: ident.key,
                reference: ident.reference,
                total: ident.total,
                received: message.parts,
                first_seen: message.first_seen,
                reason,
            });
            self.after_removal();
            return true;
        }
        false
    }

    /// Restores the FIFO invariants after a message left `pending`: the front entry is
    /// live, and stale entries stay within a constant factor of live ones.
    fn after_removal(&mut self) {
        while let Some((stamp, ident)) = self.order.front() {
            if self
                .pending
                .get(ident)
                .is_some_and(|message| message.stamp == *stamp)
            {
                break;
            }
            self.order.pop_front();
        }
        if self.order.len() > 2 * self.pending.len() + COMPACT_SLACK {
            let pending = &self.pending;
            self.order.retain(|(stamp, ident)| {
                pending
                    .get(ident)
                    .is_some_and(|message| message.stamp == *stamp)
            });
        }
    }
}

/// Drains the expired outbox front to back; whatever is not consumed stays queued.
#[derive(Debug)]
pub struct ExpiredDrain<'a, K> {
    outbox: &'a mut VecDeque<Expired<K>>,
}

impl<K> Iterator for ExpiredDrain<'_, K> {
    type Item = Expired<K>;

    fn next(&mut self) -> Option<Expired<K>> {
        self.outbox.pop_front()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.outbox.len(), Some(self.outbox.len()))
    }
}

impl<K> ExactSizeIterator for ExpiredDrain<'_, K> {}

#[cfg(test)]
mod tests {
    use super::*;

    type Key = (&'static str, &'static str);
    const A: Key = ("15550001", "15550002");
    const B: Key = ("15550003", "15550002");

    fn part(key: Key, reference: u16, total: u8, seq: u8, payload: &'static str) -> Part<Key> {
        Part {
            key,
            reference,
            total,
            seq,
            payload: Bytes::from_static(payload.as_bytes()),
        }
    }

    fn engine(timeout_s: u64, max_messages: usize, max_bytes: usize) -> Reassembler<Key> {
        Reassembler::new(Config {
            timeout: Duration::from_secs(timeout_s),
            max_pending_messages: max_messages,
            max_pending_bytes: max_bytes,
        })
    }

    fn complete(result: Result<Insert<Key>, PartError>) -> Reassembled<Key> {
        match result {
            Ok(Insert::Complete(message)) => message,
            other => panic!("expected Complete, got {other:?}"),
        }
    }

    fn texts(parts: &[Bytes]) -> Vec<&[u8]> {
        parts.iter().map(AsRef::as_ref).collect()
    }

    #[test]
    fn in_order() {
        let t0 = Instant::now();
        let mut r = engine(60, 100, 1000);
        assert_eq!(r.insert(part(A, 7, 3, 1, "Hel"), t0), Ok(Insert::Pending));
        assert_eq!(r.insert(part(A, 7, 3, 2, "lo "), t0), Ok(Insert::Pending));
        assert_eq!(r.pending_messages(), 1);
        assert_eq!(r.pending_bytes(), 6);
        let done = complete(r.insert(part(A, 7, 3, 3, "you"), t0 + Duration::from_secs(1)));
        assert_eq!(done.key, A);
        assert_eq!(done.reference, 7);
        assert_eq!(done.first_seen, t0);
        assert_eq!(texts(&done.parts), [&b"Hel"[..], b"lo ", b"you"]);
        assert_eq!(done.concat(), Bytes::from_static(b"Hello you"));
        assert_eq!(r.pending_messages(), 0);
        assert_eq!(r.pending_bytes(), 0);
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(r.stats().completed, 1);
    }

    #[test]
    fn reverse_order() {
        let t0 = Instant::now();
        let mut r = engine(60, 100, 1000);
        assert_eq!(r.insert(part(A, 1, 3, 3, "c"), t0), Ok(Insert::Pending));
        assert_eq!(r.insert(part(A, 1, 3, 2, "b"), t0), Ok(Insert::Pending));
        let done = complete(r.insert(part(A, 1, 3, 1, "a"), t0));
        assert_eq!(done.concat(), Bytes::from_static(b"abc"));
    }

    #[test]
    fn single_part_completes_at_once() {
        let t0 = Instant::now();
        let mut r = engine(60, 0, 0);
        let done = complete(r.insert(part(A, 9, 1, 1, "solo"), t0));
        assert_eq!(texts(&done.parts), [&b"solo"[..]]);
        assert_eq!(r.pending_messages(), 0);
        assert_eq!(r.queued_expired(), 0);
    }

    #[test]
    fn duplicates_keep_the_first() {
        let t0 = Instant::now();
        let mut r = engine(60, 100, 1000);
        assert_eq!(r.insert(part(A, 1, 2, 1, "first"), t0), Ok(Insert::Pending));
        assert_eq!(
            r.insert(part(A, 1, 2, 1, "again"), t0),
            Ok(Insert::Duplicate)
        );
        assert_eq!(r.pending_bytes(), 5);
        assert_eq!(r.stats().duplicates, 1);
        let done = complete(r.insert(part(A, 1, 2, 2, "!"), t0));
        assert_eq!(done.concat(), Bytes::from_static(b"first!"));
    }

    #[test]
    fn invalid_parts_are_errors() {
        let t0 = Instant::now();
        let mut r = engine(60, 100, 1000);
        assert_eq!(
            r.insert(part(A, 1, 0, 1, "x"), t0),
            Err(PartError::ZeroTotal)
        );
        assert_eq!(
            r.insert(part(A, 1, 0, 0, "x"), t0),
            Err(PartError::ZeroTotal)
        );
        assert_eq!(r.insert(part(A, 1, 3, 0, "x"), t0), Err(PartError::ZeroSeq));
        assert_eq!(
            r.insert(part(A, 1, 3, 4, "x"), t0),
            Err(PartError::SeqOutOfRange { seq: 4, total: 3 })
        );
        assert_eq!(r.pending_messages(), 0);
    }

    #[test]
    fn same_reference_different_keys_interleaved() {
        let t0 = Instant::now();
        let mut r = engine(60, 100, 1000);
        assert_eq!(r.insert(part(A, 42, 2, 1, "a1"), t0), Ok(Insert::Pending));
        assert_eq!(r.insert(part(B, 42, 2, 2, "b2"), t0), Ok(Insert::Pending));
        // Same key and reference but a different total is another message too.
        assert_eq!(r.insert(part(A, 42, 3, 2, "x2"), t0), Ok(Insert::Pending));
        assert_eq!(r.pending_messages(), 3);
        let b = complete(r.insert(part(B, 42, 2, 1, "b1"), t0));
        assert_eq!((b.key, b.concat()), (B, Bytes::from_static(b"b1b2")));
        let a = complete(r.insert(part(A, 42, 2, 2, "a2"), t0));
        assert_eq!((a.key, a.concat()), (A, Bytes::from_static(b"a1a2")));
        assert_eq!(r.pending_messages(), 1);
    }

    #[test]
    fn timeout_hands_over_partial_parts() {
        let t0 = Instant::now();
        let mut r = engine(30, 100, 1000);
        assert_eq!(r.insert(part(A, 5, 4, 3, "c"), t0), Ok(Insert::Pending));
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(r.insert(part(A, 5, 4, 1, "a"), t1), Ok(Insert::Pending));
        assert_eq!(r.insert(part(B, 6, 2, 1, "z"), t1), Ok(Insert::Pending));
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(30)));

        // Not yet due.
        assert_eq!(r.handle_timeout(t0 + Duration::from_secs(29)).count(), 0);
        let expired: Vec<_> = r.handle_timeout(t0 + Duration::from_secs(30)).collect();
        assert_eq!(expired.len(), 1);
        let e = &expired[0];
        assert_eq!((e.key, e.reference, e.total), (A, 5, 4));
        assert_eq!(e.reason, ExpiryReason::Timeout);
        assert_eq!(e.first_seen, t0);
        assert_eq!(
            e.received,
            vec![(1, Bytes::from_static(b"a")), (3, Bytes::from_static(b"c"))]
        );
        assert_eq!(e.missing().collect::<Vec<_>>(), [2, 4]);
        assert_eq!(r.pending_messages(), 1);
        assert_eq!(r.pending_bytes(), 1);
        assert_eq!(r.poll_timeout(), Some(t1 + Duration::from_secs(30)));
        assert_eq!(r.stats().timed_out, 1);

        // The timed-out identity starts afresh.
        assert_eq!(r.insert(part(A, 5, 4, 2, "b"), t1), Ok(Insert::Pending));
    }

    #[test]
    fn completion_in_the_middle_keeps_deadlines_exact() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut r = engine(30, 100, 1000);
        r.insert(part(A, 1, 2, 1, "a"), t0).unwrap();
        r.insert(part(A, 2, 2, 1, "b"), t0 + s(1)).unwrap();
        r.insert(part(A, 3, 2, 1, "c"), t0 + s(2)).unwrap();
        complete(r.insert(part(A, 1, 2, 2, "a"), t0 + s(3)));
        assert_eq!(r.poll_timeout(), Some(t0 + s(31)));
        complete(r.insert(part(A, 3, 2, 2, "c"), t0 + s(3)));
        assert_eq!(r.poll_timeout(), Some(t0 + s(31)));
        let expired: Vec<_> = r.handle_timeout(t0 + s(100)).collect();
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].reference, 2);
        assert_eq!(r.poll_timeout(), None);
    }

    #[test]
    fn instants_going_backwards_do_not_reorder_deadlines() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut r = engine(30, 100, 1000);
        r.insert(part(A, 1, 2, 1, "a"), t0 + s(10)).unwrap();
        r.insert(part(A, 2, 2, 1, "b"), t0).unwrap(); // stale instant from the driver
        assert_eq!(r.poll_timeout(), Some(t0 + s(40)));
        let refs: Vec<_> = r.handle_timeout(t0 + s(40)).map(|e| e.reference).collect();
        assert_eq!(refs, [1, 2]);
    }

    #[test]
    fn eviction_by_message_count() {
        let t0 = Instant::now();
        let mut r = engine(30, 2, 1000);
        r.insert(part(A, 1, 2, 1, "a"), t0).unwrap();
        r.insert(part(A, 2, 2, 1, "b"), t0).unwrap();
        assert_eq!(r.insert(part(A, 3, 2, 1, "c"), t0), Ok(Insert::Pending));
        assert_eq!(r.pending_messages(), 2);
        assert_eq!(r.queued_expired(), 1);
        let e = r.poll_expired().unwrap();
        assert_eq!((e.reference, e.reason), (1, ExpiryReason::MessageLimit));
        assert_eq!(r.poll_expired(), None);
        assert_eq!(r.stats().evicted, 1);
        // Adding to an existing message does not evict by count.
        complete(r.insert(part(A, 2, 2, 2, "b"), t0));
        assert_eq!(r.queued_expired(), 0);
    }

    #[test]
    fn zero_message_bound_evicts_everything_multipart() {
        let t0 = Instant::now();
        let mut r = engine(30, 0, 1000);
        assert_eq!(r.insert(part(A, 1, 2, 1, "a"), t0), Ok(Insert::Evicted));
        assert_eq!(r.pending_messages(), 0);
        let e = r.poll_expired().unwrap();
        assert_eq!(e.reason, ExpiryReason::MessageLimit);
    }

    #[test]
    fn eviction_by_bytes() {
        let t0 = Instant::now();
        let mut r = engine(30, 100, 10);
        r.insert(part(A, 1, 3, 1, "aaaa"), t0).unwrap();
        r.insert(part(A, 2, 3, 1, "bbbb"), t0).unwrap();
        // 4 + 4 + 6 = 14 > 10: the oldest (ref 1) goes.
        assert_eq!(
            r.insert(part(A, 3, 3, 1, "cccccc"), t0),
            Ok(Insert::Pending)
        );
        assert_eq!(r.pending_bytes(), 10);
        let evicted: Vec<_> = r.handle_timeout(t0).collect();
        assert_eq!(evicted.len(), 1);
        assert_eq!(
            (evicted[0].reference, evicted[0].reason),
            (1, ExpiryReason::ByteLimit)
        );
        // Growing the oldest message beyond the bound evicts that message itself.
        assert_eq!(r.insert(part(A, 2, 3, 2, "bb"), t0), Ok(Insert::Evicted));
        let e = r.poll_expired().unwrap();
        assert_eq!(e.reference, 2);
        assert_eq!(e.received.len(), 2);
        assert_eq!(r.pending_bytes(), 6);
    }

    #[test]
    fn oversized_part_is_evicted_alone() {
        let t0 = Instant::now();
        let mut r = engine(30, 100, 4);
        r.insert(part(A, 1, 2, 1, "ab"), t0).unwrap();
        assert_eq!(r.insert(part(A, 2, 2, 1, "12345"), t0), Ok(Insert::Evicted));
        let reasons: Vec<_> = r.flush().map(|e| (e.reference, e.reason)).collect();
        assert_eq!(
            reasons,
            [(1, ExpiryReason::ByteLimit), (2, ExpiryReason::ByteLimit),]
        );
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn reference_reuse_after_completion() {
        let t0 = Instant::now();
        let mut r = engine(30, 100, 1000);
        r.insert(part(A, 9, 2, 1, "x"), t0).unwrap();
        complete(r.insert(part(A, 9, 2, 2, "y"), t0));
        assert_eq!(r.insert(part(A, 9, 2, 2, "new2"), t0), Ok(Insert::Pending));
        let done = complete(r.insert(part(A, 9, 2, 1, "new1"), t0));
        assert_eq!(done.concat(), Bytes::from_static(b"new1new2"));
    }

    #[test]
    fn drain_left_unconsumed_stays_queued() {
        let t0 = Instant::now();
        let mut r = engine(1, 100, 1000);
        r.insert(part(A, 1, 2, 1, "a"), t0).unwrap();
        r.insert(part(A, 2, 2, 1, "b"), t0).unwrap();
        {
            let mut drain = r.handle_timeout(t0 + Duration::from_secs(1));
            assert_eq!(drain.len(), 2);
            assert_eq!(drain.next().map(|e| e.reference), Some(1));
        }
        assert_eq!(r.queued_expired(), 1);
        assert_eq!(r.poll_expired().map(|e| e.reference), Some(2));
    }

    #[test]
    fn stale_fifo_entries_are_compacted() {
        let t0 = Instant::now();
        let mut r = engine(3600, 100_000, usize::MAX);
        // One long-lived message at the front, then many that complete.
        r.insert(part(A, 0, 2, 1, "keep"), t0).unwrap();
        for reference in 1..5_000u16 {
            r.insert(part(B, reference, 2, 1, "a"), t0).unwrap();
            complete(r.insert(part(B, reference, 2, 2, "b"), t0));
        }
        assert_eq!(r.pending_messages(), 1);
        assert!(r.order.len() <= 2 * r.pending.len() + COMPACT_SLACK + 1);
    }

    #[test]
    fn huge_timeout_never_expires_and_does_not_panic() {
        let t0 = Instant::now();
        let mut r = Reassembler::new(Config {
            timeout: Duration::MAX,
            ..Config::default()
        });
        r.insert(part(A, 1, 2, 1, "a"), t0).unwrap();
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(
            r.handle_timeout(t0 + Duration::from_secs(1 << 40)).count(),
            0
        );
        assert_eq!(r.flush().count(), 1);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any arrival order with any duplicates (before completion) reassembles.
            #[test]
            fn any_permutation_with_duplicates(
                payloads in proptest::collection::vec(
                    proptest::collection::vec(any::<u8>(), 0..20),
                    1..12,
                ),
                extra in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
                shuffle_seed in any::<u64>(),
            ) {
                let total = payloads.len();
                let mut order: Vec<usize> = (0..total).collect();
                order.extend(extra.iter().map(|i| i.index(total)));
                // Deterministic Fisher-Yates from the seed (proptest shrinks the seed).
                let mut state = shuffle_seed | 1;
                for i in (1..order.len()).rev() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let j = usize::try_from(state % (i as u64 + 1)).unwrap();
                    order.swap(i, j);
                }

                let t0 = Instant::now();
                let mut r = Reassembler::new(Config::default());
                let mut seen = vec![false; total];
                let mut result = None;
                for idx in order {
                    let outcome = r.insert(Part {
                        key: 1u8,
                        reference: 77,
                        total: u8::try_from(total).unwrap(),
                        seq: u8::try_from(idx + 1).unwrap(),
                        payload: Bytes::from(payloads[idx].clone()),
                    }, t0).unwrap();
                    if seen[idx] {
                        prop_assert_eq!(outcome, Insert::Duplicate);
                        continue;
                    }
                    seen[idx] = true;
                    if seen.iter().all(|s| *s) {
                        match outcome {
                            Insert::Complete(done) => result = Some(done),
                            other => prop_assert!(false, "expected completion, got {:?}", other),
                        }
                        break;
                    }
                    prop_assert_eq!(outcome, Insert::Pending);
                }
                let done = result.unwrap();
                let got: Vec<Vec<u8>> = done.parts.iter().map(|b| b.to_vec()).collect();
                prop_assert_eq!(got, payloads);
                prop_assert_eq!(r.pending_messages(), 0);
                prop_assert_eq!(r.pending_bytes(), 0);
            }

            /// Garbage never panics, the bounds always hold, and every accepted byte
            /// is accounted for: completed + handed over + still pending.
            #[test]
            fn garbage_respects_bounds_and_loses_nothing(
                ops in proptest::collection::vec(
                    (0u8..3, 0u16..4, 0u8..5, 0u8..6, 0usize..40, 0u64..5_000, any::<bool>()),
                    0..300,
                ),
                max_messages in 0usize..5,
                max_bytes in 0usize..120,
            ) {
                let t0 = Instant::now();
                let mut r = Reassembler::new(Config {
                    timeout: Duration::from_secs(3),
                    max_pending_messages: max_messages,
                    max_pending_bytes: max_bytes,
                });
                let mut now = t0;
                let mut accepted = 0usize;
                let mut delivered = 0usize;
                for (key, reference, total, seq, len, advance_ms, tick) in ops {
                    now += Duration::from_millis(advance_ms);
                    let payload = Bytes::from(vec![0xA5; len]);
                    match r.insert(Part { key, reference, total, seq, payload }, now) {
                        Err(_) => prop_assert!(total == 0 || seq == 0 || seq > total),
                        Ok(Insert::Duplicate) => {}
                        Ok(Insert::Complete(done)) => {
                            accepted += len;
                            delivered += done.payload_len();
                        }
                        Ok(Insert::Pending | Insert::Evicted) => accepted += len,
                    }
                    if tick {
                        for e in r.handle_timeout(now) {
                            prop_assert!(!e.received.is_empty());
                            prop_assert!(e.received.len() < usize::from(e.total));
                            prop_assert!(e.received.windows(2).all(|w| w[0].0 < w[1].0));
                            delivered += e.received.iter().map(|(_, b)| b.len()).sum::<usize>();
                        }
                        if let Some(deadline) = r.poll_timeout() {
                            prop_assert!(deadline > now);
                        }
                    }
                    prop_assert!(r.pending_messages() <= max_messages);
                    prop_assert!(r.pending_bytes() <= max_bytes);
                    prop_assert_eq!(r.poll_timeout().is_some(), r.pending_messages() > 0);
                    prop_assert!(r.order.len() <= 2 * r.pending.len() + COMPACT_SLACK + 1);
                }
                let held_by =
                    |e: Expired<u8>| e.received.iter().map(|(_, b)| b.len()).sum::<usize>();
                let queued: usize = r.handle_timeout(now).map(held_by).sum();
                let held = r.pending_bytes();
                prop_assert_eq!(accepted, delivered + queued + held);
                let flushed: usize = r.flush().map(held_by).sum();
                prop_assert_eq!(flushed, held);
                prop_assert_eq!(r.pending_messages(), 0);
            }
        }
    }
}
