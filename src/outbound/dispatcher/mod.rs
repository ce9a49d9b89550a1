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
//! The dispatcher is a state machine without I/O of its own beyond sled
//! reads and writes (in the style of the SMPP session in `protocol/`): it
//! is fed commands, link events and the time ([`Now`]), hands segments to
//! the links' queues, asks for group commits and lease syncs as
//! [`Effect`]s, and says when it next needs the time ([`Dispatcher::poll_timeout`]).
//! [`DispatcherTask`] (in `driver`) runs it on tokio; the unit tests run it
//! on simulated time.
//!
//! Every status change is written to the outbox together with its
//! `message.status` event. Receipts are acknowledged to the carrier only
//! after the change they cause is fsync'd (the transport waits on an ack
//! channel). Transient failures come back as retries with exponential
//! backoff and jitter until the message's validity ends.

mod conversations;
mod daily;
mod delivery;
mod driver;
mod fallback;
mod rerouting;
mod sending;
#[cfg(test)]
mod tests;

pub use driver::DispatcherTask;
pub use fallback::MmsFallback;

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

use super::lanes::{HeldBy, Lanes};
use super::limits::{Admission, DailyLease, EntityId, LimitKind, Limiter, NumberLimits};
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
    /// For a link that carries text as text (SIP): the most bytes of text
    /// in one part. `None`: SMS segments.
    pub text_max: Option<usize>,
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
    /// New SMS routes (SIGHUP): number → carrier. Messages of a moved
    /// number that nothing of has gone yet follow it to its new carrier.
    ReloadRoutes(std::collections::HashMap<String, String>),
    /// What holds each number back and what it sent (`GET /v1/status`).
    Activity(oneshot::Sender<Vec<NumberActivity>>),
}

/// A business number's sending, as `GET /v1/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberActivity {
    /// The business number.
    pub number: String,
    /// What holds its next segment back: `per_second`, `per_minute`,
    /// `per_day` (a cap), `daily_lease` (its daily count being made
    /// durable) or `carrier` (no link up, or the carrier's queue full).
    pub held_by: Option<&'static str>,
    /// Whose cap or lease: `number:…`, `campaign:…` or `brand:…`.
    pub held_by_limit: Option<String>,
    /// Segments handed to its carrier in the last 60 s.
    pub sent_last_minute: u32,
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

    /// Each number's hold and recent sends; `None` if the dispatcher is
    /// gone (stopping).
    pub async fn activity(&self) -> Option<Vec<NumberActivity>> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Command::Activity(reply)).await.ok()?;
        answer.await.ok()
    }

    /// Replaces the limits, keeping what was counted so far.
    pub async fn reload_limits(&self, limits: std::collections::HashMap<String, NumberLimits>) {
        let _ = self.tx.send(Command::ReloadLimits(limits)).await;
    }

    /// Applies new SMS routes (number → carrier); queued messages of a
    /// moved number go through its new carrier.
    pub async fn reload_routes(&self, routes: std::collections::HashMap<String, String>) {
        let _ = self.tx.send(Command::ReloadRoutes(routes)).await;
    }
}

/// A message being submitted.
struct Active {
    record: MessageRecord,
    parts: Planned,
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

/// What a message's parts are, as planned when it becomes active.
enum Planned {
    /// SMS segments, encoded and split.
    Sms(Segments),
    /// Text cut into parts of at most the carrier's `text_max` bytes.
    Text(Vec<Arc<str>>),
    /// One MMS: its text and media (by id; the link reads the bytes).
    Mms {
        /// The text.
        text: Arc<str>,
        /// The media store's ids.
        media: Arc<[String]>,
    },
}

impl Planned {
    /// Parts to send.
    fn len(&self) -> usize {
        match self {
            Planned::Sms(segments) => segments.parts.len(),
            Planned::Text(parts) => parts.len(),
            Planned::Mms { .. } => 1,
        }
    }
}

type ConversationKey = (String, String);

/// A receipt is still waited for this long after the message's validity
/// ended (carriers report expiry at the end of the validity period).
const RECEIPT_GRACE_MS: u64 = 3600 * 1000;

/// The time, as the dispatcher is told it: a monotonic instant for timers
/// and Unix milliseconds for validity and daily caps.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// For timers.
    pub mono: Instant,
    /// Unix milliseconds.
    pub wall_ms: u64,
}

