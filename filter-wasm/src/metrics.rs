//! The filter's Envoy counters (`wasmcustom.meshward.*` in /stats). Counts accumulate in the
//! VM and are pushed to Envoy once per tick, so the request path makes no host call for them.

use meshward_core::detect::{ATTACK_CLASSES, SENSITIVE_CLASSES};
use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub captured: u64,
    pub sent: u64,
    pub acked: u64,
    pub dropped_buffer_full: u64,
    pub dropped_too_large: u64,
    pub rejected: u64,
    pub resent_batches: u64,
    pub stream_failures: u64,
    pub config_errors: u64,
    pub body_unparsed: u64,
    /// findings per attack class, in `ATTACK_CLASSES` order
    pub attacks: [u64; ATTACK_CLASSES.len()],
    /// findings per built-in sensitive class, in `SENSITIVE_CLASSES` order
    pub sensitive: [u64; SENSITIVE_CLASSES.len()],
    /// findings of operator-defined classes
    pub custom: u64,
    pub blocked: u64,
    pub dry_run: u64,
    pub blocklist_fetches: u64,
    pub blocklist_fetch_failures: u64,
    pub blocklist_invalid: u64,
    /// rules in force (a gauge)
    pub blocklist_rules: u64,
}

impl Counts {
    /// Counts one finding by kind and class.
    pub fn finding(&mut self, attack: bool, class: &str) {
        let (names, counts): (&[&str], &mut [u64]) =
            if attack { (ATTACK_CLASSES, &mut self.attacks) } else { (SENSITIVE_CLASSES, &mut self.sensitive) };
        match names.iter().position(|c| *c == class) {
            Some(i) => counts[i] += 1,
            None => self.custom += 1,
        }
    }
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            captured: 0,
            sent: 0,
            acked: 0,
            dropped_buffer_full: 0,
            dropped_too_large: 0,
            rejected: 0,
            resent_batches: 0,
            stream_failures: 0,
            config_errors: 0,
            body_unparsed: 0,
            attacks: [0; ATTACK_CLASSES.len()],
            sensitive: [0; SENSITIVE_CLASSES.len()],
            custom: 0,
            blocked: 0,
            dry_run: 0,
            blocklist_fetches: 0,
            blocklist_fetch_failures: 0,
            blocklist_invalid: 0,
            blocklist_rules: 0,
        }
    }
}

const NAMES: [&str; 15] = [
    "meshward.events_captured",
    "meshward.events_sent",
    "meshward.events_acked",
    "meshward.events_dropped_buffer_full",
    "meshward.events_dropped_too_large",
    "meshward.events_rejected",
    "meshward.batches_resent",
    "meshward.stream_failures",
    "meshward.config_errors",
    "meshward.bodies_unparsed",
    "meshward.requests_blocked",
    "meshward.requests_dry_run",
    "meshward.blocklist_fetches",
    "meshward.blocklist_fetch_failures",
    "meshward.blocklist_invalid",
];

impl Counts {
    fn values(&self) -> Vec<u64> {
        let fixed = [
            self.captured,
            self.sent,
            self.acked,
            self.dropped_buffer_full,
            self.dropped_too_large,
            self.rejected,
            self.resent_batches,
            self.stream_failures,
            self.config_errors,
            self.body_unparsed,
            self.blocked,
            self.dry_run,
            self.blocklist_fetches,
            self.blocklist_fetch_failures,
            self.blocklist_invalid,
        ];
        let mut all = fixed.to_vec();
        all.extend_from_slice(&self.attacks);
        all.extend_from_slice(&self.sensitive);
        all.push(self.custom);
        all
    }
}

/// `meshward.findings.attack.sqli`, `meshward.findings.sensitive.credit_card`, ...: per-class
/// counters after the fixed ones, in `Counts::values` order.
fn metric_names() -> Vec<String> {
    let mut names: Vec<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
    names.extend(ATTACK_CLASSES.iter().map(|c| format!("meshward.findings.attack.{c}")));
    names.extend(SENSITIVE_CLASSES.iter().map(|c| format!("meshward.findings.sensitive.{c}")));
    names.push("meshward.findings.sensitive.custom".to_owned());
    names
}

/// Most rules with a counter of their own per VM; blocks by further rules count in
/// `meshward.blocks.rule.other`, so a huge list cannot grow Envoy's stats without bound.
const MAX_RULE_COUNTERS: usize = 1_000;

/// Envoy metric ids plus what has been reported so far.
#[derive(Debug, Default)]
pub struct Metrics {
    ids: Vec<Option<u32>>,
    reported: Counts,
    rules_gauge: Option<u32>,
    /// `meshward.blocks.rule.<id>` counters defined so far
    rule_ids: HashMap<String, Option<u32>>,
}

impl Metrics {
    pub fn define() -> Self {
        let ids = metric_names().iter().map(|name| hostcalls::define_metric(MetricType::Counter, name).ok()).collect();
        let rules_gauge = hostcalls::define_metric(MetricType::Gauge, "meshward.blocklist_rules").ok();
        Metrics { ids, reported: Counts::default(), rules_gauge, rule_ids: HashMap::new() }
    }

    /// Pushes the increase since the last call, and the requests each rule blocked or marked.
    pub fn report(&mut self, now: &Counts, rule_hits: &mut HashMap<String, u64>) {
        let before = self.reported.values();
        for ((id, value), old) in self.ids.iter().zip(now.values()).zip(before) {
            if let (Some(id), true) = (id, value > old) {
                let delta = i64::try_from(value - old).unwrap_or(i64::MAX);
                let _ = hostcalls::increment_metric(*id, delta);
            }
        }
        if let (Some(id), true) = (self.rules_gauge, now.blocklist_rules != self.reported.blocklist_rules) {
            let _ = hostcalls::record_metric(id, now.blocklist_rules);
        }
        self.reported = *now;
        for (rule, hits) in rule_hits.drain() {
            let full = self.rule_ids.len() >= MAX_RULE_COUNTERS;
            let name = if full && !self.rule_ids.contains_key(&rule) { "other".to_owned() } else { rule };
            let id = *self.rule_ids.entry(name).or_insert_with_key(|name| {
                hostcalls::define_metric(MetricType::Counter, &format!("meshward.blocks.rule.{name}")).ok()
            });
            if let Some(id) = id {
                let _ = hostcalls::increment_metric(id, i64::try_from(hits).unwrap_or(i64::MAX));
            }
        }
    }
}
