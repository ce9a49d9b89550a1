//! Where sessions live in sled, and how one task finds the next one due.
//!
//! Three trees: `sessions` (id → [`Session`], open and ended, so
//! `GET /v1/sessions/{id}` answers for ended ones too), `session_pairs`
//! (business number and customer → the id of their open session: one open
//! session per pair) and `session_deadlines` (deadline, big-endian
//! milliseconds, then the id → nothing). The deadline index is ordered by
//! time, so the earliest deadline of any number of sessions is its first
//! key, and the sessions due at `now` are a range scan from the start. A
//! session's index entry is replaced in the same transaction that changes
//! its deadline ([`super::ChannelWrite`]), so the index never disagrees
//! with the records.

use super::session::Session;
use crate::store::{Store, StoreError};

/// Read access to the session trees.
#[derive(Clone)]
pub struct SessionTrees {
    sessions: sled::Tree,
    pairs: sled::Tree,
    deadlines: sled::Tree,
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        tree: "sessions",
        detail,
    }
}

impl SessionTrees {
    /// The trees of `store`.
    pub fn new(store: &Store) -> SessionTrees {
        SessionTrees {
            sessions: store.sessions.clone(),
            pairs: store.session_pairs.clone(),
            deadlines: store.session_deadlines.clone(),
        }
    }

    /// The key of a (business number, customer) pair.
    pub fn pair_key(number: &str, customer: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(number.len() + customer.len() + 1);
        key.extend_from_slice(number.as_bytes());
        key.push(0);
        key.extend_from_slice(customer.as_bytes());
        key
    }

    /// The deadline index's key of a session due at `deadline`.
    pub fn deadline_key(deadline: u64, id: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(8 + id.len());
        key.extend_from_slice(&deadline.to_be_bytes());
        key.extend_from_slice(id.as_bytes());
        key
    }

    /// A session, open or ended.
    pub fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
        match self.sessions.get(id.as_bytes())? {
            Some(value) => serde_json::from_slice(&value)
                .map(Some)
                .map_err(|e| corrupt(e.to_string())),
            None => Ok(None),
        }
    }

    /// The open session of a customer with a business number.
    pub fn open_for(&self, number: &str, customer: &str) -> Result<Option<Session>, StoreError> {
        let Some(id) = self.pairs.get(SessionTrees::pair_key(number, customer))? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        Ok(self.get(&id)?.filter(Session::is_open))
    }

    /// The earliest deadline of any open session.
    pub fn next_deadline(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .deadlines
            .first()?
            .and_then(|(key, _)| deadline_of(&key)))
    }

    /// Up to `limit` sessions whose deadline is at or before `now`, with
    /// that deadline, earliest first.
    pub fn due(&self, now: u64, limit: usize) -> Result<Vec<(u64, String)>, StoreError> {
        let end = now.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for item in self.deadlines.range(..&end[..]).take(limit) {
            let (key, _) = item?;
            let Some(deadline) = deadline_of(&key) else {
                continue;
            };
            out.push((deadline, String::from_utf8_lossy(&key[8..]).into_owned()));
        }
        Ok(out)
    }

    /// Open sessions: the length of the pair index, which sled counts by
    /// scanning it, so this is for the start only.
    pub fn open_count(&self) -> usize {
        self.pairs.len()
    }
}

fn deadline_of(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}
