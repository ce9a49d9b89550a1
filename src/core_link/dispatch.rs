//! The delivery engine: pending events out of the log, into batches, to the
//! sink, acknowledged or retried; in order per key, concurrent across keys.
//!
//! Why it is shaped this way:
//!
//! - **Order per key, not globally.** Each order key (session or message id)
//!   has a queue; a key has at most one attempt in flight, and its later
//!   events wait until the earlier ones are acknowledged. Keys whose head is
//!   sendable sit in `ready`, ordered by their head's sequence number, so the
//!   oldest waiting event goes first and a stuck key never blocks the others.
//! - **Batches across keys.** A batch takes whole runs of a key's queue (they
//!   stay in order inside the batch) from as many ready keys as fit in
//!   `batch_max`, then is sorted by sequence number. A 2xx acknowledges the
//!   whole batch.
//! - **Two kinds of failure.** A failure that concerns the link (no
//!   connection, timeout, 429/503, a wrong URL: see
//!   [`DeliveryError::is_core_wide`]) pauses the whole link with exponential
//!   backoff and jitter (or the core's `Retry-After`), then probes with one
//!   request at a time until one succeeds: a core that is down is not
//!   hammered by `max_in_flight` × every key. A failure that concerns the
//!   events (400, 422, 500) backs off only the keys in that batch; those keys
//!   are then sent on their own, so one poisonous event cannot keep failing
//!   the batches of healthy keys. Many such failures in a row with no success
//!   in between (a core answering 500 to everything) escalate to the
//!   link-wide pause.
//! - **Same bytes on retry.** Events keep their stored bytes and the sink's
//!   body is a pure function of the events, so a retried event is identical.
//! - **Bounded memory.** At most `max_window` events are held in memory; the
//!   rest of a large backlog (a long core outage at 40k events/s) stays on
//!   disk and is read as acknowledgements make room.
//! - **Durable before sent** (see `durability`): read events are held until
//!   one [`Durability::sync`] covering them completes; the next read and sync
//!   overlap with the requests in flight.
//! - **Few wake-ups under load.** Producers signal a `Notify`; the loop only
//!   listens to it when it could use new events right away, otherwise the
//!   next completion picks them up, so at high rates the loop runs about once
//!   per request, not once per event.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::future::Future;
use std::mem;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::task::{Id, JoinError, JoinHandle, JoinSet};
use tokio::time::Instant;
use tracing::Instrument;

use super::dead_letters::{self, ParkedMeta};
use super::durability::{BoxFuture, Durability};
use super::log::EventLog;
use super::metric_names as names;
use super::sink::{CoreSink, DeliveryError, EventRef};
use crate::backoff::backoff_delay;

/// How long a settled sequence number without a record is looked for.
const GAP_TTL: Duration = Duration::from_secs(600);
/// At most this many such numbers are tracked.
const MAX_GAPS: usize = 10_000;
/// Gaps are re-checked every this many polls.
const RECONCILE_POLLS: u32 = 30;
/// Failures of any kind in a row (no success between) that pause the link.
const ESCALATE_AFTER: u32 = 8;
/// Wait before retrying a failed durability sync.
const SYNC_RETRY: Duration = Duration::from_secs(1);

/// How the engine runs (from `[core]`, see [`super::CoreLinkConfig`]).
#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Events per attempt (`[core] batch_max`).
    pub batch_max: usize,
    /// Attempts in flight at once.
    pub max_in_flight: usize,
    /// First retry delay; doubles per failure, with jitter.
    pub backoff_initial: Duration,
    /// Largest retry delay.
    pub backoff_max: Duration,
    /// Looks at the log this often even without a signal.
    pub poll_interval: Duration,
    /// Events held in memory at most.
    pub max_window: usize,
    /// On shutdown, how long attempts in flight may finish (so their
    /// acknowledgements are recorded and not re-sent after the restart).
    pub shutdown_grace: Duration,
    /// Refusals of one event before it is parked (`[core] max_attempts`;
    /// see `dead_letters`).
    pub max_attempts: u32,
    /// How long one event may keep being refused before it is parked
    /// (`[core] max_age`).
    pub max_age: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            batch_max: 1,
            max_in_flight: 4,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            max_window: 65_536,
            shutdown_grace: Duration::from_secs(5),
            max_attempts: 10,
            max_age: Duration::from_secs(3600),
        }
    }
}

