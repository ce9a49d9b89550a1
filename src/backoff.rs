//! Exponential backoff with jitter: the one rule every retry in the gateway
//! follows (a segment the carrier could not take, an SMPP reconnect, an
//! event the core did not acknowledge).
//!
//! The delay doubles per failure from `initial` up to `max`, then "equal
//! jitter" draws it uniformly from its upper half: never less than half the
//! step (so a flapping peer is not hammered), and spread enough that many
//! retries started together — every conversation of a throttled carrier,
//! every bind of a gateway after a network cut — do not come back in
//! lockstep.

use std::time::Duration;

/// The delay before retry number `attempt` (1 for the first retry; 0 is
/// taken as 1).
pub fn backoff_delay(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(31);
    let full = initial.saturating_mul(1u32 << exponent).min(max);
    let half = full / 2;
    half + half.mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters() {
        let (initial, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for (attempt, full_ms) in [
            (0, 100),
            (1, 100),
            (2, 200),
            (3, 400),
            (5, 1600),
            (6, 2000),
            (100, 2000),
        ] {
            for _ in 0..50 {
                let d = backoff_delay(initial, max, attempt).as_millis();
                assert!(
                    (full_ms / 2..=full_ms).contains(&d),
                    "attempt {attempt}: {d} ms not in [{}, {full_ms}]",
                    full_ms / 2
                );
            }
        }
    }
}
