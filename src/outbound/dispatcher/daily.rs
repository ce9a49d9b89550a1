//! The limiter's persistent side: daily-count leases written and fsync'd
//! before they are spent, restored on start, exact counts saved on a clean
//! stop; rate windows saved on a clean stop and started full after a
//! crash; and limits replaced on SIGHUP.

use serde::{Deserialize, Serialize};

use super::*;
use crate::outbound::limits::RateSnapshot;

/// Where the rate windows' state is kept in the `limits` tree (entity keys
/// all contain a `:`, this one cannot clash).
const RATES_KEY: &[u8] = b"rate windows";

/// The rate windows between runs.
#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum RateState {
    /// The daemon runs (or crashed): nothing is known of the last minute.
    Running,
    /// It stopped cleanly with these windows.
    Stopped { windows: Vec<RateSnapshot> },
}

impl Dispatcher {
    /// Writes a daily-count lease and tells the dispatcher once it is
    /// fsync'd; segments counted against it wait until then.
    pub(super) fn persist_lease(&mut self, entity: EntityId, lease: DailyLease) {
        let written = self
            .store
            .limits
            .insert(self.limiter.key(entity).as_bytes(), &lease.to_bytes()[..]);
        if let Err(e) = &written {
            // Not durable: the lanes wake and ask again.
            warn!(error = %e, "could not persist a daily limit count; retrying");
        }
        self.effects.push(Effect::LeaseSync(LeaseOutcome {
            generation: self.limiter_generation,
            entity,
            lease,
            durable: written.is_ok(),
        }));
    }

    /// A lease asked for by [`Effect::LeaseSync`] is durable (or not).
    pub fn on_lease(&mut self, outcome: LeaseOutcome) {
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
    pub(super) fn restore_daily_counts(&mut self) -> Result<(), StoreError> {
        let wall = self.now.wall_ms;
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

    /// At start: the rate windows a clean stop saved, or full windows
    /// after a crash (the key says `running` until a clean stop).
    pub(super) fn restore_rate_windows(&mut self) -> Result<(), StoreError> {
        let saved = self.store.limits.get(RATES_KEY)?;
        let state = saved.and_then(|bytes| serde_json::from_slice::<RateState>(&bytes).ok());
        let (now, wall) = (self.now.mono, self.now.wall_ms);
        match state {
            Some(RateState::Stopped { windows }) => {
                self.limiter.restore_rates(&windows, now, wall);
            }
            Some(RateState::Running) => {
                warn!(
                    "the last run did not stop cleanly: rate limits start full (up to a minute \
                     without sending for per-minute caps), as what went out before the crash is unknown"
                );
                self.limiter.saturate_rates(now);
            }
            None => {}
        }
        self.write_rate_state(&RateState::Running);
        Ok(())
    }

    /// On a clean stop, saves what the rate windows hold.
    pub(super) fn save_rate_windows(&mut self) {
        let windows = self.limiter.rate_snapshots(self.now.mono, self.now.wall_ms);
        self.write_rate_state(&RateState::Stopped { windows });
    }

    fn write_rate_state(&self, state: &RateState) {
        let written = serde_json::to_vec(state)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                self.store
                    .limits
                    .insert(RATES_KEY, bytes)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            warn!(error = %e, "could not save the rate windows");
        }
    }

    /// On a clean stop, replaces the leases by the exact counts.
    pub(super) fn save_daily_counts(&self) {
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

    pub(super) fn reload_limits(
        &mut self,
        limits: &std::collections::HashMap<String, NumberLimits>,
    ) {
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
}
