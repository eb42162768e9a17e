//! The filter's Envoy counters (`wasmcustom.meshward.*` in /stats). Counts accumulate in the
//! VM and are pushed to Envoy once per tick, so the request path makes no host call for them.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

#[derive(Debug, Default, Clone, Copy)]
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
}

const NAMES: [&str; 10] = [
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
];

impl Counts {
    fn values(&self) -> [u64; 10] {
        [
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
        ]
    }
}

/// Envoy metric ids plus what has been reported so far.
#[derive(Debug, Default)]
pub struct Metrics {
    ids: Vec<Option<u32>>,
    reported: Counts,
}

impl Metrics {
    pub fn define() -> Self {
        let ids = NAMES.iter().map(|name| hostcalls::define_metric(MetricType::Counter, name).ok()).collect();
        Metrics { ids, reported: Counts::default() }
    }

    /// Pushes the increase since the last call.
    pub fn report(&mut self, now: &Counts) {
        let before = self.reported.values();
        for ((id, value), old) in self.ids.iter().zip(now.values()).zip(before) {
            if let (Some(id), true) = (id, value > old) {
                let delta = i64::try_from(value - old).unwrap_or(i64::MAX);
                let _ = hostcalls::increment_metric(*id, delta);
            }
        }
        self.reported = *now;
    }
}
