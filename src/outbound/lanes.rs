//! Per-number ready queues: the part of the scheduler that makes sure a
//! number at its limit never delays another number's messages.
//!
//! Each business number has a lane: a FIFO of its active messages that have
//! segments to send. Lanes with work take turns in a round-robin queue, one
//! segment per turn, so numbers share the carrier fairly. A lane that
//! cannot send is *parked* on what stops it — a limited entity until a
//! time, a daily lease being persisted, or a full carrier queue — and the
//! others go on. Parked lanes are woken by their entity's timer, by the
//! lease becoming durable, or by their carrier's queue draining.
//!
//! Lanes hold message ids only; the dispatcher owns the messages and skips
//! ids that are no longer active (lazy removal keeps this O(1)).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use foldhash::HashMap;
use tokio::time::Instant;

use super::limits::{EntityId, LimitKind};

/// What holds a parked lane back (`held_by` of `GET /v1/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldBy {
    /// A cap of the number, its campaign or its brand.
    Limit(EntityId, LimitKind),
    /// That entity's daily lease being made durable (milliseconds).
    DailyLease(EntityId),
    /// Its carrier: no link up, or the carrier's queue full.
    Carrier,
}

/// Segments sent in the last minute, in one-second slots.
#[derive(Debug)]
struct RecentSends {
    /// (wall-clock second, segments sent in it), at `second % 60`.
    slots: [(u64, u32); 60],
}

impl RecentSends {
    fn new() -> RecentSends {
        RecentSends {
            slots: [(0, 0); 60],
        }
    }

    fn record(&mut self, wall_ms: u64) {
        let second = wall_ms / 1000;
        let slot = &mut self.slots[(second % 60) as usize];
        if slot.0 == second {
            slot.1 += 1;
        } else {
            *slot = (second, 1);
        }
    }

    /// Segments sent in the 60 s up to `wall_ms` (whole seconds).
    fn count(&self, wall_ms: u64) -> u32 {
        let second = wall_ms / 1000;
        self.slots
            .iter()
            .filter(|(s, _)| *s + 60 > second && *s <= second)
            .map(|(_, n)| n)
            .sum()
    }
}

/// One number's lane, as `GET /v1/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneStatus {
    /// The business number.
    pub number: Arc<str>,
    /// What holds it back, if it is parked.
    pub held_by: Option<HeldBy>,
    /// Segments handed to its carrier in the last minute.
    pub sent_last_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No work.
    Idle,
    /// In the round-robin queue (or being served).
    Runnable,
    /// Waiting on an entity or a carrier.
    Parked,
}

#[derive(Debug)]
struct Lane {
    ready: VecDeque<Arc<str>>,
    state: State,
    /// Set while parked.
    held_by: Option<HeldBy>,
    sent: Box<RecentSends>,
}

/// Every number's lane and what parked lanes wait for.
#[derive(Debug, Default)]
pub struct Lanes {
    lanes: HashMap<Arc<str>, Lane>,
    runnable: VecDeque<Arc<str>>,
    /// When an entity has room again.
    timers: BinaryHeap<Reverse<(Instant, EntityId)>>,
    /// The earliest timer armed per entity (a later waiter may need an
    /// earlier wake-up than the first one did, e.g. a rate window behind a
    /// daily cap).
    armed: HashMap<EntityId, Instant>,
    /// Lanes parked on an entity.
    on_entity: HashMap<EntityId, Vec<Arc<str>>>,
    /// Lanes parked on a full carrier queue, by carrier.
    on_carrier: HashMap<Arc<str>, Vec<Arc<str>>>,
}

impl Lanes {
    /// Adds a message with segments to send to the back of `number`'s lane.
    pub fn push(&mut self, number: &str, id: Arc<str>) {
        self.add(number, id, false);
    }

    /// Adds a message to the *front* of `number`'s lane: it goes before
    /// everything the number has waiting (a STOP confirmation).
    pub fn push_first(&mut self, number: &str, id: Arc<str>) {
        self.add(number, id, true);
    }

