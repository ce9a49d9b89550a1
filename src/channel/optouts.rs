//! The opt-out registry: which customers opted out of which business
//! numbers, in the `opt_outs` tree, changed in the same transaction as the
//! inbound message that changed it.

use serde::{Deserialize, Serialize};

/// A customer's state towards one business number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutState {
    /// Opted out.
    pub opted_out: bool,
    /// The keyword that set it (`STOP`, `START`).
    pub keyword: String,
    /// When, Unix milliseconds.
    pub at: u64,
}

/// Read access to the registry (writes go through the inbound path's
/// transaction, see [`OptOutRegistry::key`]).
#[derive(Clone)]
pub struct OptOutRegistry {
    tree: sled::Tree,
}

impl OptOutRegistry {
    /// The registry over its tree.
    pub fn new(tree: sled::Tree) -> OptOutRegistry {
        OptOutRegistry { tree }
    }

    /// The tree's key for a business number and a customer.
    pub fn key(number: &str, customer: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(number.len() + customer.len() + 1);
        key.extend_from_slice(number.as_bytes());
        key.push(0);
        key.extend_from_slice(customer.as_bytes());
        key
    }

    /// The recorded state, if any.
    pub fn state(&self, number: &str, customer: &str) -> Result<Option<OptOutState>, sled::Error> {
        Ok(self
            .tree
            .get(OptOutRegistry::key(number, customer))?
            .and_then(|v| serde_json::from_slice(&v).ok()))
    }

    /// Whether `customer` opted out of `number`.
    pub fn is_opted_out(&self, number: &str, customer: &str) -> Result<bool, sled::Error> {
        Ok(self
            .state(number, customer)?
            .is_some_and(|state| state.opted_out))
    }

    /// Whether `customer` opted out of any business number.
    pub fn is_opted_out_anywhere(&self, customer: &str) -> Result<bool, sled::Error> {
        for item in self.tree.iter() {
            let (key, value) = item?;
            let ends = key
                .iter()
                .position(|&b| b == 0)
                .is_some_and(|zero| &key[zero + 1..] == customer.as_bytes());
            if ends
                && serde_json::from_slice::<OptOutState>(&value).is_ok_and(|state| state.opted_out)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
