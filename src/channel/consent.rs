//! The consent registry: to which customers each business number has sent
//! its consent message, in the `consents` tree.
//!
//! Consent goes out once per (customer, business number), ever (DESIGN
//! §4.6). The record is written in the same sled transaction that puts the
//! consent message in the outbox, and that transaction is the only place a
//! consent message is queued, so "recorded" and "queued" cannot disagree:
//! not after a crash (both or neither survive the group commit), not when
//! messages race (the inbound path decides them one at a time).

use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// A recorded consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The consent message's outbox id.
    pub message_id: String,
    /// The session it was sent in.
    pub session_id: Option<String>,
    /// When, Unix milliseconds.
    pub at: u64,
}

/// Read access to the registry.
#[derive(Clone)]
pub struct ConsentRegistry {
    tree: sled::Tree,
}

impl ConsentRegistry {
    /// The registry over its tree.
    pub fn new(tree: sled::Tree) -> ConsentRegistry {
        ConsentRegistry { tree }
    }

    /// The tree's key for a business number and a customer.
    pub fn key(number: &str, customer: &str) -> Vec<u8> {
        super::SessionTrees::pair_key(number, customer)
    }

    /// Whether `number` has sent its consent message to `customer`.
    pub fn is_recorded(&self, number: &str, customer: &str) -> Result<bool, StoreError> {
        Ok(self
            .tree
            .contains_key(ConsentRegistry::key(number, customer))?)
    }
}
