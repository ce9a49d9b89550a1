//! The gateway's one sled database: outbox, inbox, idempotency keys and the
//! event log live in trees of the same `Db`, so a state change and the event
//! it causes can be written in one atomic batch, and one group commit makes
//! everything durable.
//!
//! "On disk" means fsync'd (docs/architecture.md). sled 0.34's own `flush()` ends in
//! `sync_file_range`, which survives a process crash but not a power cut, so
//! [`GroupCommit`] follows every flush with `fdatasync` on sled's data file,
//! and callers await it before acknowledging anything to a carrier or an
//! API client.

pub mod backlog;
mod group_commit;
pub mod outbox;
pub mod retention;

use std::path::{Path, PathBuf};

pub use group_commit::GroupCommit;

/// Names of the trees; part of the on-disk format.
mod trees {
    pub const OUTBOX: &str = "outbox";
    /// Unfinished outbound messages (`store::backlog`).
    pub const OUTBOX_INDEX: &str = "outbox_index";
    pub const CLIENT_REFS: &str = "client_refs";
    pub const EVENTS: &str = "events";
    /// Events the core kept refusing (`core_link::dead_letters`).
    pub const DEAD_EVENTS: &str = "dead_events";
    /// Whole inbound messages, keyed by their event's sequence number.
    pub const INBOX: &str = "inbox_messages";
    /// Raw inbound PDUs stored by versions before the inbound path; moved
    /// into the inbound path at start.
    pub const LEGACY_INBOX: &str = "inbox";
    pub const INBOX_PARTS: &str = "inbox_parts";
    pub const INBOX_RECENT: &str = "inbox_recent";
    pub const OPT_OUTS: &str = "opt_outs";
    pub const LIMITS: &str = "limits";
    pub const RECEIPTS: &str = "receipts";
    pub const SESSIONS: &str = "sessions";
    pub const SESSION_PAIRS: &str = "session_pairs";
    pub const SESSION_DEADLINES: &str = "session_deadlines";
    pub const TRANSCRIPTS: &str = "transcripts";
    pub const CONSENTS: &str = "consents";
    pub const CALLS: &str = "calls";
    pub const MEDIA: &str = "media";
}

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed.
    #[error("database: {0}")]
    Sled(#[from] sled::Error),
    /// A file operation (fsync, directory creation) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A stored record could not be decoded.
    #[error("corrupt record in {tree}: {detail}")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The group-commit thread is gone (the daemon is shutting down).
    #[error("the store is shutting down")]
    Closed,
}

/// sled's page cache. The working set is small (recent records, the
/// index heads, the event log's tail); a large cache only raises the RSS
/// with a big backlog on disk. 16 MiB against 64: the same end-to-end rate,
/// 70 MB less with a million messages queued (benches/README.md, "The
/// backlog on disk").
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// The open database and its trees.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// Messages accepted for sending, by message id.
    pub outbox: sled::Tree,
    /// The index of unfinished messages (`store::backlog`).
    pub outbox_index: sled::Tree,
    /// `client_ref` → message id and request fingerprint (API idempotency).
    pub client_refs: sled::Tree,
    /// Events waiting for the core's acknowledgement.
    pub events: sled::Tree,
    /// Events the core kept refusing, parked.
    pub dead_events: sled::Tree,
    /// Inbound messages waiting for the core's acknowledgement of their
    /// `message.received`, keyed by that event's sequence number.
    pub inbox: sled::Tree,
    /// Parts of concatenated inbound messages waiting for the rest.
    pub inbox_parts: sled::Tree,
    /// Fingerprints of recent inbound arrivals (see `inbound::guard`).
    pub inbox_recent: sled::Tree,
    /// Inbound PDUs stored by earlier versions, not yet forwarded.
    pub legacy_inbox: sled::Tree,
    /// The opt-out registry (`channel::optouts`).
    pub opt_outs: sled::Tree,
    /// Daily limit counts (leases), by limited entity.
    pub limits: sled::Tree,
    /// Receipts not matched to a submitted segment (yet).
    pub receipts: sled::Tree,
    /// Sessions, open and ended, by id (`channel::session_trees`).
    pub sessions: sled::Tree,
    /// (business number, customer) → the id of their open session.
    pub session_pairs: sled::Tree,
    /// Open sessions by deadline: the session timers.
    pub session_deadlines: sled::Tree,
    /// Every session's messages in order (`channel::transcript`).
    pub transcripts: sled::Tree,
    /// The consent registry (`channel::consent`).
    pub consents: sled::Tree,
    /// Registered IVR calls and, per (number, customer), the active one
    /// (`services::calls`).
    pub calls: sled::Tree,
    /// Media records by id (`media::store`; the bytes are files).
    pub media: sled::Tree,
    durability: GroupCommit,
}

impl Store {
    /// Opens (or creates) the database under `state_dir/db` and starts the
    /// group-commit thread.
    pub fn open(state_dir: &Path) -> Result<Store, StoreError> {
        let path = state_dir.join("db");
        std::fs::create_dir_all(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let db = sled::Config::new()
            .path(&path)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(CACHE_BYTES)
            .open()?;
        let durability = GroupCommit::start(db.clone(), &path)?;
        Ok(Store {
            outbox: db.open_tree(trees::OUTBOX)?,
            outbox_index: db.open_tree(trees::OUTBOX_INDEX)?,
            client_refs: db.open_tree(trees::CLIENT_REFS)?,
            events: db.open_tree(trees::EVENTS)?,
            dead_events: db.open_tree(trees::DEAD_EVENTS)?,
            inbox: db.open_tree(trees::INBOX)?,
            inbox_parts: db.open_tree(trees::INBOX_PARTS)?,
            inbox_recent: db.open_tree(trees::INBOX_RECENT)?,
            legacy_inbox: db.open_tree(trees::LEGACY_INBOX)?,
            opt_outs: db.open_tree(trees::OPT_OUTS)?,
            limits: db.open_tree(trees::LIMITS)?,
            receipts: db.open_tree(trees::RECEIPTS)?,
            sessions: db.open_tree(trees::SESSIONS)?,
            session_pairs: db.open_tree(trees::SESSION_PAIRS)?,
            session_deadlines: db.open_tree(trees::SESSION_DEADLINES)?,
            transcripts: db.open_tree(trees::TRANSCRIPTS)?,
            consents: db.open_tree(trees::CONSENTS)?,
            calls: db.open_tree(trees::CALLS)?,
            media: db.open_tree(trees::MEDIA)?,
            db,
            durability,
        })
    }

    /// The group commit: resolves once everything written before the call
    /// is fsync'd.
    pub fn group_commit(&self) -> &GroupCommit {
        &self.durability
    }

    /// A fresh id, unique across restarts and increasing in acceptance order.
    pub fn generate_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }
}