impl Now {
    /// The clock's time.
    pub fn current() -> Now {
        Now {
            mono: Instant::now(),
            wall_ms: now_ms(),
        }
    }

    /// `by` later.
    pub fn advanced(self, by: Duration) -> Now {
        Now {
            mono: self.mono + by,
            wall_ms: self.wall_ms + by.as_millis() as u64,
        }
    }
}

/// What the dispatcher asks its driver to do.
pub enum Effect {
    /// Make everything written so far durable, then report
    /// [`Dispatcher::synced`] with `upto`.
    Sync {
        /// Accepted segments covered by what was written.
        upto: u64,
    },
    /// Acknowledge these carrier receipts once everything written so far
    /// is durable (their changes are written).
    AckAfterSync(Vec<oneshot::Sender<()>>),
    /// A daily-count lease was written (`durable` false if the write
    /// failed): make it durable, then report [`Dispatcher::on_lease`].
    LeaseSync(LeaseOutcome),
    /// Count the messages to send accepted before the message id `below`
    /// (`Store::count_to_send`), then report
    /// [`Dispatcher::backlog_counted`].
    CountBacklog {
        /// The first id given out in this run.
        below: String,
    },
}

/// The dispatcher's state.
pub struct Dispatcher {
    store: Store,
    routes: HashMap<String, CarrierRoute>,
    events: Arc<dyn StatusEvents>,
    /// The time of the input being handled.
    now: Now,
    /// What the driver is to do next.
    effects: Vec<Effect>,
    /// Conversations with messages in memory (see [`conversations`]).
    conversations: HashMap<ConversationKey, conversations::Conversation>,
    /// The first message id given out in this run: index keys below it
    /// without a record are left from a crash.
    run_boundary: Arc<str>,
    /// Whether the backlog found at start was counted in the depth: until
    /// then none of it is read (a message sent and finished before it is
    /// counted would leave the depth twice).
    backlog_counted: bool,
    /// Each number's reading of its backlog on disk.
    numbers: HashMap<Arc<str>, conversations::NumberBacklog>,
    /// Numbers whose backlog is to be read on (next pump), and those to
    /// read on after that.
    refill_due: Vec<Arc<str>>,
    refill_later: Vec<Arc<str>>,
    /// Spilled conversations whose search goes on next pump.
    conversations_later: Vec<ConversationKey>,
    /// Every message in memory (active or waiting in its conversation).
    loaded: HashSet<Arc<str>>,
    active: HashMap<Arc<str>, Active>,
    /// Active messages with segments to send, per sending number.
    lanes: Lanes,
    limiter: Limiter,
    /// Bumped when the limits are reloaded, so lease answers for the old
    /// limiter's entities are ignored.
    limiter_generation: u64,
    /// When parked lanes were last checked for expired messages.
    last_expiry_sweep: Instant,
    retries: BinaryHeap<Reverse<(Instant, Arc<str>)>>,
    /// Which segment each receipt is about.
    receipts: ReceiptBook,
    /// Carrier acknowledgements waiting for the next sync.
    acks: Vec<oneshot::Sender<()>>,
    /// How a refused MMS goes instead (`None`: it fails).
    mms_fallback: Option<MmsFallback>,
    /// Each business number's SMS carrier now (empty: every message keeps
    /// the carrier it was accepted for).
    sms_routes: std::collections::HashMap<String, String>,
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
}

/// A daily-count lease was persisted (or not).
pub struct LeaseOutcome {
    generation: u64,
    entity: EntityId,
    lease: DailyLease,
    /// Written and fsync'd.
    pub durable: bool,
}

/// At most this many segments accepted by a carrier may wait for the group
/// commit that records it before no more are handed out: what a crash
/// sends twice is bounded by this plus what is in flight, however slow the
/// disk (normally a commit every 5 ms covers far fewer).
const MAX_UNSYNCED_ACCEPTED: u64 = 256;

