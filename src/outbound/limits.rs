//! 10DLC throughput limits: per second, per minute and per day, on a
//! number, its campaign and its brand, all checked together for every
//! segment (docs/configuration.md; docs/architecture.md, "Fixed details").
//!
//! Sans-IO: callers pass the time in (a monotonic `Instant` for the rate
//! windows, Unix milliseconds for the daily window), so every rule is
//! tested on simulated time.
//!
//! - A **rate window** allows at most `cap` segments in *any* window of its
//!   span, not just in aligned ones, because that is what a carrier counts
//!   against: a burst of `cap` at the end of one second and another at the
//!   start of the next would be `2 × cap` in one second to the carrier.
//!   Small caps keep the exact send times; large caps (more than
//!   [`EXACT_LOG_MAX`]) count in [`BUCKETS`] buckets and round the window
//!   up by one bucket, which stays on the safe side with bounded memory.
//! - A **daily cap** counts segments per UTC day. Its count must survive a
//!   crash, and writing it before every segment would cost an fsync each,
//!   so the count is *leased*: before spending beyond the durable lease,
//!   the dispatcher persists a larger lease and waits for it to be fsync'd.
//!   After a crash the lease is the count, which over-counts by less than
//!   one lease step and never under-counts.
//! - Rate windows live in memory. A clean stop saves what they hold (as
//!   wall-clock times) and the next start restores it; after a crash
//!   nobody knows what went out in the last minute, so every window starts
//!   **full** (a `per_minute` cap sends nothing for up to a minute): a
//!   crash loop must not multiply a carrier's rate.
//! - A daily reservation covers every remaining segment of a message at
//!   once, so a cap never leaves half a message sent until the next day.
//!   Retries of a segment the carrier refused are not counted again against
//!   the day (the carrier did not take it), but they are against the rates.

use std::collections::VecDeque;
use std::time::Duration;

use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::config::Limits;

/// Caps up to this size keep every send time.
pub const EXACT_LOG_MAX: u32 = 4096;
/// Buckets per window for larger caps.
pub const BUCKETS: u32 = 100;
/// A day, in milliseconds.
const DAY_MS: u64 = 24 * 3600 * 1000;

/// Index of a limited entity (a number, campaign or brand).
pub type EntityId = u32;

/// Which cap of an entity holds a segment back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// `per_second`.
    PerSecond,
    /// `per_minute`.
    PerMinute,
    /// `per_day`.
    PerDay,
}

impl LimitKind {
    /// The config key's name (`held_by` of `GET /v1/status`).
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::PerSecond => "per_second",
            LimitKind::PerMinute => "per_minute",
            LimitKind::PerDay => "per_day",
        }
    }
}

/// What the limiter says about the next segment of a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Send it; the limits have counted it.
    Go,
    /// Wait until `until`: `entity` is at its cap.
    Wait {
        /// When the entity has room again.
        until: Instant,
        /// The entity at its cap.
        entity: EntityId,
        /// Which of its caps; behind a `per_day` cap, a message whose
        /// segments are already reserved may still go.
        limit: LimitKind,
    },
    /// Persist `lease` for `entity`'s daily count and wait for it to be
    /// durable ([`Limiter::lease_durable`]).
    Lease {
        /// The entity whose lease must grow.
        entity: EntityId,
        /// What to persist.
        lease: DailyLease,
    },
    /// Wait for a lease already being persisted.
    LeasePending {
        /// The entity.
        entity: EntityId,
    },
    /// The message has more segments than `entity` may send in a day: it
    /// can never go.
    Never {
        /// The entity.
        entity: EntityId,
    },
}

/// A daily count as persisted: the UTC day and an upper bound of the
/// segments counted on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyLease {
    /// Days since the Unix epoch (UTC).
    pub day: u32,
    /// Segments counted that day (an upper bound).
    pub count: u64,
}

impl DailyLease {
    /// The 12-byte stored form.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut out = [0; 12];
        out[..4].copy_from_slice(&self.day.to_be_bytes());
        out[4..].copy_from_slice(&self.count.to_be_bytes());
        out
    }

    /// Parses the stored form.
    pub fn from_bytes(bytes: &[u8]) -> Option<DailyLease> {
        let day = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
        let count = u64::from_be_bytes(bytes.get(4..12)?.try_into().ok()?);
        Some(DailyLease { day, count })
    }
}

