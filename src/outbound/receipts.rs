//! Receipt correlation: which submitted segment a carrier's delivery
//! receipt is about, including receipts that overtake their submit
//! response and receipts that match nothing.
//!
//! Carriers name a segment by the id they gave in submit_sm_resp; ids are
//! compared in their normalized form ([`MessageIdKey`]), per carrier. The
//! index of ids waiting for a receipt lives in memory (it is rebuilt from
//! the outbox on start). A receipt that matches no id yet is acknowledged
//! to the carrier only after it is written to the `receipts` tree, so it is
//! not lost if the gateway stops before the response it overtook arrives.
//! A response can only be overtaken while it is pending, and a pending
//! response ends at the carrier's `response_timeout` (it becomes a retry),
//! so a receipt waits twice that (plus a second) for its segment, then is
//! counted and logged as unmatched, and kept in the tree for operators for
//! [`UNMATCHED_KEEP`].

use std::sync::Arc;
use std::time::Duration;

use carrier_protocol::receipt::{MessageIdKey, Receipt, ReceiptState};
use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tracing::{info, warn};

/// How long a receipt waits for the submit response it overtook, for a
/// carrier whose responses time out after `response_timeout`.
pub fn receipt_wait(response_timeout: Duration) -> Duration {
    response_timeout * 2 + Duration::from_secs(1)
}
/// How often early receipts are checked for the end of their wait.
const EARLY_SWEEP: Duration = Duration::from_millis(250);
/// How often waits past their messages' validity are given up.
const SWEEP: Duration = Duration::from_secs(60);
/// How long unmatched receipts are kept in the tree.
pub const UNMATCHED_KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a final receipt says about its segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The segment's end state.
    pub state: OutcomeState,
    /// The carrier's words, for the message's error.
    pub detail: String,
}

/// A final receipt state, as the outbox sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeState {
    /// Delivered to the handset.
    Delivered,
    /// The carrier's validity ran out.
    Expired,
    /// Undeliverable, rejected, deleted, unknown.
    Failed,
}

impl Outcome {
    /// The outcome of a final receipt (`None` for an intermediate one).
    pub fn of(receipt: &Receipt<'_>) -> Option<Outcome> {
        if !receipt.stat.is_final() {
            return None;
        }
        let state = match receipt.stat {
            ReceiptState::Delivered => OutcomeState::Delivered,
            ReceiptState::Expired => OutcomeState::Expired,
            _ => OutcomeState::Failed,
        };
        let err = receipt
            .err
            .as_ref()
            .map(|e| e.raw.to_string())
            .filter(|e| !e.is_empty());
        let detail = format!(
            "carrier receipt {} (err {})",
            receipt.stat.stat_name().unwrap_or("UNKNOWN"),
            err.as_deref().unwrap_or("none")
        );
        Some(Outcome { state, detail })
    }
}

/// What became of a segment's wait for its receipt.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    /// The receipt will be matched when it comes.
    Waiting,
    /// It already came (it overtook the response).
    Early(Outcome),
    /// Another waiting segment has the same carrier id: neither can be
    /// matched; this is the other one.
    Collision {
        /// The other segment's message.
        message_id: Arc<str>,
        /// The other segment.
        segment: u16,
    },
}

/// A submitted segment waiting for its receipt.
struct Expected {
    message_id: Arc<str>,
    segment: u16,
    /// Unix ms after which no receipt is waited for any more.
    forget_at: u64,
}

/// A receipt waiting for the response it overtook.
struct Early {
    outcome: Outcome,
    /// When it stops waiting.
    deadline: Instant,
    /// Its key in the `receipts` tree.
    stored: Vec<u8>,
}

/// The stored form of a receipt not matched yet.
#[derive(Serialize, Deserialize)]
struct StoredReceipt {
    carrier: String,
    /// The normalized id: `n:` and a decimal number, or `t:` and text.
    key: String,
    outcome: Outcome,
    received_at: u64,
    /// Waited in vain.
    unmatched: bool,
}

type IndexKey = (Box<str>, MessageIdKey);

