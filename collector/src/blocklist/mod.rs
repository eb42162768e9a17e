//! Block rules: versioned in ClickHouse, published as the compiled list the filters fetch,
//! and created automatically by rate limits and policies (`policy`).
//!
//! Every change is a new row (`block_rules`): the latest version of a rule is in force, a
//! deletion is a tombstone row, and the history stays queryable (who changed what, when). The published list is rebuilt from ClickHouse after each change made here and
//! on an interval (changes from other collector replicas, expiries), so every replica serves
//! the same list; its ETag is a hash of the body, so a filter downloads it only when it changed.

pub mod policy;

use crate::audit::RuleReasons;
use crate::store::{now_ms, StoreError};
use bytes::Bytes;
use meshward_core::blocklist::{PublishedList, Rule, RuleError};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum BlocklistError {
    #[error(transparent)]
    Invalid(#[from] RuleError),
    #[error("no block rule {0}")]
    NotFound(String),
    #[error("rule {0} exists already: update it (PUT) or choose another id")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(clickhouse::Row, Deserialize)]
struct LatestRow {
    id: String,
    latest_rule: String,
    is_deleted: u8,
    latest_version: u64,
}

#[derive(clickhouse::Row, Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    version: u64,
    deleted: u8,
    rule: &'a str,
    changed_ms: u64,
    changed_by: &'a str,
}

/// A rule as the API lists it: the rule and whether it is still in force.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListedRule {
    #[serde(flatten)]
    pub rule: Rule,
    /// `active` or `expired`
    pub status: String,
}

/// The list as served to filters.
#[derive(Debug, Default)]
pub struct Published {
    pub version: u64,
    /// `"<hash>"`, quoted as HTTP wants it
    pub etag: String,
    pub body: Bytes,
    pub rules: usize,
}

pub struct Blocklist {
    client: clickhouse::Client,
    url: String,
    database: String,
    published: RwLock<Arc<Published>>,
    last_version: AtomicU64,
    /// each rule's reason, for the audit log
    reasons: Arc<RuleReasons>,
}

impl Blocklist {
    pub fn new(client: clickhouse::Client, url: String, database: String) -> Self {
        Blocklist {
            client,
            url,
            database,
            published: RwLock::new(Arc::new(Published::default())),
            last_version: AtomicU64::new(0),
            reasons: Arc::default(),
        }
    }

    /// Keeps `reasons` filled with each rule's reason on every refresh (the audit log's).
    pub fn sharing_reasons(mut self, reasons: Arc<RuleReasons>) -> Self {
        self.reasons = reasons;
        self
    }

