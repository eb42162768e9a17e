//! Retry delays: exponential with full jitter. After a collector or ClickHouse restart every
//! sidecar and writer retries; with a fixed doubling they would all come back in the same
//! instant, so each delay is drawn uniformly between the floor and the current ceiling, and the
//! ceiling doubles up to the cap.

/// A filter's reconnects to the collector: the first a quarter second after the stream broke,
/// then up to five seconds apart.
pub const RECONNECT_MIN_MS: u64 = 250;
pub const RECONNECT_MAX_MS: u64 = 5_000;

/// One retrier's delays. Seed it per instance (a VM's random seed, a process's start time), so
/// that instances draw different delays.
#[derive(Debug, Clone)]
pub struct Backoff {
    min_ms: u64,
    max_ms: u64,
    ceiling_ms: u64,
    state: u64,
}

impl Backoff {
    pub fn new(min_ms: u64, max_ms: u64, seed: u64) -> Self {
        let min_ms = min_ms.max(1);
        Backoff { min_ms, max_ms: max_ms.max(min_ms), ceiling_ms: min_ms, state: seed }
    }

    /// The delay before the next attempt, in milliseconds: uniform in `[min, ceiling]`; the
    /// ceiling then doubles, up to the maximum.
    pub fn next_delay_ms(&mut self) -> u64 {
        let span = self.ceiling_ms - self.min_ms + 1;
        let delay = self.min_ms + self.next_random() % span;
        self.ceiling_ms = self.ceiling_ms.saturating_mul(2).min(self.max_ms);
        delay
    }

    /// The next delay as a `Duration`.
    pub fn next_delay(&mut self) -> std::time::Duration {
        std::time::Duration::from_millis(self.next_delay_ms())
    }

    /// An attempt succeeded: the next failure starts from the floor again.
    pub fn reset(&mut self) {
        self.ceiling_ms = self.min_ms;
    }

    /// splitmix64: small, and good enough to spread retries.
    fn next_random(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_between_the_floor_and_a_doubling_ceiling() {
        let mut backoff = Backoff::new(250, 5_000, 7);
        let mut ceiling = 250;
        for _ in 0..20 {
            let delay = backoff.next_delay_ms();
            assert!((250..=ceiling).contains(&delay), "{delay} outside 250..={ceiling}");
            ceiling = (ceiling * 2).min(5_000);
        }
        backoff.reset();
        assert_eq!(backoff.next_delay_ms(), 250, "after a success the first delay is the floor");
    }

    /// A collector restart with a hundred filters connected: every stream breaks at once, the
    /// collector is back after three seconds. Each filter retries on its own jittered schedule
    /// (failed attempts while it is down), so the streams come back spread out, not in one storm.
    #[test]
    fn a_hundred_filters_come_back_spread_out_after_a_collector_restart() {
        let down_until_ms = 3_000;
        let mut back_at = Vec::new();
        let mut failed = 0;
        for seed in 0..100u64 {
            // VM seeds are random; any distinct ones do
            let mut backoff =
                Backoff::new(RECONNECT_MIN_MS, RECONNECT_MAX_MS, seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
            let mut at = backoff.next_delay_ms();
            while at < down_until_ms {
                failed += 1;
                at += backoff.next_delay_ms();
            }
            back_at.push(at);
        }
        back_at.sort_unstable();
        let busiest = back_at.iter().map(|&t| back_at.iter().filter(|&&u| (t..t + 250).contains(&u)).count()).max();
        assert!(busiest.unwrap_or(0) <= 25, "at most a quarter of the streams in any 250 ms: {back_at:?}");
        let spread = back_at[89] - back_at[9];
        assert!(spread >= 1_000, "the middle 80 reconnects spread over {spread} ms");
        assert!(failed <= 100 * 5, "{failed} failed attempts while the collector was down");
    }

    #[test]
    fn instances_with_other_seeds_retry_at_other_times() {
        let delays = |seed| {
            let mut backoff = Backoff::new(200, 5_000, seed);
            (0..8).map(|_| backoff.next_delay_ms()).collect::<Vec<_>>()
        };
        assert_ne!(delays(1), delays(2));
        let spread: std::collections::HashSet<u64> = (0..100)
            .map(|seed| Backoff::new(200, 5_000, seed))
            .map(|mut b| (0..5).map(|_| b.next_delay_ms()).last().unwrap_or(0))
            .collect();
        assert!(spread.len() > 50, "a hundred retriers at the fifth attempt: {} distinct delays", spread.len());
    }
}
