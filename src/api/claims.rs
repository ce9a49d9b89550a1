//! The `client_ref`s that requests of this process are writing right now.
//!
//! A `client_ref` is claimed in the `client_refs` tree before its message
//! is written. If the process dies between the two, or the write or its
//! commit fails, the claim is left without its message: it must not answer
//! "being processed" forever. So a claim on disk counts only while its
//! message exists or while a request of this process holds it here; any
//! other claim is free, and the next request with that key takes it over.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// Keys held by requests in flight.
#[derive(Debug, Default)]
pub struct ClaimsInFlight {
    keys: Mutex<HashSet<String>>,
}

impl ClaimsInFlight {
    /// A guard for one request; it releases what it holds when dropped
    /// (the request finished, failed or was cancelled).
    pub fn guard(self: &Arc<Self>) -> ClaimGuard {
        ClaimGuard {
            claims: self.clone(),
            held: Vec::new(),
        }
    }
}

/// What one request holds.
#[derive(Debug)]
pub struct ClaimGuard {
    claims: Arc<ClaimsInFlight>,
    held: Vec<String>,
}

impl ClaimGuard {
    /// Holds `key`; false if another request of this process holds it.
    pub fn hold(&mut self, key: &str) -> bool {
        let mut keys = self
            .claims
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if keys.contains(key) {
            return self.held.iter().any(|k| k == key);
        }
        keys.insert(key.to_owned());
        self.held.push(key.to_owned());
        true
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let mut keys = self
            .claims
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in &self.held {
            keys.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_by_one_request_until_it_ends() {
        let claims = Arc::new(ClaimsInFlight::default());
        let mut first = claims.guard();
        assert!(first.hold("order-1"));
        assert!(first.hold("order-1"), "a request may see its own key twice");
        let mut second = claims.guard();
        assert!(!second.hold("order-1"));
        assert!(second.hold("order-2"));
        drop(first);
        assert!(second.hold("order-1"));
    }
}
