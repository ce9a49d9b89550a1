//! The IVR calls the contact center registers (`PUT /v1/calls/{call_id}`),
//! in the `calls` tree.
//!
//! Why the gateway keeps them: the call-bound services (`wait_time`,
//! `in_call`, `deflection`, `app_launch`) may only text a caller whose call
//! is live, and a customer's text during the call must reach the core with
//! that `call_id` so the agent on the phone sees it. A call is durable (the
//! `PUT` is answered after the group commit) and expires `[calls]
//! expire_after` after it was registered, so a lost `DELETE` cannot tag a
//! customer's texts with a call for ever.
//!
//! Two key families in one tree, changed together in a transaction:
//! `c` + call id → the [`Call`], and `p` + number + NUL + customer → the id
//! of that pair's active call. A pair has at most one active call: a new
//! call for the same customer and number ends the older one.

use serde::{Deserialize, Serialize};
use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};

use crate::channel::SessionTrees;
use crate::store::StoreError;

/// A registered call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The contact center's id of the call.
    pub call_id: String,
    /// The caller (E.164).
    pub customer: String,
    /// The business number the call is about.
    pub number: String,
    /// When it was registered, Unix milliseconds.
    pub registered_at: u64,
    /// When it is forgotten if never ended, Unix milliseconds.
    pub expires_at: u64,
}

impl Call {
    /// Whether it still counts at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        now < self.expires_at
    }
}

/// Whether `id` may name a call: 1 to 128 characters of letters, digits
/// and `. _ : @ -` (it appears in URLs and in events).
pub fn call_id_is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '-'))
}

fn call_key(call_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(call_id.len() + 1);
    key.push(b'c');
    key.extend_from_slice(call_id.as_bytes());
    key
}

fn pair_key(number: &str, customer: &str) -> Vec<u8> {
    let mut key = vec![b'p'];
    key.extend_from_slice(&SessionTrees::pair_key(number, customer));
    key
}

fn decode(value: &[u8]) -> Result<Call, StoreError> {
    serde_json::from_slice(value).map_err(|e| StoreError::Corrupt {
        tree: "calls",
        detail: e.to_string(),
    })
}

/// What registering a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The call id was not registered before (or had expired).
    pub new: bool,
    /// The pair's earlier call, ended by this one.
    pub replaced: Option<String>,
}

/// The registry over the `calls` tree.
#[derive(Clone)]
pub struct CallRegistry {
    tree: sled::Tree,
}

impl CallRegistry {
    /// The registry over its tree.
    pub fn new(tree: sled::Tree) -> CallRegistry {
        CallRegistry { tree }
    }

    /// The call `call_id`, if registered and live at `now`.
    pub fn get(&self, call_id: &str, now: u64) -> Result<Option<Call>, StoreError> {
        let Some(value) = self.tree.get(call_key(call_id))? else {
            return Ok(None);
        };
        Ok(Some(decode(&value)?).filter(|c| c.is_live(now)))
    }

    /// The live call between `customer` and `number`, if any.
    pub fn active_for(
        &self,
        number: &str,
        customer: &str,
        now: u64,
    ) -> Result<Option<Call>, StoreError> {
        let Some(id) = self.tree.get(pair_key(number, customer))? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        self.get(&id, now)
    }

