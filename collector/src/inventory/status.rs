//! The inventory as a service: endpoints with pins and uploaded specs applied, the comparison of
//! a host against its spec, and a job that writes each host's standing (documented, shadow,
//! deprecated but called, zombie) into ClickHouse, where dashboards and SQL can read it.

use super::{latest_spec, openapi, Endpoint, Pins};
use crate::store::{now_ms, StoreError};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::watch;

/// Where the inventory comes from.
#[derive(Clone)]
pub struct InventoryStore {
    pub client: clickhouse::Client,
    pub url: String,
    pub database: String,
    pub pins: Pins,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored spec of {host} is not usable: {error}")]
    BadSpec { host: String, error: String },
}

#[derive(clickhouse::Row, serde::Deserialize)]
struct HostRow {
    host: String,
}

#[derive(clickhouse::Row, Serialize)]
struct PinRow<'a> {
    host: &'a str,
    template: &'a str,
    changed_ms: u64,
    removed: u8,
    changed_by: &'a str,
}

/// A pin as the API lists it.
#[derive(Debug, Clone, clickhouse::Row, Serialize, serde::Deserialize)]
pub struct StoredPin {
    pub host: String,
    pub template: String,
}

/// The spec in force of each host whose operations are not in `api_operations` (uploaded before
/// that table existed). 18.16's aliases reach into subqueries and must differ from the columns
/// aggregates read, hence the `latest_` names throughout.
pub fn specs_without_operations_sql(database: &str) -> String {
    format!(
        "SELECT host, latest_ms, latest_body FROM ( \
           SELECT host, max(uploaded_ms) AS latest_ms, argMax(body, uploaded_ms) AS latest_body \
           FROM {database}.api_specs GROUP BY host) AS latest \
         ANY LEFT JOIN ( \
           SELECT host, uploaded_ms AS latest_ms, count() AS operations FROM {database}.api_operations \
           GROUP BY host, uploaded_ms) AS ops \
         USING host, latest_ms WHERE operations = 0"
    )
}

/// The pins standing now: the latest change of each host and template is not a removal.
pub fn stored_pins_sql(database: &str) -> String {
    format!(
        "SELECT host, template FROM {database}.inventory_pins GROUP BY host, template \
         HAVING argMax(removed, changed_ms) = 0 ORDER BY host, template"
    )
}

#[derive(clickhouse::Row, serde::Deserialize)]
struct LatestUpload {
    host: String,
    latest_ms: u64,
    latest_body: String,
}

#[derive(clickhouse::Row, Serialize)]
struct StatusRow {
    computed_ms: u64,
    host: String,
    method: String,
    template: String,
    status: String,
    calls: u64,
    last_seen_ms: u64,
}

impl InventoryStore {
    pub fn connect(clickhouse: &crate::config::ClickHouseConfig, pins: Pins) -> Self {
        InventoryStore {
            client: crate::store::connect(clickhouse),
            url: clickhouse.url.clone(),
            database: clickhouse.database.clone(),
            pins,
        }
    }

    /// Pins set through the API (`*` for every host).
    pub async fn stored_pins(&self) -> Result<Vec<StoredPin>, StoreError> {
        self.client.query(&stored_pins_sql(&self.database)).fetch_all().await.map_err(StoreError::at(&self.url))
    }

    /// Pins or unpins a template for a host (`*`: every host).
    pub async fn set_pin(&self, host: &str, template: &str, pinned: bool, by: &str) -> Result<(), StoreError> {
        let client = self.client.clone().with_database(&self.database);
        let mut insert = client.insert::<PinRow<'_>>("inventory_pins").await.map_err(StoreError::at(&self.url))?;
        let row = PinRow { host, template, changed_ms: now_ms(), removed: u8::from(!pinned), changed_by: by };
        insert.write(&row).await.map_err(StoreError::at(&self.url))?;
        insert.end().await.map_err(StoreError::at(&self.url))
    }