/// The UTC day of a Unix time in milliseconds.
pub fn utc_day(wall_ms: u64) -> u32 {
    (wall_ms / DAY_MS) as u32
}

/// What a rate window held at a clean stop: its sends as (Unix ms, count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateSnapshot {
    /// The entity's persisted key.
    pub key: String,
    /// The window, in ms.
    pub span_ms: u64,
    /// Sends within the window, oldest first.
    pub sends: Vec<(u64, u32)>,
}

/// At most `cap` events in any window of `span`.
#[derive(Debug)]
struct RateWindow {
    cap: u32,
    span: Duration,
    kind: LimitKind,
    counts: Counts,
}

#[derive(Debug)]
enum Counts {
    /// Every event's time, oldest first (at most `cap`).
    Exact(VecDeque<Instant>),
    /// Events per bucket of `span / BUCKETS`, oldest first, with the start
    /// of each bucket.
    Buckets {
        buckets: VecDeque<(Instant, u32)>,
        total: u64,
    },
}

impl RateWindow {
    fn new(cap: u32, span: Duration, kind: LimitKind) -> RateWindow {
        let counts = if cap <= EXACT_LOG_MAX {
            Counts::Exact(VecDeque::new())
        } else {
            Counts::Buckets {
                buckets: VecDeque::new(),
                total: 0,
            }
        };
        RateWindow {
            cap,
            span,
            kind,
            counts,
        }
    }

    fn bucket_len(&self) -> Duration {
        self.span / BUCKETS
    }

    /// Forgets what left the window; returns when there is room again
    /// (`None`: now).
    fn free_at(&mut self, now: Instant) -> Option<Instant> {
        let span = self.span;
        let bucket_len = self.bucket_len();
        match &mut self.counts {
            Counts::Exact(log) => {
                while log.front().is_some_and(|&t| t + span <= now) {
                    log.pop_front();
                }
                if log.len() < self.cap as usize {
                    None
                } else {
                    log.front().map(|&t| t + span)
                }
            }
            Counts::Buckets { buckets, total } => {
                // A bucket leaves once all of it is older than the span.
                while let Some(&(start, n)) = buckets.front() {
                    if start + bucket_len + span > now {
                        break;
                    }
                    buckets.pop_front();
                    *total -= u64::from(n);
                }
                if *total < u64::from(self.cap) {
                    None
                } else {
                    buckets.front().map(|&(start, _)| start + bucket_len + span)
                }
            }
        }
    }

    /// Its sends still in the window, as (Unix ms, count), oldest first.
    fn snapshot(&mut self, now: Instant, wall_ms: u64) -> Vec<(u64, u32)> {
        self.free_at(now);
        let to_wall = |t: Instant| {
            wall_ms.saturating_sub(now.saturating_duration_since(t).as_millis() as u64)
        };
        let mut sends: Vec<(u64, u32)> = Vec::new();
        let mut add = |ms: u64, n: u32| match sends.last_mut() {
            Some((last, count)) if *last == ms => *count += n,
            _ => sends.push((ms, n)),
        };
        match &self.counts {
            Counts::Exact(log) => log.iter().for_each(|&t| add(to_wall(t), 1)),
            Counts::Buckets { buckets, .. } => {
                buckets.iter().for_each(|&(t, n)| add(to_wall(t), n));
            }
        }
        sends
    }

    /// Takes back what [`RateWindow::snapshot`] saved.
    fn restore(&mut self, sends: &[(u64, u32)], now: Instant, wall_ms: u64) {
        let span_ms = self.span.as_millis() as u64;
        for &(ms, n) in sends {
            let age = wall_ms.saturating_sub(ms);
            if age >= span_ms {
                continue;
            }
            let at = now.checked_sub(Duration::from_millis(age)).unwrap_or(now);
            match &mut self.counts {
                Counts::Exact(log) => log.extend(std::iter::repeat_n(at, n as usize)),
                Counts::Buckets { buckets, total } => {
                    buckets.push_back((at, n));
                    *total += u64::from(n);
                }
            }
        }
        if let Counts::Exact(log) = &mut self.counts {
            let excess = log.len().saturating_sub(self.cap as usize);
            log.drain(..excess);
        }
    }