    fn add(&mut self, number: &str, id: Arc<str>, first: bool) {
        let lane = match self.lanes.get_mut(number) {
            Some(lane) => lane,
            None => self.lanes.entry(Arc::from(number)).or_insert_with(|| Lane {
                ready: VecDeque::new(),
                state: State::Idle,
                held_by: None,
                sent: Box::new(RecentSends::new()),
            }),
        };
        if first {
            lane.ready.push_front(id);
        } else {
            lane.ready.push_back(id);
        }
        if lane.state == State::Idle {
            lane.state = State::Runnable;
            if let Some((key, _)) = self.lanes.get_key_value(number) {
                self.runnable.push_back(key.clone());
            }
        }
    }

    /// The next lane whose turn it is.
    pub fn next_runnable(&mut self) -> Option<Arc<str>> {
        self.runnable.pop_front()
    }

    /// The first message of a lane.
    pub fn front(&self, number: &str) -> Option<&Arc<str>> {
        self.lanes.get(number)?.ready.front()
    }

    /// Drops the first message of a lane.
    pub fn pop_front(&mut self, number: &str) {
        if let Some(lane) = self.lanes.get_mut(number) {
            lane.ready.pop_front();
        }
    }

    /// Moves the first message of a lane that satisfies `pred` to its
    /// front; returns whether there was one.
    pub fn promote(&mut self, number: &str, pred: impl Fn(&Arc<str>) -> bool) -> bool {
        let Some(lane) = self.lanes.get_mut(number) else {
            return false;
        };
        let Some(i) = lane.ready.iter().position(pred) else {
            return false;
        };
        if let Some(id) = lane.ready.remove(i) {
            lane.ready.push_front(id);
        }
        true
    }

    /// Ends a lane's turn: back of the queue if it has work, idle if not.
    pub fn end_turn(&mut self, number: Arc<str>) {
        if let Some(lane) = self.lanes.get_mut(&number) {
            if lane.ready.is_empty() {
                lane.state = State::Idle;
            } else {
                lane.state = State::Runnable;
                self.runnable.push_back(number);
            }
        }
    }

    /// Parks a lane on `entity`'s cap `limit` until `until`, or on its
    /// daily lease (`limit` `None`) until [`Lanes::wake_entity`]. Returns
    /// whether it is the entity's first waiter (the entity just started
    /// holding messages back).
    pub fn park_on_entity(
        &mut self,
        number: Arc<str>,
        entity: EntityId,
        limit: Option<LimitKind>,
        until: Option<Instant>,
    ) -> bool {
        let Some(lane) = self.lanes.get_mut(&number) else {
            return false;
        };
        lane.state = State::Parked;
        lane.held_by = Some(match limit {
            Some(kind) => HeldBy::Limit(entity, kind),
            None => HeldBy::DailyLease(entity),
        });
        let waiters = self.on_entity.entry(entity).or_default();
        let first = waiters.is_empty();
        waiters.push(number);
        if let Some(until) = until
            && self.armed.get(&entity).is_none_or(|&at| until < at)
        {
            self.armed.insert(entity, until);
            self.timers.push(Reverse((until, entity)));
        }
        first
    }

    /// Parks a lane until `carrier`'s queue has room.
    pub fn park_on_carrier(&mut self, number: Arc<str>, carrier: &str) {
        if let Some(lane) = self.lanes.get_mut(&number) {
            lane.state = State::Parked;
            lane.held_by = Some(HeldBy::Carrier);
            match self.on_carrier.get_mut(carrier) {
                Some(waiters) => waiters.push(number),
                None => {
                    self.on_carrier.insert(Arc::from(carrier), vec![number]);
                }
            }
        }
    }

    /// Wakes the lanes of every entity whose time has come.
    pub fn wake_due(&mut self, now: Instant) {
        while let Some(Reverse((at, entity))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if self.armed.get(&entity) == Some(&at) {
                self.armed.remove(&entity);
            }
            self.wake_entity(entity);
        }
    }

    /// Wakes the lanes parked on `entity`.
    pub fn wake_entity(&mut self, entity: EntityId) {
        if let Some(waiters) = self.on_entity.remove(&entity) {
            self.make_runnable(waiters);
        }
    }

    /// Wakes the lanes parked on carriers whose queue has room.
    pub fn wake_carriers(&mut self, has_room: impl Fn(&str) -> bool) {
        if self.on_carrier.is_empty() {
            return;
        }
        let ready: Vec<Arc<str>> = self
            .on_carrier
            .keys()
            .filter(|c| has_room(c))
            .cloned()
            .collect();
        for carrier in ready {
            if let Some(waiters) = self.on_carrier.remove(&carrier) {
                self.make_runnable(waiters);
            }
        }
    }

