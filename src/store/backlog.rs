//! The index of unfinished outbound messages, so the backlog can live on
//! disk: the dispatcher reads messages as their turn comes instead of
//! holding every waiting record in memory, and a restart reads what is
//! unfinished instead of the whole history.
//!
//! One tree, `outbox_index`, two kinds of key:
//! - `n` number `\0` id → customer: a message to send (`queued` or
//!   `sending`), per business number in acceptance order (ids increase);
//! - `r` id → (): a `submitted` message whose receipts are still waited
//!   for.
//!
//! Every key costs a sled write when it comes and one when it goes, on the
//! hottest path, so there are no more of them than a restart and a backlog
//! need (a per-conversation index was tried and cost a quarter of the
//! end-to-end rate; a conversation whose later messages were left on disk
//! reads them from its number's keys instead, in bounded steps).
//!
//! [`Stage::of`] says which keys a record needs, and [`Store::put_message`]
//! keeps them in step with every record write: keys a record gains are
//! written before it, keys it loses after it. sled's log is replayed as a
//! prefix after a crash, so a record is never on disk without the keys
//! that make it found; a key left behind by a crash between the two writes
//! names a record that moved on, and the reader drops it when it meets it.

use std::ops::Bound;

use super::outbox::{MessageRecord, MessageStatus};
use super::{Store, StoreError};

const TO_SEND: u8 = b'n';
const AWAITING: u8 = b'r';
/// Set once the index covers the whole outbox (built from it on the first
/// start of a version that has it).
const BUILT: &[u8] = b"m:built";

/// Where a record stands, as the index sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `queued` or `sending`: to be sent.
    ToSend,
    /// `submitted`, receipts still waited for.
    AwaitingReceipts,
    /// Final, or no longer waited for: in no index.
    Done,
}

impl Stage {
    /// The stage of `record`.
    pub fn of(record: &MessageRecord) -> Stage {
        match record.status {
            MessageStatus::Queued | MessageStatus::Sending => Stage::ToSend,
            MessageStatus::Submitted if !record.receipt_timed_out => Stage::AwaitingReceipts,
            _ => Stage::Done,
        }
    }
}

/// A message to send, as the number's index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogEntry {
    /// The message id.
    pub id: String,
    /// The customer.
    pub to: String,
}

fn to_send_key(from: &str, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + from.len() + id.len());
    key.push(TO_SEND);
    key.extend_from_slice(from.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    key
}

fn awaiting_key(id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + id.len());
    key.push(AWAITING);
    key.extend_from_slice(id.as_bytes());
    key
}

/// The first key past every key that starts with `prefix` (whose last
/// byte is a `\0` separator or a kind byte, never 0xff).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

fn text(bytes: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::Corrupt {
        tree: "outbox_index",
        detail: "a key is not UTF-8".into(),
    })
}

impl Store {
    /// Writes (inserts or replaces) a record, and its index keys. Not yet
    /// durable: await [`Store::group_commit`] before acknowledging it.
    pub fn put_message(&self, record: &MessageRecord) -> Result<(), StoreError> {
        self.write_message(record, None)
    }

    /// Writes a record whose stage was `from` before this change: only the
    /// index keys that change are written (none when the stage stays).
    pub fn put_message_from(&self, record: &MessageRecord, from: Stage) -> Result<(), StoreError> {
        self.write_message(record, Some(from))
    }

    fn write_message(&self, record: &MessageRecord, from: Option<Stage>) -> Result<(), StoreError> {
        let value = super::outbox::encode(record)?;
        let id = record.id.as_str();
        let to = Stage::of(record);
        let had = |stage| from.is_none_or(|from| from == stage);
        if from == Some(to) {
            self.outbox.insert(id.as_bytes(), value)?;
            return Ok(());
        }
        // Keys gained before the record, keys lost after it.
        match to {
            Stage::ToSend => {
                self.outbox_index
                    .insert(to_send_key(&record.from, id), record.to.as_bytes())?;
            }
            Stage::AwaitingReceipts => {
                self.outbox_index.insert(awaiting_key(id), &[])?;
            }
            Stage::Done => {}
        }
        self.outbox.insert(id.as_bytes(), value)?;
        if to != Stage::ToSend && had(Stage::ToSend) {
            self.outbox_index.remove(to_send_key(&record.from, id))?;
        }
        if to != Stage::AwaitingReceipts && had(Stage::AwaitingReceipts) {
            self.outbox_index.remove(awaiting_key(id))?;
        }
        Ok(())
    }

