//! The event log: events waiting for the core's acknowledgement, in sled.
//!
//! Why a log of rendered events rather than "derive events from state":
//! the core deduplicates by event id and the signature covers `id` and
//! `created_at`, so the exact bytes must survive retries and restarts. Each
//! record is written once, in the same sled `Db` as the outbox and inbox, so
//! the daemon can write a state change and its event in one atomic batch or
//! transaction (a crash never keeps "delivered" without its event, or the
//! reverse), and its group commit makes both durable with one fsync.
//!
//! Layout of the tree (part of the on-disk format):
//! - key: the event's sequence number, `u64` big-endian, so sled's order is
//!   append order;
//! - value: `[1][type code][order key length u16 BE][order key][event JSON]`.
//!
//! Sequence numbers come from an in-memory counter restored from the last key
//! at open. A number is *reserved* when an event is prepared and *settled*
//! when the [`PreparedEvent`] is dropped, which the caller does after its
//! batch or transaction is applied. The core link reads only below the lowest
//! unsettled number, so two writers racing cannot make it skip, or reorder, an
//! event that becomes visible a moment late. A number that settles without a
//! record (an aborted transaction, or a caller that dropped the handle before
//! writing) is a gap; the core link re-checks gaps now and then, so even
//! misuse delays an event but never loses it.
//!
//! Removing delivered events is not synced by this module: the daemon's next
//! group commit persists it, and a removal lost in a crash only causes a
//! duplicate with the same id.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use sled::IVec;
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use super::event::{self, EventType, NewEvent, StatusFilter};

/// Version byte of the record format.
const RECORD_V1: u8 = 1;

/// Why the event log could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum EventLogError {
    /// sled failed.
    #[error("event log: {0}")]
    Sled(#[from] sled::Error),
    /// An order key longer than the record format allows.
    #[error("order key is {0} bytes long; at most 65535 are allowed")]
    OrderKeyTooLong(usize),
    /// The event's data could not be rendered as JSON.
    #[error("event data could not be rendered: {0}")]
    Json(#[from] serde_json::Error),
}

/// Handle to the event log; cheap to clone, shared by every producer and the
/// core link.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    tree: sled::Tree,
    filter: StatusFilter,
    /// Random per open; part of every event id (see `event`).
    nonce: u32,
    seqs: Mutex<Reservations>,
    /// Sequence numbers below this were issued by an earlier process.
    issued_from: u64,
    /// Signalled whenever a prepared event settles.
    wake: Notify,
    /// Last backlog figure (events not yet acknowledged), see [`EventLog::backlog`].
    backlog: AtomicU64,
    /// Trees whose records are keyed by an event's sequence number and
    /// retired with it, each with its count of live records.
    companions: Vec<Companion>,
    /// Events the core kept refusing (see `dead_letters`), if kept.
    dead: Option<sled::Tree>,
}

/// A tree of records that live exactly as long as their event (the inbox:
/// an inbound message is kept until the core acknowledged its
/// `message.received`).
#[derive(Clone)]
pub struct Companion {
    /// The tree, keyed like the event log (sequence number, big-endian).
    pub tree: sled::Tree,
    /// Live records in it; decremented for each one retired.
    pub live: Arc<AtomicU64>,
    /// The gauge that shows `live`, kept current as records retire.
    pub gauge: Option<&'static str>,
}

struct Reservations {
    next: u64,
    open: BTreeSet<u64>,
}

impl Inner {
    fn reservations(&self) -> MutexGuard<'_, Reservations> {
        // The critical sections cannot panic; a poisoned lock is still consistent.
        self.seqs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reserve(&self) -> u64 {
        let mut seqs = self.reservations();
        let seq = seqs.next;
        seqs.next += 1;
        seqs.open.insert(seq);
        seq
    }

    fn settle(&self, seq: u64) {
        self.reservations().open.remove(&seq);
        self.wake.notify_one();
    }

    /// Every sequence number below this one is settled.
    fn watermark(&self) -> u64 {
        let seqs = self.reservations();
        seqs.open.first().copied().unwrap_or(seqs.next)
    }
}

/// An event rendered and holding its sequence number, ready to be written.
///
/// Write it with [`PreparedEvent::write_to_batch`] or
/// [`PreparedEvent::write_to_tx`] (the same handle may be written again if a
/// transaction retries), apply the batch or transaction, and only then drop
/// the handle (or call [`PreparedEvent::commit`]): dropping it tells the core
/// link that the number is settled. Dropping it earlier does not lose the
/// event, but may delay it and let a later event of its key overtake it.
#[must_use = "write the event into a batch or transaction, apply it, then drop this handle"]
pub struct PreparedEvent {
    log: Arc<Inner>,
    seq: u64,
    id: String,
    key: [u8; 8],
    value: IVec,
}