    /// Wakes every parked lane (after the limits were reloaded).
    pub fn wake_all(&mut self) {
        self.timers.clear();
        self.armed.clear();
        let entities: Vec<_> = self.on_entity.drain().flat_map(|(_, w)| w).collect();
        let carriers: Vec<_> = self.on_carrier.drain().flat_map(|(_, w)| w).collect();
        self.make_runnable(entities);
        self.make_runnable(carriers);
    }

    fn make_runnable(&mut self, numbers: Vec<Arc<str>>) {
        for number in numbers {
            if let Some(lane) = self.lanes.get_mut(&number)
                && lane.state == State::Parked
            {
                lane.state = State::Runnable;
                lane.held_by = None;
                self.runnable.push_back(number);
            }
        }
    }

    /// Counts a segment of `number` handed to its carrier at `wall_ms`.
    pub fn record_sent(&mut self, number: &str, wall_ms: u64) {
        if let Some(lane) = self.lanes.get_mut(number) {
            lane.sent.record(wall_ms);
        }
    }

    /// Every lane's hold and recent sends, at `wall_ms`.
    pub fn status(&self, wall_ms: u64) -> Vec<LaneStatus> {
        self.lanes
            .iter()
            .map(|(number, lane)| LaneStatus {
                number: number.clone(),
                held_by: lane.held_by.filter(|_| lane.state == State::Parked),
                sent_last_minute: lane.sent.count(wall_ms),
            })
            .collect()
    }

