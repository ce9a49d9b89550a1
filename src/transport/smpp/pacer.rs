//! Adaptive send rate of one SMPP bind after carrier throttling.
//!
//! Why it exists: when a carrier answers `ESME_RTHROTTLED` (or
//! `ESME_RMSGQFUL`) the dispatcher retries that segment with backoff, but a
//! bind that keeps taking jobs as fast as its window allows just collects
//! more throttles — the carrier's limit is per bind or per account, and it
//! stays exceeded. Each bind therefore paces itself with a [`Pacer`], an
//! AIMD controller (the shape of TCP congestion control):
//!
//! * **Unlimited until throttled.** A new pacer does not pace at all;
//!   [`Pacer::next_send_at`] and [`Pacer::poll`] are one branch then. Only
//!   [`Pacer::on_submit`] does work on the hot path: it counts the submit in
//!   a ring of ten 100 ms buckets (an `Instant` comparison and an increment),
//!   so the bind's rate over the last second is known when a throttle comes.
//! * **Decrease to what the carrier took.** The pacer also counts throttles
//!   in the same ring, so on a throttle it knows the rate the carrier
//!   *accepted* over the last second — its limit, as far as the bind can
//!   tell (the estimate). The limit becomes [`PacerConfig::decrease_to`]
//!   (0.9) of that, and never above the lower of the limit and the sending
//!   rate (lowering an allowance the bind is not using would not slow it
//!   down); half the sending rate when nothing was accepted. A carrier that
//!   throttles by rate is matched in one step instead of a halving
//!   sawtooth; one that throttles regardless of rate still pushes the
//!   limit down a tenth and more per throttle. Never below [`PacerConfig::floor`]
//!   (20 msg/s: about what a small carrier account allows per bind, so a
//!   throttle that does not depend on the rate cannot starve the bind). A whole window of submits sent before the carrier's first
//!   throttle comes back as a burst of throttles: every throttle within
//!   [`PacerConfig::cooldown`] (1 s) of a decrease is counted once. After a
//!   decrease the token bucket starts empty, which is the brief pause
//!   (`1 / limit`, at most 200 ms at the floor) before the next submit.
//! * **Gradual increase, slow near the estimate.** Each full second without
//!   a throttle raises the limit by [`PacerConfig::increase`] (×1.25), or
//!   by [`PacerConfig::probe_increase`] (×1.05) while it is between 0.8 and
//!   1.5 times the estimate: the bind probes around the carrier's limit
//!   (it may have been raised) instead of crossing it by a quarter every
//!   few seconds. Measured against a carrier throttling beyond 100 msg/s
//!   per sliding second (`converges_under_a_carrier_capacity`), the bind
//!   sends at over 90 % of it with throttles under 2 % of submits. A throttle inside the
//!   cooldown does not decrease again but restarts this second. Once the
//!   limit is at least [`PacerConfig::release_ratio`] (2×) the measured
//!   demand and at least [`PacerConfig::release_min`] (50 msg/s) — the bind
//!   no longer uses half its allowance, so the carrier is not what holds it
//!   back — the pacer returns to unlimited.
//! * **Token bucket while limited**, refilled at the limit and holding at
//!   most [`PacerConfig::burst`] (100 ms) worth of submits, at least one:
//!   small enough that a carrier counting per second sees at most ~1.1× the
//!   limit, large enough that at high rates one turn of the bind's loop
//!   still writes several submits in one `write`.
//!
//! A carrier's `throughput` (its agreed per-bind rate) is a ceiling: the
//! bind starts paced at it, decreases from it on throttles and recovers up
//! to it, never to unlimited.
//!
//! The pacer is sans-IO: every method takes the current [`Instant`], it
//! never reads a clock or sleeps, so the tests below drive it with
//! simulated time. The bind (`bind.rs`) sleeps until
//! [`Pacer::next_send_at`] and reports [`Change`]s as logs and metrics.

use std::time::{Duration, Instant};

/// Width of one rate-measurement bucket.
const BUCKET: Duration = Duration::from_millis(100);
/// Buckets in the measurement window (10 × 100 ms = 1 s).
const BUCKETS: usize = 10;
/// The measurement window.
const WINDOW: Duration = Duration::from_secs(1);