fn key_text(key: &MessageIdKey) -> String {
    match key {
        MessageIdKey::Numeric(n) => format!("n:{n}"),
        MessageIdKey::Text(t) => format!("t:{t}"),
    }
}

fn parse_key(text: &str) -> Option<MessageIdKey> {
    if let Some(n) = text.strip_prefix("n:") {
        return n.parse().ok().map(MessageIdKey::Numeric);
    }
    text.strip_prefix("t:")
        .map(|t| MessageIdKey::Text(t.into()))
}

/// Every segment waiting for a receipt, and every receipt waiting for its
/// segment.
pub struct ReceiptBook {
    tree: sled::Tree,
    expected: HashMap<IndexKey, Expected>,
    early: HashMap<IndexKey, Early>,
    last_early_sweep: Instant,
    last_sweep: Instant,
}

impl ReceiptBook {
    /// An empty book over the `receipts` tree, at `now`.
    pub fn new(tree: sled::Tree, now: Instant) -> ReceiptBook {
        ReceiptBook {
            tree,
            expected: HashMap::default(),
            early: HashMap::default(),
            last_early_sweep: now,
            last_sweep: now,
        }
    }

    /// When [`ReceiptBook::sweep`] next has something to do.
    pub fn next_sweep(&self) -> Option<Instant> {
        if !self.early.is_empty() {
            Some(self.last_early_sweep + EARLY_SWEEP)
        } else if !self.expected.is_empty() {
            Some(self.last_sweep + SWEEP)
        } else {
            None
        }
    }

    /// Reloads the receipts that were still waiting when the gateway
    /// stopped; each gets a fresh `wait`.
    pub fn restore(&mut self, wait: Duration, now: Instant) -> Result<usize, sled::Error> {
        let deadline = now + wait;
        let mut restored = 0;
        for entry in self.tree.iter() {
            let (stored, value) = entry?;
            let Ok(receipt) = serde_json::from_slice::<StoredReceipt>(&value) else {
                continue;
            };
            let Some(key) = parse_key(&receipt.key) else {
                continue;
            };
            if receipt.unmatched {
                continue;
            }
            self.early.insert(
                (receipt.carrier.into_boxed_str(), key),
                Early {
                    outcome: receipt.outcome,
                    deadline,
                    stored: stored.to_vec(),
                },
            );
            restored += 1;
        }
        Ok(restored)
    }

    /// A segment was accepted under `key`: its receipt is expected. Returns
    /// the outcome of a receipt that arrived first, if one did.
    pub fn expect(
        &mut self,
        carrier: &str,
        key: MessageIdKey,
        message_id: Arc<str>,
        segment: u16,
        forget_at: u64,
    ) -> Expectation {
        let index = (Box::from(carrier), key);
        if let Some(early) = self.early.remove(&index) {
            if let Err(e) = self.tree.remove(&early.stored) {
                warn!(error = %e, "could not remove a matched early receipt");
            }
            return Expectation::Early(early.outcome);
        }
        match self.expected.remove(&index) {
            // The carrier gave the same id to two segments still waiting:
            // a receipt could be applied to the wrong one, so neither is
            // correlated any more.
            Some(other) if (&*other.message_id, other.segment) != (&*message_id, segment) => {
                Expectation::Collision {
                    message_id: other.message_id,
                    segment: other.segment,
                }
            }
            _ => {
                self.expected.insert(
                    index,
                    Expected {
                        message_id,
                        segment,
                        forget_at,
                    },
                );
                Expectation::Waiting
            }
        }
    }

