//! The limiter's persistent side: daily-count leases written and fsync'd
//! before they are spent, restored on start, exact counts saved on a clean
//! stop, and limits replaced on SIGHUP.

use super::*;

impl Dispatcher {
    /// Writes a daily-count lease and tells the dispatcher once it is
    /// fsync'd; segments counted against it wait until then.
    pub(super) fn persist_lease(&mut self, entity: EntityId, lease: DailyLease) {
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

    pub(super) fn on_lease(&mut self, outcome: LeaseOutcome) {
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
