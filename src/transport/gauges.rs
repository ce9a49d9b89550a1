//! What a carrier's links show of themselves while they run: how many are
//! bound, how much of each link's window is in use, and each link's paced
//! rate. Links write these as they change; readiness, the dispatcher and
//! `GET /v1/status` read them. Atomics only: a reader never waits on a
//! link, and a link never waits on a reader.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// No paced rate (the link sends as fast as its window lets it).
const UNPACED: u64 = u64::MAX;

/// One link's live figures.
#[derive(Debug)]
pub struct LinkGauge {
    bound: AtomicBool,
    window_in_use: AtomicUsize,
    /// `f64` bits of the paced rate (messages per second), or [`UNPACED`].
    paced_rate: AtomicU64,
}

impl LinkGauge {
    fn new() -> LinkGauge {
        LinkGauge {
            bound: AtomicBool::new(false),
            window_in_use: AtomicUsize::new(0),
            paced_rate: AtomicU64::new(UNPACED),
        }
    }

    /// Requests of this link waiting for their responses.
    pub fn set_window_in_use(&self, requests: usize) {
        self.window_in_use.store(requests, Ordering::Relaxed);
    }

    /// The link's paced rate, `None` when unpaced.
    pub fn set_paced_rate(&self, rate: Option<f64>) {
        let bits = rate.map_or(UNPACED, f64::to_bits);
        self.paced_rate.store(bits, Ordering::Relaxed);
    }

    fn paced_rate(&self) -> Option<f64> {
        match self.paced_rate.load(Ordering::Relaxed) {
            UNPACED => None,
            bits => Some(f64::from_bits(bits)),
        }
    }
}

/// A carrier's links.
#[derive(Debug)]
pub struct CarrierGauges {
    /// Links bound now (shared with the dispatcher's route and readiness).
    pub bound: Arc<AtomicUsize>,
    links: Box<[LinkGauge]>,
}

/// A carrier's links summed up, for `GET /v1/status`.
#[derive(Debug, Clone, PartialEq)]
pub struct CarrierSnapshot {
    /// Links bound.
    pub links_up: usize,
    /// Links configured.
    pub links: usize,
    /// Requests in flight over every link.
    pub window_in_use: usize,
    /// The sum of the bound links' paced rates (messages per second);
    /// `None` when a bound link is unpaced (the carrier sets the pace) or
    /// none is bound.
    pub rate: Option<f64>,
}

impl CarrierGauges {
    /// Gauges for `links` links, all down.
    pub fn new(links: usize) -> CarrierGauges {
        CarrierGauges {
            bound: Arc::new(AtomicUsize::new(0)),
            links: (0..links).map(|_| LinkGauge::new()).collect(),
        }
    }

    /// Link `index`'s gauge (a spare one past the configured links, so a
    /// caller never has to handle its absence).
    pub fn link(&self, index: usize) -> &LinkGauge {
        static SPARE: std::sync::OnceLock<LinkGauge> = std::sync::OnceLock::new();
        self.links
            .get(index)
            .unwrap_or_else(|| SPARE.get_or_init(LinkGauge::new))
    }

    /// Link `index` came up or went down.
    pub fn set_bound(&self, index: usize, up: bool) {
        let Some(link) = self.links.get(index) else {
            return;
        };
        if link.bound.swap(up, Ordering::Relaxed) == up {
            return;
        }
        if up {
            self.bound.fetch_add(1, Ordering::Relaxed);
        } else {
            self.bound.fetch_sub(1, Ordering::Relaxed);
            link.set_window_in_use(0);
        }
    }

    /// The carrier as a whole, now.
    pub fn snapshot(&self) -> CarrierSnapshot {
        let mut rate = Some(0.0);
        let mut links_up = 0;
        for link in self.links.iter() {
            if !link.bound.load(Ordering::Relaxed) {
                continue;
            }
            links_up += 1;
            rate = match (rate, link.paced_rate()) {
                (Some(sum), Some(r)) => Some(sum + r),
                _ => None,
            };
        }
        CarrierSnapshot {
            links_up,
            links: self.links.len(),
            window_in_use: self
                .links
                .iter()
                .map(|l| l.window_in_use.load(Ordering::Relaxed))
                .sum(),
            rate: rate.filter(|_| links_up > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_bound_links_sum_or_none_if_one_is_unpaced() {
        let gauges = CarrierGauges::new(3);
        assert_eq!(gauges.snapshot().rate, None);
        gauges.set_bound(0, true);
        gauges.set_bound(1, true);
        gauges.link(0).set_paced_rate(Some(20.0));
        assert_eq!(gauges.snapshot().rate, None);
        gauges.link(1).set_paced_rate(Some(25.5));
        // Link 2 is down: its rate does not count.
        gauges.link(2).set_paced_rate(Some(100.0));
        let snapshot = gauges.snapshot();
        assert_eq!(snapshot.rate, Some(45.5));
        assert_eq!((snapshot.links_up, snapshot.links), (2, 3));
    }

    #[test]
    fn bound_counts_each_change_once_and_down_links_free_their_window() {
        let gauges = CarrierGauges::new(2);
        gauges.set_bound(1, true);
        gauges.set_bound(1, true);
        gauges.link(1).set_window_in_use(7);
        assert_eq!(gauges.bound.load(Ordering::Relaxed), 1);
        assert_eq!(gauges.snapshot().window_in_use, 7);
        gauges.set_bound(1, false);
        gauges.set_bound(1, false);
        assert_eq!(gauges.bound.load(Ordering::Relaxed), 0);
        assert_eq!(gauges.snapshot().window_in_use, 0);
        // An index past the configured links is harmless.
        gauges.set_bound(9, true);
        gauges.link(9).set_window_in_use(1);
        assert_eq!(gauges.bound.load(Ordering::Relaxed), 0);
    }
}
