//! The enforcement audit log: every request a filter blocked or marked with a dry-run rule, as
//! one JSON line in the collector's log (target `meshward::audit`, message `enforcement`), so
//! the log shipper that collects the collector's output ships it (Fluent Bit, Vector, Loki).
//!
//! A line is written once its event is stored in ClickHouse, where the `blocks` view lists the
//! same requests. Delivery is at least once: a collector that dies between storing a batch and
//! moving its spool checkpoint stores and logs the batch again, so `event_id` is the key to fold
//! repeats on.

use crate::store::EventRow;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The tracing target of audit lines; `log.audit: false` turns it off.
pub const TARGET: &str = "meshward::audit";

/// Each rule's reason by rule id, as the block list last read them (deleted and expired rules
/// included: a request blocked a moment before its rule went keeps its reason).
#[derive(Debug, Default)]
pub struct RuleReasons(RwLock<HashMap<String, String>>);

impl RuleReasons {
    pub fn replace(&self, reasons: HashMap<String, String>) {
        if let Ok(mut current) = self.0.write() {
            *current = reasons;
        }
    }

    pub fn get(&self, rule_id: &str) -> String {
        self.0.read().ok().and_then(|r| r.get(rule_id).cloned()).unwrap_or_default()
    }
}

/// One enforced request: what the `blocks` view holds, for the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enforcement {
    /// `block` (answered 403 by the filter) or `dry_run` (let through, marked)
    pub action: &'static str,
    pub rule_id: String,
    pub ts_ms: u64,
    pub request_id: String,
    /// 32 hex digits, the events table's key
    pub event_id: String,
    pub client: String,
    pub caller_id: String,
    pub principal: String,
    pub host: String,
    pub method: String,
    pub path: String,
    pub endpoint: String,
    pub status: u16,
    pub workload: String,
    pub namespace: String,
}

impl Enforcement {
    /// The enforcement an event records, if any (verdicts of `meshward.proto`: 1 block, 2 dry run).
    pub fn of(row: &EventRow) -> Option<Enforcement> {
        let action = match row.verdict {
            1 => "block",
            2 => "dry_run",
            _ => return None,
        };
        Some(Enforcement {
            action,
            rule_id: row.block_rule_id.clone(),
            ts_ms: row.ts_ms,
            request_id: row.request_id.clone(),
            event_id: meshward_core::ids::hex(&row.event_id),
            client: row.client_ip.clone(),
            caller_id: row.caller_id.clone(),
            principal: row.peer_principal.clone(),
            host: row.authority.clone(),
            method: row.method.clone(),
            path: row.path.clone(),
            endpoint: row.path_template.clone(),
            status: row.status,
            workload: row.workload.clone(),
            namespace: row.namespace.clone(),
        })
    }
}

/// Writes audit lines, with each rule's reason looked up as they are written.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    reasons: Arc<RuleReasons>,
}

impl AuditLog {
    pub fn new(reasons: Arc<RuleReasons>) -> Self {
        AuditLog { reasons }
    }

    /// Logs enforcements whose events are now stored.
    pub fn stored(&self, enforcements: &[Enforcement]) {
        for e in enforcements {
            let reason = self.reasons.get(&e.rule_id);
            metrics::counter!("meshward_audit_enforcements_total", "action" => e.action).increment(1);
            tracing::info!(
                target: TARGET,
                action = e.action,
                rule_id = %e.rule_id,
                reason = %reason,
                ts_ms = e.ts_ms,
                request_id = %e.request_id,
                event_id = %e.event_id,
                client = %e.client,
                caller_id = %e.caller_id,
                principal = %e.principal,
                host = %e.host,
                method = %e.method,
                path = %e.path,
                endpoint = %e.endpoint,
                status = e.status,
                workload = %e.workload,
                namespace = %e.namespace,
                "enforcement"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::event_row;
    use meshward_proto::HttpEvent;

    fn row(verdict: i32, rule: &str) -> EventRow {
        let event = HttpEvent {
            event_id: (1..=16).collect(),
            start_time_ms: 1_700_000_000_000,
            method: "GET".into(),
            authority: "shop.example".into(),
            path: "/api/products/7".into(),
            path_template: "/api/products/{id}".into(),
            status: 403,
            client_ip: "198.51.100.9".into(),
            request_id: "req-1".into(),
            verdict,
            block_rule_id: rule.into(),
            ..Default::default()
        };
        event_row(event, "filter-1", 1, 1_700_000_000_500).expect("a valid event")
    }

    #[test]
    fn blocks_and_dry_runs_are_enforcements_allowed_requests_are_not() {
        assert_eq!(Enforcement::of(&row(0, "")), None);
        let block = Enforcement::of(&row(1, "r-1")).expect("a block");
        assert_eq!((block.action, block.rule_id.as_str(), block.status), ("block", "r-1", 403));
        assert_eq!(block.event_id, "0102030405060708090a0b0c0d0e0f10");
        assert_eq!((block.client.as_str(), block.request_id.as_str()), ("198.51.100.9", "req-1"));
        assert_eq!((block.host.as_str(), block.endpoint.as_str()), ("shop.example", "/api/products/{id}"));
        assert_eq!(Enforcement::of(&row(2, "r-2")).map(|e| e.action), Some("dry_run"));
    }

    #[test]
    fn reasons_follow_the_last_refresh() {
        let reasons = RuleReasons::default();
        assert_eq!(reasons.get("r-1"), "");
        reasons.replace([("r-1".to_owned(), "scraper".to_owned())].into());
        assert_eq!(reasons.get("r-1"), "scraper");
        reasons.replace(HashMap::new());
        assert_eq!(reasons.get("r-1"), "");
    }
}
