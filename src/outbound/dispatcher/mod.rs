//! The dispatcher: one task that owns the outbound state machine.
//!
//! Messages from one business number to one customer form a conversation
//! and are submitted strictly in acceptance order: only the head of a
//! conversation is active, and the next one starts when every segment of
//! the head was accepted by the carrier or the head failed for good (so a
//! retry or a restart can never reorder a conversation). Different
//! conversations are independent, so one slow or throttled conversation
//! never holds up another.
//!
//! Segments leave through per-number lanes (see [`super::lanes`]) and the
//! limiter (see [`super::limits`]): a number at its cap is parked and the
//! others go on.
//!
//! Every status change is written to the outbox together with its
//! `message.status` event. Receipts are acknowledged to the carrier only
//! after the change they cause is fsync'd (the transport waits on an ack
//! channel). Transient failures come back as retries with exponential
//! backoff and jitter until the message's validity ends.

mod conversations;
mod daily;
mod delivery;
mod sending;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use carrier_protocol::receipt::{MessageIdMapping, Receipt};
use carrier_protocol::segment::split::Segments;
use foldhash::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::lanes::Lanes;
use super::limits::{Admission, DailyLease, EntityId, Limiter, NumberLimits};
use super::plan::{self, PlanOptions};
use super::receipts::{Outcome, OutcomeState, ReceiptBook};
use crate::store::backlog::Stage;
use crate::store::outbox::{ErrorInfo, MessageRecord, MessageStatus, now_ms};
use crate::store::{Store, StoreError};
use crate::transport::{LinkEvent, LinkStatus, LinkWork};

/// Where `message.status` events go: staged next to the state change.
pub trait StatusEvents: Send + Sync + 'static {
    /// Records a `message.status` event for `record`'s current status.
    fn message_status(&self, record: &MessageRecord) -> Result<(), StoreError>;
}

/// A carrier as the dispatcher sees it.
pub struct CarrierRoute {
    /// Its job queue.
    pub jobs: async_channel::Sender<LinkWork>,
    /// How its texts are encoded.
    pub plan: PlanOptions,
    /// How its ids are compared.
    pub id_mapping: MessageIdMapping,
    /// How long a receipt waits for the submit response it may have
    /// overtaken ([`super::receipts::receipt_wait`]).
    pub receipt_wait: Duration,
    /// Its connections that are bound now.
    pub bound: Arc<AtomicUsize>,
}

/// Commands from the API and the daemon.
pub enum Command {
    /// Newly accepted messages, already durable, in acceptance order.
    Accepted(Vec<MessageRecord>),
    /// New limits (SIGHUP): number → its limits.
    ReloadLimits(std::collections::HashMap<String, NumberLimits>),
}

/// Sends commands to the dispatcher.
#[derive(Clone)]
pub struct DispatcherHandle {
    tx: mpsc::Sender<Command>,
    depth: Arc<AtomicI64>,
    submitted: Arc<AtomicI64>,
}

impl DispatcherHandle {
    /// Messages accepted and not yet final (the outbox depth).
    pub fn depth(&self) -> usize {
        // Signed: a message the backlog scan found may finish before its
        // hand-over from the API is counted.
        self.depth.load(Ordering::Relaxed).max(0) as usize
    }

    /// Messages `queued` or `sending`: the depth less the `submitted` ones
    /// waiting for receipts (what `[store] max_outbox` bounds; a carrier
    /// that sends no receipts must not fill it).
    pub fn in_progress(&self) -> usize {
        self.depth()
            .saturating_sub(self.submitted.load(Ordering::Relaxed).max(0) as usize)
    }

    /// Hands newly accepted (durable) messages over.
    pub async fn accepted(&self, records: Vec<MessageRecord>) {
        let _ = self.tx.send(Command::Accepted(records)).await;
    }

    /// Replaces the limits, keeping what was counted so far.
    pub async fn reload_limits(&self, limits: std::collections::HashMap<String, NumberLimits>) {
        let _ = self.tx.send(Command::ReloadLimits(limits)).await;
    }
}

