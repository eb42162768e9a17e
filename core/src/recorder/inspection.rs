//! The inspection budget: which exchanges get their bodies read, walked and scanned.
//!
//! Every exchange gets the cheap part: method, template, status, sizes, timing, identity,
//! header and query names, client address, block verdict, and detection on path, query and
//! headers. Reading the bodies costs about as much again in host calls as everything else, and
//! walking and scanning them several times that, so deep inspection is sampled:
//!
//! - per endpoint variant (method, host, template and the set of query names, so
//!   `?expand=payment` is a variant of its own): the first `first_per_window` exchanges of each
//!   window are inspected; after them each exchange with probability
//!   `max(min_share, max_per_endpoint_per_s / rate)`, where `rate` is the variant's recent rate
//!   (an exponentially decayed count of its arrivals, time constant `RATE_TIME_CONSTANT_US`,
//!   so it follows bursts within a second or two): a quiet endpoint is inspected whole, a busy
//!   one about `max_per_endpoint_per_s` times a second;
//! - an exchange whose path, query or headers already carried an attack is inspected;
//! - over all of that a worker-wide throttle keeps the time deep inspection takes (measured
//!   with the clock) under `max_time_share` of the worker's time: every period it is scaled by
//!   how far the last period's share was from the budget.
//!
//! Invariant: each exchange's probability `p` is fixed before its coin is tossed, and the event
//! carries `1/p` as its weight, so sums of weights over inspected events estimate totals over
//! all exchanges without bias (Horvitz-Thompson), however the throttle moves.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

pub const DEFAULT_MAX_TIME_SHARE: f64 = 0.1;
pub const DEFAULT_FIRST_PER_WINDOW: u32 = 10;
pub const DEFAULT_WINDOW_S: u32 = 60;
pub const DEFAULT_MAX_PER_ENDPOINT_PER_S: f64 = 10.0;
pub const DEFAULT_MIN_SHARE: f64 = 0.01;
/// Endpoint variants tracked per worker; later ones share one slot (about 40 bytes each).
pub const MAX_TRACKED_ENDPOINTS: usize = 4096;
/// How often the throttle is adjusted.
const PERIOD_US: u64 = 1_000_000;
/// The time constant of each variant's rate estimate.
const RATE_TIME_CONSTANT_US: f64 = 1_000_000.0;
/// The throttle never goes below this: a worker over its budget still inspects one exchange in
/// a thousand of what it would have, so weights stay bounded (at most 1000 / min_share).
const MIN_THROTTLE: f64 = 0.001;
/// No exchange is inspected with a probability below this (weights stay below 10^5).
const MIN_PROBABILITY: f64 = 1e-5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InspectionMode {
    /// Deep inspection under the budget below (the default).
    #[default]
    Budget,
    /// Every exchange, as filters before the budget did: the highest cost, every finding.
    Full,
}

/// How the filter chooses the exchanges whose bodies it inspects.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InspectionConfig {
    pub mode: InspectionMode,
    /// Most of each worker's time deep inspection may take (0.1 = a tenth), measured with the
    /// clock; over it, every endpoint is sampled less.
    pub max_time_share: f64,
    /// Exchanges of each endpoint variant inspected at the start of each window.
    pub first_per_window: u32,
    /// Window length, in seconds.
    pub window_s: u32,
    /// After the first ones, about this many exchanges per endpoint variant and second.
    pub max_per_endpoint_per_s: f64,
    /// ... but never less than this share of them (budget permitting).
    pub min_share: f64,
}

impl Default for InspectionConfig {
    fn default() -> Self {
        InspectionConfig {
            mode: InspectionMode::Budget,
            max_time_share: DEFAULT_MAX_TIME_SHARE,
            first_per_window: DEFAULT_FIRST_PER_WINDOW,
            window_s: DEFAULT_WINDOW_S,
            max_per_endpoint_per_s: DEFAULT_MAX_PER_ENDPOINT_PER_S,
            min_share: DEFAULT_MIN_SHARE,
        }
    }
}

impl InspectionConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_time_share.is_nan() || self.max_time_share <= 0.0 || self.max_time_share > 1.0 {
            return Err("inspection.max_time_share must be above 0 and at most 1".into());
        }
        if self.window_s == 0 || self.window_s > 3600 {
            return Err("inspection.window_s must be between 1 and 3600".into());
        }
        if !(0.0..=1.0).contains(&self.min_share) || !(0.0..=f64::MAX).contains(&self.max_per_endpoint_per_s) {
            return Err("inspection.min_share must be within 0..1 and max_per_endpoint_per_s not negative".into());
        }
        Ok(())
    }
}

/// Why an exchange's bodies were or were not inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Inspected.
    Deep,
    /// Not chosen by the endpoint's sampling.
    Sampled,
    /// Would have been chosen, but the worker is over its time budget.
    Budget,
}