/// The core link task.
pub struct CoreLink;

impl CoreLink {
    /// Starts delivering the events of `log` to `sink` until `shutdown`
    /// resolves; then lets attempts in flight finish (within
    /// `shutdown_grace`) and syncs the acknowledgements.
    pub fn spawn<F>(
        config: DispatchConfig,
        log: EventLog,
        sink: Arc<dyn CoreSink>,
        durability: Arc<dyn Durability>,
        shutdown: F,
    ) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let config = DispatchConfig {
            batch_max: config.batch_max.max(1),
            max_in_flight: config.max_in_flight.max(1),
            max_window: config.max_window.max(config.batch_max.max(1)),
            ..config
        };
        let pump = EventPump {
            cfg: config,
            log,
            sink,
            durability,
            keys: HashMap::new(),
            ready: BTreeMap::new(),
            backoffs: BinaryHeap::new(),
            backoff_tiebreak: 0,
            loaded: 0,
            cursor: 0,
            caught_up: false,
            gaps: BTreeMap::new(),
            gaps_overflowed: false,
            flights: HashMap::new(),
            in_flight: JoinSet::new(),
            pause_until: None,
            core_failures: 0,
            streak: 0,
            last_success: None,
            epoch: 0,
        };
        tokio::spawn(
            pump.run(shutdown)
                .instrument(tracing::info_span!("core_link")),
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyState {
    /// Nothing in flight; in `ready` if its queue is not empty.
    Idle,
    /// An attempt with its head events is in flight.
    InFlight,
    /// Waiting for its backoff to expire (an entry in `backoffs`).
    Backoff,
}

struct KeyQueue {
    queue: VecDeque<EventRef>,
    state: KeyState,
    /// Failures concerning this key's events since its last success.
    attempts: u32,
    /// Its events failed on their own account: send its head alone.
    suspect: bool,
    /// When its head was first refused (monotonic, and Unix ms).
    first_failed: Option<(Instant, u64)>,
}

/// An attempt in flight.
struct Flight {
    events: Arc<Vec<EventRef>>,
    /// Link epoch at send time: only the first failure per epoch grows the pause.
    epoch: u64,
}

struct Outcome {
    result: Result<(), DeliveryError>,
    elapsed: Duration,
}

enum Wake {
    Shutdown,
    Done(Result<(Id, Outcome), JoinError>),
    Synced(std::io::Result<()>),
    Notified,
    Timer,
}

struct EventPump {
    cfg: DispatchConfig,
    log: EventLog,
    sink: Arc<dyn CoreSink>,
    durability: Arc<dyn Durability>,
    keys: HashMap<Arc<str>, KeyQueue>,
    /// Head sequence number → key, for idle keys with queued events.
    ready: BTreeMap<u64, Arc<str>>,
    /// (when, tiebreak, key) for keys in `KeyState::Backoff`.
    backoffs: BinaryHeap<Reverse<(Instant, u64, Arc<str>)>>,
    backoff_tiebreak: u64,
    /// Events in memory: waiting for a sync, queued or in flight.
    loaded: usize,
    /// Next sequence number to read.
    cursor: u64,
    /// The last read reached the end of what is readable.
    caught_up: bool,
    /// Settled sequence numbers with no record yet, and since when.
    gaps: BTreeMap<u64, Instant>,
    gaps_overflowed: bool,
    flights: HashMap<Id, Flight>,
    in_flight: JoinSet<Outcome>,
    /// No new attempt before this.
    pause_until: Option<Instant>,
    /// Link-wide failures in a row (one per epoch).
    core_failures: u32,
    /// Failures of any kind since the last success.
    streak: u32,
    /// When the core last accepted a batch.
    last_success: Option<Instant>,
    epoch: u64,
}

impl EventPump {
    async fn run<F: Future<Output = ()>>(mut self, shutdown: F) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut undurable: Vec<EventRef> = Vec::new();
        let mut syncing: Option<BoxFuture<'static, std::io::Result<()>>> = None;
        let mut sync_batch: Vec<EventRef> = Vec::new();
        let mut sync_retry_at: Option<Instant> = None;
        let mut stopping_at: Option<Instant> = None;
        let mut next_poll = Instant::now();
        let reconcile_every = self.cfg.poll_interval.saturating_mul(RECONCILE_POLLS);
        let mut next_reconcile = Instant::now() + reconcile_every;
        let mut dirty = true;
        tracing::info!(
            batch_max = self.cfg.batch_max,
            max_in_flight = self.cfg.max_in_flight,
            backlog = self.log.backlog(),
            "core link started"
        );

        loop {
            let now = Instant::now();
            if now >= next_poll {
                dirty = true;
                next_poll = now + self.cfg.poll_interval;
            }
            if now >= next_reconcile {
                next_reconcile = now + reconcile_every;
                self.reconcile(now, &mut undurable);
            }
            self.promote_backoffs(now);

            if let Some(deadline) = stopping_at {
                if self.in_flight.is_empty() || now >= deadline {
                    break;
                }
            } else {
                if dirty {
                    dirty = !self.load(&mut undurable);
                }
                if syncing.is_none()
                    && !undurable.is_empty()
                    && sync_retry_at.is_none_or(|at| now >= at)
                {
                    sync_retry_at = None;
                    sync_batch = mem::take(&mut undurable);
                    let durability = self.durability.clone();
                    syncing = Some(Box::pin(async move { durability.sync().await }));
                }
                self.dispatch(now);
            }
            self.publish_backlog();

            // Listen to producers only when new events could be used now: a
            // free slot, or nothing ready for the next one; else the next
            // completion reads them. While the link is paused, the poll tick
            // is soon enough.
            let now = Instant::now();
            let paused = self.pause_until.is_some_and(|at| now < at);
            let listen = stopping_at.is_none()
                && !paused
                && syncing.is_none()
                && self.loaded < self.cfg.max_window
                && (self.in_flight.len() < self.slots() || self.ready.is_empty());
            let deadline = [
                Some(next_poll),
                self.pause_until,
                self.backoffs.peek().map(|Reverse((at, _, _))| *at),
                sync_retry_at,
                stopping_at,
            ]
            .into_iter()
            .flatten()
            // A deadline already past (a pause while stopping) must not spin.
            .filter(|at| *at > now)
            .min()
            .unwrap_or(next_poll);

            let wake = tokio::select! {
                biased;
                () = &mut shutdown, if stopping_at.is_none() => Wake::Shutdown,
                Some(done) = self.in_flight.join_next_with_id(), if !self.in_flight.is_empty() => Wake::Done(done),
                result = wait(syncing.as_mut()), if syncing.is_some() => Wake::Synced(result),
                () = self.log.notified(), if listen => Wake::Notified,
                () = tokio::time::sleep_until(deadline) => Wake::Timer,
            };

            match wake {
                Wake::Shutdown => {
                    tracing::info!(in_flight = self.in_flight.len(), "core link stopping");
                    stopping_at = Some(Instant::now() + self.cfg.shutdown_grace);
                }
                Wake::Done(done) => {
                    self.complete(done, Instant::now());
                    dirty = true;
                }
                Wake::Synced(result) => {
                    syncing = None;
                    match result {
                        Ok(()) => {
                            for event in sync_batch.drain(..) {
                                self.enqueue(event);
                            }
                        }
                        Err(error) => {
                            tracing::error!(%error, "durability sync failed; events held back");
                            sync_batch.append(&mut undurable);
                            undurable = mem::take(&mut sync_batch);
                            sync_retry_at = Some(Instant::now() + SYNC_RETRY);
                        }
                    }
                }
                Wake::Notified => dirty = true,
                Wake::Timer => {}
            }
        }

        let abandoned = self.in_flight.len();
        self.in_flight.shutdown().await;
        if let Err(error) = self.durability.sync().await {
            tracing::warn!(%error, "final sync of acknowledgements failed");
        }
        self.publish_backlog();
        tracing::info!(abandoned, backlog = self.log.backlog(), "core link stopped");
    }

    /// Attempts allowed in flight now: one while probing a core that failed.
    fn slots(&self) -> usize {
        if self.core_failures > 0 {
            1
        } else {
            self.cfg.max_in_flight
        }
    }

    /// Reads more events into `into`; true when everything readable was read.
    fn load(&mut self, into: &mut Vec<EventRef>) -> bool {
        let room = self.cfg.max_window.saturating_sub(self.loaded);
        if room == 0 {
            return false;
        }
        let keys = &self.keys;
        let before = into.len();
        let read = self
            .log
            .read(self.cursor, room, |seq, event_type, key, json| {
                into.push(EventRef {
                    seq,
                    event_type,
                    order_key: intern(keys, key),
                    json: Bytes::copy_from_slice(json),
                });
            });
        match read {
            Ok(outcome) => {
                self.loaded += into.len() - before;
                self.cursor = outcome.next;
                self.caught_up = outcome.exhausted;
                let now = Instant::now();
                for gap in outcome.gaps {
                    for seq in gap {
                        if self.gaps.len() >= MAX_GAPS {
                            if !self.gaps_overflowed {
                                tracing::warn!(
                                    "too many event-log gaps; no longer tracking new ones"
                                );
                                self.gaps_overflowed = true;
                            }
                            break;
                        }
                        self.gaps.insert(seq, now);
                    }
                }
                outcome.exhausted
            }
            Err(error) => {
                tracing::error!(%error, "reading the event log failed; retrying at the next poll");
                true
            }
        }
    }

    /// Looks again for events whose sequence number settled before their
    /// record was written (see `log`), and forgets old gaps.
    fn reconcile(&mut self, now: Instant, into: &mut Vec<EventRef>) {
        if self.gaps.is_empty() {
            return;
        }
        let keys = &self.keys;
        let log = &self.log;
        let before = into.len();
        self.gaps.retain(|seq, since| {
            let found = log.read_one(*seq, |seq, event_type, key, json| {
                into.push(EventRef {
                    seq,
                    event_type,
                    order_key: intern(keys, key),
                    json: Bytes::copy_from_slice(json),
                });
            });
            match found {
                Ok(true) => false,
                Ok(false) => now.duration_since(*since) < GAP_TTL,
                Err(_) => true,
            }
        });
        let late = into.len() - before;
        if late > 0 {
            tracing::warn!(
                late,
                "events were written after their sequence number was released; delivering them now, possibly out of order"
            );
            self.loaded += late;
        }
        if self.gaps.len() < MAX_GAPS / 2 {
            self.gaps_overflowed = false;
        }
    }

    /// A durable event joins its key's queue.
    fn enqueue(&mut self, event: EventRef) {
        let seq = event.seq;
        match self.keys.get_mut(&*event.order_key) {
            Some(key) => {
                if key.queue.is_empty() && key.state == KeyState::Idle {
                    self.ready.insert(seq, event.order_key.clone());
                }
                key.queue.push_back(event);
            }
            None => {
                let name = event.order_key.clone();
                self.ready.insert(seq, name.clone());
                self.keys.insert(
                    name,
                    KeyQueue {
                        queue: VecDeque::from([event]),
                        state: KeyState::Idle,
                        attempts: 0,
                        suspect: false,
                        first_failed: None,
                    },
                );
            }
        }
    }

    fn promote_backoffs(&mut self, now: Instant) {
        while let Some(Reverse((at, _, _))) = self.backoffs.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, _, name))) = self.backoffs.pop() else {
                break;
            };
            if let Some(key) = self.keys.get_mut(&name)
                && key.state == KeyState::Backoff
            {
                key.state = KeyState::Idle;
                if let Some(head) = key.queue.front() {
                    self.ready.insert(head.seq, name);
                }
            }
        }
    }

    fn dispatch(&mut self, now: Instant) {
        if self.pause_until.is_some_and(|at| now < at) {
            return;
        }
        self.pause_until = None;
        while self.in_flight.len() < self.slots() {
            let Some(batch) = self.next_batch() else {
                break;
            };
            let events = Arc::new(batch);
            let sink = self.sink.clone();
            let task_events = events.clone();
            let handle = self.in_flight.spawn(async move {
                let started = Instant::now();
                let result = sink.deliver(&task_events).await;
                Outcome {
                    result,
                    elapsed: started.elapsed(),
                }
            });
            self.flights.insert(
                handle.id(),
                Flight {
                    events,
                    epoch: self.epoch,
                },
            );
        }
        metrics::gauge!(names::IN_FLIGHT).set(self.in_flight.len() as f64);
    }

    /// Takes the next batch from the ready keys, oldest head first.
    fn next_batch(&mut self) -> Option<Vec<EventRef>> {
        let mut batch: Vec<EventRef> = Vec::new();
        while batch.len() < self.cfg.batch_max {
            let Some(entry) = self.ready.first_entry() else {
                break;
            };
            let Some(key) = self.keys.get_mut(entry.get()) else {
                entry.remove();
                continue;
            };
            if key.suspect && !batch.is_empty() {
                // It goes alone, in the next batch.
                break;
            }
            entry.remove();
            // A suspect key sends its head alone, so a refusal names the
            // event (and only that one can be parked).
            let room = if key.suspect {
                1
            } else {
                self.cfg.batch_max - batch.len()
            };
            let take = room.min(key.queue.len());
            batch.extend(key.queue.drain(..take));
            key.state = KeyState::InFlight;
            if key.suspect {
                break;
            }
        }
        if batch.is_empty() {
            return None;
        }
        batch.sort_unstable_by_key(|event| event.seq);
        Some(batch)
    }

    fn complete(&mut self, done: Result<(Id, Outcome), JoinError>, now: Instant) {
        let (id, outcome) = match done {
            Ok((id, outcome)) => (id, outcome),
            Err(error) => {
                let outcome = Outcome {
                    result: Err(DeliveryError::Rejected {
                        reason: format!("sink task failed: {error}"),
                        core_wide: false,
                        retry_after: None,
                    }),
                    elapsed: Duration::ZERO,
                };
                (error.id(), outcome)
            }
        };
        let Some(flight) = self.flights.remove(&id) else {
            return;
        };
        let events = Arc::try_unwrap(flight.events).unwrap_or_else(|shared| (*shared).clone());
        metrics::histogram!(names::REQUEST_DURATION).record(outcome.elapsed.as_secs_f64());
        match outcome.result {
            Ok(()) => self.delivered(events),
            Err(error) => self.failed(events, &error, flight.epoch, now),
        }
        metrics::gauge!(names::IN_FLIGHT).set(self.in_flight.len() as f64);
    }

    fn delivered(&mut self, events: Vec<EventRef>) {
        metrics::counter!(names::DELIVERIES, "outcome" => "ok").increment(1);
        metrics::counter!(names::EVENTS_DELIVERED).increment(events.len() as u64);
        if let Err(error) = self.log.ack_many(events.iter().map(|e| e.seq)) {
            // Delivered but still on disk: re-sent (same ids) after a restart.
            tracing::error!(%error, "removing delivered events failed");
        }
        self.loaded = self.loaded.saturating_sub(events.len());
        if self.core_failures > 0 {
            tracing::info!("core link: the core accepts events again");
        }
        self.core_failures = 0;
        self.streak = 0;
        self.last_success = Some(Instant::now());
        self.pause_until = None;
        for event in &events {
            let Some(key) = self.keys.get_mut(&*event.order_key) else {
                continue;
            };
            if key.state != KeyState::InFlight {
                continue;
            }
            key.attempts = 0;
            key.suspect = false;
            key.first_failed = None;
            key.state = KeyState::Idle;
            match key.queue.front() {
                Some(head) => {
                    self.ready.insert(head.seq, event.order_key.clone());
                }
                None => {
                    self.keys.remove(&*event.order_key);
                }
            }
        }
    }

    fn failed(&mut self, events: Vec<EventRef>, error: &DeliveryError, epoch: u64, now: Instant) {
        metrics::counter!(names::DELIVERIES, "outcome" => error.outcome()).increment(1);
        let core_wide = error.is_core_wide();
        let first = events
            .first()
            .map(|e| e.id().to_owned())
            .unwrap_or_default();
        let count = events.len();
        // A suspect key's head sent alone, refused again: the event itself
        // is the problem, not the link.
        let alone = count == 1
            && events
                .first()
                .and_then(|e| self.keys.get(&*e.order_key))
                .is_some_and(|k| k.suspect);
        let names_in_batch: Vec<Arc<str>> = events.iter().map(|e| e.order_key.clone()).collect();
        // Back to the front of their queues, in order.
        for event in events.into_iter().rev() {
            if let Some(key) = self.keys.get_mut(&*event.order_key) {
                key.queue.push_front(event);
            }
        }
        for name in names_in_batch {
            let Some(key) = self.keys.get_mut(&name) else {
                continue;
            };
            if key.state != KeyState::InFlight {
                continue;
            }
            if core_wide {
                key.state = KeyState::Idle;
                if let Some(head) = key.queue.front() {
                    self.ready.insert(head.seq, name);
                }
            } else {
                key.attempts = key.attempts.saturating_add(1);
                key.suspect = true;
                let (since, since_ms) = *key
                    .first_failed
                    .get_or_insert_with(|| (now, crate::store::outbox::now_ms()));
                let others_accepted = self.last_success.is_some_and(|at| at > since);
                let due = key.attempts >= self.cfg.max_attempts
                    || now.duration_since(since) >= self.cfg.max_age;
                if alone && others_accepted && due && self.park_head(&name, error, since_ms) {
                    continue;
                }
                let Some(key) = self.keys.get_mut(&name) else {
                    continue;
                };
                key.state = KeyState::Backoff;
                let delay =
                    backoff_delay(self.cfg.backoff_initial, self.cfg.backoff_max, key.attempts);
                self.backoff_tiebreak += 1;
                self.backoffs
                    .push(Reverse((now + delay, self.backoff_tiebreak, name)));
            }
        }
        if !alone {
            self.streak = self.streak.saturating_add(1);
        }
        if (core_wide || self.streak >= ESCALATE_AFTER) && epoch == self.epoch {
            self.epoch += 1;
            self.core_failures = self.core_failures.saturating_add(1);
            let delay = error.retry_after().map_or_else(
                || {
                    backoff_delay(
                        self.cfg.backoff_initial,
                        self.cfg.backoff_max,
                        self.core_failures,
                    )
                },
                |asked| asked.min(self.cfg.backoff_max),
            );
            self.pause_until = Some(now + delay);
            tracing::warn!(
                %error,
                events = count,
                first_event = %first,
                failures = self.core_failures,
                retry_in = ?delay,
                "core link: delivery failed; pausing the link"
            );
        } else {
            tracing::warn!(
                %error,
                events = count,
                first_event = %first,
                "core link: delivery failed; retrying these events later"
            );
        }
    }

    /// Parks the head event of key `name` (refused alone, again): it
    /// leaves the log for the dead letters and the key's next event is
    /// ready. Returns false if it could not be parked (it is retried).
    fn park_head(&mut self, name: &Arc<str>, error: &DeliveryError, since_ms: u64) -> bool {
        let Some(key) = self.keys.get_mut(name) else {
            return false;
        };
        let Some(head) = key.queue.front() else {
            return false;
        };
        let meta = ParkedMeta {
            error: error.to_string(),
            attempts: key.attempts,
            first_failed_ms: since_ms,
            parked_ms: crate::store::outbox::now_ms(),
        };
        match dead_letters::park(&self.log, head.seq, &meta) {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) => {
                tracing::error!(error = %e, "core link: could not park a refused event");
                return false;
            }
        }
        tracing::warn!(
            event = %head.id(),
            key = %name,
            attempts = key.attempts,
            %error,
            "core link: the core keeps refusing this event; parked as a dead letter (GET /v1/events/dead)"
        );
        key.queue.pop_front();
        self.loaded = self.loaded.saturating_sub(1);
        key.attempts = 0;
        key.suspect = false;
        key.first_failed = None;
        key.state = KeyState::Idle;
        match key.queue.front() {
            Some(next) => {
                self.ready.insert(next.seq, name.clone());
            }
            None => {
                self.keys.remove(name);
            }
        }
        true
    }

    fn publish_backlog(&self) {
        let unread = if self.caught_up {
            0
        } else {
            self.log.next_seq().saturating_sub(self.cursor)
        };
        let backlog = self.loaded as u64 + unread;
        self.log.set_backlog(backlog);
        metrics::gauge!(names::BACKLOG).set(backlog as f64);
    }
}

/// The shared name of `key` if the key is known, else a new one.
fn intern(keys: &HashMap<Arc<str>, KeyQueue>, key: &str) -> Arc<str> {
    keys.get_key_value(key)
        .map_or_else(|| Arc::from(key), |(name, _)| name.clone())
}

async fn wait(future: Option<&mut BoxFuture<'static, std::io::Result<()>>>) -> std::io::Result<()> {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}