    /// A final receipt arrived: the segment it is about, or `None` when no
    /// segment has that id yet (the receipt is then kept, durably, until
    /// one does or `wait` ends).
    pub fn arrived(
        &mut self,
        carrier: &str,
        key: MessageIdKey,
        outcome: Outcome,
        wait: Duration,
        now: Instant,
        wall_ms: u64,
    ) -> Option<(Arc<str>, u16, Outcome)> {
        let index = (Box::from(carrier), key);
        if let Some(expected) = self.expected.remove(&index) {
            return Some((expected.message_id, expected.segment, outcome));
        }
        let received_at = wall_ms;
        let mut stored = received_at.to_be_bytes().to_vec();
        stored.extend_from_slice(carrier.as_bytes());
        stored.push(0);
        stored.extend_from_slice(key_text(&index.1).as_bytes());
        let value = StoredReceipt {
            carrier: carrier.to_owned(),
            key: key_text(&index.1),
            outcome: outcome.clone(),
            received_at,
            unmatched: false,
        };
        match serde_json::to_vec(&value) {
            Ok(bytes) => {
                if let Err(e) = self.tree.insert(&stored[..], bytes) {
                    warn!(error = %e, "could not store an early receipt");
                }
            }
            Err(e) => warn!(error = %e, "could not encode an early receipt"),
        }
        self.early.insert(
            index,
            Early {
                outcome,
                deadline: now + wait,
                stored,
            },
        );
        None
    }

    /// Gives up on early receipts past their wait (counted and logged as
    /// unmatched), and, once a minute, on segments past their message's
    /// validity and on unmatched receipts past [`UNMATCHED_KEEP`]. Returns
    /// the messages whose receipts are no longer waited for.
    pub fn sweep(&mut self, now: Instant, wall_ms: u64) -> Vec<Arc<str>> {
        if now.duration_since(self.last_early_sweep) < EARLY_SWEEP {
            return Vec::new();
        }
        self.last_early_sweep = now;
        let tree = &self.tree;
        self.early.retain(|(carrier, key), early| {
            if now < early.deadline {
                return true;
            }
            warn!(%carrier, %key, "receipt for an unknown message id: no submit response with that id came");
            crate::metrics::unmatched_receipt(carrier);
            mark_unmatched(tree, &early.stored);
            false
        });
        if now.duration_since(self.last_sweep) < SWEEP {
            return Vec::new();
        }
        self.last_sweep = now;
        // Carriers that never send a receipt must not grow the index
        // forever: stop waiting an hour after the validity ended.
        let wall = wall_ms;
        let mut given_up = Vec::new();
        self.expected.retain(|_, e| {
            let keep = e.forget_at > wall;
            if !keep {
                given_up.push(e.message_id.clone());
            }
            keep
        });
        if !given_up.is_empty() {
            info!(
                segments = given_up.len(),
                "stopped waiting for receipts past their messages' validity"
            );
        }
        given_up.sort_unstable();
        given_up.dedup();
        let cutoff = wall.saturating_sub(UNMATCHED_KEEP.as_millis() as u64);
        let old: Vec<sled::IVec> = self
            .tree
            .range(..cutoff.to_be_bytes().to_vec())
            .keys()
            .filter_map(Result::ok)
            .collect();
        for key in old {
            let _ = self.tree.remove(key);
        }
        given_up
    }
}