/// A message being submitted.
struct Active {
    record: MessageRecord,
    segments: Segments,
    /// Segments waiting to be (re)sent.
    to_send: VecDeque<u16>,
    /// Segments handed to the transport, not answered yet.
    outstanding: u16,
    /// Consecutive transient failures, for the backoff.
    failures: u32,
    /// Backing off after a transient failure: not sent until then.
    backoff: Option<Instant>,
    /// Whether this attempt already sent a segment (attempts are counted
    /// once per attempt, not per segment).
    attempt_started: bool,
    /// Whether the remaining segments were counted against daily caps.
    daily_reserved: bool,
    /// Whether its id is in its number's lane (at most once).
    in_lane: bool,
}

type ConversationKey = (String, String);

/// A receipt is still waited for this long after the message's validity
/// ended (carriers report expiry at the end of the validity period).
const RECEIPT_GRACE_MS: u64 = 3600 * 1000;

/// The dispatcher task's state.
pub struct Dispatcher {
    store: Store,
    routes: HashMap<String, CarrierRoute>,
    events: Arc<dyn StatusEvents>,
    commands: mpsc::Receiver<Command>,
    transport: mpsc::Receiver<LinkEvent>,
    /// Conversations with messages in memory (see [`conversations`]).
    conversations: HashMap<ConversationKey, conversations::Conversation>,
    /// Each number's reading of its backlog on disk.
    numbers: HashMap<Arc<str>, conversations::NumberBacklog>,
    /// Numbers whose backlog is to be read on (next pump), and those to
    /// read on after that.
    refill_due: Vec<Arc<str>>,
    refill_later: Vec<Arc<str>>,
    /// Every message in memory (active or waiting in its conversation).
    loaded: HashSet<Arc<str>>,
    active: HashMap<Arc<str>, Active>,
    /// Active messages with segments to send, per sending number.
    lanes: Lanes,
    limiter: Limiter,
    /// Bumped when the limits are reloaded, so lease answers for the old
    /// limiter's entities are ignored.
    limiter_generation: u64,
    leases_tx: mpsc::UnboundedSender<LeaseOutcome>,
    leases: mpsc::UnboundedReceiver<LeaseOutcome>,
    /// When parked lanes were last checked for expired messages.
    last_expiry_sweep: Instant,
    retries: BinaryHeap<Reverse<(Instant, Arc<str>)>>,
    /// Which segment each receipt is about.
    receipts: ReceiptBook,
    /// Carrier acknowledgements waiting for the next sync.
    acks: Vec<oneshot::Sender<()>>,
    /// Messages accepted and not final, shared with the API.
    depth: Arc<AtomicI64>,
    /// Of those, the `submitted` ones still counted in the depth.
    submitted: Arc<AtomicI64>,
    /// State changes written since the last sync request.
    unsynced: bool,
    last_sync_request: Instant,
    /// Segments the carrier accepted so far, and how many of those had
    /// their new state covered by a finished group commit: the difference
    /// is what a crash now would send again.
    accepted_total: u64,
    synced_upto: u64,
    syncs_tx: mpsc::UnboundedSender<u64>,
    syncs: mpsc::UnboundedReceiver<u64>,
}

/// A daily-count lease was persisted (or not).
struct LeaseOutcome {
    generation: u64,
    entity: EntityId,
    lease: DailyLease,
    durable: bool,
}

/// At most this many segments accepted by a carrier may wait for the group
/// commit that records it before no more are handed out: what a crash
/// sends twice is bounded by this plus what is in flight, however slow the
/// disk (normally a commit every 5 ms covers far fewer).
const MAX_UNSYNCED_ACCEPTED: u64 = 256;

const RETRY_BASE: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(60);

impl CarrierRoute {
    /// Whether a segment handed over now would go on the wire soon. Limits
    /// are counted when a segment is handed over, so segments must not pile
    /// up in the queue while no bind is up and then leave in one burst.
    fn has_room(&self) -> bool {
        !self.jobs.is_full() && self.bound.load(Ordering::Relaxed) > 0
    }
}

