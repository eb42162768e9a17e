//! The filter's Envoy counters (`wasmcustom.meshward.*` in /stats). Counts accumulate in the
//! VM and are pushed to Envoy once per tick, so the request path makes no host call for them.

use meshward_core::detect::{ATTACK_CLASSES, SENSITIVE_CLASSES};
use meshward_core::recorder::RecorderStats;
use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Default)]
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
    pub blocked: u64,
    pub dry_run: u64,
    pub blocklist_fetches: u64,
    pub blocklist_fetch_failures: u64,
    pub blocklist_invalid: u64,
    /// rules in force (a gauge)
    pub blocklist_rules: u64,
}

const NAMES: [&str; 19] = [
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
    "meshward.inspection.deep",
    "meshward.inspection.skipped_sampled",
    "meshward.inspection.skipped_budget",
    "meshward.body_shapes_defined",
];

/// The counters in `NAMES` order, then the findings per class.
fn values(counts: &Counts, recorder: &RecorderStats) -> Vec<u64> {
    let fixed = [
        counts.captured,
        counts.sent,
        counts.acked,
        counts.dropped_buffer_full,
        counts.dropped_too_large,
        counts.rejected,
        counts.resent_batches,
        counts.stream_failures,
        counts.config_errors,
        recorder.bodies_unparsed,
        counts.blocked,
        counts.dry_run,
        counts.blocklist_fetches,
        counts.blocklist_fetch_failures,
        counts.blocklist_invalid,
        recorder.inspection.deep,
        recorder.inspection.skipped_sampled,
        recorder.inspection.skipped_budget,
        recorder.shapes_defined,
    ];
    let mut all = fixed.to_vec();
    all.extend_from_slice(&recorder.attacks);
    all.extend_from_slice(&recorder.sensitive);
    all.push(recorder.custom);
    all
}

/// `meshward.findings.attack.sqli`, `meshward.findings.sensitive.credit_card`, ...: per-class
/// counters after the fixed ones, in `values` order.
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
    /// the values last pushed, in `values` order
    reported: Vec<u64>,
    reported_rules: u64,
    rules_gauge: Option<u32>,
    /// `meshward.blocks.rule.<id>` counters defined so far
    rule_ids: HashMap<String, Option<u32>>,
}

impl Metrics {
    pub fn define() -> Self {
        let ids = metric_names().iter().map(|name| hostcalls::define_metric(MetricType::Counter, name).ok()).collect();
        let rules_gauge = hostcalls::define_metric(MetricType::Gauge, "meshward.blocklist_rules").ok();
        Metrics { ids, reported: Vec::new(), reported_rules: 0, rules_gauge, rule_ids: HashMap::new() }
    }

    /// Pushes the increase since the last call, and the requests each rule blocked or marked.
    pub fn report(&mut self, now: &Counts, recorder: &RecorderStats, rule_hits: &mut HashMap<String, u64>) {
        let values = values(now, recorder);
        for (i, (id, value)) in self.ids.iter().zip(&values).enumerate() {
            let old = self.reported.get(i).copied().unwrap_or(0);
            if let (Some(id), true) = (id, *value > old) {
                let delta = i64::try_from(value - old).unwrap_or(i64::MAX);
                let _ = hostcalls::increment_metric(*id, delta);
            }
        }
        if let (Some(id), true) = (self.rules_gauge, now.blocklist_rules != self.reported_rules) {
            let _ = hostcalls::record_metric(id, now.blocklist_rules);
        }
        self.reported = values;
        self.reported_rules = now.blocklist_rules;
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
