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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use carrier_protocol::receipt::{MessageIdMapping, Receipt};
use carrier_protocol::segment::split::Segments;
use foldhash::HashMap;
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::lanes::Lanes;
use super::limits::{Admission, DailyLease, EntityId, Limiter, NumberLimits};
use super::plan::{self, PlanOptions};
use super::receipts::{Outcome, OutcomeState, ReceiptBook};
use crate::store::outbox::{ErrorInfo, MessageRecord, Status, now_ms};
use crate::store::{Store, StoreError};
use crate::transport::{RetryReason, SubmitJob, TransportEvent};

/// Where `message.status` events go: staged next to the state change.
pub trait StatusEvents: Send + Sync + 'static {
    /// Records a `message.status` event for `record`'s current status.
    fn message_status(&self, record: &MessageRecord) -> Result<(), StoreError>;
}

/// A carrier as the dispatcher sees it.
pub struct CarrierRoute {
    /// Its job queue.
    pub jobs: async_channel::Sender<SubmitJob>,
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
    depth: Arc<AtomicUsize>,
}

impl DispatcherHandle {
    /// Messages accepted and not yet final (the outbox depth).
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
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
    transport: mpsc::Receiver<TransportEvent>,
    /// Waiting messages per conversation; the front one is active.
    conversations: HashMap<ConversationKey, VecDeque<Arc<str>>>,
    waiting: HashMap<Arc<str>, MessageRecord>,
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
    depth: Arc<AtomicUsize>,
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
        transport: mpsc::Receiver<TransportEvent>,
    ) -> (Dispatcher, DispatcherHandle) {
        let routes = routes.into_iter().collect();
        let (tx, commands) = mpsc::channel(1024);
        let (leases_tx, leases) = mpsc::unbounded_channel();
        let (syncs_tx, syncs) = mpsc::unbounded_channel();
        let receipts = ReceiptBook::new(store.receipts.clone());
        let depth = Arc::new(AtomicUsize::new(0));
        (
            Dispatcher {
                store,
                routes,
                events,
                commands,
                transport,
                conversations: HashMap::default(),
                waiting: HashMap::default(),
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
                unsynced: false,
                last_sync_request: Instant::now(),
                accepted_total: 0,
                synced_upto: 0,
                syncs_tx,
                syncs,
            },
            DispatcherHandle { tx, depth },
        )
    }

    /// Reloads what the last run left: daily counts, receipts waiting for
    /// their responses, and every unfinished message in acceptance order.
    /// Must run before the API accepts anything, so no message is both
    /// replayed and handed over as newly accepted (it would be sent twice).
    pub fn replay(&mut self) -> Result<(), StoreError> {
        self.restore_daily_counts()?;
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
        let unfinished = self.store.unfinished_messages()?;
        if !unfinished.is_empty() {
            info!(count = unfinished.len(), "replaying the outbox");
        }
        self.add_depth(unfinished.len());
        let mut resend = Vec::new();
        for record in unfinished {
            match record.status {
                Status::Submitted => self.index_submitted(&record),
                _ => resend.push(record),
            }
        }
        self.enqueue(resend);
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
                        self.enqueue(records);
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
                        return Ok(());
                    }
                },
                _ = tick.tick() => self.on_tick(),
            }
        }
    }

    fn enqueue(&mut self, records: Vec<MessageRecord>) {
        for record in records {
            let id: Arc<str> = Arc::from(record.id.as_str());
            if self.active.contains_key(&id) || self.waiting.contains_key(&id) {
                warn!(%id, "a message was handed over twice; sending it once");
                continue;
            }
            let key = (record.from.clone(), record.to.clone());
            let queue = self.conversations.entry(key).or_default();
            queue.push_back(id.clone());
            let is_head = queue.len() == 1;
            self.waiting.insert(id.clone(), record);
            if is_head {
                self.activate(id);
            }
        }
    }

    /// Makes a conversation's head message active. A head that cannot be
    /// sent (expired, unknown carrier, text that cannot be encoded) is
    /// finished and the next one tried, in a loop (not recursion: a long
    /// conversation of such messages must not exhaust the stack).
    fn activate(&mut self, first: Arc<str>) {
        let mut next = Some(first);
        while let Some(id) = next.take() {
            let Some(record) = self.waiting.remove(&id) else {
                return;
            };
            match self.prepare(record) {
                Ok((record, segments)) => {
                    self.start(id, record, segments);
                    return;
                }
                Err((record, status, err)) => {
                    let key = (record.from.clone(), record.to.clone());
                    self.finish(record, status, Some(err));
                    next = self.pop_conversation_head(&key, &id);
                }
            }
        }
    }

    /// Plans a message's segments, or says why it cannot be sent.
    #[allow(clippy::result_large_err)]
    fn prepare(
        &self,
        record: MessageRecord,
    ) -> Result<(MessageRecord, Segments), (MessageRecord, Status, ErrorInfo)> {
        if record.expires_at <= now_ms() {
            return Err((record, Status::Expired, expired_error()));
        }
        let Some(route) = self.routes.get(&record.carrier) else {
            let err = error(
                "unknown_carrier",
                &format!("the carrier {:?} is not configured", record.carrier),
            );
            return Err((record, Status::Failed, err));
        };
        match plan::segments(
            &record.text,
            &record.encoding,
            record.reference,
            &route.plan,
        ) {
            Ok(segments) => Ok((record, segments)),
            Err(e) => {
                let err = error("invalid_text", &e.to_string());
                Err((record, Status::Rejected, err))
            }
        }
    }

    /// Makes a planned message active: its unsent segments go to its
    /// number's lane; segments accepted before a restart expect their
    /// receipts again.
    fn start(&mut self, id: Arc<str>, mut record: MessageRecord, segments: Segments) {
        if record.segments.len() != segments.parts.len() {
            record.segments = vec![Default::default(); segments.parts.len()];
        }
        let to_send: VecDeque<u16> = record
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.carrier_id.is_none())
            .map(|(i, _)| i as u16)
            .collect();
        let mut early = Vec::new();
        if let Some(route) = self.routes.get(&record.carrier) {
            let forget_at = record.expires_at.saturating_add(RECEIPT_GRACE_MS);
            for (i, state) in record.segments.iter().enumerate() {
                if let (Some(carrier_id), false) = (&state.carrier_id, state.done)
                    && let Ok(key) = route.id_mapping.submit_key(carrier_id)
                    && let Some(outcome) =
                        self.receipts
                            .expect(&record.carrier, key, id.clone(), i as u16, forget_at)
                {
                    early.push((i as u16, outcome));
                }
            }
        }
        self.active.insert(
            id.clone(),
            Active {
                record,
                segments,
                to_send,
                outstanding: 0,
                failures: 0,
                backoff: None,
                attempt_started: false,
                daily_reserved: false,
                in_lane: false,
            },
        );
        for (segment, outcome) in early {
            self.apply_receipt(id.clone(), segment, outcome);
        }
        self.queue_in_lane(&id);
        self.check_all_accepted(&id);
    }

    /// Puts an active message with segments to send in its number's lane
    /// (once).
    fn queue_in_lane(&mut self, id: &Arc<str>) {
        if let Some(active) = self.active.get_mut(id)
            && !active.in_lane
            && active.backoff.is_none()
            && !active.to_send.is_empty()
        {
            active.in_lane = true;
            self.lanes.push(&active.record.from, id.clone());
        }
    }

    /// Removes `id` from the head of its conversation; returns the next
    /// head, if any.
    fn pop_conversation_head(&mut self, key: &ConversationKey, id: &Arc<str>) -> Option<Arc<str>> {
        let queue = self.conversations.get_mut(key)?;
        if queue.front() == Some(id) {
            queue.pop_front();
        } else {
            queue.retain(|q| q != id);
        }
        let next = queue.front().cloned();
        if next.is_none() {
            self.conversations.remove(key);
        }
        next
    }

    /// Hands ready segments to their carriers' queues, lane by lane, one
    /// segment per turn, until every lane is idle or parked.
    fn pump(&mut self) {
        if self.accepted_total - self.synced_upto >= MAX_UNSYNCED_ACCEPTED {
            // The disk is behind: wait for the group commit under way.
            return;
        }
        let now = Instant::now();
        let wall = now_ms();
        let routes = &self.routes;
        self.lanes
            .wake_carriers(|carrier| routes.get(carrier).is_some_and(CarrierRoute::has_room));
        while let Some(number) = self.lanes.next_runnable() {
            self.serve_lane(number, now, wall);
        }
    }

    /// One turn of a lane: sends at most one segment, then ends the turn,
    /// or parks the lane on what stops it.
    fn serve_lane(&mut self, number: Arc<str>, now: Instant, wall: u64) {
        loop {
            let Some(id) = self.lanes.front(&number).cloned() else {
                self.lanes.end_turn(number);
                return;
            };
            let Some(active) = self.active.get_mut(&id) else {
                self.lanes.pop_front(&number);
                continue;
            };
            if active.backoff.is_some() || active.to_send.is_empty() {
                // Its retry timer (or its last response) puts it back.
                active.in_lane = false;
                self.lanes.pop_front(&number);
                continue;
            }
            if active.record.expires_at <= wall {
                active.in_lane = false;
                self.lanes.pop_front(&number);
                if active.outstanding == 0 {
                    self.expire(&id);
                }
                continue;
            }
            let Some(route) = self.routes.get(&active.record.carrier) else {
                active.in_lane = false;
                self.lanes.pop_front(&number);
                continue;
            };
            if !route.has_room() {
                let carrier = active.record.carrier.clone();
                self.lanes.park_on_carrier(number, &carrier);
                return;
            }
            let daily = if active.daily_reserved {
                0
            } else {
                active.to_send.len() as u32
            };
            match self.limiter.admit(&number, now, wall, daily) {
                Admission::Go => {}
                Admission::Wait {
                    until,
                    entity,
                    daily,
                } => {
                    // A daily cap holds back new messages only: one that
                    // already has its segments reserved (a retry, say)
                    // behind it in the lane goes first.
                    let active_messages = &self.active;
                    if daily
                        && self.lanes.promote(&number, |m| {
                            active_messages.get(m).is_some_and(|a| {
                                a.daily_reserved && a.backoff.is_none() && !a.to_send.is_empty()
                            })
                        })
                    {
                        continue;
                    }
                    if self.lanes.park_on_entity(number, entity, Some(until)) {
                        crate::metrics::limit_hold(self.limiter.key(entity));
                    }
                    return;
                }
                Admission::Lease { entity, lease } => {
                    self.persist_lease(entity, lease);
                    self.lanes.park_on_entity(number, entity, None);
                    return;
                }
                Admission::LeasePending { entity } => {
                    self.lanes.park_on_entity(number, entity, None);
                    return;
                }
                Admission::Never { entity } => {
                    let detail = format!(
                        "the message has more segments than {} may send in a day",
                        self.limiter.key(entity)
                    );
                    active.in_lane = false;
                    self.lanes.pop_front(&number);
                    if active.outstanding == 0
                        && let Some(record) = self.deactivate(&id)
                    {
                        self.finish(
                            record,
                            Status::Failed,
                            Some(error("over_daily_cap", &detail)),
                        );
                    }
                    continue;
                }
            }
            active.daily_reserved = true;
            let Some(segment) = active.to_send.pop_front() else {
                continue;
            };
            let Some(body) = plan::submit_sm(
                &active.record.from,
                &active.record.to,
                &active.segments,
                usize::from(segment),
                active.record.receipts,
            ) else {
                continue;
            };
            let job = SubmitJob {
                message_id: id.clone(),
                segment,
                body,
            };
            if route.jobs.try_send(job).is_err() {
                // Only the dispatcher fills the queue, and it had room; the
                // carrier must be gone. Keep the segment for later.
                active.to_send.push_front(segment);
                let carrier = active.record.carrier.clone();
                self.lanes.park_on_carrier(number, &carrier);
                return;
            }
            active.outstanding += 1;
            if !active.attempt_started {
                active.attempt_started = true;
                active.record.attempts += 1;
                active.record.status = Status::Sending;
                active.record.updated_at = wall;
                // A first attempt is answered within milliseconds, so its
                // "sending" is not written (one write per message less); a
                // retry is, so operators see what is stuck and how often it
                // was tried. Neither is fsync'd: after a crash the replay
                // resends queued and sending messages alike.
                if active.record.attempts > 1
                    && let Err(e) = self.store.put_message(&active.record)
                {
                    warn!(error = %e, "could not record sending status");
                }
            }
            if active.to_send.is_empty() {
                active.in_lane = false;
                self.lanes.pop_front(&number);
            }
            self.lanes.end_turn(number);
            return;
        }
    }

    /// Ends an active message whose validity is over.
    fn expire(&mut self, id: &Arc<str>) {
        if let Some(record) = self.deactivate(id) {
            self.finish(record, Status::Expired, Some(expired_error()));
        }
    }

    /// Writes a daily-count lease and tells the dispatcher once it is
    /// fsync'd; segments counted against it wait until then.
    fn persist_lease(&mut self, entity: EntityId, lease: DailyLease) {
        let generation = self.limiter_generation;
        let tx = self.leases_tx.clone();
        let written = self
            .store
            .limits
            .insert(self.limiter.key(entity).as_bytes(), &lease.to_bytes()[..]);
        if let Err(e) = written {
            // Not durable: the lanes wake and ask again.
            warn!(error = %e, "could not persist a daily limit count; retrying");
            let _ = tx.send(LeaseOutcome {
                generation,
                entity,
                lease,
                durable: false,
            });
            return;
        }
        let durability = self.store.durability().clone();
        tokio::spawn(async move {
            let durable = durability.sync().await.is_ok();
            let _ = tx.send(LeaseOutcome {
                generation,
                entity,
                lease,
                durable,
            });
        });
    }

    fn on_lease(&mut self, outcome: LeaseOutcome) {
        if outcome.generation != self.limiter_generation {
            return;
        }
        if outcome.durable {
            self.limiter.lease_durable(outcome.entity, outcome.lease);
        } else {
            self.limiter.lease_failed(outcome.entity);
        }
        self.lanes.wake_entity(outcome.entity);
    }

    /// Loads today's daily counts.
    fn restore_daily_counts(&mut self) -> Result<(), StoreError> {
        let wall = now_ms();
        let keys: Vec<String> = self.limiter.daily_keys().map(str::to_owned).collect();
        for key in keys {
            if let Some(bytes) = self.store.limits.get(key.as_bytes())?
                && let Some(lease) = DailyLease::from_bytes(&bytes)
            {
                self.limiter.restore_daily(&key, lease, wall);
            }
        }
        Ok(())
    }

    /// On a clean stop, replaces the leases by the exact counts.
    fn save_daily_counts(&self) {
        for (key, count) in self.limiter.daily_counts() {
            if count.day == 0 {
                continue;
            }
            if let Err(e) = self
                .store
                .limits
                .insert(key.as_bytes(), &count.to_bytes()[..])
            {
                warn!(error = %e, "could not save a daily limit count");
            }
        }
    }

    fn reload_limits(&mut self, limits: &std::collections::HashMap<String, NumberLimits>) {
        self.limiter
            .reload(limits.iter().map(|(n, l)| (n.as_str(), l)));
        self.limiter_generation += 1;
        if let Err(e) = self.restore_daily_counts() {
            warn!(error = %e, "could not read daily limit counts");
        }
        self.lanes.wake_all();
        info!(
            limited_numbers = limits
                .values()
                .filter(|l| !l.own.is_unlimited() || l.campaign.is_some() || l.brand.is_some())
                .count(),
            "limits reloaded"
        );
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.receipts.sweep(now);
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

    fn on_transport(&mut self, event: TransportEvent) {
        match event {
            TransportEvent::Accepted {
                message_id,
                segment,
                carrier_id,
            } => self.on_accepted(message_id, segment, carrier_id),
            TransportEvent::Refused {
                message_id,
                segment,
                status,
            } => {
                debug!(%message_id, segment, %status, "refused by the carrier");
                if let Some(record) = self.deactivate(&message_id) {
                    self.finish(
                        record,
                        Status::Failed,
                        Some(error("carrier_rejected", &status.to_string())),
                    );
                }
            }
            TransportEvent::Retry {
                message_id,
                segment,
                reason,
            } => self.on_retry(message_id, segment, reason),
            TransportEvent::Receipt {
                carrier,
                receipt,
                ack,
            } => {
                self.on_receipt(&carrier, receipt);
                self.acks.push(ack);
            }
            TransportEvent::Inbound { carrier, pdu, ack } => {
                if let Err(e) = self.store_inbound(&carrier, &pdu) {
                    warn!(error = %e, "could not store an inbound message; the carrier will resend it");
                    drop(ack);
                } else {
                    self.acks.push(ack);
                }
            }
            TransportEvent::BindState { carrier, up } => {
                debug!(%carrier, up, "bind state");
            }
        }
    }

    fn on_accepted(&mut self, id: Arc<str>, segment: u16, carrier_id: String) {
        let Some(active) = self.active.get_mut(&id) else {
            return;
        };
        active.outstanding = active.outstanding.saturating_sub(1);
        active.failures = 0;
        self.accepted_total += 1;
        let carrier = active.record.carrier.clone();
        let forget_at = active.record.expires_at.saturating_add(RECEIPT_GRACE_MS);
        if let Some(state) = active.record.segments.get_mut(usize::from(segment)) {
            state.carrier_id = Some(carrier_id.clone());
        }
        if let Some(route) = self.routes.get(&carrier)
            && let Ok(key) = route.id_mapping.submit_key(&carrier_id)
            && let Some(outcome) =
                self.receipts
                    .expect(&carrier, key, id.clone(), segment, forget_at)
        {
            // Its receipt overtook this response.
            self.apply_receipt(id.clone(), segment, outcome);
        }
        if self
            .active
            .get(&id)
            .is_some_and(|a| a.outstanding == 0 && !a.to_send.is_empty())
        {
            // Left its lane while segments were out (e.g. it expired).
            self.queue_in_lane(&id);
        }
        self.check_all_accepted(&id);
    }

    /// Once every segment of an active message was accepted, it leaves the
    /// conversation's head: delivered if no receipt is to come (none asked
    /// for, or all overtook their responses), else submitted.
    fn check_all_accepted(&mut self, id: &Arc<str>) {
        let all_accepted = self.active.get(id).is_some_and(|active| {
            active.outstanding == 0
                && active.to_send.is_empty()
                && active
                    .record
                    .segments
                    .iter()
                    .all(|s| s.carrier_id.is_some())
        });
        if all_accepted && let Some(mut record) = self.deactivate(id) {
            let all_receipted = record.segments.iter().all(|s| s.done);
            if !record.receipts || all_receipted {
                self.finish(record, Status::Delivered, None);
            } else {
                record.status = Status::Submitted;
                self.persist(&mut record);
            }
        }
    }

    fn on_retry(&mut self, id: Arc<str>, segment: u16, reason: RetryReason) {
        let Some(active) = self.active.get_mut(&id) else {
            return;
        };
        active.outstanding = active.outstanding.saturating_sub(1);
        active.to_send.push_back(segment);
        active.failures += 1;
        crate::metrics::retry(&active.record.carrier, reason);
        if active.backoff.is_none() {
            let exp = RETRY_BASE.saturating_mul(1 << active.failures.min(10));
            let cap = exp.min(RETRY_MAX);
            let delay = Duration::from_millis(
                rand::rng().random_range(cap.as_millis() as u64 / 2..=cap.as_millis() as u64),
            );
            let at = Instant::now() + delay;
            active.backoff = Some(at);
            self.retries.push(Reverse((at, id)));
        }
    }

    fn on_receipt(&mut self, carrier: &str, receipt: Receipt<'static>) {
        let Some(route) = self.routes.get(carrier) else {
            return;
        };
        let Ok(key) = route.id_mapping.receipt_key(&receipt) else {
            warn!(%carrier, "receipt without a usable id");
            crate::metrics::unmatched_receipt(carrier);
            return;
        };
        let Some(outcome) = Outcome::of(&receipt) else {
            return;
        };
        let wait = route.receipt_wait;
        if let Some((id, segment, outcome)) = self.receipts.arrived(carrier, key, outcome, wait) {
            self.apply_receipt(id, segment, outcome);
        }
    }

    /// A segment's final receipt: the message is delivered when all its
    /// segments are, and failed (or expired) as soon as one is.
    fn apply_receipt(&mut self, id: Arc<str>, segment: u16, outcome: Outcome) {
        // The message is either still active (other segments pending) or
        // retired to the store.
        let mut record = match self.active.get(&id) {
            Some(active) => active.record.clone(),
            None => match self.store.get_message(&id) {
                Ok(Some(record)) => record,
                _ => return,
            },
        };
        if record.status.is_final() {
            return;
        }
        if let Some(state) = record.segments.get_mut(usize::from(segment)) {
            state.done = true;
        }
        let in_active = self.active.contains_key(&id);
        match outcome.state {
            OutcomeState::Expired | OutcomeState::Failed => {
                let status = if outcome.state == OutcomeState::Expired {
                    Status::Expired
                } else {
                    Status::Failed
                };
                if in_active {
                    self.deactivate(&id);
                }
                self.finish(
                    record,
                    status,
                    Some(error("carrier_undelivered", &outcome.detail)),
                );
            }
            OutcomeState::Delivered => {
                if record.segments.iter().all(|s| s.done) && !in_active {
                    self.finish(record, Status::Delivered, None);
                } else if let Some(active) = self.active.get_mut(&id) {
                    active.record.segments = record.segments;
                } else {
                    self.persist(&mut record);
                }
            }
        }
    }

    /// Removes an active message and starts the next one of its conversation.
    fn deactivate(&mut self, id: &Arc<str>) -> Option<MessageRecord> {
        let active = self.active.remove(id)?;
        let key = (active.record.from.clone(), active.record.to.clone());
        if let Some(next) = self.pop_conversation_head(&key, id) {
            self.activate(next);
        }
        Some(active.record)
    }

    fn add_depth(&self, n: usize) {
        let depth = self.depth.fetch_add(n, Ordering::Relaxed) + n;
        crate::metrics::outbox_depth(depth);
    }

    fn finish(&mut self, mut record: MessageRecord, status: Status, err: Option<ErrorInfo>) {
        let depth = self.depth.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        crate::metrics::outbox_depth(depth);
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
            let durability = self.store.durability().clone();
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

    /// After a restart: the receipts of a submitted message's segments are
    /// expected again.
    fn index_submitted(&mut self, record: &MessageRecord) {
        let Some(route) = self.routes.get(&record.carrier) else {
            return;
        };
        let id: Arc<str> = Arc::from(record.id.as_str());
        let forget_at = record.expires_at.saturating_add(RECEIPT_GRACE_MS);
        let mut early = Vec::new();
        for (i, state) in record.segments.iter().enumerate() {
            if let (Some(carrier_id), false) = (&state.carrier_id, state.done)
                && let Ok(key) = route.id_mapping.submit_key(carrier_id)
                && let Some(outcome) =
                    self.receipts
                        .expect(&record.carrier, key, id.clone(), i as u16, forget_at)
            {
                early.push((i as u16, outcome));
            }
        }
        for (segment, outcome) in early {
            self.apply_receipt(id.clone(), segment, outcome);
        }
    }

    fn store_inbound(
        &self,
        carrier: &str,
        pdu: &carrier_protocol::smpp::Pdu,
    ) -> Result<(), StoreError> {
        let id = self.store.generate_id()?;
        let value = serde_json::json!({
            "carrier": carrier,
            "received_at": now_ms(),
            "pdu": carrier_protocol::hex::encode(&pdu.to_bytes()),
        });
        self.store
            .inbox
            .insert(id.to_be_bytes(), value.to_string().into_bytes())?;
        Ok(())
    }

    /// Acknowledges to carriers once everything written so far is durable.
    fn flush_acks(&mut self) {
        if self.acks.is_empty() {
            return;
        }
        let acks = std::mem::take(&mut self.acks);
        let durability = self.store.durability().clone();
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
