//! Transcripts: every message of a session in order — the customer's, the
//! agents', and the gateway's own (consent, menu prompt, queue choice,
//! timeout) — in the `transcripts` tree, keyed by session id and a sequence
//! number from the store's id generator (increasing across restarts), so a
//! prefix scan lists a session's messages in the order they happened.
//!
//! Entries are written in the same transaction as what they record: the
//! inbound message, the system message put in the outbox, the agent's
//! message put in the outbox.

use crate::store::StoreError;
use serde::{Deserialize, Serialize};

/// `in` (from the customer) or `out` (to the customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer, or the gateway's reading of it (queue choice).
    In,
    /// To the customer.
    Out,
}

/// Who wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The customer.
    Customer,
    /// An agent, through the API.
    Agent,
    /// The gateway.
    System,
}

/// One message of a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptEntry {
    /// In or out.
    pub direction: Direction,
    /// Who wrote it.
    pub author: Author,
    /// For system entries: `consent`, `menu_prompt`, `queue_choice`,
    /// `timeout`, `expiry`, `stop`, `start`, `help`.
    pub kind: Option<String>,
    /// The text.
    pub text: Option<String>,
    /// The message's id (`msg_…`), inbound or outbound; none for a queue
    /// choice.
    pub message_id: Option<String>,
    /// Unix milliseconds.
    pub at: u64,
    /// Its media (`med_…` ids of the media store), an MMS's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
}

impl Direction {
    /// `in` or `out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

impl Author {
    /// `customer`, `agent` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Agent => "agent",
            Author::System => "system",
        }
    }
}

/// The tree's key of a session's entry number `seq`.
pub fn transcript_key(session_id: &str, seq: u64) -> Vec<u8> {
    let mut key = transcript_prefix(session_id);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// The key prefix of a session's entries.
pub fn transcript_prefix(session_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(session_id.len() + 9);
    key.extend_from_slice(session_id.as_bytes());
    key.push(0);
    key
}

/// Every entry of a session, in order.
pub fn read_transcript(
    tree: &sled::Tree,
    session_id: &str,
) -> Result<Vec<TranscriptEntry>, StoreError> {
    let mut out = Vec::new();
    for item in tree.scan_prefix(transcript_prefix(session_id)) {
        let (_, value) = item?;
        let entry = serde_json::from_slice(&value).map_err(|e| StoreError::Corrupt {
            tree: "transcripts",
            detail: e.to_string(),
        })?;
        out.push(entry);
    }
    Ok(out)
}
