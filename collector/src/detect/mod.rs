//! Detectors and alerts. The rules (`rules`) run over a window of events; what they find
//! becomes an alert, stored in ClickHouse with its evidence (counts, what they were compared
//! with, sample request ids) and a state (open, acknowledged, resolved).
//!
//! One alert per kind, subject and endpoint is open at a time: while the condition lasts the
//! alert is updated (last seen, evidence), not repeated; after it is resolved the same alert
//! does not reopen within `detect.cooldown_s`. Like block rules, every change is a new row
//! (`alerts`, read with argMax by version). The job is idempotent: alert ids derive from the
//! kind, subject, endpoint and when the episode began, so replicas agree.

pub mod rules;
pub mod sinks;

use crate::config::DetectConfig;
use crate::store::{now_ms, StoreError};
use rules::Kind;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// What a rule found in one window.
#[derive(Debug, Clone, clickhouse::Row, Deserialize, Serialize)]
pub struct Finding {
    pub subject: String,
    pub endpoint: String,
    pub value: f64,
    pub baseline: f64,
    pub events: u64,
    pub details: Vec<String>,
    pub samples: Vec<String>,
}

/// An alert as stored and served.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub subject: String,
    pub endpoint: String,
    /// open, acknowledged, resolved
    pub state: String,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
    pub window_start_ms: u64,
    pub window_end_ms: u64,
    pub evidence: serde_json::Value,
    #[serde(default)]
    pub version: u64,
}

#[derive(clickhouse::Row, Serialize)]
struct AlertRow<'a> {
    id: &'a str,
    version: u64,
    alert_key: &'a str,
    kind: &'a str,
    state: &'a str,
    last_seen_ms: u64,
    body: &'a str,
    changed_by: &'a str,
}

#[derive(clickhouse::Row, Deserialize)]
struct LatestRow {
    latest_body: String,
    latest_version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no alert {0}")]
    NotFound(String),
}

/// The latest version of every alert, most recently seen first.
pub fn latest_alerts_sql(database: &str) -> String {
    latest_alerts_where(database, "")
}

/// The latest version of the alerts whose rows pass `filter` (` WHERE ...` or nothing).
fn latest_alerts_where(database: &str, filter: &str) -> String {
    format!(
        "SELECT argMax(body, version) AS latest_body, max(version) AS latest_version FROM {database}.alerts{filter} \
         GROUP BY id ORDER BY max(last_seen_ms) DESC"
    )
}

/// `kind|subject|endpoint`: what makes two findings the same alert.
pub fn alert_key(kind: &str, subject: &str, endpoint: &str) -> String {
    format!("{kind}|{subject}|{endpoint}")
}

fn evidence(kind: Kind, finding: &Finding, from: u64, to: u64) -> serde_json::Value {
    let (value_name, baseline_name) = kind.measures();
    serde_json::json!({
        value_name: finding.value,
        baseline_name: finding.baseline,
        "events": finding.events,
        "details": finding.details,
        "sample_request_ids": finding.samples,
        "window": {"from": from, "to": to},
    })
}

#[derive(Clone)]
pub struct Detector {
    pub client: clickhouse::Client,
    pub url: String,
    pub database: String,
    pub config: DetectConfig,
}

impl Detector {
    pub fn connect(clickhouse: &crate::config::ClickHouseConfig, config: DetectConfig) -> Self {
        Detector {
            client: crate::store::connect(clickhouse),
            url: clickhouse.url.clone(),
            database: clickhouse.database.clone(),
            config,
        }
    }

    /// Every rule over `[from, to)` (epoch seconds).
    pub async fn evaluate(&self, from: u64, to: u64) -> Result<Vec<(Kind, Finding)>, StoreError> {
        let mut found = Vec::new();
        for kind in rules::KINDS {
            let sql = rules::sql(*kind, &self.database, from, to, &self.config);
            let rows: Vec<Finding> = self.client.query(&sql).fetch_all().await.map_err(StoreError::at(&self.url))?;
            found.extend(rows.into_iter().map(|f| (*kind, f)));
        }
        Ok(found)
    }