/// How often state changes are made durable while they are written.
const SYNC_INTERVAL: Duration = Duration::from_millis(5);
/// How often held messages are checked for the end of their validity.
const EXPIRY_SWEEP: Duration = Duration::from_secs(1);
/// How often lanes parked on a carrier's full queue (or on no bind) look
/// again.
const CARRIER_RECHECK: Duration = Duration::from_millis(20);

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
    /// Creates the dispatcher and the handle its driver serves.
    pub(super) fn new(
        store: Store,
        routes: std::collections::HashMap<String, CarrierRoute>,
        limits: &std::collections::HashMap<String, NumberLimits>,
        events: Arc<dyn StatusEvents>,
        now: Now,
    ) -> Dispatcher {
        let routes = routes.into_iter().collect();
        let receipts = ReceiptBook::new(store.receipts.clone(), now.mono);
        Dispatcher {
            store,
            routes,
            events,
            now,
            effects: Vec::new(),
            run_boundary: Arc::from(""),
            backlog_counted: true,
            conversations: HashMap::default(),
            numbers: HashMap::default(),
            refill_due: Vec::new(),
            refill_later: Vec::new(),
            conversations_later: Vec::new(),
            loaded: HashSet::default(),
            active: HashMap::default(),
            lanes: Lanes::default(),
            limiter: Limiter::new(limits.iter().map(|(n, l)| (n.as_str(), l))),
            limiter_generation: 0,
            last_expiry_sweep: now.mono,
            retries: BinaryHeap::new(),
            receipts,
            acks: Vec::new(),
            mms_fallback: None,
            sms_routes: Default::default(),
            depth: Arc::new(AtomicI64::new(0)),
            submitted: Arc::new(AtomicI64::new(0)),
            unsynced: false,
            last_sync_request: now.mono,
            accepted_total: 0,
            synced_upto: 0,
        }
    }

    /// Tells the dispatcher the time of what it is handled next.
    pub fn set_now(&mut self, now: Now) {
        self.now = now;
    }

    /// What the driver is to do, since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// A group commit asked for by [`Effect::Sync`] finished.
    pub fn synced(&mut self, upto: u64) {
        self.synced_upto = self.synced_upto.max(upto);
    }

    /// Handles a command from the API or the daemon.
    pub fn handle_command(&mut self, command: Command) {
        match command {
            Command::Accepted(records) => {
                self.add_depth(records.len());
                self.accepted(records);
            }
            Command::ReloadLimits(limits) => self.reload_limits(&limits),
            Command::ReloadRoutes(routes) => self.reload_routes(routes),
            Command::Activity(reply) => {
                let _ = reply.send(self.activity());
            }
        }
    }

    /// Each lane's hold (with the entity it names) and recent sends.
    fn activity(&self) -> Vec<NumberActivity> {
        self.lanes
            .status(self.now.wall_ms)
            .into_iter()
            .map(|lane| {
                let (held_by, entity) = match lane.held_by {
                    None => (None, None),
                    Some(HeldBy::Limit(entity, kind)) => (Some(kind.as_str()), Some(entity)),
                    Some(HeldBy::DailyLease(entity)) => (Some("daily_lease"), Some(entity)),
                    Some(HeldBy::Carrier) => (Some("carrier"), None),
                };
                NumberActivity {
                    number: lane.number.to_string(),
                    held_by,
                    held_by_limit: entity.map(|e| self.limiter.key(e).to_owned()),
                    sent_last_minute: lane.sent_last_minute,
                }
            })
            .collect()
    }

    /// Does what the inputs so far made possible: hands segments to the
    /// links, asks for acknowledgements and the group commit.
    pub fn step(&mut self) {
        self.pump();
        self.flush_acks();
        self.request_sync();
    }

    /// When the dispatcher next needs [`Dispatcher::on_timeout`], if nothing
    /// else comes first.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.retries.peek().map(|Reverse((at, _))| *at);
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        consider(self.lanes.next_wake());
        consider(self.receipts.next_sweep());
        if self.lanes.has_parked() {
            // Held messages expire while they wait.
            consider(Some(self.last_expiry_sweep + EXPIRY_SWEEP));
        }
        if self.lanes.has_parked_on_carriers() {
            // A link's queue drains and its binds come up without telling.
            consider(Some(self.now.mono + CARRIER_RECHECK));
        }
        if self.unsynced {
            consider(Some(self.last_sync_request + SYNC_INTERVAL));
        }
        next
    }

    /// Clean stop: saves the exact daily counts and the rate windows.
    pub fn stop(&mut self) {
        self.save_daily_counts();
        self.save_rate_windows();
    }

    /// The counters shared with the API.
    fn handle(&self, tx: mpsc::Sender<Command>) -> DispatcherHandle {
        DispatcherHandle {
            tx,
            depth: self.depth.clone(),
            submitted: self.submitted.clone(),
        }
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
        let restored = self.receipts.restore(wait, self.now.mono)?;
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
        let numbers = self.store.backlog_numbers()?;
        for number in &numbers {
            self.backlog_found(number);
        }
        let below = crate::store::outbox::message_id(self.store.generate_id()?);
        self.run_boundary = Arc::from(below.as_str());
        if !numbers.is_empty() {
            // Counted off the dispatcher's thread; messages accepted from
            // now on have later ids and are counted as they come.
            self.backlog_counted = false;
            self.effects.push(Effect::CountBacklog { below });
        }
        self.submitted.fetch_add(awaiting as i64, Ordering::Relaxed);
        self.add_depth(awaiting);
        Ok(())
    }

    /// The backlog found at start holds `to_send` messages (see
    /// [`Effect::CountBacklog`]); it is read from now on.
    pub fn backlog_counted(&mut self, to_send: usize) {
        info!(to_send, "messages to send from the last run");
        self.add_depth(to_send);
        self.backlog_counted = true;
    }

    /// Handles every timer that is due.
    pub fn on_timeout(&mut self) {
        let now = self.now.mono;
        for id in self.receipts.sweep(now, self.now.wall_ms) {
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
        if now.duration_since(self.last_expiry_sweep) >= EXPIRY_SWEEP {
            // Messages held by a cap expire while they wait.
            self.last_expiry_sweep = now;
            let wall = self.now.wall_ms;
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

    /// Sends MMS the MMSC refuses for good as SMS with links.
    pub fn set_mms_fallback(&mut self, fallback: Option<MmsFallback>) {
        self.mms_fallback = fallback;
    }

    /// Handles what a link reports.
    pub fn handle_link_event(&mut self, event: LinkEvent) {
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
                if self.fall_back_to_sms(&message_id, &status) {
                    return;
                }
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
        let from = Stage::of(&record);
        // One that stopped waiting for its receipts has left the depth.
        if !record.receipt_timed_out {
            self.leave_depth(record.status);
        }
        record.status = status;
        record.error = err;
        crate::metrics::message_final(&record);
        self.persist(&mut record, from);
    }

    /// Asks for a group commit (without waiting) at most every 5 ms while
    /// state changes are being written, so that after a crash the replay
    /// resends only what was in flight or changed in the last few
    /// milliseconds, not everything sled had not flushed on its own.
    fn request_sync(&mut self) {
        if self.unsynced && self.now.mono.duration_since(self.last_sync_request) >= SYNC_INTERVAL {
            self.unsynced = false;
            self.last_sync_request = self.now.mono;
            self.effects.push(Effect::Sync {
                upto: self.accepted_total,
            });
        }
    }

    /// Writes a status change with its event; `from` is the record's stage
    /// before the change (which index keys it has).
    fn persist(&mut self, record: &mut MessageRecord, from: Stage) {
        self.unsynced = true;
        record.updated_at = self.now.wall_ms;
        if let Err(e) = self.events.message_status(record) {
            warn!(error = %e, id = %record.id, "could not stage a status event");
        }
        if let Err(e) = self.store.put_message_from(record, from) {
            warn!(error = %e, id = %record.id, "could not persist a status change");
        }
    }

    /// Acknowledges to carriers once everything written so far is durable.
    fn flush_acks(&mut self) {
        if !self.acks.is_empty() {
            let acks = std::mem::take(&mut self.acks);
            self.effects.push(Effect::AckAfterSync(acks));
        }
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