/// The controller's constants (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacerConfig {
    /// The lowest limit, msg/s.
    pub floor: f64,
    /// Throttles within this time after a decrease count as the same one.
    pub cooldown: Duration,
    /// Factor applied to the limit after each `step` without a throttle,
    /// far from the rate the carrier last accepted.
    pub increase: f64,
    /// The same near that rate (from 0.8× to 1.5× of it): a slow probe
    /// around the carrier's limit rather than a sawtooth through it.
    pub probe_increase: f64,
    /// On a throttle, the limit becomes this fraction of the rate the
    /// carrier accepted over the last second.
    pub decrease_to: f64,
    /// How long without a throttle before each increase.
    pub step: Duration,
    /// Return to unlimited once the limit is this many times the measured rate…
    pub release_ratio: f64,
    /// …and at least this, msg/s.
    pub release_min: f64,
    /// The token bucket holds this much time's worth of submits (at least one).
    pub burst: Duration,
    /// The carrier's agreed per-bind rate (`throughput`), msg/s: the bind
    /// starts paced at it and never goes above it.
    pub ceiling: Option<f64>,
}

impl Default for PacerConfig {
    fn default() -> Self {
        PacerConfig {
            floor: 20.0,
            cooldown: Duration::from_secs(1),
            increase: 1.25,
            probe_increase: 1.05,
            decrease_to: 0.9,
            step: Duration::from_secs(1),
            release_ratio: 2.0,
            release_min: 50.0,
            burst: Duration::from_millis(100),
            ceiling: None,
        }
    }
}

/// How the limit changed; the bind turns it into logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// A throttle lowered the limit (`from`: `None` when it was unlimited).
    Decreased {
        /// The previous limit, msg/s.
        from: Option<f64>,
        /// The new limit, msg/s.
        to: f64,
    },
    /// A second without throttling raised it.
    Increased {
        /// The previous limit, msg/s.
        from: f64,
        /// The new limit, msg/s.
        to: f64,
    },
    /// The limit is lifted.
    Unlimited {
        /// The last limit, msg/s.
        from: f64,
    },
}

/// The token bucket of a limited pacer.
#[derive(Debug, Clone, Copy)]
struct Limited {
    /// msg/s.
    rate: f64,
    /// Tokens at `refilled_at` (may be below zero if a caller sent anyway).
    tokens: f64,
    refilled_at: Instant,
    /// When the last decrease happened (cooldown).
    decreased_at: Instant,
    /// Start of the current step without throttles.
    step_from: Instant,
}

impl Limited {
    fn capacity(&self, config: &PacerConfig) -> f64 {
        (self.rate * config.burst.as_secs_f64()).max(1.0)
    }

    fn tokens_at(&self, now: Instant, config: &PacerConfig) -> f64 {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        (self.tokens + elapsed * self.rate).min(self.capacity(config))
    }

    fn refill(&mut self, now: Instant, config: &PacerConfig) {
        if now > self.refilled_at {
            self.tokens = self.tokens_at(now, config);
            self.refilled_at = now;
        }
    }
}

/// Decides when one bind may send its next submit (see the module docs).
#[derive(Debug, Clone)]
pub struct Pacer {
    config: PacerConfig,
    /// Submits per bucket; `head` is the current one.
    counts: [u32; BUCKETS],
    /// Throttles per bucket, in the same ring.
    throttles: [u32; BUCKETS],
    /// The rate the carrier accepted when it last throttled, msg/s: its
    /// limit as far as this bind can tell.
    estimate: Option<f64>,
    head: usize,
    /// End of the current bucket; `None` before the first submit.
    bucket_end: Option<Instant>,
    /// The first submit (the window is shorter before a second has passed).
    first_submit: Option<Instant>,
    limited: Option<Limited>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new()
    }
}

impl Pacer {
    /// An unlimited pacer with the default constants.
    pub fn new() -> Pacer {
        Pacer::with_config(PacerConfig::default(), Instant::now())
    }

    /// A pacer with these constants, created at `now`: unlimited, or paced
    /// at the ceiling if there is one.
    pub fn with_config(config: PacerConfig, now: Instant) -> Pacer {
        let limited = config.ceiling.map(|rate| {
            let mut limited = Limited {
                rate,
                tokens: 0.0,
                refilled_at: now,
                // The first throttle is never inside a cooldown.
                decreased_at: now.checked_sub(config.cooldown).unwrap_or(now),
                step_from: now,
            };
            limited.tokens = limited.capacity(&config);
            limited
        });
        Pacer {
            config,
            counts: [0; BUCKETS],
            throttles: [0; BUCKETS],
            estimate: None,
            head: 0,
            bucket_end: None,
            first_submit: None,
            limited,
        }
    }