    /// Writes a newly accepted record's index keys, before the record
    /// itself is written (see [`Store::stage_message`]). Plain inserts, not
    /// a batch: sled rolls its IO buffer for every batch, which costs more
    /// than the keys.
    pub fn index_new_message(&self, record: &MessageRecord) -> Result<(), StoreError> {
        for (key, value) in Store::new_message_index_keys(record) {
            self.outbox_index.insert(key, value)?;
        }
        Ok(())
    }

    /// The index key of a newly accepted record, for a transaction.
    pub fn new_message_index_keys(record: &MessageRecord) -> [(Vec<u8>, Vec<u8>); 1] {
        [(
            to_send_key(&record.from, &record.id),
            record.to.clone().into_bytes(),
        )]
    }

    /// The business numbers with messages to send.
    pub fn backlog_numbers(&self) -> Result<Vec<String>, StoreError> {
        let mut numbers = Vec::new();
        let mut from = vec![TO_SEND];
        loop {
            let next = self
                .outbox_index
                .range::<&[u8], _>((Bound::Included(from.as_slice()), Bound::Unbounded))
                .next()
                .transpose()?;
            let Some((key, _)) = next else { break };
            if key.first() != Some(&TO_SEND) {
                break;
            }
            let Some(end) = key.iter().position(|&b| b == 0) else {
                break;
            };
            numbers.push(text(&key[1..end])?);
            from = prefix_end(&key[..=end]);
        }
        Ok(numbers)
    }

    /// Up to `limit` messages of `from` to send, in acceptance order, after
    /// the message `after` (from the start without one).
    pub fn backlog_of_number(
        &self,
        from: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<BacklogEntry>, StoreError> {
        let start = match after {
            Some(id) => Bound::Excluded(to_send_key(from, id)),
            None => Bound::Included(to_send_key(from, "")),
        };
        let end = Bound::Excluded(prefix_end(&to_send_key(from, "")));
        let prefix_len = from.len() + 2;
        let mut out = Vec::new();
        for item in self
            .outbox_index
            .range::<Vec<u8>, _>((start, end))
            .take(limit)
        {
            let (key, to) = item?;
            out.push(BacklogEntry {
                id: text(&key[prefix_len..])?,
                to: text(&to)?,
            });
        }
        Ok(out)
    }

    /// Whether the message `id` of `from` is still to be sent.
    pub fn is_to_send(&self, from: &str, id: &str) -> Result<bool, StoreError> {
        Ok(self.outbox_index.contains_key(to_send_key(from, id))?)
    }

    /// Drops the to-send key of a record that moved on (a crash came
    /// between its write and the index's).
    pub fn drop_stale_to_send(&self, from: &str, id: &str) -> Result<(), StoreError> {
        self.outbox_index.remove(to_send_key(from, id))?;
        Ok(())
    }

    /// The ids of the messages whose receipts are waited for.
    pub fn awaiting_receipts(&self) -> impl Iterator<Item = Result<String, StoreError>> + '_ {
        self.outbox_index.scan_prefix([AWAITING]).map(|item| {
            item.map_err(StoreError::from)
                .and_then(|(k, _)| text(&k[1..]))
        })
    }

    /// Drops the awaiting key of a record that moved on.
    pub fn drop_stale_awaiting(&self, id: &str) -> Result<(), StoreError> {
        self.outbox_index.remove(awaiting_key(id))?;
        Ok(())
    }

