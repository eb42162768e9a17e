//! Retention: events older than `clickhouse.retention_days` go. Servers with TTL (current
//! ClickHouse) get a table TTL and expire rows themselves; older ones (18.16 has no TTL) get their
//! old daily partitions dropped at start and then every hour.

use super::client::StoreError;
use super::rows::EVENTS_TABLE;
use std::time::Duration;
use tokio::sync::watch;

const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// How retention is enforced on this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionMode {
    /// Keep everything.
    Off,
    /// The table has a TTL: the server expires rows.
    Ttl,
    /// No TTL on this server: old partitions are dropped by the collector.
    DropPartitions,
}

/// The table holding the rows and how to reach every copy: on a cluster the replicated local
/// table, `ON CLUSTER`.
fn target(database: &str, cluster: &str) -> String {
    if cluster.is_empty() {
        format!("{database}.{EVENTS_TABLE}")
    } else {
        format!("{database}.{EVENTS_TABLE}_local ON CLUSTER {cluster}")
    }
}

/// The table TTL, for servers that have TTL (18.16 rejects it: that is the probe).
pub fn ttl_sql(database: &str, days: u32, cluster: &str) -> String {
    format!("ALTER TABLE {} MODIFY TTL ts + toIntervalDay({days})", target(database, cluster))
}

/// Daily partitions of the events table older than `days` (binds: database, table).
pub fn expired_partitions_sql(days: u32) -> String {
    format!(
        "SELECT DISTINCT toUInt32(partition) FROM system.parts WHERE database = ? AND table = ? AND active \
         AND toUInt32(partition) < toYYYYMMDD(today() - {days}) ORDER BY 1"
    )
}

pub fn drop_partition_sql(database: &str, partition: u32, cluster: &str) -> String {
    format!("ALTER TABLE {} DROP PARTITION {partition}", target(database, cluster))
}

/// Sets the table TTL where the server supports it (the statement is the probe).
pub async fn setup(client: &clickhouse::Client, database: &str, days: u32, cluster: &str) -> RetentionMode {
    if days == 0 {
        return RetentionMode::Off;
    }
    match client.query(&ttl_sql(database, days, cluster)).execute().await {
        Ok(()) => RetentionMode::Ttl,
        Err(err) => {
            tracing::info!(error = %err, "this ClickHouse has no table TTL; old partitions will be dropped instead");
            RetentionMode::DropPartitions
        }
    }
}

/// Drops the daily partitions older than `days`; returns them.
pub async fn drop_old_partitions(
    client: &clickhouse::Client,
    url: &str,
    database: &str,
    days: u32,
    cluster: &str,
) -> Result<Vec<u32>, StoreError> {
    let err = StoreError::at(url);
    let table = if cluster.is_empty() { EVENTS_TABLE.to_owned() } else { format!("{EVENTS_TABLE}_local") };
    let partitions: Vec<u32> =
        client.query(&expired_partitions_sql(days)).bind(database).bind(&table).fetch_all().await.map_err(err)?;
    for partition in &partitions {
        client.query(&drop_partition_sql(database, *partition, cluster)).execute().await.map_err(err)?;
        tracing::info!(partition, "dropped an expired partition");
        metrics::counter!("meshward_retention_partitions_dropped_total").increment(1);
    }
    Ok(partitions)
}

/// Enforces retention until shutdown.
pub async fn run(
    client: clickhouse::Client,
    url: String,
    database: String,
    days: u32,
    cluster: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let mode = setup(&client, &database, days, &cluster).await;
    tracing::info!(?mode, days, "retention");
    if mode != RetentionMode::DropPartitions {
        return;
    }
    loop {
        if let Err(err) = drop_old_partitions(&client, &url, &database, days, &cluster).await {
            tracing::warn!(error = %err, "dropping expired partitions failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