    /// The current limit in msg/s; `None` when unlimited.
    pub fn limit(&self) -> Option<f64> {
        self.limited.as_ref().map(|l| l.rate)
    }

    /// When the next submit may go: `None` now, otherwise the instant.
    pub fn next_send_at(&self, now: Instant) -> Option<Instant> {
        let limited = self.limited.as_ref()?;
        let tokens = limited.tokens_at(now, &self.config);
        // A hair of slack so float rounding cannot turn the wake-up at the
        // returned instant into another, nanosecond-long sleep.
        if tokens >= 1.0 - 1e-9 {
            return None;
        }
        // Rounded up (and one nanosecond more): waking at the returned
        // instant always finds the token there.
        let wait = ((1.0 - tokens) / limited.rate * 1e9).ceil();
        Some(now + Duration::from_nanos(wait as u64 + 1))
    }

    /// A submit was sent at `now`.
    pub fn on_submit(&mut self, now: Instant) {
        match self.bucket_end {
            Some(end) if now < end => {}
            Some(end) => self.advance(now, end),
            None => {
                self.first_submit = Some(now);
                self.bucket_end = Some(now + BUCKET);
            }
        }
        self.counts[self.head] = self.counts[self.head].saturating_add(1);
        if let Some(limited) = &mut self.limited {
            limited.refill(now, &self.config);
            limited.tokens -= 1.0;
        }
    }

    /// Moves the ring to the bucket holding `now` (`now >= end`).
    fn advance(&mut self, now: Instant, end: Instant) {
        let passed = now.duration_since(end).as_nanos() / BUCKET.as_nanos() + 1;
        for _ in 0..passed.min(BUCKETS as u128) {
            self.head = (self.head + 1) % BUCKETS;
            self.counts[self.head] = 0;
            self.throttles[self.head] = 0;
        }
        // `passed` buckets of 100 ms: below u64 nanoseconds for 58 years.
        let shift = u64::try_from(passed * BUCKET.as_nanos()).unwrap_or(u64::MAX);
        self.bucket_end = Some(end + Duration::from_nanos(shift));
    }

    /// Submits per second over the last second (shorter if the first submit
    /// was less than a second ago, but at least one bucket).
    pub fn measured_rate(&self, now: Instant) -> f64 {
        self.rate_of(&self.counts, now)
    }

    /// Events per second of one ring over the last second.
    fn rate_of(&self, ring: &[u32; BUCKETS], now: Instant) -> f64 {
        let (Some(end), Some(first)) = (self.bucket_end, self.first_submit) else {
            return 0.0;
        };
        let horizon = now.checked_sub(WINDOW);
        let mut total = 0u64;
        for k in 0..BUCKETS {
            // Bucket `head - k` ends at `end - k × BUCKET`; count it while
            // that end lies within the last second.
            let Some(bucket_end) = end.checked_sub(BUCKET * k as u32) else {
                break;
            };
            if horizon.is_some_and(|h| bucket_end <= h) {
                break;
            }
            total += u64::from(ring[(self.head + BUCKETS - k) % BUCKETS]);
        }
        let span = now
            .saturating_duration_since(first)
            .clamp(BUCKET, WINDOW)
            .as_secs_f64();
        total as f64 / span
    }

    /// The carrier answered a submit with a throttling status at `now`.
    /// Returns the change, if this throttle was not within the cooldown of
    /// the last decrease.
    pub fn on_throttle(&mut self, now: Instant) -> Option<Change> {
        if let Some(end) = self.bucket_end
            && now >= end
        {
            self.advance(now, end);
        }
        self.throttles[self.head] = self.throttles[self.head].saturating_add(1);
        let measured = self.measured_rate(now);
        let accepted = (measured - self.rate_of(&self.throttles, now)).max(0.0);
        let config = self.config;
        if let Some(limited) = &mut self.limited {
            // Whatever happens, a new throttle-free step starts now.
            limited.step_from = now;
            if now.saturating_duration_since(limited.decreased_at) < config.cooldown {
                return None;
            }
        }
        let from = self.limit();
        let base = match from {
            Some(limit) if measured > 0.0 => limit.min(measured),
            Some(limit) => limit,
            None => measured,
        };
        // Just under what the carrier took over the last second; half the
        // sending rate when it took nothing measurable.
        let target = if accepted > 0.0 {
            (accepted * config.decrease_to).min(base)
        } else {
            base / 2.0
        };
        self.estimate = (accepted > 0.0).then_some(accepted);
        let to = target.max(config.floor.min(config.ceiling.unwrap_or(f64::MAX)));
        self.limited = Some(Limited {
            rate: to,
            tokens: 0.0,
            refilled_at: now,
            decreased_at: now,
            step_from: now,
        });
        Some(Change::Decreased { from, to })
    }