/// The decision for one exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub deep: bool,
    /// 1/p for an inspected exchange, 0 otherwise.
    pub weight: f32,
    pub reason: Reason,
}

/// Exchanges inspected and skipped, by reason, since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InspectionStats {
    pub deep: u64,
    pub skipped_sampled: u64,
    pub skipped_budget: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Variant {
    window_start_us: u64,
    /// exchanges in the current window
    seen: u32,
    /// arrivals counted with exponential decay: about the rate times the time constant
    decayed: f64,
    last_us: u64,
}

/// An endpoint variant for sampling: method, host, template and the set of query names (in
/// any order), hashed.
pub fn variant_key(method: &str, authority: &str, template: &str, query_names: &[String]) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    (method, authority, template).hash(&mut hasher);
    let names = query_names.iter().fold(0u64, |acc, name| {
        let mut h = rustc_hash::FxHasher::default();
        name.hash(&mut h);
        acc ^ h.finish()
    });
    names.hash(&mut hasher);
    hasher.finish()
}

/// Per-worker sampling state.
#[derive(Debug)]
pub struct Inspector {
    config: InspectionConfig,
    variants: FxHashMap<u64, Variant>,
    overflow: Variant,
    throttle: f64,
    period_start_us: u64,
    period_spent_us: u64,
    rng: u64,
    pub stats: InspectionStats,
}

impl Inspector {
    pub fn new(config: InspectionConfig, seed: u64) -> Self {
        Inspector {
            config,
            variants: FxHashMap::default(),
            overflow: Variant::default(),
            throttle: 1.0,
            period_start_us: 0,
            period_spent_us: 0,
            rng: seed | 1,
            stats: InspectionStats::default(),
        }
    }

    pub fn config(&self) -> &InspectionConfig {
        &self.config
    }

    /// The worker-wide factor the budget applies now (1 when within it).
    pub fn throttle(&self) -> f64 {
        self.throttle
    }

    /// Decides for one exchange of the variant `key`.
    pub fn decide(&mut self, key: u64, now_us: u64, attack_seen: bool) -> Decision {
        if self.config.mode == InspectionMode::Full {
            self.stats.deep += 1;
            return Decision { deep: true, weight: 1.0, reason: Reason::Deep };
        }
        let base = self.base_probability(key, now_us, attack_seen);
        let p = (base * self.throttle).clamp(MIN_PROBABILITY, 1.0);
        let roll = self.next_unit();
        if roll < p {
            self.stats.deep += 1;
            return Decision { deep: true, weight: (1.0 / p) as f32, reason: Reason::Deep };
        }
        let reason = if roll < base { Reason::Budget } else { Reason::Sampled };
        match reason {
            Reason::Budget => self.stats.skipped_budget += 1,
            _ => self.stats.skipped_sampled += 1,
        }
        Decision { deep: false, weight: 0.0, reason }
    }

    /// The variant's probability before the budget's throttle.
    fn base_probability(&mut self, key: u64, now_us: u64, attack_seen: bool) -> f64 {
        let window_us = u64::from(self.config.window_s) * 1_000_000;
        let tracked = self.variants.len() < MAX_TRACKED_ENDPOINTS || self.variants.contains_key(&key);
        let variant = if tracked { self.variants.entry(key).or_default() } else { &mut self.overflow };
        if variant.seen == 0 || now_us.saturating_sub(variant.window_start_us) >= window_us {
            variant.window_start_us = now_us;
            variant.seen = 0;
        }
        variant.seen = variant.seen.saturating_add(1);
        let since = now_us.saturating_sub(variant.last_us) as f64;
        variant.decayed = variant.decayed * (-since / RATE_TIME_CONSTANT_US).exp() + 1.0;
        variant.last_us = now_us;
        if attack_seen || variant.seen <= self.config.first_per_window {
            return 1.0;
        }
        let rate = variant.decayed * 1e6 / RATE_TIME_CONSTANT_US;
        let by_rate = if self.config.max_per_endpoint_per_s > 0.0 {
            (self.config.max_per_endpoint_per_s / rate).min(1.0)
        } else {
            0.0
        };
        by_rate.max(self.config.min_share)
    }

    /// Time deep inspection of one exchange took.
    pub fn spent(&mut self, us: u64) {
        self.period_spent_us = self.period_spent_us.saturating_add(us);
    }

