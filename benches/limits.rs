//! What checking limits costs per segment: `Limiter::admit` for a number
//! under the load benchmark's limits (its own `per_second`, a campaign's
//! `per_minute` large enough to count in buckets, a brand's `per_day`),
//! next to an unlimited number (one hash lookup).
//!
//! `cargo bench --bench limits`; figures in `benches/README.md`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use carrier_gateway::config::Limits;
use carrier_gateway::outbound::limits::{Admission, Limiter, NumberLimits};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::time::Instant;

fn limits(per_second: u32, per_minute: u32, per_day: u32) -> Limits {
    Limits {
        per_second: NonZeroU32::new(per_second),
        per_minute: NonZeroU32::new(per_minute),
        per_day: NonZeroU32::new(per_day),
    }
}

fn admit(c: &mut Criterion) {
    let numbers: Vec<(String, NumberLimits)> = (1..=1000)
        .map(|i| {
            (
                format!("+1555123{i:04}"),
                NumberLimits {
                    own: limits(1000, 0, 0),
                    campaign: Some(("C1".into(), limits(0, 100_000_000, 0))),
                    brand: Some(("B1".into(), limits(0, 0, 100_000_000))),
                },
            )
        })
        .collect();
    let mut limiter = Limiter::new(numbers.iter().map(|(n, l)| (n.as_str(), l)));
    let names: Vec<&str> = numbers.iter().map(|(n, _)| n.as_str()).collect();
    let start = Instant::now();
    let wall = 1_790_000_000_000u64;
    // A clock that advances 40 µs per segment (25k segments/s), round robin
    // over the 1,000 numbers: each stays far below its 1,000/s.
    let mut tick = 0u64;
    // Take the daily lease up front, as the dispatcher would.
    if let Admission::Lease { entity, lease } = limiter.admit(names[0], start, wall, 1) {
        limiter.lease_durable(entity, lease);
    }
    let mut group = c.benchmark_group("limits");
    group.bench_function("admit/limited (number, campaign, brand)", |b| {
        b.iter(|| {
            tick += 1;
            let now = start + Duration::from_micros(40 * tick);
            let number = names[(tick % 1000) as usize];
            black_box(limiter.admit(black_box(number), now, wall, 0))
        })
    });
    let mut unlimited = Limiter::new(std::iter::empty());
    group.bench_function("admit/unlimited", |b| {
        b.iter(|| black_box(unlimited.admit(black_box("+15551230001"), start, wall, 0)))
    });
    group.finish();
}

criterion_group!(benches, admit);
criterion_main!(benches);