impl std::fmt::Debug for PreparedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedEvent")
            .field("seq", &self.seq)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PreparedEvent {
    /// Its sequence number in the log.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Its event id (`evt_…`), stable across retries and restarts.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Adds the event's record to `batch` (a batch for the event log's tree).
    pub fn write_to_batch(&self, batch: &mut sled::Batch) {
        batch.insert(&self.key[..], self.value.clone());
    }

    /// Writes the event's record inside a transaction over the event log's
    /// tree (for multi-tree transactions with the outbox or inbox).
    pub fn write_to_tx(&self, tx: &TransactionalTree) -> Result<(), UnabortableTransactionError> {
        tx.insert(&self.key[..], self.value.clone()).map(drop)
    }

    /// Settles the sequence number: call after the write is applied. Same as
    /// dropping the handle, spelled out.
    pub fn commit(self) {}
}

impl Drop for PreparedEvent {
    fn drop(&mut self) {
        self.log.settle(self.seq);
    }
}

/// An event written by [`EventLog::append`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Its sequence number.
    pub seq: u64,
    /// Its event id.
    pub id: String,
}

/// What [`EventLog::read`] covered.
#[derive(Debug, Default)]
pub(crate) struct ReadOutcome {
    /// Where the next read starts.
    pub next: u64,
    /// True when everything readable was read (the limit was not hit).
    pub exhausted: bool,
    /// Settled numbers, issued by this process, with no record.
    pub gaps: Vec<Range<u64>>,
}

impl EventLog {
    /// Opens the log over `tree` (owned by the daemon's `Db`); `filter` is
    /// `[core] status_events`.
    pub fn open(tree: sled::Tree, filter: StatusFilter) -> Result<EventLog, EventLogError> {
        EventLog::open_with(tree, filter, Vec::new())
    }

    /// Opens the log with companion trees: a record in one of them keyed by
    /// an event's sequence number is removed when the core acknowledges
    /// that event, never before.
    pub fn open_with(
        tree: sled::Tree,
        filter: StatusFilter,
        companions: Vec<Companion>,
    ) -> Result<EventLog, EventLogError> {
        let last = edge_seq(tree.iter().rev())?;
        let first = edge_seq(tree.iter())?;
        let next = last.map_or(1, |seq| seq.saturating_add(1));
        let backlog = match (first, last) {
            (Some(first), Some(last)) => last - first + 1,
            _ => 0,
        };
        Ok(EventLog {
            inner: Arc::new(Inner {
                tree,
                filter,
                nonce: rand::random(),
                seqs: Mutex::new(Reservations {
                    next,
                    open: BTreeSet::new(),
                }),
                issued_from: next,
                wake: Notify::new(),
                backlog: AtomicU64::new(backlog),
                companions,
                dead: None,
            }),
        })
    }

