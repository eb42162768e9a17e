//! Automatic blocks: rate limits from rules and policies from the configuration, evaluated
//! over the events in ClickHouse on an interval.
//!
//! The filters mark each request that meets a rate-limited rule's conditions; here the marks
//! are counted per key (client address or caller identity) across the whole mesh, and a key
//! over the limit gets a timed rule of its own. Policies do the same for signals the events
//! carry (attack findings, authentication failures). Each block says what caused it: the
//! policy or rule, the count, the window, and sample request ids.
//!
//! Rule ids are derived from the cause (`auto-<policy>-<key hash>`), so several collector
//! replicas evaluating at once write the same rule, not several: the job is idempotent and
//! needs no leader.

use super::{Blocklist, BlocklistError};
use crate::config::{BlockPolicy, PolicySignal};
use crate::store::now_ms;
use meshward_core::blocklist::{RateKey, Rule, RuleMatch};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Request ids kept in a block's reason, as evidence.
const SAMPLE_REQUESTS: usize = 3;

#[derive(clickhouse::Row, Deserialize, Debug)]
struct OverLimit {
    key: String,
    hits: u64,
    classes: Vec<String>,
    samples: Vec<String>,
}

pub struct PolicyJob {
    pub blocklist: Arc<Blocklist>,
    pub client: clickhouse::Client,
    pub url: String,
    pub database: String,
    pub policies: Vec<BlockPolicy>,
}

/// What to count, over which requests.
struct Count<'a> {
    key: RateKey,
    /// SQL condition on `http_events`; binds come from `bind`
    condition: &'a str,
    bind: Option<&'a str>,
    window_s: u64,
    /// blocks once a key has more than this many
    limit: u64,
}

impl PolicyJob {
    async fn over_limit(&self, count: &Count<'_>, now: u64) -> Result<Vec<OverLimit>, BlocklistError> {
        let key = match count.key {
            RateKey::Source => "client_ip",
            RateKey::Identity => "caller_id",
        };
        let sql = over_limit_sql(&self.database, key, count.condition);
        let mut query = self.client.query(&sql).bind(now.saturating_sub(count.window_s * 1000));
        if let Some(value) = count.bind {
            query = query.bind(value);
        }
        Ok(query.bind(count.limit).fetch_all().await.map_err(crate::store::StoreError::at(&self.url))?)
    }

    /// One round over every rate-limited rule and every policy; returns the rules it made.
    pub async fn evaluate(&self) -> Result<Vec<Rule>, BlocklistError> {
        let now = now_ms();
        let all = self.blocklist.latest().await?;
        let active: HashSet<String> = all
            .iter()
            .filter(|(rule, deleted)| !deleted && rule.expires_at_ms.is_none_or(|at| at > now))
            .map(|(rule, _)| rule.id.clone())
            .collect();
        let mut made = Vec::new();
        for (parent, _) in all.iter().filter(|(rule, deleted)| !deleted && active.contains(&rule.id)) {
            let Some(limit) = &parent.rate_limit else { continue };
            let count = Count {
                key: limit.key,
                condition: RATE_LIMITED,
                bind: Some(&parent.id),
                window_s: limit.window_s,
                limit: limit.requests,
            };
            for over in self.over_limit(&count, now).await? {
                let id = derived_id("rl", &parent.id, &over.key);
                if active.contains(&id) {
                    continue;
                }
                let reason = format!(
                    "rate limit {}: {} requests within {} s from {} (limit {}); e.g. request ids {}",
                    parent.id,
                    over.hits,
                    limit.window_s,
                    over.key,
                    limit.requests,
                    over.samples.join(", ")
                );
                let conditions = restrict(parent.conditions.clone(), limit.key, &over.key);
                made.push(Rule {
                    id,
                    action: parent.action,
                    conditions,
                    expires_at_ms: Some(now + limit.block_s * 1000),
                    reason,
                    created_by: format!("rate_limit:{}", parent.id),
                    ..Rule::default()
                });
            }
        }
        for policy in &self.policies {
            let count = Count {
                key: policy.key,
                condition: policy.signal.condition(),
                bind: None,
                window_s: policy.window_s,
                limit: policy.threshold.saturating_sub(1),
            };
            let found = match policy.signal.alert_kind() {
                Some(kind) => self
                    .client
                    .query(&alert_subjects_sql(&self.database, kind))
                    .bind(now.saturating_sub(policy.window_s * 1000))
                    .fetch_all::<OverLimit>()
                    .await
                    .map_err(crate::store::StoreError::at(&self.url))?,
                None => self.over_limit(&count, now).await?,
            };
            for over in found {
                let id = derived_id("auto", &policy.name, &over.key);
                if active.contains(&id) {
                    continue;
                }
                let classes =
                    if over.classes.is_empty() { String::new() } else { format!(" ({})", over.classes.join(", ")) };
                let reason = if policy.signal.alert_kind().is_some() {
                    format!(
                        "policy {}: {} {} on {}",
                        policy.name,
                        policy.signal.describe(),
                        over.samples.join(", "),
                        over.key
                    )
                } else {
                    format!(
                        "policy {}: {} {}{} within {} s from {} (threshold {}); e.g. request ids {}",
                        policy.name,
                        over.hits,
                        policy.signal.describe(),
                        classes,
                        policy.window_s,
                        over.key,
                        policy.threshold,
                        over.samples.join(", ")
                    )
                };
                made.push(Rule {
                    id,
                    action: policy.action,
                    conditions: restrict(RuleMatch::default(), policy.key, &over.key),
                    expires_at_ms: Some(now + policy.block_for_s * 1000),
                    reason,
                    created_by: format!("policy:{}", policy.name),
                    ..Rule::default()
                });
            }
        }
        if !made.is_empty() {
            for rule in &made {
                tracing::warn!(rule = %rule.id, reason = %rule.reason, "automatic block");
            }
            metrics::counter!("meshward_blocklist_automatic_blocks_total").increment(made.len() as u64);
            self.blocklist.upsert(made.clone(), "meshward").await?;
        }
        Ok(made)
    }