    /// As if the window had been used to its cap just now.
    fn saturate(&mut self, now: Instant) {
        match &mut self.counts {
            Counts::Exact(log) => {
                log.clear();
                log.extend(std::iter::repeat_n(now, self.cap as usize));
            }
            Counts::Buckets { buckets, total } => {
                buckets.clear();
                buckets.push_back((now, self.cap));
                *total = u64::from(self.cap);
            }
        }
    }

    fn record(&mut self, now: Instant) {
        let bucket_len = self.bucket_len();
        match &mut self.counts {
            Counts::Exact(log) => log.push_back(now),
            Counts::Buckets { buckets, total } => {
                *total += 1;
                match buckets.back_mut() {
                    Some((start, n)) if now < *start + bucket_len => *n += 1,
                    _ => buckets.push_back((now, 1)),
                }
            }
        }
    }

    /// Takes over another window's history (after a reload), keeping it
    /// as far as the new shape allows.
    fn inherit(&mut self, old: RateWindow) {
        if self.span != old.span {
            return;
        }
        match (&mut self.counts, old.counts) {
            (Counts::Exact(new), Counts::Exact(mut log)) => {
                let excess = log.len().saturating_sub(self.cap as usize);
                log.drain(..excess);
                *new = log;
            }
            (
                Counts::Buckets { buckets, total },
                Counts::Buckets {
                    buckets: b,
                    total: t,
                },
            ) => {
                *buckets = b;
                *total = t;
            }
            (Counts::Buckets { buckets, total }, Counts::Exact(log)) => {
                for t in log {
                    *total += 1;
                    buckets.push_back((t, 1));
                }
            }
            (Counts::Exact(new), Counts::Buckets { buckets, .. }) => {
                // Each bucket's events are counted at its start: the window
                // frees no earlier than the old one would have.
                for (start, n) in buckets {
                    new.extend(std::iter::repeat_n(start, n as usize));
                }
                let excess = new.len().saturating_sub(self.cap as usize);
                new.drain(..excess);
            }
        }
    }
}

/// A per-day cap and its leased count.
#[derive(Debug)]
struct DailyCap {
    cap: u64,
    day: u32,
    /// Segments counted today.
    used: u64,
    /// The durable upper bound of `used`.
    lease: u64,
    /// A larger lease being persisted.
    pending: Option<u64>,
}

impl DailyCap {
    fn roll(&mut self, day: u32) {
        if day != self.day {
            self.day = day;
            self.used = 0;
            self.lease = 0;
            self.pending = None;
        }
    }

    /// How far a lease grows beyond what is needed now: about 1 % of the
    /// cap, so a crash wastes at most that much of a day.
    fn step(&self) -> u64 {
        (self.cap / 100).max(1)
    }
}

/// A number, campaign or brand with caps.
#[derive(Debug)]
struct Entity {
    /// `number:+1…`, `campaign:C1` or `brand:B1`: the persisted key.
    key: String,
    rates: Vec<RateWindow>,
    daily: Option<DailyCap>,
}

impl Entity {
    fn new(key: String, limits: &Limits) -> Entity {
        let mut rates = Vec::new();
        if let Some(cap) = limits.per_second {
            rates.push(RateWindow::new(
                cap.get(),
                Duration::from_secs(1),
                LimitKind::PerSecond,
            ));
        }
        if let Some(cap) = limits.per_minute {
            rates.push(RateWindow::new(
                cap.get(),
                Duration::from_secs(60),
                LimitKind::PerMinute,
            ));
        }
        let daily = limits.per_day.map(|cap| DailyCap {
            cap: u64::from(cap.get()),
            day: 0,
            used: 0,
            lease: 0,
            pending: None,
        });
        Entity { key, rates, daily }
    }
}

/// Which limits a business number is subject to.
#[derive(Debug, Clone)]
pub struct NumberLimits {
    /// The number's own caps.
    pub own: Limits,
    /// Its campaign's id and caps.
    pub campaign: Option<(String, Limits)>,
    /// Its brand's id and caps.
    pub brand: Option<(String, Limits)>,
}