    /// Keeps events the core kept refusing in `dead` instead of retrying
    /// them forever. Call before the log is shared (cloned).
    pub fn with_dead_letters(mut self, dead: sled::Tree) -> EventLog {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.dead = Some(dead);
        }
        self
    }

    /// The dead-letter tree, if there is one.
    pub(crate) fn dead_tree(&self) -> Option<&sled::Tree> {
        self.inner.dead.as_ref()
    }

    /// Moves event `seq` into the dead letters with `meta` (one
    /// transaction); its companion records stay, under its number. Returns
    /// false without a dead-letter tree or when the event is gone.
    pub(crate) fn park(&self, seq: u64, meta: &[u8]) -> Result<bool, EventLogError> {
        let Some(dead) = &self.inner.dead else {
            return Ok(false);
        };
        let key = seq.to_be_bytes();
        let parked = (&self.inner.tree, dead)
            .transaction(|(events, dead)| {
                let Some(record) = events.remove(&key[..])? else {
                    return Ok(false);
                };
                let len = u32::try_from(meta.len()).unwrap_or(u32::MAX);
                let mut value = Vec::with_capacity(4 + meta.len() + record.len());
                value.extend_from_slice(&len.to_be_bytes());
                value.extend_from_slice(meta);
                value.extend_from_slice(&record);
                dead.insert(&key[..], value)?;
                Ok::<bool, ConflictableTransactionError<()>>(true)
            })
            .map_err(tx_error)?;
        Ok(parked)
    }

    /// Puts dead letter `seq` back at the end of the log under a new
    /// sequence number, with the same bytes (the same event id, for the
    /// core's deduplication), moving its companion records along, in one
    /// transaction. Returns the new number, or `None` if there is no such
    /// dead letter.
    pub(crate) fn requeue(&self, seq: u64) -> Result<Option<u64>, EventLogError> {
        let Some(dead) = &self.inner.dead else {
            return Ok(None);
        };
        let old = seq.to_be_bytes();
        let Some(value) = dead.get(old)? else {
            return Ok(None);
        };
        let Some(record) = dead_record(&value) else {
            return Ok(None);
        };
        let record = record.to_vec();
        let reserved = Reserved {
            log: &self.inner,
            seq: self.inner.reserve(),
        };
        let new = reserved.seq.to_be_bytes();
        let mut trees: Vec<&sled::Tree> = vec![&self.inner.tree, dead];
        trees.extend(self.inner.companions.iter().map(|c| &c.tree));
        let moved = trees
            .as_slice()
            .transaction(|trees| {
                let (events, rest) = trees
                    .split_first()
                    .ok_or(sled::transaction::ConflictableTransactionError::Abort(()))?;
                let (dead, companions) = rest
                    .split_first()
                    .ok_or(sled::transaction::ConflictableTransactionError::Abort(()))?;
                if dead.remove(&old[..])?.is_none() {
                    return Ok(false);
                }
                events.insert(&new[..], record.as_slice())?;
                for companion in companions {
                    if let Some(kept) = companion.remove(&old[..])? {
                        companion.insert(&new[..], kept)?;
                    }
                }
                Ok::<bool, ConflictableTransactionError<()>>(true)
            })
            .map_err(tx_error)?;
        Ok(moved.then_some(reserved.seq))
    }

    /// The `status_events` filter in force.
    pub fn status_filter(&self) -> StatusFilter {
        self.inner.filter
    }

    /// Renders `event` with a fresh id and `created_at`, and reserves its
    /// sequence number; `None` if `[core] status_events` filters it out.
    pub fn prepare(&self, event: NewEvent) -> Result<Option<PreparedEvent>, EventLogError> {
        if !self.inner.filter.admits(&event) {
            return Ok(None);
        }
        let order_key = event.order_key().as_bytes();
        let key_len = u16::try_from(order_key.len())
            .map_err(|_| EventLogError::OrderKeyTooLong(order_key.len()))?;
        let (millis, created_at) = event::timestamp(SystemTime::now());
        let seq = self.inner.reserve();
        // From here on the reservation must be released even on error: the
        // handle does that when it drops, so build it before anything fails.
        let mut prepared = PreparedEvent {
            log: self.inner.clone(),
            seq,
            id: event::event_id(millis, self.inner.nonce, seq),
            key: seq.to_be_bytes(),
            value: IVec::default(),
        };
        let json = event::render(&prepared.id, event.event_type(), &created_at, event.data())?;
        let mut value = Vec::with_capacity(4 + order_key.len() + json.len());
        value.push(RECORD_V1);
        value.push(event.event_type().code());
        value.extend_from_slice(&key_len.to_be_bytes());
        value.extend_from_slice(order_key);
        value.extend_from_slice(&json);
        prepared.value = IVec::from(value);
        Ok(Some(prepared))
    }

    /// Appends one event on its own (no other state changes with it). Not
    /// durable by itself: the daemon's group commit makes it so.
    pub fn append(&self, event: NewEvent) -> Result<Option<Appended>, EventLogError> {
        let Some(prepared) = self.prepare(event)? else {
            return Ok(None);
        };
        self.inner
            .tree
            .insert(&prepared.key[..], prepared.value.clone())?;
        Ok(Some(Appended {
            seq: prepared.seq,
            id: prepared.id.clone(),
        }))
    }

    /// Removes delivered events.
    ///
    /// One `remove` each, deliberately not a `sled::Batch`: sled 0.34 makes
    /// every batch and transaction atomic by rolling its IO buffer
    /// (`pin_log`), which writes and `sync_file_range`s the log each time;
    /// removals need no atomicity (a removal lost in a crash is a duplicate
    /// with the same id), so they ride along in the normal buffers.
    pub fn ack_many(&self, seqs: impl IntoIterator<Item = u64>) -> Result<(), EventLogError> {
        for seq in seqs {
            let key = seq.to_be_bytes();
            self.inner.tree.remove(key)?;
            for companion in &self.inner.companions {
                if companion.tree.remove(key)?.is_some() {
                    let live = companion
                        .live
                        .fetch_sub(1, Ordering::Relaxed)
                        .saturating_sub(1);
                    if let Some(gauge) = companion.gauge {
                        metrics::gauge!(gauge).set(live as f64);
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes one delivered event.
    pub fn ack(&self, seq: u64) -> Result<(), EventLogError> {
        self.ack_many([seq])
    }

    /// Events appended and not yet acknowledged, as last counted by the core
    /// link (exact while its in-memory window holds the whole backlog, an
    /// upper bound beyond that); before the core link runs, an upper bound
    /// from the first and last sequence numbers on disk.
    pub fn backlog(&self) -> u64 {
        self.inner.backlog.load(Ordering::Relaxed)
    }

    /// Counts the records on disk: O(n), for tests and diagnostics.
    pub fn count_on_disk(&self) -> usize {
        self.inner.tree.len()
    }

    pub(crate) fn set_backlog(&self, backlog: u64) {
        self.inner.backlog.store(backlog, Ordering::Relaxed);
    }

    /// The next sequence number to be issued.
    pub(crate) fn next_seq(&self) -> u64 {
        self.inner.reservations().next
    }

    /// Resolves after a prepared event settles (or at once if one settled
    /// since the last wait).
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.inner.wake.notified()
    }

    /// Reads up to `limit` records from `from` on, in sequence order, below
    /// the settled watermark, handing each to `each(seq, type, order key,
    /// event JSON)`. Corrupt records are logged and skipped (left on disk for
    /// inspection).
    pub(crate) fn read(
        &self,
        from: u64,
        limit: usize,
        mut each: impl FnMut(u64, EventType, &str, &[u8]),
    ) -> Result<ReadOutcome, EventLogError> {
        // The watermark first: every record below it was written before this
        // point, so the scan below cannot miss one that is about to appear.
        let watermark = self.inner.watermark();
        let mut outcome = ReadOutcome {
            next: from,
            exhausted: true,
            gaps: Vec::new(),
        };
        if from >= watermark {
            return Ok(outcome);
        }
        let mut expected = from;
        let mut taken = 0usize;
        for item in self
            .inner
            .tree
            .range(from.to_be_bytes()..watermark.to_be_bytes())
        {
            let (key, value) = item?;
            let Some(seq) = seq_of(&key) else {
                tracing::warn!(key = ?key, "event log: foreign key skipped");
                continue;
            };
            if taken == limit {
                outcome.exhausted = false;
                break;
            }
            if seq > expected {
                self.note_gap(&mut outcome.gaps, expected..seq);
            }
            decode_into(seq, &value, &mut each);
            taken += 1;
            expected = seq + 1;
        }
        if outcome.exhausted {
            self.note_gap(&mut outcome.gaps, expected..watermark);
            outcome.next = watermark;
        } else {
            outcome.next = expected;
        }
        Ok(outcome)
    }

    /// Reads one record, if present (re-checking a gap).
    pub(crate) fn read_one(
        &self,
        seq: u64,
        mut each: impl FnMut(u64, EventType, &str, &[u8]),
    ) -> Result<bool, EventLogError> {
        match self.inner.tree.get(seq.to_be_bytes())? {
            Some(value) => {
                decode_into(seq, &value, &mut each);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Records the part of `range` issued by this process: below that, a
    /// missing number is an event acknowledged by an earlier process.
    fn note_gap(&self, gaps: &mut Vec<Range<u64>>, range: Range<u64>) {
        let start = range.start.max(self.inner.issued_from);
        if start < range.end {
            gaps.push(start..range.end);
        }
    }
}

/// A reserved sequence number, settled when dropped (after its write).
struct Reserved<'a> {
    log: &'a Inner,
    seq: u64,
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        self.log.settle(self.seq);
    }
}

fn tx_error(error: sled::transaction::TransactionError<()>) -> EventLogError {
    match error {
        sled::transaction::TransactionError::Storage(e) => EventLogError::Sled(e),
        sled::transaction::TransactionError::Abort(()) => {
            EventLogError::Sled(sled::Error::Unsupported("transaction aborted".into()))
        }
    }
}

/// The metadata and the event record of a dead letter's stored value.
pub(crate) fn dead_parts(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = value.split_first_chunk::<4>()?;
    rest.split_at_checked(u32::from_be_bytes(*len) as usize)
}

fn dead_record(value: &[u8]) -> Option<&[u8]> {
    dead_parts(value).map(|(_, record)| record)
}

/// A stored event record's type, order key and JSON.
pub(crate) fn decode_record(value: &[u8]) -> Option<(EventType, &str, &[u8])> {
    decode(value)
}

fn seq_of(key: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(key).ok().map(u64::from_be_bytes)
}

/// The first sequence-number key met in `iter` (the first or, reversed, the last).
fn edge_seq(
    iter: impl Iterator<Item = sled::Result<(IVec, IVec)>>,
) -> Result<Option<u64>, EventLogError> {
    for item in iter {
        let (key, _) = item?;
        if let Some(seq) = seq_of(&key) {
            return Ok(Some(seq));
        }
    }
    Ok(None)
}

/// Decodes a record, hands it to `each`, or logs why it cannot.
fn decode_into(seq: u64, value: &[u8], each: &mut impl FnMut(u64, EventType, &str, &[u8])) {
    match decode(value) {
        Some((event_type, order_key, json)) => each(seq, event_type, order_key, json),
        None => tracing::error!(seq, len = value.len(), "event log: corrupt record skipped"),
    }
}

fn decode(value: &[u8]) -> Option<(EventType, &str, &[u8])> {
    let (&version, rest) = value.split_first()?;
    if version != RECORD_V1 {
        return None;
    }
    let (&code, rest) = rest.split_first()?;
    let event_type = EventType::from_code(code)?;
    let (len, rest) = rest.split_first_chunk::<2>()?;
    let (order_key, json) = rest.split_at_checked(usize::from(u16::from_be_bytes(*len)))?;
    Some((event_type, std::str::from_utf8(order_key).ok()?, json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sled::Transactional;

    fn temp_tree() -> (tempfile::TempDir, sled::Db, sled::Tree) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new()
            .path(dir.path())
            .temporary(true)
            .open()
            .unwrap();
        let tree = db.open_tree("events").unwrap();
        (dir, db, tree)
    }

    fn status(key: &str, status: &str) -> NewEvent {
        NewEvent::new(
            EventType::MessageStatus,
            key,
            json!({"id": key, "status": status, "error": null, "carrier_message_ids": []}),
        )
    }

    type Read = (u64, EventType, String, Vec<u8>);

    fn read_all(log: &EventLog, from: u64) -> (Vec<Read>, ReadOutcome) {
        let mut out = Vec::new();
        let outcome = log
            .read(from, usize::MAX, |seq, t, k, j| {
                out.push((seq, t, k.to_owned(), j.to_vec()))
            })
            .unwrap();
        (out, outcome)
    }

    #[test]
    fn record_roundtrip_and_rejects_garbage() {
        let (_dir, _db, tree) = temp_tree();
        let log = EventLog::open(tree, StatusFilter::all()).unwrap();
        let a = log.append(status("msg_1", "delivered")).unwrap().unwrap();
        let (events, outcome) = read_all(&log, 0);
        assert_eq!(events.len(), 1);
        let (seq, t, key, json) = &events[0];
        assert_eq!(
            (*seq, *t, key.as_str()),
            (a.seq, EventType::MessageStatus, "msg_1")
        );
        let v: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(v["id"], a.id.as_str());
        assert_eq!(v["type"], "message.status");
        assert_eq!(v["data"]["status"], "delivered");
        assert!(v["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(outcome.exhausted);
        assert!(outcome.gaps.is_empty());

        for bad in [
            &b""[..],
            b"\x02\x01\x00\x00{}",
            b"\x01\x09\x00\x00{}",
            b"\x01\x01\x00\x05ab",
            b"\x01\x01\x00\x02\xff\xfe{}",
        ] {
            assert!(decode(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            decode(b"\x01\x02\x00\x01k{}"),
            Some((EventType::MessageReceived, "k", &b"{}"[..]))
        );
    }

    #[test]
    fn filtered_events_are_not_stored() {
        let (_dir, _db, tree) = temp_tree();
        let log = EventLog::open(tree, StatusFilter::only(["delivered"]).unwrap()).unwrap();
        assert!(log.append(status("m", "submitted")).unwrap().is_none());
        assert!(log.append(status("m", "delivered")).unwrap().is_some());
        assert_eq!(log.count_on_disk(), 1);
    }

    #[test]
    fn reads_stop_below_unsettled_reservations() {
        let (_dir, _db, tree) = temp_tree();
        let log = EventLog::open(tree.clone(), StatusFilter::all()).unwrap();
        let slow = log.prepare(status("a", "submitted")).unwrap().unwrap();
        let fast = log.append(status("a", "delivered")).unwrap().unwrap();
        assert!(slow.seq() < fast.seq);
        // The later event is on disk, but the earlier number is not settled.
        let (events, outcome) = read_all(&log, 0);
        assert!(events.is_empty());
        assert_eq!(outcome.next, 1);
        let mut batch = sled::Batch::default();
        slow.write_to_batch(&mut batch);
        tree.apply_batch(batch).unwrap();
        slow.commit();
        let (events, outcome) = read_all(&log, 0);
        assert_eq!(events.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(outcome.next, 3);
    }

    #[test]
    fn abandoned_reservations_are_reported_as_gaps() {
        let (_dir, _db, tree) = temp_tree();
        let log = EventLog::open(tree, StatusFilter::all()).unwrap();
        log.append(status("a", "queued")).unwrap();
        drop(log.prepare(status("a", "sending")).unwrap());
        log.append(status("a", "submitted")).unwrap();
        drop(log.prepare(status("a", "delivered")).unwrap());
        let (events, outcome) = read_all(&log, 0);
        assert_eq!(events.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(outcome.gaps, vec![2..3, 4..5]);
        assert_eq!(outcome.next, 5);
        let mut found = false;
        assert!(!log.read_one(2, |_, _, _, _| found = true).unwrap());
        assert!(log.read_one(3, |_, _, _, _| found = true).unwrap());
        assert!(found);
    }

    #[test]
    fn limit_and_restart_continue_the_sequence() {
        let (_dir, db, tree) = temp_tree();
        let log = EventLog::open(tree, StatusFilter::all()).unwrap();
        let ids: Vec<Appended> = (0..5)
            .map(|i| {
                log.append(status(&format!("m{i}"), "queued"))
                    .unwrap()
                    .unwrap()
            })
            .collect();
        let mut seen = Vec::new();
        let outcome = log.read(0, 2, |seq, _, _, _| seen.push(seq)).unwrap();
        assert_eq!(seen, [1, 2]);
        assert!(!outcome.exhausted);
        let outcome = log
            .read(outcome.next, 10, |seq, _, _, _| seen.push(seq))
            .unwrap();
        assert_eq!(seen, [1, 2, 3, 4, 5]);
        assert!(outcome.exhausted);
        log.ack_many([1, 3]).unwrap();
        assert_eq!(log.count_on_disk(), 3);
        drop(log);

        let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
        assert_eq!(log.backlog(), 4); // 2..=5, an upper bound
        let next = log.append(status("m", "queued")).unwrap().unwrap();
        assert_eq!(next.seq, 6);
        assert!(ids.iter().all(|a| a.id != next.id));
        let (events, outcome) = read_all(&log, 0);
        assert_eq!(events.iter().map(|e| e.0).collect::<Vec<_>>(), [2, 4, 5, 6]);
        // Holes left by the earlier process are not gaps.
        assert!(outcome.gaps.is_empty());
        // Same bytes as first written.
        let again: serde_json::Value = serde_json::from_slice(&events[0].3).unwrap();
        assert_eq!(again["id"], ids[1].id.as_str());
    }

    #[test]
    fn transactions_write_prepared_events_atomically_with_other_trees() {
        let (_dir, db, tree) = temp_tree();
        let outbox = db.open_tree("outbox").unwrap();
        let log = EventLog::open(tree.clone(), StatusFilter::all()).unwrap();
        let prepared = log.prepare(status("m1", "delivered")).unwrap().unwrap();
        let result: sled::transaction::TransactionResult<(), ()> =
            (&outbox, &tree).transaction(|(o, e)| {
                o.insert("m1", "delivered")?;
                prepared.write_to_tx(e)?;
                Ok(())
            });
        result.unwrap();
        prepared.commit();
        assert_eq!(
            outbox.get("m1").unwrap().as_deref(),
            Some(&b"delivered"[..])
        );
        let (events, _) = read_all(&log, 0);
        assert_eq!(events.len(), 1);

        let order_key = "k".repeat(70_000);
        assert!(matches!(
            log.prepare(NewEvent::new(
                EventType::SessionStarted,
                order_key,
                json!({})
            )),
            Err(EventLogError::OrderKeyTooLong(70_000))
        ));
    }
}