    /// Adjusts the throttle once a period has passed: scaled by budget / share, by at most a
    /// quarter or double per period so one noisy period cannot swing it far. Forgets variants
    /// not seen for two windows.
    pub fn tick(&mut self, now_us: u64) {
        if self.config.mode == InspectionMode::Full {
            return;
        }
        if self.period_start_us == 0 || now_us < self.period_start_us {
            self.period_start_us = now_us;
            self.period_spent_us = 0;
            return;
        }
        let elapsed = now_us - self.period_start_us;
        if elapsed < PERIOD_US {
            return;
        }
        let share = self.period_spent_us as f64 / elapsed as f64;
        let ratio = if share > 0.0 { self.config.max_time_share / share } else { 2.0 };
        self.throttle = (self.throttle * ratio.clamp(0.25, 2.0)).clamp(MIN_THROTTLE, 1.0);
        self.period_start_us = now_us;
        self.period_spent_us = 0;
        let stale_before = now_us.saturating_sub(2 * u64::from(self.config.window_s) * 1_000_000);
        if self.variants.len() >= MAX_TRACKED_ENDPOINTS / 2 {
            self.variants.retain(|_, v| v.window_start_us >= stale_before);
        }
    }

    /// A uniform number in [0, 1) (SplitMix64: fast, and good enough for sampling).
    fn next_unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000;

    #[test]
    fn full_mode_inspects_everything_at_weight_one() {
        let mut inspector = Inspector::new(InspectionConfig { mode: InspectionMode::Full, ..Default::default() }, 1);
        for i in 0..1000 {
            let d = inspector.decide(7, i * 10, false);
            assert!(d.deep && d.weight == 1.0);
        }
    }

    #[test]
    fn first_exchanges_of_each_window_then_about_the_rate() {
        let mut inspector = Inspector::new(InspectionConfig::default(), 42);
        let start = 1_000 * SECOND;
        // 1000 exchanges a second for three windows
        let mut deep_per_window = [0u32; 3];
        let mut first_ten = true;
        for i in 0..180_000u64 {
            let now = start + i * 1_000;
            let d = inspector.decide(1, now, false);
            let window = (i / 60_000) as usize;
            if i % 60_000 < 10 {
                first_ten &= d.deep && d.weight == 1.0;
            }
            deep_per_window[window] += u32::from(d.deep);
        }
        assert!(first_ten);
        // 10/s at 1000/s is 1% (the first second learns the rate)
        for deep in &deep_per_window[1..] {
            assert!((550..=750).contains(deep), "{deep_per_window:?}");
        }
    }

    #[test]
    fn quiet_endpoints_are_inspected_whole_and_attacks_always() {
        let mut inspector = Inspector::new(InspectionConfig::default(), 3);
        for i in 0..300u64 {
            // two a second: under the per-endpoint rate
            assert!(inspector.decide(9, 1_000 * SECOND + i * SECOND / 2, false).deep);
        }
        for i in 0..100u64 {
            assert!(inspector.decide(10, 1_000 * SECOND + i * 1000, true).deep);
        }
    }

    #[test]
    fn weights_estimate_the_total() {
        let mut inspector = Inspector::new(InspectionConfig::default(), 99);
        let mut estimate = 0.0f64;
        let n = 200_000u64;
        for i in 0..n {
            // two variants, one busy one quiet, and the throttle moving under a tight budget
            let key = if i % 50 == 0 { 2 } else { 1 };
            let now = 1_000 * SECOND + i * 200;
            let d = inspector.decide(key, now, false);
            if d.deep {
                estimate += f64::from(d.weight);
                inspector.spent(300);
            }
            inspector.tick(now);
        }
        let error = (estimate - n as f64).abs() / n as f64;
        assert!(error < 0.05, "estimate {estimate} of {n}");
    }

    #[test]
    fn the_throttle_keeps_deep_time_near_the_budget() {
        let config = InspectionConfig { mode: InspectionMode::Budget, max_time_share: 0.05, ..Default::default() };
        let mut inspector = Inspector::new(config, 5);
        // 10,000 variants each seen once a window: all would be inspected (first ones); each
        // costs 100 µs at 10,000 exchanges a second, so inspecting all takes the whole worker
        let mut spent_late = 0u64;
        let total_us = 30 * SECOND;
        let mut now = 1_000 * SECOND;
        let mut i = 0u64;
        while now < 1_000 * SECOND + total_us {
            let d = inspector.decide(i % 10_000, now, false);
            if d.deep {
                inspector.spent(100);
                if now > 1_000 * SECOND + 20 * SECOND {
                    spent_late += 100;
                }
            }
            inspector.tick(now);
            now += 100;
            i += 1;
        }
        let share = spent_late as f64 / (10 * SECOND) as f64;
        assert!((0.02..0.08).contains(&share), "share {share}, throttle {}", inspector.throttle());
        assert!(inspector.stats.skipped_budget > 0);
    }

    #[test]
    fn a_flood_of_variants_stays_bounded() {
        let mut inspector = Inspector::new(InspectionConfig::default(), 8);
        for i in 0..(MAX_TRACKED_ENDPOINTS as u64 * 3) {
            inspector.decide(i, 1_000 * SECOND + i, false);
        }
        assert_eq!(inspector.variants.len(), MAX_TRACKED_ENDPOINTS);
    }
}