    /// When the earliest entity timer fires.
    pub fn next_wake(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Whether any lane is parked.
    pub fn has_parked(&self) -> bool {
        !self.on_entity.is_empty() || !self.on_carrier.is_empty()
    }

    /// Whether any lane waits for a carrier's queue.
    pub fn has_parked_on_carriers(&self) -> bool {
        !self.on_carrier.is_empty()
    }

    /// The messages of parked lanes (to expire those whose validity ends
    /// while they wait).
    pub fn parked_messages(&self) -> impl Iterator<Item = &Arc<str>> {
        self.lanes
            .values()
            .filter(|lane| lane.state == State::Parked)
            .flat_map(|lane| lane.ready.iter())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn id(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    #[test]
    fn lanes_take_turns_and_parked_lanes_do_not_block_others() {
        let mut lanes = Lanes::default();
        lanes.push("+1", id("a1"));
        lanes.push("+1", id("a2"));
        lanes.push("+2", id("b1"));
        let first = lanes.next_runnable().unwrap();
        assert_eq!(&*first, "+1");
        assert_eq!(lanes.front(&first).map(|s| &**s), Some("a1"));
        // +1 is at its limit: parked; +2 goes on.
        let now = Instant::now();
        lanes.park_on_entity(
            first,
            0,
            Some(LimitKind::PerSecond),
            Some(now + Duration::from_secs(1)),
        );
        let second = lanes.next_runnable().unwrap();
        assert_eq!(&*second, "+2");
        lanes.pop_front(&second);
        lanes.end_turn(second);
        assert_eq!(lanes.next_runnable(), None);
        assert_eq!(lanes.parked_messages().count(), 2);
        // Pushing to a parked lane does not make it runnable early.
        lanes.push("+1", id("a3"));
        assert_eq!(lanes.next_runnable(), None);
        lanes.wake_due(now);
        assert_eq!(lanes.next_runnable(), None);
        lanes.wake_due(now + Duration::from_secs(1));
        assert_eq!(lanes.next_runnable().as_deref(), Some("+1"));
    }

    #[test]
    fn one_timer_per_entity_wakes_all_its_lanes() {
        let mut lanes = Lanes::default();
        let now = Instant::now();
        for n in ["+1", "+2", "+3"] {
            lanes.push(n, id(n));
            let lane = lanes.next_runnable().unwrap();
            lanes.park_on_entity(lane, 7, Some(LimitKind::PerSecond), Some(now));
        }
        assert_eq!(lanes.timers.len(), 1);
        lanes.wake_due(now);
        let woken: Vec<_> = std::iter::from_fn(|| lanes.next_runnable()).collect();
        assert_eq!(woken.len(), 3);
    }

    #[test]
    fn a_later_waiter_with_an_earlier_time_arms_an_earlier_timer() {
        let mut lanes = Lanes::default();
        let now = Instant::now();
        lanes.push("+1", id("a"));
        lanes.push("+2", id("b"));
        let a = lanes.next_runnable().unwrap();
        lanes.park_on_entity(
            a,
            1,
            Some(LimitKind::PerDay),
            Some(now + Duration::from_secs(3600)),
        );
        let b = lanes.next_runnable().unwrap();
        lanes.park_on_entity(
            b,
            1,
            Some(LimitKind::PerSecond),
            Some(now + Duration::from_secs(1)),
        );
        lanes.wake_due(now + Duration::from_secs(1));
        assert_eq!(std::iter::from_fn(|| lanes.next_runnable()).count(), 2);
    }

    #[test]
    fn promote_moves_the_first_match_to_the_front() {
        let mut lanes = Lanes::default();
        for m in ["a", "b", "c"] {
            lanes.push("+1", id(m));
        }
        assert!(lanes.promote("+1", |m| &**m == "c"));
        assert_eq!(lanes.front("+1").map(|m| &**m), Some("c"));
        assert!(!lanes.promote("+1", |m| &**m == "z"));
    }

    #[test]
    fn carriers_and_leases_wake_their_lanes() {
        let mut lanes = Lanes::default();
        lanes.push("+1", id("a"));
        lanes.push("+2", id("b"));
        let a = lanes.next_runnable().unwrap();
        lanes.park_on_carrier(a, "acme");
        let b = lanes.next_runnable().unwrap();
        lanes.park_on_entity(b, 3, None, None);
        lanes.wake_carriers(|_| false);
        assert_eq!(lanes.next_runnable(), None);
        lanes.wake_carriers(|c| c == "acme");
        assert_eq!(lanes.next_runnable().as_deref(), Some("+1"));
        lanes.wake_entity(3);
        assert_eq!(lanes.next_runnable().as_deref(), Some("+2"));
    }

    #[test]
    fn status_names_the_hold_until_the_lane_wakes() {
        let mut lanes = Lanes::default();
        let now = Instant::now();
        lanes.push("+1", id("a"));
        lanes.push("+2", id("b"));
        let a = lanes.next_runnable().unwrap();
        lanes.park_on_entity(a, 4, Some(LimitKind::PerMinute), Some(now));
        let b = lanes.next_runnable().unwrap();
        lanes.park_on_carrier(b, "acme");
        let held = |lanes: &Lanes, n: &str| {
            lanes
                .status(0)
                .into_iter()
                .find(|s| &*s.number == n)
                .and_then(|s| s.held_by)
        };
        assert_eq!(
            held(&lanes, "+1"),
            Some(HeldBy::Limit(4, LimitKind::PerMinute))
        );
        assert_eq!(held(&lanes, "+2"), Some(HeldBy::Carrier));
        lanes.wake_due(now);
        assert_eq!(held(&lanes, "+1"), None);
        assert_eq!(held(&lanes, "+2"), Some(HeldBy::Carrier));
    }

    #[test]
    fn sends_count_for_a_minute() {
        let mut lanes = Lanes::default();
        lanes.push("+1", id("a"));
        let t = 1_000_000_000;
        lanes.record_sent("+1", t);
        lanes.record_sent("+1", t + 500);
        lanes.record_sent("+1", t + 30_000);
        let sent = |lanes: &Lanes, at| lanes.status(at)[0].sent_last_minute;
        assert_eq!(sent(&lanes, t + 30_000), 3);
        assert_eq!(sent(&lanes, t + 59_999), 3);
        assert_eq!(sent(&lanes, t + 60_000), 1);
        assert_eq!(sent(&lanes, t + 90_000), 0);
        // A slot is reused a minute later, not added to.
        lanes.record_sent("+1", t + 120_000);
        assert_eq!(sent(&lanes, t + 120_000), 1);
    }

    #[test]
    fn a_lane_is_queued_once() {
        let mut lanes = Lanes::default();
        lanes.push("+1", id("a"));
        lanes.push("+1", id("b"));
        assert!(lanes.next_runnable().is_some());
        assert_eq!(lanes.next_runnable(), None);
    }
}