    /// Applies the increases due at `now` (one per full step without a
    /// throttle); call it once per turn of the bind's loop. Returns the
    /// change, if any.
    pub fn poll(&mut self, now: Instant) -> Option<Change> {
        let mut limited = self.limited?;
        let config = self.config;
        let before = limited.rate;
        while now.saturating_duration_since(limited.step_from) >= config.step {
            limited.refill(now, &config);
            let near = self
                .estimate
                .is_some_and(|e| limited.rate >= 0.8 * e && limited.rate < 1.5 * e);
            limited.rate *= if near {
                config.probe_increase
            } else {
                config.increase
            };
            limited.step_from += config.step;
            if let Some(ceiling) = config.ceiling {
                // Paced for good: back up to the agreed rate, no further.
                limited.rate = limited.rate.min(ceiling);
                continue;
            }
            if limited.rate >= config.release_min
                && limited.rate >= config.release_ratio * self.measured_rate(now)
            {
                self.limited = None;
                return Some(Change::Unlimited { from: before });
            }
        }
        self.limited = Some(limited);
        (limited.rate != before).then_some(Change::Increased {
            from: before,
            to: limited.rate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Sends one submit every `gap` from `from` for `count` submits;
    /// returns the time after the last.
    fn steady(pacer: &mut Pacer, from: Instant, gap: Duration, count: u32) -> Instant {
        let mut t = from;
        for _ in 0..count {
            pacer.on_submit(t);
            t += gap;
        }
        t
    }

    #[test]
    fn unlimited_at_start() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        assert_eq!(pacer.limit(), None);
        assert_eq!(pacer.next_send_at(t0), None);
        let t = steady(&mut pacer, t0, Duration::from_micros(100), 10_000);
        assert_eq!(pacer.next_send_at(t), None);
        assert_eq!(pacer.poll(t), None);
        assert_eq!(pacer.limit(), None);
    }

    #[test]
    fn measures_the_last_second() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        // 200 msg/s for 2 s.
        let t = steady(&mut pacer, t0, ms(5), 400);
        let rate = pacer.measured_rate(t);
        assert!((180.0..=220.0).contains(&rate), "{rate}");
        // Half a second of silence halves it; two seconds empty it.
        let rate = pacer.measured_rate(t + ms(500));
        assert!((80.0..=120.0).contains(&rate), "{rate}");
        assert_eq!(pacer.measured_rate(t + ms(2_000)), 0.0);
        // A young pacer divides by its age, not by a whole second.
        let mut young = Pacer::new();
        let t = steady(&mut young, t0, ms(5), 40);
        let rate = young.measured_rate(t);
        assert!((180.0..=220.0).contains(&rate), "{rate}");
    }

    #[test]
    fn a_throttle_lowers_the_limit_just_under_what_the_carrier_took() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let t = steady(&mut pacer, t0, ms(5), 400);
        let Some(Change::Decreased { from: None, to }) = pacer.on_throttle(t) else {
            panic!("expected a decrease from unlimited");
        };
        // About 200 msg/s sent, all but this one accepted: 0.9 of that.
        assert!((160.0..=200.0).contains(&to), "{to}");
        assert_eq!(pacer.limit(), Some(to));
        // The bucket starts empty: a brief pause of 1 / limit.
        let at = pacer.next_send_at(t).expect("paused");
        let pause = at - t;
        assert!(pause > ms(4) && pause < ms(7), "{pause:?}");
        // After the cooldown, with nothing accepted in the last second, a
        // second throttle halves the limit.
        let t = t + ms(1_000);
        let Some(Change::Decreased {
            from: Some(f),
            to: next,
        }) = pacer.on_throttle(t)
        else {
            panic!("expected a second decrease");
        };
        assert_eq!(f, to);
        assert!((next - to / 2.0).abs() < 1e-9, "{next}");
    }