    /// How many messages accepted before the message id `below` are to
    /// send: one pass over their keys (about a second per million, so the
    /// dispatcher runs it off its own thread while the API already
    /// listens; later messages are counted as they are accepted).
    pub fn count_to_send(&self, below: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.outbox_index.scan_prefix([TO_SEND]) {
            let (key, _) = item?;
            let id_start = key
                .iter()
                .position(|&b| b == 0)
                .map_or(key.len(), |p| p + 1);
            if &key[id_start..] < below.as_bytes() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// How many messages each business number has to send (one pass over
    /// every to-send key: about a second per million queued).
    pub fn to_send_per_number(
        &self,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let mut counts = std::collections::BTreeMap::new();
        let mut current: Option<(Vec<u8>, u64)> = None;
        for item in self.outbox_index.scan_prefix([TO_SEND]) {
            let (key, _) = item?;
            let Some(end) = key.iter().position(|&b| b == 0) else {
                continue;
            };
            let number = &key[1..end];
            match &mut current {
                Some((last, n)) if last.as_slice() == number => *n += 1,
                _ => {
                    if let Some((last, n)) = current.replace((number.to_vec(), 1)) {
                        counts.insert(text(&last)?, n);
                    }
                }
            }
        }
        if let Some((last, n)) = current {
            counts.insert(text(&last)?, n);
        }
        Ok(counts)
    }

    /// Builds the index from the outbox if this database predates it (one
    /// pass over the whole outbox, once).
    pub fn build_outbox_index(&self) -> Result<usize, StoreError> {
        if self.outbox_index.contains_key(BUILT)? {
            return Ok(0);
        }
        let mut indexed = 0;
        let mut batch = sled::Batch::default();
        for item in self.outbox.iter() {
            let (_, value) = item?;
            let record = super::outbox::decode(&value)?;
            match Stage::of(&record) {
                Stage::ToSend => {
                    for (key, value) in Store::new_message_index_keys(&record) {
                        batch.insert(key, value);
                    }
                    indexed += 1;
                }
                Stage::AwaitingReceipts => {
                    batch.insert(awaiting_key(&record.id), &[]);
                    indexed += 1;
                }
                Stage::Done => {}
            }
        }
        batch.insert(BUILT, &[]);
        self.outbox_index.apply_batch(batch)?;
        Ok(indexed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::MessageRecord;

    fn record(n: u64, from: &str, to: &str) -> MessageRecord {
        MessageRecord::queued(
            n,
            from.into(),
            to.into(),
            "hi".into(),
            "gsm7",
            1,
            "c".into(),
            60_000,
        )
    }

    #[test]
    fn keys_follow_the_record_through_its_stages() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).expect("open");
        let a = record(1, "+1555", "+1666");
        let b = record(2, "+1555", "+1777");
        let c = record(3, "+1555", "+1666");
        let d = record(4, "+1999", "+1666");
        for r in [&a, &b, &c, &d] {
            store.put_message(r).expect("put");
        }
        assert_eq!(
            store.backlog_numbers().expect("numbers"),
            ["+1555", "+1999"]
        );
        let ids = |v: Vec<BacklogEntry>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.backlog_of_number("+1555", None, 10).expect("scan")),
            [a.id.clone(), b.id.clone(), c.id.clone()]
        );
        assert_eq!(
            ids(store
                .backlog_of_number("+1555", Some(&a.id), 1)
                .expect("scan")),
            vec![b.id.clone()]
        );

        let mut a = a;
        a.status = MessageStatus::Submitted;
        store.put_message(&a).expect("put");
        assert!(!store.is_to_send("+1555", &a.id).expect("read"));
        assert_eq!(
            store
                .awaiting_receipts()
                .collect::<Result<Vec<_>, _>>()
                .expect("scan"),
            [a.id.clone()]
        );
        assert_eq!(
            store.count_to_send("msg_ffffffffffffffff").expect("count"),
            3
        );
        assert_eq!(store.count_to_send(&c.id).expect("count"), 1);
        let per_number = store.to_send_per_number().expect("count");
        assert_eq!(
            per_number.into_iter().collect::<Vec<_>>(),
            [("+1555".to_owned(), 2), ("+1999".to_owned(), 1)]
        );
        a.status = MessageStatus::Delivered;
        store.put_message(&a).expect("put");
        assert!(store.awaiting_receipts().next().is_none());
        assert_eq!(
            ids(store.backlog_of_number("+1555", None, 10).expect("scan")),
            [b.id.clone(), c.id.clone()]
        );
    }

    #[test]
    fn an_older_database_gets_its_index_built_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).expect("open");
        let a = record(1, "+1555", "+1666");
        let mut b = record(2, "+1555", "+1666");
        b.status = MessageStatus::Delivered;
        for r in [&a, &b] {
            store
                .outbox
                .insert(
                    r.id.as_bytes(),
                    crate::store::outbox::encode(r).expect("encode"),
                )
                .expect("insert");
        }
        assert_eq!(store.build_outbox_index().expect("build"), 1);
        assert_eq!(store.build_outbox_index().expect("build"), 0);
        assert_eq!(store.backlog_numbers().expect("numbers"), ["+1555"]);
    }
}