fn mark_unmatched(tree: &sled::Tree, stored: &[u8]) {
    let updated = tree.get(stored).ok().flatten().and_then(|value| {
        let mut receipt: StoredReceipt = serde_json::from_slice(&value).ok()?;
        receipt.unmatched = true;
        serde_json::to_vec(&receipt).ok()
    });
    if let Some(bytes) = updated {
        let _ = tree.insert(stored, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::now_ms;

    const WAIT: Duration = Duration::from_secs(21);

    fn book() -> ReceiptBook {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .expect("temporary sled");
        ReceiptBook::new(db.open_tree("receipts").expect("tree"), Instant::now())
    }

    fn delivered() -> Outcome {
        Outcome {
            state: OutcomeState::Delivered,
            detail: String::new(),
        }
    }

    #[test]
    fn a_receipt_finds_its_segment_once() {
        let mut book = book();
        let carrier = "acme";
        assert!(
            book.expect(
                carrier,
                MessageIdKey::Numeric(7),
                Arc::from("m1"),
                1,
                u64::MAX
            ) == Expectation::Waiting
        );
        let (id, segment, _) = book
            .arrived(
                carrier,
                MessageIdKey::Numeric(7),
                delivered(),
                WAIT,
                Instant::now(),
                now_ms(),
            )
            .expect("matched");
        assert_eq!((&*id, segment), ("m1", 1));
        // A duplicate receipt matches nothing now: it waits as early.
        assert!(
            book.arrived(
                carrier,
                MessageIdKey::Numeric(7),
                delivered(),
                WAIT,
                Instant::now(),
                now_ms()
            )
            .is_none()
        );
    }

    #[test]
    fn a_carrier_id_given_twice_correlates_neither_segment() {
        let mut book = book();
        let key = || MessageIdKey::Numeric(42);
        assert_eq!(
            book.expect("acme", key(), Arc::from("m1"), 0, u64::MAX),
            Expectation::Waiting
        );
        assert_eq!(
            book.expect("acme", key(), Arc::from("m2"), 0, u64::MAX),
            Expectation::Collision {
                message_id: Arc::from("m1"),
                segment: 0
            }
        );
        // Neither waits: the receipt for 42 matches no segment.
        assert!(
            book.arrived("acme", key(), delivered(), WAIT, Instant::now(), now_ms())
                .is_none()
        );
    }

    #[test]
    fn an_early_receipt_is_stored_and_applied_when_its_response_comes() {
        let mut book = book();
        let carrier = "acme";
        let key = MessageIdKey::Text("ab12".into());
        assert!(
            book.arrived(
                carrier,
                key.clone(),
                delivered(),
                WAIT,
                Instant::now(),
                now_ms()
            )
            .is_none()
        );
        assert_eq!(book.tree.len(), 1, "stored before it is acknowledged");
        // The gateway restarts: the receipt is still there.
        let tree = book.tree.clone();
        let mut book = ReceiptBook::new(tree, Instant::now());
        assert_eq!(book.restore(WAIT, Instant::now()).expect("restore"), 1);
        let outcome = book.expect(carrier, key, Arc::from("m1"), 0, u64::MAX);
        assert_eq!(outcome, Expectation::Early(delivered()));
        assert_eq!(book.tree.len(), 0);
        // Another carrier's id space is separate.
        assert!(
            book.arrived(
                "other",
                MessageIdKey::Numeric(1),
                delivered(),
                WAIT,
                Instant::now(),
                now_ms()
            )
            .is_none()
        );
    }

    #[test]
    fn unmatched_receipts_are_kept_marked_and_not_restored() {
        let mut book = book();
        let carrier = "acme";
        book.arrived(
            carrier,
            MessageIdKey::Numeric(9),
            delivered(),
            WAIT,
            Instant::now(),
            now_ms(),
        );
        book.sweep(Instant::now() + WAIT + Duration::from_secs(1), now_ms());
        assert_eq!(book.tree.len(), 1, "kept for operators");
        let mut again = ReceiptBook::new(book.tree.clone(), Instant::now());
        assert_eq!(again.restore(WAIT, Instant::now()).expect("restore"), 0);
        assert!(
            again.expect(
                carrier,
                MessageIdKey::Numeric(9),
                Arc::from("m"),
                0,
                u64::MAX
            ) == Expectation::Waiting
        );
    }

    #[test]
    fn keys_round_trip_through_their_text() {
        for key in [
            MessageIdKey::Numeric(u128::MAX),
            MessageIdKey::Text("x:y".into()),
        ] {
            assert_eq!(parse_key(&key_text(&key)), Some(key));
        }
        assert_eq!(parse_key("z:1"), None);
    }

    #[test]
    fn segments_past_their_validity_are_given_up_once_per_message() {
        let mut book = book();
        let carrier = "acme";
        for (segment, key) in [(0, 1), (1, 2)] {
            book.expect(
                carrier,
                MessageIdKey::Numeric(key),
                Arc::from("m1"),
                segment,
                0,
            );
        }
        book.expect(
            carrier,
            MessageIdKey::Numeric(3),
            Arc::from("m2"),
            0,
            u64::MAX,
        );
        let given_up = book.sweep(Instant::now() + Duration::from_secs(61), now_ms());
        assert_eq!(given_up, [Arc::<str>::from("m1")]);
        // m2 is still expected.
        assert!(
            book.arrived(
                carrier,
                MessageIdKey::Numeric(3),
                delivered(),
                WAIT,
                Instant::now(),
                now_ms()
            )
            .is_some()
        );
    }
}