impl Dispatcher {
    /// Creates the dispatcher and its handle.
    pub fn new(
        store: Store,
        routes: std::collections::HashMap<String, CarrierRoute>,
        limits: &std::collections::HashMap<String, NumberLimits>,
        events: Arc<dyn StatusEvents>,
        transport: mpsc::Receiver<LinkEvent>,
    ) -> (Dispatcher, DispatcherHandle) {
        let routes = routes.into_iter().collect();
        let (tx, commands) = mpsc::channel(1024);
        let (leases_tx, leases) = mpsc::unbounded_channel();
        let (syncs_tx, syncs) = mpsc::unbounded_channel();
        let receipts = ReceiptBook::new(store.receipts.clone());
        let depth = Arc::new(AtomicI64::new(0));
        let submitted = Arc::new(AtomicI64::new(0));
        (
            Dispatcher {
                store,
                routes,
                events,
                commands,
                transport,
                conversations: HashMap::default(),
                numbers: HashMap::default(),
                refill_due: Vec::new(),
                refill_later: Vec::new(),
                loaded: HashSet::default(),
                active: HashMap::default(),
                lanes: Lanes::default(),
                limiter: Limiter::new(limits.iter().map(|(n, l)| (n.as_str(), l))),
                limiter_generation: 0,
                leases_tx,
                leases,
                last_expiry_sweep: Instant::now(),
                retries: BinaryHeap::new(),
                receipts,
                acks: Vec::new(),
                depth: depth.clone(),
                submitted: submitted.clone(),
                unsynced: false,
                last_sync_request: Instant::now(),
                accepted_total: 0,
                synced_upto: 0,
                syncs_tx,
                syncs,
            },
            DispatcherHandle {
                tx,
                depth,
                submitted,
            },
        )
    }

    /// Reloads what the last run left: daily counts, receipts waiting for
    /// their responses and for their messages, and which numbers have
    /// messages to send. The messages themselves are read as their turn
    /// comes (`store::backlog`), so this takes a moment however large the
    /// backlog. Must run before the API accepts anything.
    pub fn replay(&mut self) -> Result<(), StoreError> {
        self.restore_daily_counts()?;
        self.restore_rate_windows()?;
        let wait = self
            .routes
            .values()
            .map(|r| r.receipt_wait)
            .max()
            .unwrap_or_default();
        let restored = self.receipts.restore(wait)?;
        if restored > 0 {
            info!(
                restored,
                "receipts still waiting for their submit responses"
            );
        }
        let built = self.store.build_outbox_index()?;
        if built > 0 {
            info!(
                indexed = built,
                "indexed the unfinished messages of an older outbox"
            );
        }
        let mut awaiting = 0;
        let ids: Vec<String> = self.store.awaiting_receipts().collect::<Result<_, _>>()?;
        for id in ids {
            match self.store.get_message(&id)? {
                Some(record) if Stage::of(&record) == Stage::AwaitingReceipts => {
                    awaiting += 1;
                    self.index_submitted(&record);
                }
                _ => self.store.drop_stale_awaiting(&id)?,
            }
        }
        let to_send = self.store.count_to_send()?;
        let numbers = self.store.backlog_numbers()?;
        if to_send > 0 {
            info!(
                to_send,
                numbers = numbers.len(),
                "messages to send from the last run"
            );
        }
        for number in &numbers {
            self.backlog_found(number);
        }
        self.submitted.fetch_add(awaiting as i64, Ordering::Relaxed);
        self.add_depth(to_send + awaiting);
        Ok(())
    }