    #[test]
    fn cooldown_coalesces_a_burst() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let t = steady(&mut pacer, t0, ms(5), 400);
        // A window of 64 throttles coming back within 50 ms.
        let changes: Vec<_> = (0..64u64)
            .filter_map(|i| pacer.on_throttle(t + Duration::from_micros(i * 800)))
            .collect();
        assert_eq!(changes.len(), 1, "{changes:?}");
        let Some(Change::Decreased { to, .. }) = changes.first() else {
            panic!("{changes:?}");
        };
        assert!((160.0..=200.0).contains(to), "{to}");
        assert_eq!(pacer.limit(), Some(*to));
        // Still within a second of the decrease: still coalesced.
        assert_eq!(pacer.on_throttle(t + ms(999)), None);
        assert!(pacer.on_throttle(t + ms(1_000)).is_some());
    }

    #[test]
    fn the_floor_holds() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let mut t = steady(&mut pacer, t0, ms(1), 1_000);
        for _ in 0..20 {
            let _ = pacer.on_throttle(t);
            t += ms(1_000);
        }
        assert_eq!(pacer.limit(), Some(20.0));
        // A throttle with no submits at all in the last second also lands on the floor.
        let mut idle = Pacer::new();
        assert_eq!(
            idle.on_throttle(t0),
            Some(Change::Decreased {
                from: None,
                to: 20.0
            })
        );
    }

    #[test]
    fn recovers_gradually_then_unlimits() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let t = steady(&mut pacer, t0, ms(10), 100);
        assert!(pacer.on_throttle(t).is_some());
        let first = pacer.limit().expect("limited");
        // 0.9 of the ~90 msg/s the carrier took over the last second.
        assert!((75.0..=92.0).contains(&first), "{first}");
        let estimate = first / 0.9;
        // The bind still has 100 msg/s to send (one job every 10 ms) and
        // sends whenever the pacer lets it.
        let mut limits = vec![first];
        let mut now = t;
        let mut unlimited_at = None;
        for _ in 0..3_000 {
            now += ms(10);
            match pacer.poll(now) {
                Some(Change::Increased { from, to }) => {
                    assert_eq!(Some(&from), limits.last());
                    // Slowly near what the carrier took, fast beyond 1.5
                    // times it.
                    let factor = if from < 1.5 * estimate { 1.05 } else { 1.25 };
                    assert!((to / from - factor).abs() < 0.02, "{from} -> {to}");
                    limits.push(to);
                }
                Some(Change::Unlimited { .. }) => {
                    unlimited_at = Some(now);
                    break;
                }
                Some(other) => panic!("unexpected {other:?}"),
                None => {}
            }
            if pacer.next_send_at(now).is_none() {
                pacer.on_submit(now);
            }
        }
        // One step per second, and released only once the limit is twice
        // the demand (200): ×1.05 from ~80 to ~135, then ×1.25.
        let unlimited_at = unlimited_at.expect("back to unlimited");
        let steps = limits.len() - 1;
        assert!((11..=15).contains(&steps), "{limits:?}");
        let secs = (unlimited_at - t).as_secs_f64();
        assert!((secs - (steps + 1) as f64).abs() < 0.02, "{secs} s");
        assert_eq!(pacer.limit(), None);
        assert_eq!(pacer.next_send_at(now), None);
    }

    #[test]
    fn no_release_while_the_bind_uses_its_allowance() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let t = steady(&mut pacer, t0, ms(5), 400);
        let _ = pacer.on_throttle(t);
        let first = pacer.limit().expect("limited");
        // A greedy sender: always sends when allowed.
        let mut now = t;
        let end = t + ms(5_000);
        while now < end {
            match pacer.next_send_at(now) {
                None => pacer.on_submit(now),
                Some(at) => now = at,
            }
            let _ = pacer.poll(now);
        }
        // ×1.05 per second (near the ~199 msg/s the carrier took) for 5 s,
        // never released: demand follows the limit.
        let limit = pacer.limit().expect("still limited");
        let expected = first * 1.05f64.powi(5);
        assert!(
            (limit / expected - 1.0).abs() < 0.15,
            "{limit} vs {expected}"
        );
    }

    #[test]
    fn a_throttle_inside_the_cooldown_restarts_the_step() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let t = steady(&mut pacer, t0, ms(5), 400);
        let _ = pacer.on_throttle(t);
        assert_eq!(pacer.on_throttle(t + ms(900)), None);
        // No increase one second after the decrease: the step restarted at 900 ms.
        assert_eq!(pacer.poll(t + ms(1_500)), None);
        // (Unlimited at once here: the bind sent nothing since.)
        assert!(pacer.poll(t + ms(1_900)).is_some());
    }

    #[test]
    fn paced_sends_respect_the_limit_over_ten_seconds() {
        let config = PacerConfig::default();
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let t = steady(&mut pacer, t0, ms(10), 100);
        let _ = pacer.on_throttle(t);
        let first = pacer.limit().expect("limited");
        assert!((75.0..=92.0).contains(&first), "{first}");
        // A greedy sender for 10 simulated seconds. Count its submits per
        // second and compare with the highest limit of that second plus the
        // burst.
        let mut now = t;
        let mut sends = [0u32; 10];
        let mut highest = [0f64; 10];
        let mut total = 0u32;
        loop {
            let second = ((now - t).as_secs_f64()) as usize;
            if second >= 10 {
                break;
            }
            let _ = pacer.poll(now);
            let limit = pacer.limit().expect("never released: greedy");
            highest[second] = highest[second].max(limit);
            match pacer.next_send_at(now) {
                None => {
                    pacer.on_submit(now);
                    sends[second] += 1;
                    total += 1;
                }
                Some(at) => {
                    assert!(at > now);
                    now = at;
                }
            }
        }
        for (second, (&n, &limit)) in sends.iter().zip(&highest).enumerate() {
            let burst = (limit * config.burst.as_secs_f64()).max(1.0);
            assert!(
                f64::from(n) <= limit + burst + 1.0,
                "second {second}: {n} sends, limit {limit}"
            );
        }
        // And it is not needlessly slow: ~80 × Σ 1.05^k for k in 0..10 ≈ 1000.
        assert!(total > 900, "{total}");
    }

    #[test]
    fn converges_under_a_carrier_capacity() {
        // A carrier that throttles whatever exceeds 100 msg/s (per sliding
        // second), a bind that would send 1000 msg/s.
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        let mut accepted: std::collections::VecDeque<Instant> = Default::default();
        let mut now = t0;
        let mut throttles_late = 0u32;
        let mut accepted_late = 0u32;
        let end = t0 + ms(20_000);
        while now < end {
            let _ = pacer.poll(now);
            if let Some(at) = pacer.next_send_at(now) {
                now = at;
                continue;
            }
            pacer.on_submit(now);
            while accepted.front().is_some_and(|&a| now - a >= ms(1_000)) {
                accepted.pop_front();
            }
            let late = now - t0 >= ms(5_000);
            if accepted.len() >= 100 {
                let _ = pacer.on_throttle(now);
                throttles_late += u32::from(late);
            } else {
                accepted.push_back(now);
                accepted_late += u32::from(late);
            }
            now += ms(1);
        }
        // Over the last 15 s: within 10 % of the capacity, and throttles
        // under 2 % of submits.
        assert!(accepted_late > 15 * 90, "{accepted_late}");
        assert!(
            throttles_late * 50 < accepted_late + throttles_late,
            "{throttles_late} throttles, {accepted_late} accepted"
        );
    }

    #[test]
    fn a_ceiling_paces_from_the_start_and_caps_the_recovery() {
        let t0 = Instant::now();
        let config = PacerConfig {
            ceiling: Some(100.0),
            ..PacerConfig::default()
        };
        let mut pacer = Pacer::with_config(config, t0);
        assert_eq!(pacer.limit(), Some(100.0));
        // A full bucket (100 ms worth) goes at once, then 1 per 10 ms.
        for _ in 0..10 {
            assert_eq!(pacer.next_send_at(t0), None);
            pacer.on_submit(t0);
        }
        assert!(pacer.next_send_at(t0).is_some());
        // A throttle lowers it; recovery stops at the ceiling, not unlimited.
        let t = steady(&mut pacer, t0, ms(10), 100);
        assert!(pacer.on_throttle(t).is_some());
        assert!(pacer.limit().is_some_and(|l| l < 100.0));
        for s in 1..=10 {
            let _ = pacer.poll(t + ms(1_000 * s));
        }
        assert_eq!(pacer.limit(), Some(100.0));
    }
}