/// Every limited entity and which apply to each number.
#[derive(Debug, Default)]
pub struct Limiter {
    entities: Vec<Entity>,
    /// Persisted key → entity.
    by_key: HashMap<String, EntityId>,
    /// What each number was configured with (kept across reloads for
    /// numbers that disappear, whose queued messages still go out).
    configured: HashMap<Box<str>, NumberLimits>,
    /// Number → the entities that limit it (own, campaign, brand). Numbers
    /// without any cap are absent and never wait.
    chains: HashMap<Box<str>, Vec<EntityId>>,
}

impl Limiter {
    /// Builds the limiter for `numbers` (number → its limits).
    pub fn new<'a>(numbers: impl IntoIterator<Item = (&'a str, &'a NumberLimits)>) -> Limiter {
        let mut limiter = Limiter::default();
        for (number, limits) in numbers {
            limiter.configured.insert(number.into(), limits.clone());
            let mut chain = Vec::new();
            let levels = [
                Some((format!("number:{number}"), &limits.own)),
                limits
                    .campaign
                    .as_ref()
                    .map(|(id, l)| (format!("campaign:{id}"), l)),
                limits
                    .brand
                    .as_ref()
                    .map(|(id, l)| (format!("brand:{id}"), l)),
            ];
            for (key, caps) in levels.into_iter().flatten() {
                if caps.is_unlimited() {
                    continue;
                }
                let id = *limiter.by_key.entry(key.clone()).or_insert_with(|| {
                    limiter.entities.push(Entity::new(key, caps));
                    (limiter.entities.len() - 1) as EntityId
                });
                chain.push(id);
            }
            if !chain.is_empty() {
                limiter.chains.insert(number.into(), chain);
            }
        }
        limiter
    }

    /// Daily counts to restore, by persisted key.
    pub fn daily_keys(&self) -> impl Iterator<Item = &str> {
        self.entities
            .iter()
            .filter(|e| e.daily.is_some())
            .map(|e| e.key.as_str())
    }

    /// Restores a persisted daily count (ignored if from another day).
    pub fn restore_daily(&mut self, key: &str, lease: DailyLease, wall_ms: u64) {
        let today = utc_day(wall_ms);
        if lease.day != today {
            return;
        }
        let Some(&id) = self.by_key.get(key) else {
            return;
        };
        if let Some(daily) = self
            .entities
            .get_mut(id as usize)
            .and_then(|e| e.daily.as_mut())
            // Already counting today (kept over a reload): its own count
            // is exact, the stored lease only an upper bound.
            && !(daily.day == today && daily.lease > 0)
        {
            daily.day = today;
            daily.used = daily.used.max(lease.count);
            daily.lease = daily.lease.max(lease.count);
        }
    }

    /// The exact daily counts, for a clean shutdown.
    pub fn daily_counts(&self) -> impl Iterator<Item = (&str, DailyLease)> {
        self.entities.iter().filter_map(|e| {
            e.daily.as_ref().map(|d| {
                (
                    e.key.as_str(),
                    DailyLease {
                        day: d.day,
                        count: d.used,
                    },
                )
            })
        })
    }

    /// The persisted key of an entity.
    pub fn key(&self, entity: EntityId) -> &str {
        self.entities
            .get(entity as usize)
            .map_or("", |e| e.key.as_str())
    }

    /// Asks to send one segment from `number`. `daily_segments` is the
    /// number of segments to reserve against daily caps (all remaining
    /// segments of a message on its first admission, 0 afterwards). On
    /// [`Admission::Go`] everything is counted.
    pub fn admit(
        &mut self,
        number: &str,
        now: Instant,
        wall_ms: u64,
        daily_segments: u32,
    ) -> Admission {
        let Some(chain) = self.chains.get(number) else {
            return Admission::Go;
        };
        let today = utc_day(wall_ms);
        let n = u64::from(daily_segments);
        for &id in chain {
            let Some(entity) = self.entities.get_mut(id as usize) else {
                continue;
            };
            for window in &mut entity.rates {
                if let Some(until) = window.free_at(now) {
                    return Admission::Wait {
                        until,
                        entity: id,
                        limit: window.kind,
                    };
                }
            }
            if n == 0 {
                continue;
            }
            let Some(daily) = &mut entity.daily else {
                continue;
            };
            daily.roll(today);
            if n > daily.cap {
                return Admission::Never { entity: id };
            }
            if daily.used + n > daily.cap {
                let next_day_ms = (u64::from(today) + 1) * DAY_MS;
                let until = now + Duration::from_millis(next_day_ms.saturating_sub(wall_ms));
                return Admission::Wait {
                    until,
                    entity: id,
                    limit: LimitKind::PerDay,
                };
            }
            if daily.used + n > daily.lease {
                if daily.pending.is_some() {
                    return Admission::LeasePending { entity: id };
                }
                let count = (daily.used + n.max(daily.step())).min(daily.cap);
                daily.pending = Some(count);
                return Admission::Lease {
                    entity: id,
                    lease: DailyLease { day: today, count },
                };
            }
        }
        for &id in chain {
            let Some(entity) = self.entities.get_mut(id as usize) else {
                continue;
            };
            for window in &mut entity.rates {
                window.record(now);
            }
            if let Some(daily) = &mut entity.daily {
                daily.used += n;
            }
        }
        Admission::Go
    }

    /// What every rate window holds, for a clean stop.
    pub fn rate_snapshots(&mut self, now: Instant, wall_ms: u64) -> Vec<RateSnapshot> {
        let mut out = Vec::new();
        for entity in &mut self.entities {
            for window in &mut entity.rates {
                let sends = window.snapshot(now, wall_ms);
                if !sends.is_empty() {
                    out.push(RateSnapshot {
                        key: entity.key.clone(),
                        span_ms: window.span.as_millis() as u64,
                        sends,
                    });
                }
            }
        }
        out
    }

    /// Restores the windows saved at a clean stop.
    pub fn restore_rates(&mut self, snapshots: &[RateSnapshot], now: Instant, wall_ms: u64) {
        for snapshot in snapshots {
            let Some(&id) = self.by_key.get(&snapshot.key) else {
                continue;
            };
            if let Some(window) = self.entities.get_mut(id as usize).and_then(|e| {
                e.rates
                    .iter_mut()
                    .find(|w| w.span.as_millis() as u64 == snapshot.span_ms)
            }) {
                window.restore(&snapshot.sends, now, wall_ms);
            }
        }
    }

    /// After a crash: every rate window starts full.
    pub fn saturate_rates(&mut self, now: Instant) {
        for entity in &mut self.entities {
            for window in &mut entity.rates {
                window.saturate(now);
            }
        }
    }

    /// A lease asked for by [`Admission::Lease`] is durable.
    pub fn lease_durable(&mut self, entity: EntityId, lease: DailyLease) {
        if let Some(daily) = self
            .entities
            .get_mut(entity as usize)
            .and_then(|e| e.daily.as_mut())
            && daily.day == lease.day
        {
            daily.lease = daily.lease.max(lease.count);
            if daily.pending.is_some_and(|p| p <= lease.count) {
                daily.pending = None;
            }
        }
    }

    /// A lease could not be persisted: it may be asked for again.
    pub fn lease_failed(&mut self, entity: EntityId) {
        if let Some(daily) = self
            .entities
            .get_mut(entity as usize)
            .and_then(|e| e.daily.as_mut())
        {
            daily.pending = None;
        }
    }

    /// Builds the limiter for a reloaded configuration, keeping what this
    /// one counted for every entity that still exists.
    /// Numbers missing from the new configuration keep their limits: their
    /// queued messages still go out, and must not escape the caps.
    pub fn reload<'a>(&mut self, numbers: impl IntoIterator<Item = (&'a str, &'a NumberLimits)>) {
        let mut merged: HashMap<Box<str>, NumberLimits> = numbers
            .into_iter()
            .map(|(n, l)| (Box::from(n), l.clone()))
            .collect();
        for (number, limits) in std::mem::take(&mut self.configured) {
            merged.entry(number).or_insert(limits);
        }
        let mut next = Limiter::new(merged.iter().map(|(n, l)| (&**n, l)));
        let mut old: HashMap<String, Entity> = std::mem::take(&mut self.entities)
            .into_iter()
            .map(|e| (e.key.clone(), e))
            .collect();
        for entity in &mut next.entities {
            let Some(previous) = old.remove(&entity.key) else {
                continue;
            };
            let mut previous_rates: Vec<RateWindow> = previous.rates;
            for window in &mut entity.rates {
                if let Some(i) = previous_rates.iter().position(|w| w.span == window.span) {
                    window.inherit(previous_rates.swap_remove(i));
                }
            }
            if let (Some(new), Some(old)) = (&mut entity.daily, previous.daily) {
                new.day = old.day;
                new.used = old.used;
                new.lease = old.lease;
            }
        }
        *self = next;
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn caps(per_second: u32, per_minute: u32, per_day: u32) -> Limits {
        Limits {
            per_second: NonZeroU32::new(per_second),
            per_minute: NonZeroU32::new(per_minute),
            per_day: NonZeroU32::new(per_day),
        }
    }

    fn own(limits: Limits) -> NumberLimits {
        NumberLimits {
            own: limits,
            campaign: None,
            brand: None,
        }
    }

    const NOON: u64 = 20_000 * DAY_MS + DAY_MS / 2;

    /// Sends as fast as allowed for `secs` simulated seconds (1 ms steps)
    /// and returns the send times in ms.
    fn drive(limiter: &mut Limiter, number: &str, secs: u64) -> Vec<u64> {
        let start = Instant::now();
        let mut sent = Vec::new();
        for ms in 0..secs * 1000 {
            let now = start + Duration::from_millis(ms);
            while limiter.admit(number, now, NOON + ms, 0) == Admission::Go {
                sent.push(ms);
                if sent.len() > 1_000_000 {
                    return sent;
                }
            }
        }
        sent
    }

    fn max_in_any_window(times: &[u64], span_ms: u64) -> usize {
        let mut max = 0;
        let mut lo = 0;
        for hi in 0..times.len() {
            while times[hi] - times[lo] >= span_ms {
                lo += 1;
            }
            max = max.max(hi - lo + 1);
        }
        max
    }

    #[test]
    fn unlimited_numbers_always_go() {
        let limits = own(Limits::default());
        let mut limiter = Limiter::new([("+1", &limits)]);
        assert!(limiter.chains.is_empty());
        assert_eq!(limiter.admit("+1", Instant::now(), NOON, 5), Admission::Go);
        assert_eq!(limiter.admit("+2", Instant::now(), NOON, 5), Admission::Go);
    }

    #[test]
    fn per_second_holds_in_every_window_not_just_aligned_ones() {
        for cap in [1, 7, 50] {
            let limits = own(caps(cap, 0, 0));
            let mut limiter = Limiter::new([("+1", &limits)]);
            let sent = drive(&mut limiter, "+1", 10);
            assert_eq!(max_in_any_window(&sent, 1000), cap as usize, "cap {cap}");
            // And it does not send much less than allowed.
            assert!(sent.len() >= 10 * cap as usize, "cap {cap}: {}", sent.len());
        }
    }

    #[test]
    fn large_caps_count_in_buckets_and_stay_under_the_cap() {
        let cap = 10_000;
        let limits = own(caps(cap, 0, 0));
        let mut limiter = Limiter::new([("+1", &limits)]);
        let sent = drive(&mut limiter, "+1", 5);
        assert!(max_in_any_window(&sent, 1000) <= cap as usize);
        // One bucket of rounding: at least 99 % of the cap on average.
        assert!(
            sent.len() as f64 >= 5.0 * f64::from(cap) * 0.95,
            "{}",
            sent.len()
        );
    }

    #[test]
    fn a_wait_names_the_entity_and_the_time() {
        let limits = own(caps(2, 0, 0));
        let mut limiter = Limiter::new([("+1", &limits)]);
        let t0 = Instant::now();
        assert_eq!(limiter.admit("+1", t0, NOON, 0), Admission::Go);
        let t1 = t0 + Duration::from_millis(300);
        assert_eq!(limiter.admit("+1", t1, NOON, 0), Admission::Go);
        assert_eq!(
            limiter.admit("+1", t1, NOON, 0),
            Admission::Wait {
                until: t0 + Duration::from_secs(1),
                entity: 0,
                limit: LimitKind::PerSecond,
            }
        );
    }

    #[test]
    fn a_campaign_caps_all_its_numbers_together() {
        let campaign = Some(("C1".to_owned(), caps(0, 10, 0)));
        let a = NumberLimits {
            own: Limits::default(),
            campaign: campaign.clone(),
            brand: None,
        };
        let b = NumberLimits {
            own: caps(100, 0, 0),
            campaign,
            brand: None,
        };
        let mut limiter = Limiter::new([("+1", &a), ("+2", &b)]);
        let now = Instant::now();
        let mut sent = 0;
        for i in 0..30 {
            let number = if i % 2 == 0 { "+1" } else { "+2" };
            if limiter.admit(number, now, NOON, 1) == Admission::Go {
                sent += 1;
            }
        }
        assert_eq!(sent, 10);
        // A minute later there is room again.
        let later = now + Duration::from_secs(60);
        assert_eq!(limiter.admit("+2", later, NOON + 60_000, 1), Admission::Go);
    }

    #[test]
    fn a_blocked_limit_counts_nothing_anywhere() {
        // +1's own cap blocks: the campaign must not have counted it.
        let campaign = Some(("C1".to_owned(), caps(0, 2, 0)));
        let a = NumberLimits {
            own: caps(1, 0, 0),
            campaign: campaign.clone(),
            brand: None,
        };
        let b = NumberLimits {
            own: Limits::default(),
            campaign,
            brand: None,
        };
        let mut limiter = Limiter::new([("+1", &a), ("+2", &b)]);
        let now = Instant::now();
        assert_eq!(limiter.admit("+1", now, NOON, 0), Admission::Go);
        assert!(matches!(
            limiter.admit("+1", now, NOON, 0),
            Admission::Wait { .. }
        ));
        assert_eq!(limiter.admit("+2", now, NOON, 0), Admission::Go);
    }

    #[test]
    fn daily_caps_lease_reserve_whole_messages_and_reopen_at_midnight() {
        let brand = Some(("B1".to_owned(), caps(0, 0, 5)));
        let limits = NumberLimits {
            own: Limits::default(),
            campaign: None,
            brand,
        };
        let mut limiter = Limiter::new([("+1", &limits)]);
        let now = Instant::now();
        // The first reservation needs a lease.
        let Admission::Lease { entity, lease } = limiter.admit("+1", now, NOON, 3) else {
            panic!("expected a lease");
        };
        assert_eq!(lease.count, 3);
        assert_eq!(limiter.key(entity), "brand:B1");
        assert_eq!(
            limiter.admit("+1", now, NOON, 3),
            Admission::LeasePending { entity }
        );
        limiter.lease_durable(entity, lease);
        assert_eq!(limiter.admit("+1", now, NOON, 3), Admission::Go);
        // Further segments of the same message are not counted again.
        assert_eq!(limiter.admit("+1", now, NOON, 0), Admission::Go);
        // 3 used: a 3-part message does not fit, and waits for midnight.
        let Admission::Wait { until, .. } = limiter.admit("+1", now, NOON, 3) else {
            panic!("expected to wait");
        };
        assert_eq!(until, now + Duration::from_millis(DAY_MS / 2));
        // A 2-part one fits (after its lease).
        let Admission::Lease { lease, .. } = limiter.admit("+1", now, NOON, 2) else {
            panic!("expected a lease");
        };
        limiter.lease_durable(entity, lease);
        assert_eq!(limiter.admit("+1", now, NOON, 2), Admission::Go);
        // More than the cap can never go.
        assert_eq!(
            limiter.admit("+1", now, NOON, 6),
            Admission::Never { entity }
        );
        // The next day starts from zero.
        let tomorrow = NOON + DAY_MS / 2;
        assert!(matches!(
            limiter.admit("+1", now, tomorrow, 1),
            Admission::Lease { .. }
        ));
    }

    #[test]
    fn a_restored_daily_count_holds_and_other_days_are_ignored() {
        let limits = own(caps(0, 0, 4));
        let mut limiter = Limiter::new([("+1", &limits)]);
        assert_eq!(limiter.daily_keys().collect::<Vec<_>>(), ["number:+1"]);
        let today = utc_day(NOON);
        limiter.restore_daily(
            "number:+1",
            DailyLease {
                day: today - 1,
                count: 4,
            },
            NOON,
        );
        assert!(matches!(
            limiter.admit("+1", Instant::now(), NOON, 1),
            Admission::Lease { .. }
        ));
        let mut limiter = Limiter::new([("+1", &limits)]);
        limiter.restore_daily(
            "number:+1",
            DailyLease {
                day: today,
                count: 4,
            },
            NOON,
        );
        assert!(matches!(
            limiter.admit("+1", Instant::now(), NOON, 1),
            Admission::Wait { .. }
        ));
        let counts: Vec<_> = limiter.daily_counts().collect();
        assert_eq!(
            counts,
            [(
                "number:+1",
                DailyLease {
                    day: today,
                    count: 4
                }
            )]
        );
    }

    #[test]
    fn a_number_dropped_by_a_reload_keeps_its_limits() {
        let limits = own(caps(1, 0, 0));
        let mut limiter = Limiter::new([("+1", &limits)]);
        let now = Instant::now();
        assert_eq!(limiter.admit("+1", now, NOON, 0), Admission::Go);
        limiter.reload(std::iter::empty());
        assert!(matches!(
            limiter.admit("+1", now, NOON, 0),
            Admission::Wait { .. }
        ));
    }

    #[test]
    fn rate_windows_survive_a_clean_stop_and_start_full_after_a_crash() {
        let limits = own(caps(3, 0, 0));
        let mut limiter = Limiter::new([("+1", &limits)]);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.admit("+1", t0, NOON, 0), Admission::Go);
        }
        let saved = limiter.rate_snapshots(t0 + Duration::from_millis(400), NOON + 400);
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].sends, [(NOON, 3)]);

        // A clean restart 100 ms later (on another clock): still full until
        // the sends are a second old.
        let mut next = Limiter::new([("+1", &limits)]);
        let t1 = Instant::now() + Duration::from_secs(100);
        next.restore_rates(&saved, t1, NOON + 500);
        assert!(matches!(
            next.admit("+1", t1, NOON + 500, 0),
            Admission::Wait { .. }
        ));
        let later = t1 + Duration::from_millis(500);
        assert_eq!(next.admit("+1", later, NOON + 1000, 0), Admission::Go);

        // After a crash the window starts full, for one window's length.
        let mut crashed = Limiter::new([("+1", &limits)]);
        crashed.saturate_rates(t1);
        assert!(matches!(
            crashed.admit("+1", t1 + Duration::from_millis(999), NOON, 0),
            Admission::Wait { .. }
        ));
        assert_eq!(
            crashed.admit("+1", t1 + Duration::from_secs(1), NOON, 0),
            Admission::Go
        );

        // Large caps (buckets) too.
        let big = own(caps(0, 10_000, 0));
        let mut crashed = Limiter::new([("+1", &big)]);
        crashed.saturate_rates(t1);
        assert!(matches!(
            crashed.admit("+1", t1 + Duration::from_secs(59), NOON, 0),
            Admission::Wait { .. }
        ));
    }

    #[test]
    fn lease_bytes_round_trip() {
        let lease = DailyLease {
            day: 20_000,
            count: 123_456,
        };
        assert_eq!(DailyLease::from_bytes(&lease.to_bytes()), Some(lease));
        assert_eq!(DailyLease::from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn reload_keeps_counts_of_entities_that_remain() {
        let limits = own(caps(2, 0, 10));
        let mut limiter = Limiter::new([("+1", &limits)]);
        let now = Instant::now();
        let Admission::Lease { entity, lease } = limiter.admit("+1", now, NOON, 1) else {
            panic!("expected a lease");
        };
        limiter.lease_durable(entity, lease);
        assert_eq!(limiter.admit("+1", now, NOON, 1), Admission::Go);
        assert_eq!(limiter.admit("+1", now, NOON, 0), Admission::Go);
        // Tighter per-second cap, same daily: both remember.
        let tighter = own(caps(1, 0, 10));
        let other = own(caps(5, 0, 0));
        limiter.reload([("+1", &tighter), ("+2", &other)]);
        assert!(matches!(
            limiter.admit("+1", now, NOON, 0),
            Admission::Wait { .. }
        ));
        assert_eq!(limiter.daily_counts().next().map(|(_, l)| l.count), Some(1));
        assert_eq!(limiter.admit("+2", now, NOON, 0), Admission::Go);
    }
}
