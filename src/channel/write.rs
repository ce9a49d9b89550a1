//! One atomic change to the channel's trees: sessions with their pair and
//! deadline indexes, transcript entries and consent records, collected
//! before a sled transaction and applied inside it next to the inbox, the
//! event log and the outbox.

use serde::Serialize;
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use super::consent::{ConsentRecord, ConsentRegistry};
use super::session::Session;
use super::session_trees::SessionTrees;
use super::transcript::{TranscriptEntry, transcript_key};

/// The channel's trees inside a transaction.
pub struct ChannelTx<'a> {
    /// `sessions`.
    pub sessions: &'a TransactionalTree,
    /// `session_pairs`.
    pub pairs: &'a TransactionalTree,
    /// `session_deadlines`.
    pub deadlines: &'a TransactionalTree,
    /// `transcripts`.
    pub transcripts: &'a TransactionalTree,
    /// `consents`.
    pub consents: &'a TransactionalTree,
}

/// Writes to the channel's trees, applied together.
#[derive(Debug, Default)]
pub struct ChannelWrite {
    sessions: Vec<(Vec<u8>, Vec<u8>)>,
    pairs: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    deadlines: Vec<(Vec<u8>, bool)>,
    transcripts: Vec<(Vec<u8>, Vec<u8>)>,
    consents: Vec<(Vec<u8>, Vec<u8>)>,
}

fn encode(value: &impl Serialize) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(value)
}

impl ChannelWrite {
    /// Stores `after`, a new state of a session that was `before` (`None`:
    /// new), and keeps the pair and deadline indexes in step.
    pub fn save_session(
        &mut self,
        before: Option<&Session>,
        after: &Session,
    ) -> Result<(), serde_json::Error> {
        if let Some(before) = before.filter(|s| s.is_open()) {
            self.deadlines.push((
                SessionTrees::deadline_key(before.deadline(), &before.id),
                false,
            ));
        }
        let pair = SessionTrees::pair_key(&after.number, &after.customer);
        if after.is_open() {
            self.deadlines.push((
                SessionTrees::deadline_key(after.deadline(), &after.id),
                true,
            ));
            self.pairs.push((pair, Some(after.id.as_bytes().to_vec())));
        } else {
            self.pairs.push((pair, None));
        }
        self.sessions
            .push((after.id.as_bytes().to_vec(), encode(after)?));
        Ok(())
    }

    /// Removes a deadline index entry whose session no longer has that
    /// deadline.
    pub fn drop_deadline(&mut self, deadline: u64, id: &str) {
        self.deadlines
            .push((SessionTrees::deadline_key(deadline, id), false));
    }

    /// Adds entry number `seq` to a session's transcript.
    pub fn add_transcript(
        &mut self,
        session_id: &str,
        seq: u64,
        entry: &TranscriptEntry,
    ) -> Result<(), serde_json::Error> {
        self.transcripts
            .push((transcript_key(session_id, seq), encode(entry)?));
        Ok(())
    }

    /// Records that `number` sent its consent message to `customer`.
    pub fn record_consent(
        &mut self,
        number: &str,
        customer: &str,
        record: &ConsentRecord,
    ) -> Result<(), serde_json::Error> {
        self.consents
            .push((ConsentRegistry::key(number, customer), encode(record)?));
        Ok(())
    }

    /// Applies everything inside a transaction, in the order collected.
    pub fn apply(&self, tx: &ChannelTx<'_>) -> Result<(), UnabortableTransactionError> {
        for (key, insert) in &self.deadlines {
            if *insert {
                tx.deadlines.insert(key.as_slice(), &[][..])?;
            } else {
                tx.deadlines.remove(key.as_slice())?;
            }
        }
        for (key, value) in &self.pairs {
            match value {
                Some(id) => tx.pairs.insert(key.as_slice(), id.as_slice())?,
                None => tx.pairs.remove(key.as_slice())?,
            };
        }
        for (key, value) in &self.sessions {
            tx.sessions.insert(key.as_slice(), value.as_slice())?;
        }
        for (key, value) in &self.transcripts {
            tx.transcripts.insert(key.as_slice(), value.as_slice())?;
        }
        for (key, value) in &self.consents {
            tx.consents.insert(key.as_slice(), value.as_slice())?;
        }
        Ok(())
    }
}