    pub async fn run(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        if self.policies.is_empty() && interval.is_zero() {
            return;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            if let Err(err) = self.evaluate().await {
                tracing::warn!(error = %err, "block policies not evaluated this round");
            }
        }
    }
}

/// Keys (`key_column` values) with more requests meeting `condition` than a limit since a
/// time; binds: the start (epoch ms), those of `condition`, the limit. Only requests that were
/// let through count: a block ends on time even while the client keeps knocking, and starts
/// again if it goes on.
pub fn over_limit_sql(database: &str, key_column: &str, condition: &str) -> String {
    format!(
        "SELECT {key_column} AS key, uniqExact(event_id) AS hits, groupUniqArrayArray(`attacks.class`) AS classes, \
         groupArray({SAMPLE_REQUESTS})(request_id) AS samples \
         FROM {database}.http_events WHERE ts_ms >= ? AND verdict = 0 AND {key_column} != '' AND {condition} \
         GROUP BY key HAVING hits > ? ORDER BY hits DESC LIMIT 1000"
    )
}

/// Every SQL text the policies run, binds filled, for the compatibility test.
pub fn all_sql(database: &str) -> Vec<String> {
    let mut all: Vec<String> = ["credential_stuffing", "attack_burst", "enumeration"]
        .iter()
        .map(|kind| alert_subjects_sql(database, kind).replacen('?', "0", 1))
        .collect();
    for key in ["client_ip", "caller_id"] {
        for condition in [PolicySignal::Attacks.condition(), PolicySignal::AuthFailures.condition(), RATE_LIMITED] {
            let condition = condition.replace('?', "'r-1'");
            all.push(over_limit_sql(database, key, &condition).replacen('?', "0", 1).replacen('?', "5", 1));
        }
    }
    all
}

const RATE_LIMITED: &str = "has(rate_limited_rules, ?)";

/// The parent's conditions, narrowed to one key.
fn restrict(mut conditions: RuleMatch, key: RateKey, value: &str) -> RuleMatch {
    match key {
        RateKey::Source => conditions.sources = vec![value.to_owned()],
        RateKey::Identity => conditions.identities = vec![value.to_owned()],
    }
    conditions
}

/// `rl-<hash>` / `auto-<policy>-<hash>`: the same cause gives the same id on every replica.
fn derived_id(kind: &str, cause: &str, key: &str) -> String {
    let hash = blake3::hash(format!("{cause}\n{key}").as_bytes());
    let hash = &hash.to_hex()[..12];
    // the hash first: a long policy name may be cut, the part that tells keys apart may not
    let id = if kind == "auto" { format!("auto-{hash}-{cause}") } else { format!("{kind}-{hash}") };
    id.chars().take(meshward_core::blocklist::MAX_RULE_ID_LEN).collect()
}

impl PolicySignal {
    fn condition(self) -> &'static str {
        match self {
            PolicySignal::AuthFailures => "status IN (401, 403)",
            _ => "length(`attacks.class`) > 0",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            PolicySignal::Attacks => "requests with attack findings",
            PolicySignal::AuthFailures => "authentication failures (401/403)",
            PolicySignal::CredentialStuffingAlerts => "open credential-stuffing alert",
            PolicySignal::AttackBurstAlerts => "open attack-burst alert",
            PolicySignal::EnumerationAlerts => "open enumeration alert",
        }
    }

    /// The alert kind a policy follows, for the alert signals.
    fn alert_kind(self) -> Option<&'static str> {
        match self {
            PolicySignal::CredentialStuffingAlerts => Some("credential_stuffing"),
            PolicySignal::AttackBurstAlerts => Some("attack_burst"),
            PolicySignal::EnumerationAlerts => Some("enumeration"),
            PolicySignal::Attacks | PolicySignal::AuthFailures => None,
        }
    }
}

/// Subjects of alerts of one kind, not resolved, seen since a time (bind: epoch ms), in the
/// shape `over_limit` returns: the alert id as the sample.
pub fn alert_subjects_sql(database: &str, kind: &str) -> String {
    format!(
        "SELECT subject AS key, toUInt64(1) AS hits, emptyArrayString() AS classes, [id] AS samples FROM ( \
           SELECT id, argMax(state, version) AS state, argMax(kind, version) AS alert_kind, max(last_seen_ms) AS last_ms, \
                  visitParamExtractString(argMax(body, version), 'subject') AS subject \
           FROM {database}.alerts GROUP BY id) \
         WHERE alert_kind = '{kind}' AND state != 'resolved' AND last_ms >= ? AND subject != '*' AND subject != ''"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_valid_and_distinct() {
        let a = derived_id("auto", "attackers", "203.0.113.9");
        assert_eq!(a, derived_id("auto", "attackers", "203.0.113.9"));
        assert_ne!(a, derived_id("auto", "attackers", "203.0.113.10"));
        assert!(a.starts_with("auto-") && a.ends_with("-attackers"));
        let rule = Rule {
            id: a,
            conditions: restrict(RuleMatch::default(), RateKey::Source, "203.0.113.9"),
            ..Rule::default()
        };
        assert_eq!(rule.validate(), Ok(()));
        let long = derived_id("auto", &"p".repeat(60), "k");
        assert!(long.len() <= meshward_core::blocklist::MAX_RULE_ID_LEN);
    }
}