    /// Endpoints (of one host or all), with pins (configuration and API) and the host's
    /// uploaded spec taking precedence over discovery.
    pub async fn endpoints(&self, host: Option<&str>) -> Result<Vec<Endpoint>, StoreError> {
        let mut pins = self.pins.clone();
        for pin in self.stored_pins().await? {
            pins.add(&pin.host, [pin.template]);
        }
        if let Some(host) = host {
            if let Some(ops) = self.spec(host).await?.and_then(|text| openapi::parse(&text).ok()) {
                pins.add(host, ops.into_iter().map(|o| o.template));
            }
        }
        super::endpoints(&self.client, &self.url, &self.database, &pins, host).await
    }

    pub async fn spec(&self, host: &str) -> Result<Option<String>, StoreError> {
        latest_spec(&self.client, &self.url, &self.database, host).await
    }

    /// The host's endpoints against its uploaded spec; `None` without a spec.
    pub async fn comparison(&self, host: &str, since_days: u64) -> Result<Option<openapi::Comparison>, InventoryError> {
        let Some(text) = self.spec(host).await? else { return Ok(None) };
        let operations = openapi::parse(&text)
            .map_err(|e| InventoryError::BadSpec { host: host.to_owned(), error: e.to_string() })?;
        let endpoints = self.endpoints(Some(host)).await?;
        Ok(Some(openapi::compare(&operations, &endpoints, openapi::window_start_ms(since_days))))
    }

    /// Gives the spec in force of each host its rows in `api_operations` where it has none
    /// (specs uploaded before that table existed). Returns how many specs it filled in.
    pub async fn fill_operations(&self) -> Result<usize, StoreError> {
        let db = &self.database;
        let uploads: Vec<LatestUpload> = self
            .client
            .query(&specs_without_operations_sql(db))
            .fetch_all()
            .await
            .map_err(StoreError::at(&self.url))?;
        let client = self.client.clone().with_database(db);
        let mut filled = 0;
        for upload in uploads {
            let Ok(operations) = openapi::parse(&upload.latest_body) else { continue };
            super::store_operations(&client, &self.url, &upload.host, upload.latest_ms, &operations).await?;
            filled += 1;
        }
        Ok(filled)
    }

    /// Writes every spec'd host's standing as one snapshot (rows share `computed_ms`).
    pub async fn write_status(&self, since_days: u64) -> Result<usize, InventoryError> {
        self.fill_operations().await?;
        let hosts: Vec<HostRow> = self
            .client
            .query(&format!("SELECT DISTINCT host FROM {}.api_specs ORDER BY host", self.database))
            .fetch_all()
            .await
            .map_err(StoreError::at(&self.url))?;
        let computed_ms = now_ms();
        let mut rows = Vec::new();
        for HostRow { host } in hosts {
            let Some(comparison) = self.comparison(&host, since_days).await? else { continue };
            for checked in comparison.endpoints {
                let status = serde_json::to_value(checked.status).ok().and_then(|v| v.as_str().map(str::to_owned));
                rows.push(StatusRow {
                    computed_ms,
                    host: host.clone(),
                    method: checked.endpoint.method,
                    template: checked.endpoint.template,
                    status: status.unwrap_or_default(),
                    calls: checked.endpoint.calls,
                    last_seen_ms: checked.endpoint.last_seen_ms,
                });
            }
            for zombie in comparison.zombies {
                rows.push(StatusRow {
                    computed_ms,
                    host: host.clone(),
                    method: zombie.method,
                    template: zombie.template,
                    status: "zombie".to_owned(),
                    calls: 0,
                    last_seen_ms: 0,
                });
            }
        }
        if rows.is_empty() {
            return Ok(0);
        }
        let client = self.client.clone().with_database(&self.database);
        let mut insert = client.insert::<StatusRow>("inventory_status").await.map_err(StoreError::at(&self.url))?;
        for row in &rows {
            insert.write(row).await.map_err(StoreError::at(&self.url))?;
        }
        insert.end().await.map_err(StoreError::at(&self.url))?;
        Ok(rows.len())
    }

    /// Refreshes the standing on an interval until shutdown. Every replica may run it: a
    /// snapshot is complete on its own and readers take the latest.
    pub async fn run_status(self, interval: Duration, since_days: u64, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.write_status(since_days).await {
                Ok(rows) => tracing::debug!(rows, "inventory standing written"),
                Err(err) => tracing::warn!(error = %err, "inventory standing not written this round"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }
}