    /// The latest version of every rule ever written, tombstones included.
    async fn latest(&self) -> Result<Vec<(Rule, bool)>, StoreError> {
        // argMax instead of FINAL: exact without waiting for merges, and on every server version
        let rows: Vec<LatestRow> = self
            .client
            .query(&latest_rules_sql(&self.database))
            .fetch_all()
            .await
            .map_err(StoreError::at(&self.url))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let rule = serde_json::from_str::<Rule>(&row.latest_rule).ok()?;
                self.last_version.fetch_max(row.latest_version, Ordering::Relaxed);
                Some((Rule { id: row.id, version: row.latest_version, ..rule }, row.is_deleted != 0))
            })
            .collect())
    }

    /// A version above every one seen (`store::next_version` of the highest so far).
    fn next_version(&self) -> u64 {
        let mut last = self.last_version.load(Ordering::Relaxed);
        loop {
            let next = crate::store::next_version(last);
            match self.last_version.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    async fn write(&self, rules: &[Rule], deleted: bool, by: &str) -> Result<(), StoreError> {
        let client = self.client.clone().with_database(&self.database);
        let mut insert = client.insert::<RuleRow<'_>>("block_rules").await.map_err(StoreError::at(&self.url))?;
        for rule in rules {
            let text = serde_json::to_string(rule).unwrap_or_default();
            let row = RuleRow {
                id: &rule.id,
                version: rule.version,
                deleted: u8::from(deleted),
                rule: &text,
                changed_ms: now_ms(),
                changed_by: by,
            };
            insert.write(&row).await.map_err(StoreError::at(&self.url))?;
        }
        insert.end().await.map_err(StoreError::at(&self.url))
    }

    /// Every rule not deleted, with its status.
    pub async fn list(&self) -> Result<Vec<ListedRule>, StoreError> {
        let now = now_ms();
        Ok(self
            .latest()
            .await?
            .into_iter()
            .filter(|(_, deleted)| !deleted)
            .map(|(rule, _)| {
                let status = if rule.expires_at_ms.is_some_and(|at| at <= now) { "expired" } else { "active" };
                ListedRule { rule, status: status.to_owned() }
            })
            .collect())
    }

    pub async fn get(&self, id: &str) -> Result<Rule, BlocklistError> {
        self.latest()
            .await?
            .into_iter()
            .find(|(rule, deleted)| rule.id == id && !deleted)
            .map(|(rule, _)| rule)
            .ok_or_else(|| BlocklistError::NotFound(id.to_owned()))
    }

    /// Stores new rules (ids are made up where missing); all are checked before any is written.
    pub async fn create(&self, mut rules: Vec<Rule>, by: &str) -> Result<Vec<Rule>, BlocklistError> {
        let existing: std::collections::HashSet<String> =
            self.latest().await?.into_iter().filter(|(_, deleted)| !deleted).map(|(r, _)| r.id).collect();
        let now = now_ms();
        for rule in &mut rules {
            if rule.id.is_empty() {
                rule.id = new_rule_id();
            } else if existing.contains(&rule.id) {
                return Err(BlocklistError::Exists(rule.id.clone()));
            }
            rule.version = self.next_version();
            rule.created_ms = now;
            rule.updated_ms = now;
            if rule.created_by.is_empty() {
                rule.created_by = by.to_owned();
            }
            rule.validate()?;
        }
        self.write(&rules, false, by).await?;
        self.refresh().await?;
        Ok(rules)
    }

    /// Stores rules whatever exists (a new version of each): for jobs whose rule ids are
    /// derived from their cause, so that two replicas making the same rule make one rule.
    pub async fn upsert(&self, mut rules: Vec<Rule>, by: &str) -> Result<(), BlocklistError> {
        let now = now_ms();
        for rule in &mut rules {
            rule.version = self.next_version();
            rule.updated_ms = now;
            if rule.created_ms == 0 {
                rule.created_ms = now;
            }
            rule.validate()?;
        }
        self.write(&rules, false, by).await?;
        self.refresh().await?;
        Ok(())
    }

    /// Replaces a rule's conditions, action, expiry and reason; keeps its id and creation.
    pub async fn update(&self, id: &str, new: Rule, by: &str) -> Result<Rule, BlocklistError> {
        let old = self.get(id).await?;
        let rule = Rule {
            id: old.id,
            version: self.next_version(),
            created_ms: old.created_ms,
            created_by: old.created_by,
            updated_ms: now_ms(),
            ..new
        };
        rule.validate()?;
        self.write(std::slice::from_ref(&rule), false, by).await?;
        self.refresh().await?;
        Ok(rule)
    }

    /// Ends a rule now; it stays listed as expired.
    pub async fn expire(&self, id: &str, by: &str) -> Result<Rule, BlocklistError> {
        let old = self.get(id).await?;
        let now = now_ms();
        let rule = Rule { version: self.next_version(), expires_at_ms: Some(now), updated_ms: now, ..old };
        self.write(std::slice::from_ref(&rule), false, by).await?;
        self.refresh().await?;
        Ok(rule)
    }

    pub async fn delete(&self, id: &str, by: &str) -> Result<(), BlocklistError> {
        let old = self.get(id).await?;
        let tombstone = Rule { version: self.next_version(), updated_ms: now_ms(), ..old };
        self.write(std::slice::from_ref(&tombstone), true, by).await?;
        self.refresh().await?;
        Ok(())
    }

    /// Rebuilds the published list from ClickHouse.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let now = now_ms();
        let all = self.latest().await?;
        self.reasons.replace(all.iter().map(|(rule, _)| (rule.id.clone(), rule.reason.clone())).collect());
        let version = all.iter().map(|(r, _)| r.version).max().unwrap_or(0);
        let rules: Vec<Rule> = all
            .into_iter()
            .filter(|(rule, deleted)| !deleted && rule.expires_at_ms.is_none_or(|at| at > now))
            .map(|(rule, _)| rule.for_filters())
            .collect();
        let count = rules.len();
        let body = serde_json::to_vec(&PublishedList { version, rules }).unwrap_or_default();
        let hash = blake3::hash(&body);
        let etag = format!("\"{}\"", &hash.to_hex()[..24]);
        let changed = self.current().etag != etag;
        if changed {
            tracing::info!(version, rules = count, etag = %etag, "block list published");
            metrics::gauge!("meshward_blocklist_rules").set(count as f64);
        }
        if let Ok(mut published) = self.published.write() {
            *published = Arc::new(Published { version, etag, body: Bytes::from(body), rules: count });
        }
        Ok(())
    }

    pub fn current(&self) -> Arc<Published> {
        self.published.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// Keeps the published list current until shutdown.
    pub async fn run(self: Arc<Self>, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut failing = false;
        loop {
            match self.refresh().await {
                Ok(()) => failing = false,
                Err(err) if !failing => {
                    // the filters keep their last list; say it once, not every second
                    tracing::warn!(error = %err, "block list refresh failed; serving the last list");
                    failing = true;
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }
}

/// The latest version of each rule. Aliases differ from column names: old servers resolve an
/// alias inside other aggregates (`max(version) AS version` breaks `argMax(rule, version)`).
pub fn latest_rules_sql(database: &str) -> String {
    format!(
        "SELECT id, argMax(rule, version) AS latest_rule, argMax(deleted, version) AS is_deleted, \
         max(version) AS latest_version FROM {database}.block_rules GROUP BY id ORDER BY id"
    )
}

/// `r-` and 12 hex digits of randomness.
fn new_rule_id() -> String {
    let mut seed = [0u8; 8];
    // the clock is a good enough fallback: ids are also checked for collisions
    if getrandom::fill(&mut seed).is_err() {
        seed = now_ms().to_le_bytes();
    }
    format!("r-{:012x}", u64::from_le_bytes(seed) & 0xffff_ffff_ffff)
}