    /// Runs until the API and every transport are gone.
    pub async fn run(mut self) -> Result<(), StoreError> {
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut commands_open = true;
        loop {
            self.pump();
            self.flush_acks();
            self.request_sync();
            tokio::select! {
                command = self.commands.recv(), if commands_open => match command {
                    Some(Command::Accepted(records)) => {
                        self.add_depth(records.len());
                        self.accepted(records);
                    }
                    Some(Command::ReloadLimits(limits)) => self.reload_limits(&limits),
                    None => commands_open = false,
                },
                Some(outcome) = self.leases.recv() => self.on_lease(outcome),
                Some(upto) = self.syncs.recv() => self.synced_upto = self.synced_upto.max(upto),
                event = self.transport.recv() => match event {
                    Some(event) => {
                        self.on_transport(event);
                        // Drain the burst before pumping again.
                        while let Ok(event) = self.transport.try_recv() {
                            self.on_transport(event);
                        }
                    }
                    None => {
                        self.save_daily_counts();
                        self.save_rate_windows();
                        return Ok(());
                    }
                },
                _ = tick.tick() => self.on_tick(),
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        for id in self.receipts.sweep(now) {
            self.receipt_never_came(&id);
        }
        while let Some(Reverse((at, _))) = self.retries.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, id))) = self.retries.pop()
                && let Some(active) = self.active.get_mut(&id)
            {
                active.backoff = None;
                active.attempt_started = false;
                self.queue_in_lane(&id);
            }
        }
        self.lanes.wake_due(now);
        if now.duration_since(self.last_expiry_sweep) >= Duration::from_secs(1) {
            // Messages held by a cap expire while they wait.
            self.last_expiry_sweep = now;
            let wall = now_ms();
            let expired: Vec<Arc<str>> = self
                .lanes
                .parked_messages()
                .filter(|id| {
                    self.active
                        .get(*id)
                        .is_some_and(|a| a.outstanding == 0 && a.record.expires_at <= wall)
                })
                .cloned()
                .collect();
            for id in expired {
                self.expire(&id);
            }
        }
    }

    fn on_transport(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Accepted {
                message_id,
                part,
                carrier_id,
            } => self.on_accepted(message_id, part, carrier_id),
            LinkEvent::Failed {
                message_id,
                part,
                status,
            } if status.is_retryable() => self.on_retry(message_id, part, status),
            LinkEvent::Failed {
                message_id,
                part,
                status,
            } => {
                debug!(%message_id, part, status = %status.message, "refused by the carrier");
                if let Some(record) = self.deactivate(&message_id) {
                    self.finish(
                        record,
                        MessageStatus::Failed,
                        Some(error("carrier_rejected", &status.message)),
                    );
                }
            }
            LinkEvent::Report {
                carrier,
                receipt,
                ack,
            } => {
                self.on_receipt(&carrier, receipt);
                self.acks.push(ack);
            }
            LinkEvent::State { carrier, up } => {
                debug!(%carrier, up, "link state");
            }
        }
    }

    /// A message counted in the depth leaves it (final, or no longer waiting
    /// for receipts); `status` is the one it had until now.
    pub(super) fn leave_depth(&self, status: MessageStatus) {
        if status == MessageStatus::Submitted {
            self.submitted.fetch_sub(1, Ordering::Relaxed);
        }
        let depth = self.depth.fetch_sub(1, Ordering::Relaxed) - 1;
        crate::metrics::outbox_depth(depth.max(0) as usize);
    }

    fn add_depth(&self, n: usize) {
        let depth = self.depth.fetch_add(n as i64, Ordering::Relaxed) + n as i64;
        crate::metrics::outbox_depth(depth.max(0) as usize);
    }

    fn finish(&mut self, mut record: MessageRecord, status: MessageStatus, err: Option<ErrorInfo>) {
        // One that stopped waiting for its receipts has left the depth.
        if !record.receipt_timed_out {
            self.leave_depth(record.status);
        }
        record.status = status;
        record.error = err;
        crate::metrics::message_final(&record);
        self.persist(&mut record);
    }

    /// Asks for a group commit (without waiting) at most every 5 ms while
    /// state changes are being written, so that after a crash the replay
    /// resends only what was in flight or changed in the last few
    /// milliseconds, not everything sled had not flushed on its own.
    fn request_sync(&mut self) {
        if self.unsynced && self.last_sync_request.elapsed() >= Duration::from_millis(5) {
            self.unsynced = false;
            self.last_sync_request = Instant::now();
            let durability = self.store.group_commit().clone();
            let upto = self.accepted_total;
            let done = self.syncs_tx.clone();
            tokio::spawn(async move {
                if durability.sync().await.is_ok() {
                    let _ = done.send(upto);
                }
            });
        }
    }

    fn persist(&mut self, record: &mut MessageRecord) {
        self.unsynced = true;
        record.updated_at = now_ms();
        if let Err(e) = self.events.message_status(record) {
            warn!(error = %e, id = %record.id, "could not stage a status event");
        }
        if let Err(e) = self.store.put_message(record) {
            warn!(error = %e, id = %record.id, "could not persist a status change");
        }
    }

    /// Acknowledges to carriers once everything written so far is durable.
    fn flush_acks(&mut self) {
        if self.acks.is_empty() {
            return;
        }
        let acks = std::mem::take(&mut self.acks);
        let durability = self.store.group_commit().clone();
        tokio::spawn(async move {
            match durability.sync().await {
                Ok(()) => {
                    for ack in acks {
                        let _ = ack.send(());
                    }
                }
                Err(e) => {
                    warn!(error = %e, "sync failed; receipts left unacknowledged for the carrier to resend")
                }
            }
        });
    }
}

fn expired_error() -> ErrorInfo {
    error(
        "expired",
        "the message's validity ended before it was accepted by the carrier",
    )
}

fn error(code: &str, message: &str) -> ErrorInfo {
    ErrorInfo {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}