    /// Registers `call` (or registers it again, which moves its expiry).
    /// Not durable until the next group commit.
    pub fn register(&self, call: &Call) -> Result<Registered, StoreError> {
        let value = serde_json::to_vec(call).map_err(|e| StoreError::Corrupt {
            tree: "calls",
            detail: e.to_string(),
        })?;
        let now = call.registered_at;
        self.tree
            .transaction(|tx| {
                let previous = match tx.get(call_key(&call.call_id))? {
                    Some(v) => decode(&v).ok(),
                    None => None,
                };
                // The same id moved to another pair: that pair's index
                // no longer points at it.
                if let Some(previous) = &previous {
                    let old_pair = pair_key(&previous.number, &previous.customer);
                    if tx.get(&old_pair)?.as_deref() == Some(call.call_id.as_bytes()) {
                        tx.remove(old_pair)?;
                    }
                }
                let pair = pair_key(&call.number, &call.customer);
                let mut replaced = None;
                if let Some(other) = tx.get(&pair)?
                    && other.as_ref() != call.call_id.as_bytes()
                {
                    let other = String::from_utf8_lossy(&other).into_owned();
                    let live = match tx.get(call_key(&other))? {
                        Some(v) => decode(&v).is_ok_and(|c| c.is_live(now)),
                        None => false,
                    };
                    tx.remove(call_key(&other))?;
                    if live {
                        replaced = Some(other);
                    }
                }
                tx.insert(pair, call.call_id.as_bytes())?;
                tx.insert(call_key(&call.call_id), value.as_slice())?;
                Ok::<_, ConflictableTransactionError<()>>(Registered {
                    new: previous.is_none_or(|p| !p.is_live(now)),
                    replaced,
                })
            })
            .map_err(transaction_error)
    }

    /// Ends `call_id`: `Some` with the call if it was registered and live.
    /// Not durable until the next group commit.
    pub fn end(&self, call_id: &str, now: u64) -> Result<Option<Call>, StoreError> {
        self.tree
            .transaction(|tx| {
                let Some(value) = tx.get(call_key(call_id))? else {
                    return Ok(None);
                };
                let call = decode(&value).ok();
                CallRegistry::remove_in(tx, call_id, call.as_ref())?;
                Ok::<_, ConflictableTransactionError<()>>(call.filter(|c| c.is_live(now)))
            })
            .map_err(transaction_error)
    }

    /// Whether `call` is still registered exactly as it was read, inside a
    /// transaction over the `calls` tree.
    pub fn is_unchanged(
        tx: &TransactionalTree,
        call: &Call,
    ) -> Result<bool, UnabortableTransactionError> {
        let Ok(expected) = serde_json::to_vec(call) else {
            return Ok(false);
        };
        Ok(tx.get(call_key(&call.call_id))?.as_deref() == Some(expected.as_slice()))
    }

    /// Removes `call_id` (whose record is `call`) inside a transaction over
    /// the `calls` tree, e.g. with the session a deflection opens.
    pub fn remove_in(
        tx: &TransactionalTree,
        call_id: &str,
        call: Option<&Call>,
    ) -> Result<(), UnabortableTransactionError> {
        tx.remove(call_key(call_id))?;
        if let Some(call) = call {
            let pair = pair_key(&call.number, &call.customer);
            if tx.get(&pair)?.as_deref() == Some(call_id.as_bytes()) {
                tx.remove(pair)?;
            }
        }
        Ok(())
    }