    /// The latest version of every alert.
    pub async fn alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let query = self.client.query(&latest_alerts_sql(&self.database));
        self.fetch_alerts(query).await
    }

    /// The latest version of the alerts with these keys (`alert_key`): what a round of the
    /// detectors needs to update, without reading the whole history.
    async fn alerts_with_keys(&self, keys: Vec<String>) -> Result<Vec<Alert>, StoreError> {
        let query = self.client.query(&latest_alerts_where(&self.database, " WHERE has(?, alert_key)")).bind(keys);
        self.fetch_alerts(query).await
    }

    /// The latest version of one alert.
    pub async fn alert(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let query = self.client.query(&latest_alerts_where(&self.database, " WHERE id = ?")).bind(id);
        Ok(self.fetch_alerts(query).await?.into_iter().next())
    }

    async fn fetch_alerts(&self, query: clickhouse::query::Query) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<LatestRow> = query.fetch_all().await.map_err(StoreError::at(&self.url))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                serde_json::from_str::<Alert>(&r.latest_body).ok().map(|a| Alert { version: r.latest_version, ..a })
            })
            .collect())
    }

    async fn write(&self, alerts: &[Alert], by: &str) -> Result<(), StoreError> {
        let client = self.client.clone().with_database(&self.database);
        let mut insert = client.insert::<AlertRow<'_>>("alerts").await.map_err(StoreError::at(&self.url))?;
        for alert in alerts {
            let body = serde_json::to_string(alert).unwrap_or_default();
            let key = alert_key(&alert.kind, &alert.subject, &alert.endpoint);
            let row = AlertRow {
                id: &alert.id,
                version: alert.version,
                alert_key: &key,
                kind: &alert.kind,
                state: &alert.state,
                last_seen_ms: alert.last_seen_ms,
                body: &body,
                changed_by: by,
            };
            insert.write(&row).await.map_err(StoreError::at(&self.url))?;
        }
        insert.end().await.map_err(StoreError::at(&self.url))
    }

    /// Turns findings into alerts: opens new ones, updates open ones, respects the cooldown of
    /// resolved ones. Returns the alerts opened.
    pub async fn raise(&self, found: Vec<(Kind, Finding)>, from: u64, to: u64) -> Result<Vec<Alert>, StoreError> {
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let keys = found.iter().map(|(kind, f)| alert_key(kind.as_str(), &f.subject, &f.endpoint)).collect();
        let mut latest: HashMap<String, Alert> = HashMap::new();
        for alert in self.alerts_with_keys(keys).await? {
            let key = alert_key(&alert.kind, &alert.subject, &alert.endpoint);
            let newer = latest.get(&key).is_none_or(|a| a.first_seen_ms < alert.first_seen_ms);
            if newer {
                latest.insert(key, alert);
            }
        }
        let mut changed = Vec::new();
        let mut opened = Vec::new();
        for (kind, finding) in found {
            let key = alert_key(kind.as_str(), &finding.subject, &finding.endpoint);
            let evidence = evidence(kind, &finding, from, to);
            match latest.get(&key) {
                Some(alert) if alert.state != "resolved" => {
                    changed.push(Alert {
                        last_seen_ms: now,
                        window_end_ms: to * 1000,
                        evidence,
                        version: crate::store::next_version(alert.version),
                        ..alert.clone()
                    });
                }
                Some(alert) if now.saturating_sub(alert.last_seen_ms) < self.config.cooldown_s * 1000 => {}
                _ => {
                    let id = format!("al-{}", &blake3::hash(format!("{key}|{from}").as_bytes()).to_hex()[..16]);
                    let alert = Alert {
                        id,
                        kind: kind.as_str().to_owned(),
                        severity: kind.severity().to_owned(),
                        subject: finding.subject.clone(),
                        endpoint: finding.endpoint.clone(),
                        state: "open".to_owned(),
                        first_seen_ms: now,
                        last_seen_ms: now,
                        window_start_ms: from * 1000,
                        window_end_ms: to * 1000,
                        evidence,
                        version: crate::store::next_version(0),
                    };
                    opened.push(alert.clone());
                    changed.push(alert);
                }
            }
        }
        self.write(&changed, "meshward").await?;
        Ok(opened)
    }

    /// Sets an alert's state (acknowledged, resolved).
    pub async fn set_state(&self, id: &str, state: &str, by: &str) -> Result<Alert, DetectError> {
        let alert = self.alert(id).await?.ok_or_else(|| DetectError::NotFound(id.to_owned()))?;
        let now = now_ms();
        let changed = Alert {
            state: state.to_owned(),
            last_seen_ms: now,
            version: crate::store::next_version(alert.version),
            ..alert
        };
        self.write(std::slice::from_ref(&changed), by).await?;
        Ok(changed)
    }

    /// Runs the rules every `interval_s` over the last `window_s` until shutdown; new alerts
    /// go to the sinks.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let sinks = sinks::Sinks::new(self.config.webhooks.clone());
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(self.config.interval_s.max(1))) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let to = now_ms() / 1000 + 1;
            let from = to.saturating_sub(self.config.window_s);
            match self.evaluate(from, to).await {
                Ok(found) => match self.raise(found, from, to).await {
                    Ok(opened) => {
                        for alert in &opened {
                            metrics::counter!("meshward_alerts_opened_total", "kind" => alert.kind.clone())
                                .increment(1);
                            sinks.deliver(alert);
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "alerts not written this round"),
                },
                Err(err) => tracing::warn!(error = %err, "detectors not evaluated this round"),
            }
        }
    }
}
