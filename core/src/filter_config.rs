//! The sidecar filter's configuration: JSON in the plugin configuration, every field optional.
//! Shared by the proxy-wasm filter and the native dynamic-module experiment.

use crate::detect::DetectConfig;
use crate::outbox::OutboxLimits;
use crate::recorder::inspection::InspectionConfig;
use crate::recorder::policy::{
    CapturePolicy, DEFAULT_API_KEY_HEADERS, DEFAULT_HEADER_VALUE_ALLOWLIST, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_BODY_FIELDS,
};
use crate::RecorderConfig;
use serde::Deserialize;

pub const DEFAULT_COLLECTOR_CLUSTER: &str = "meshward_collector";
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 1000;
pub const DEFAULT_BLOCKLIST_CLUSTER: &str = "meshward_api";
pub const DEFAULT_BLOCKLIST_INTERVAL_MS: u64 = 2_000;
/// How often a VM looks for a list another VM fetched: bounds the extra propagation delay.
pub const BLOCKLIST_ADOPT_INTERVAL_MS: u64 = 250;

/// Filter configuration. Memory per worker is bounded by
/// `max_queued_bytes + max_unacked_bytes + 2 * max_body_bytes * concurrent requests`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// Envoy cluster (HTTP/2) that reaches the collector's gRPC ingest port.
    pub collector_cluster: String,
    /// Bearer token the collector expects on ingest streams.
    pub collector_token: String,
    /// Secret for the keyed hash of caller identities; use the same one on every sidecar
    /// so one caller has one id across the mesh.
    pub identity_hash_key: String,
    /// How often buffered events are flushed and the stream is checked, in milliseconds.
    pub flush_interval_ms: u64,
    /// Most events waiting to be sent, per worker; more are dropped and counted.
    pub max_queued_events: usize,
    /// Most bytes (encoded events) waiting to be sent, per worker.
    pub max_queued_bytes: usize,
    /// Most events in one batch.
    pub max_batch_events: usize,
    /// Most bytes in one batch.
    pub max_batch_bytes: usize,
    /// Most bytes sent but not yet acknowledged, per worker (kept for resending).
    pub max_unacked_bytes: usize,
    /// Read request and response bodies (JSON for its field paths and types, the others for
    /// detection) of the exchanges `inspection` chooses.
    pub capture_bodies: bool,
    /// Most bytes of each body read; a longer body is marked truncated.
    pub max_body_bytes: usize,
    /// Most field paths recorded per body.
    pub max_body_fields: usize,
    /// Lower-case header names whose values are recorded; others are recorded by name only.
    pub header_value_allowlist: Vec<String>,
    /// Lower-case header names that carry API keys (hashed into the caller identity).
    pub api_key_headers: Vec<String>,
    /// Sensitive-data and attack detection: on/off per detector, classes to skip, custom
    /// classes, masked samples (off by default).
    pub detection: DetectConfig,
    /// Which exchanges get their bodies read and scanned: `mode: budget` (the default) samples
    /// per endpoint under a share of the worker's time; `mode: full` inspects every exchange.
    pub inspection: InspectionConfig,
    /// How many proxies in front of this sidecar append to `x-forwarded-for` (the immediate
    /// peer included). 0 trusts no header: the client is the peer address. The header is read
    /// only from peers listed in `trusted_proxy_cidrs` or `trusted_proxy_principals`: a client
    /// that reaches the sidecar directly can write any `x-forwarded-for`.
    pub trusted_proxies: usize,
    /// Peer addresses (CIDRs) that are those proxies.
    pub trusted_proxy_cidrs: Vec<String>,
    /// Peer mTLS principals (URI SANs) that are those proxies, e.g. an Istio ingress gateway's
    /// `spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account`.
    pub trusted_proxy_principals: Vec<String>,
    /// Where the shared block list comes from and how often it is fetched.
    pub blocklist: BlocklistConfig,
}

/// The block list is fetched over HTTP from the collector's API, through an Envoy cluster.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BlocklistConfig {
    /// Fetch and enforce the block list.
    pub enabled: bool,
    /// Envoy cluster that reaches the collector's HTTP API port.
    pub cluster: String,
    /// `:authority` of the fetch.
    pub authority: String,
    pub path: String,
    /// How often one VM per Envoy asks for changes (a conditional GET), in milliseconds.
    pub interval_ms: u64,
    pub timeout_ms: u64,
}

impl Default for BlocklistConfig {
    fn default() -> Self {
        BlocklistConfig {
            enabled: true,
            cluster: DEFAULT_BLOCKLIST_CLUSTER.to_owned(),
            authority: "meshward-collector".to_owned(),
            path: "/api/v1/blocklist".to_owned(),
            interval_ms: DEFAULT_BLOCKLIST_INTERVAL_MS,
            timeout_ms: 1_000,
        }
    }
}

impl Default for FilterConfig {
    fn default() -> Self {
        let limits = OutboxLimits::default();
        FilterConfig {
            collector_cluster: DEFAULT_COLLECTOR_CLUSTER.to_owned(),
            collector_token: String::new(),
            identity_hash_key: String::new(),
            flush_interval_ms: DEFAULT_FLUSH_INTERVAL_MS,
            max_queued_events: limits.max_queued_events,
            max_queued_bytes: limits.max_queued_bytes,
            max_batch_events: limits.max_batch_events,
            max_batch_bytes: limits.max_batch_bytes,
            max_unacked_bytes: limits.max_unacked_bytes,
            capture_bodies: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_body_fields: DEFAULT_MAX_BODY_FIELDS,
            header_value_allowlist: DEFAULT_HEADER_VALUE_ALLOWLIST.iter().map(|s| (*s).to_owned()).collect(),
            api_key_headers: DEFAULT_API_KEY_HEADERS.iter().map(|s| (*s).to_owned()).collect(),
            detection: DetectConfig::default(),
            inspection: InspectionConfig::default(),
            trusted_proxies: 0,
            trusted_proxy_cidrs: Vec::new(),
            trusted_proxy_principals: Vec::new(),
            blocklist: BlocklistConfig::default(),
        }
    }
}