    /// Removes the calls that expired before `now`; returns how many.
    pub fn remove_expired(&self, now: u64) -> Result<usize, StoreError> {
        let mut expired = Vec::new();
        for item in self.tree.scan_prefix([b'c']) {
            let (_, value) = item?;
            if let Ok(call) = decode(&value)
                && !call.is_live(now)
            {
                expired.push(call);
            }
        }
        let mut removed = 0;
        for call in expired {
            // Checked again inside the transaction: a call registered
            // again meanwhile stays.
            let ended = self
                .tree
                .transaction(|tx| {
                    let Some(value) = tx.get(call_key(&call.call_id))? else {
                        return Ok(false);
                    };
                    let current = decode(&value).ok();
                    if current.as_ref().is_some_and(|c| c.is_live(now)) {
                        return Ok(false);
                    }
                    CallRegistry::remove_in(tx, &call.call_id, current.as_ref())?;
                    Ok::<_, ConflictableTransactionError<()>>(true)
                })
                .map_err(transaction_error)?;
            if ended {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn transaction_error(e: sled::transaction::TransactionError<()>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
        sled::transaction::TransactionError::Abort(()) => StoreError::Corrupt {
            tree: "calls",
            detail: "aborted".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> CallRegistry {
        let db = sled::Config::new().temporary(true).open().expect("db");
        CallRegistry::new(db.open_tree("calls").expect("tree"))
    }

    fn call(id: &str, customer: &str, at: u64) -> Call {
        Call {
            call_id: id.to_owned(),
            customer: customer.to_owned(),
            number: "+15551230001".to_owned(),
            registered_at: at,
            expires_at: at + 1_000,
        }
    }

    #[test]
    fn a_call_is_found_by_id_and_by_pair_until_it_ends() {
        let calls = registry();
        let first = calls
            .register(&call("c1", "+15557654321", 0))
            .expect("register");
        assert_eq!(
            first,
            Registered {
                new: true,
                replaced: None
            }
        );
        assert_eq!(
            calls.get("c1", 10).expect("get").map(|c| c.customer),
            Some("+15557654321".into())
        );
        let active = calls
            .active_for("+15551230001", "+15557654321", 10)
            .expect("pair");
        assert_eq!(active.map(|c| c.call_id), Some("c1".into()));
        assert!(calls.end("c1", 10).expect("end").is_some());
        assert_eq!(calls.get("c1", 10).expect("get"), None);
        assert_eq!(
            calls
                .active_for("+15551230001", "+15557654321", 10)
                .expect("pair"),
            None
        );
        assert_eq!(calls.end("c1", 10).expect("end again"), None);
    }

    #[test]
    fn calls_expire_and_are_swept() {
        let calls = registry();
        calls
            .register(&call("c1", "+15557654321", 0))
            .expect("register");
        assert!(calls.get("c1", 999).expect("get").is_some());
        assert_eq!(calls.get("c1", 1_000).expect("get"), None);
        assert_eq!(
            calls
                .active_for("+15551230001", "+15557654321", 1_000)
                .expect("pair"),
            None
        );
        assert_eq!(calls.remove_expired(1_000).expect("sweep"), 1);
        assert!(calls.tree.is_empty());
        // Registering again makes it new and live again.
        let again = calls
            .register(&call("c1", "+15557654321", 2_000))
            .expect("register");
        assert!(again.new);
        assert_eq!(calls.remove_expired(2_500).expect("sweep"), 0);
    }

    #[test]
    fn a_new_call_of_the_same_pair_ends_the_older_one() {
        let calls = registry();
        calls
            .register(&call("c1", "+15557654321", 0))
            .expect("register");
        let second = calls
            .register(&call("c2", "+15557654321", 10))
            .expect("register");
        assert_eq!(second.replaced.as_deref(), Some("c1"));
        assert_eq!(calls.get("c1", 20).expect("get"), None);
        let active = calls
            .active_for("+15551230001", "+15557654321", 20)
            .expect("pair");
        assert_eq!(active.map(|c| c.call_id), Some("c2".into()));
    }

    #[test]
    fn a_call_moved_to_another_customer_leaves_the_old_pair() {
        let calls = registry();
        calls
            .register(&call("c1", "+15557654321", 0))
            .expect("register");
        let moved = calls
            .register(&call("c1", "+15557654322", 10))
            .expect("register");
        assert!(!moved.new);
        assert_eq!(
            calls
                .active_for("+15551230001", "+15557654321", 20)
                .expect("pair"),
            None
        );
        assert!(
            calls
                .active_for("+15551230001", "+15557654322", 20)
                .expect("pair")
                .is_some()
        );
    }

    #[test]
    fn call_ids_are_checked() {
        assert!(call_id_is_valid("CA-1234.x_y:z@pbx"));
        assert!(!call_id_is_valid(""));
        assert!(!call_id_is_valid("a/b"));
        assert!(!call_id_is_valid("a b"));
        assert!(!call_id_is_valid(&"x".repeat(129)));
    }
}