impl FilterConfig {
    /// Parses and checks a configuration; an empty one means all defaults.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(FilterConfig::default());
        }
        let config: FilterConfig =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid filter configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.collector_cluster.is_empty() {
            return Err("collector_cluster must name the Envoy cluster of the collector".into());
        }
        if self.flush_interval_ms == 0 || self.flush_interval_ms > 60_000 {
            return Err("flush_interval_ms must be between 1 and 60000".into());
        }
        if self.max_batch_events == 0 || self.max_queued_events == 0 {
            return Err("max_batch_events and max_queued_events must be at least 1".into());
        }
        if self.max_batch_bytes > self.max_unacked_bytes || self.max_batch_bytes > self.max_queued_bytes {
            return Err("max_batch_bytes must not exceed max_queued_bytes or max_unacked_bytes".into());
        }
        let blocklist = &self.blocklist;
        if blocklist.enabled && (blocklist.cluster.is_empty() || !blocklist.path.starts_with('/')) {
            return Err(
                "blocklist.cluster must name the collector API's Envoy cluster and blocklist.path start with '/'"
                    .into(),
            );
        }
        if blocklist.interval_ms < 100 || blocklist.interval_ms > 600_000 || blocklist.timeout_ms == 0 {
            return Err("blocklist.interval_ms must be between 100 and 600000 and blocklist.timeout_ms above 0".into());
        }
        if self.trusted_proxies > 0 && self.trusted_proxy_cidrs.is_empty() && self.trusted_proxy_principals.is_empty() {
            return Err(format!(
                "trusted_proxies: {} needs trusted_proxy_cidrs or trusted_proxy_principals, the peers that are those \
                 proxies: from any other peer x-forwarded-for is whatever the client wrote",
                self.trusted_proxies
            ));
        }
        for cidr in &self.trusted_proxy_cidrs {
            cidr.parse::<ipnet::IpNet>()
                .map_err(|e| format!("trusted_proxy_cidrs: {cidr:?} is not a CIDR such as 10.0.0.0/8 ({e})"))?;
        }
        self.inspection.validate()?;
        self.detection.validate().map_err(|e| format!("invalid detection configuration: {e}"))
    }

    /// The proxies whose `x-forwarded-for` entries are believed (CIDRs checked by `validate`).
    pub fn trusted(&self) -> crate::blocklist::TrustedProxies {
        crate::blocklist::TrustedProxies {
            hops: self.trusted_proxies,
            cidrs: self.trusted_proxy_cidrs.iter().filter_map(|c| c.parse().ok()).collect(),
            principals: self.trusted_proxy_principals.clone(),
        }
    }

    /// The root context's tick: often enough to flush on time and to adopt a list another VM
    /// fetched within `BLOCKLIST_ADOPT_INTERVAL_MS`.
    pub fn tick_ms(&self) -> u64 {
        if self.blocklist.enabled {
            self.flush_interval_ms.min(BLOCKLIST_ADOPT_INTERVAL_MS)
        } else {
            self.flush_interval_ms
        }
    }

    /// What the recorder records and inspects.
    pub fn recorder(&self) -> RecorderConfig {
        RecorderConfig {
            policy: CapturePolicy {
                capture_bodies: self.capture_bodies,
                max_body_bytes: self.max_body_bytes,
                max_body_fields: self.max_body_fields,
                header_value_allowlist: self.header_value_allowlist.clone(),
                api_key_headers: self.api_key_headers.clone(),
                trusted_proxies: self.trusted(),
            },
            detection: self.detection.clone(),
            inspection: self.inspection.clone(),
            identity_secret: self.identity_hash_key.clone(),
            dedupe_shapes: true,
        }
    }

    pub fn outbox_limits(&self) -> OutboxLimits {
        OutboxLimits {
            max_queued_events: self.max_queued_events,
            max_queued_bytes: self.max_queued_bytes,
            max_batch_events: self.max_batch_events,
            max_batch_bytes: self.max_batch_bytes,
            max_unacked_bytes: self.max_unacked_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_defaults() {
        assert!(FilterConfig::parse(b"").is_ok());
        assert!(FilterConfig::parse(b"{}").is_ok());
    }

    #[test]
    fn bad_config_says_what_is_wrong() {
        let err = FilterConfig::parse(br#"{"flush_interval":5}"#).err().unwrap_or_default();
        assert!(err.contains("unknown field `flush_interval`"), "{err}");
        let err = FilterConfig::parse(br#"{"flush_interval_ms":0}"#).err().unwrap_or_default();
        assert!(err.contains("flush_interval_ms"), "{err}");
        let err = FilterConfig::parse(br#"{"detection":{"disabled_classes":["sqlx"]}}"#).err().unwrap_or_default();
        assert!(err.contains("unknown class \"sqlx\""), "{err}");
        let ok = FilterConfig::parse(
            br#"{"detection":{"attacks":false,"custom_classes":[{"name":"emp","regex":"EMP-\\d+"}]}}"#,
        );
        assert!(ok.is_ok(), "{ok:?}");
    }
}
