//! The versioned schema. Every statement runs on ClickHouse 18.16 and on current servers (a
//! test runs them on both). Migrations are applied in order at start and recorded in
//! `schema_migrations`; a version is never edited once released, only followed by a new one.

use super::client::StoreError;
use crate::config::ClickHouseConfig;

/// One schema step. `{db}` in the SQL is replaced by the configured database.
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "http_events",
        statements: &[
            // One row per HTTP exchange. ReplacingMergeTree on the event id: a batch that is written
            // twice (a resend, a replay after a crash) collapses to one row; queries that must count
            // exactly read it with FINAL or through the `events` view.
            "CREATE TABLE IF NOT EXISTS {db}.http_events (
            event_id FixedString(16),
            ts_ms UInt64,
            ts DateTime,
            duration_us UInt64,
            method String,
            scheme String,
            authority String,
            path String,
            path_template String,
            query_params Array(String),
            `request_headers.name` Array(String),
            `request_headers.value` Array(String),
            `response_headers.name` Array(String),
            `response_headers.value` Array(String),
            status UInt16,
            request_body_bytes UInt64,
            response_body_bytes UInt64,
            request_total_bytes UInt64,
            response_total_bytes UInt64,
            source_address String,
            source_ip String,
            forwarded_for Array(String),
            client_ip String,
            peer_principal String,
            workload String,
            namespace String,
            request_id String,
            caller_id String,
            caller_id_source String,
            `request_body_fields.path` Array(String),
            `request_body_fields.type` Array(String),
            `response_body_fields.path` Array(String),
            `response_body_fields.type` Array(String),
            request_body_truncated UInt8,
            response_body_truncated UInt8,
            request_content_type String,
            response_content_type String,
            protocol String,
            `sensitive.class` Array(String),
            `sensitive.direction` Array(UInt8),
            `sensitive.part` Array(String),
            `sensitive.location` Array(String),
            `sensitive.confidence` Array(Float32),
            `attacks.class` Array(String),
            `attacks.direction` Array(UInt8),
            `attacks.part` Array(String),
            `attacks.location` Array(String),
            `attacks.reason` Array(String),
            `attacks.severity` Array(UInt8),
            verdict UInt8,
            block_rule_id String,
            source_id String,
            batch_seq UInt64,
            received_ms UInt64
        ) ENGINE = ReplacingMergeTree()
        PARTITION BY toYYYYMMDD(ts)
        ORDER BY (authority, path_template, method, ts, event_id)",
            // Each event once, whatever was written twice: the view to query for exact counts.
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
        ],
    },
    Migration {
        version: 2,
        name: "body_field_sensitive_classes",
        statements: &[
            // the sensitive-data classes found in each body field, beside its path and type
            "ALTER TABLE {db}.http_events ADD COLUMN `request_body_fields.sensitive` Array(Array(String)) \
         AFTER `request_body_fields.type`",
            "ALTER TABLE {db}.http_events ADD COLUMN `response_body_fields.sensitive` Array(Array(String)) \
         AFTER `response_body_fields.type`",
            // masked samples of sensitive values, only filled when the operator turns them on
            "ALTER TABLE {db}.http_events ADD COLUMN `sensitive.sample` Array(String) AFTER `sensitive.confidence`",
            // old servers expand `*` when a view is created: recreate it to see the new columns
            "DROP TABLE IF EXISTS {db}.events",
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
        ],
    },
    Migration {
        version: 3,
        name: "api_specs",
        statements: &[
            // OpenAPI documents uploaded per host; the latest upload of a host is in force
            "CREATE TABLE IF NOT EXISTS {db}.api_specs (host String, uploaded_ms UInt64, uploaded_by String, \
             body String) ENGINE = MergeTree() ORDER BY (host, uploaded_ms)",
        ],
    },
    Migration {
        version: 4,
        name: "block_rules",
        statements: &[
            // every change of a block rule is a row, kept as history (plain MergeTree: no merge folds
            // versions); the highest version of an id is in force and `deleted` marks a tombstone.
            // Read with argMax(..., version) GROUP BY id.
            "CREATE TABLE IF NOT EXISTS {db}.block_rules (id String, version UInt64, deleted UInt8, rule String, \
             changed_ms UInt64, changed_by String) ENGINE = MergeTree() ORDER BY (id, version)",
            // the rate-limited rules each request met, counted per key by the collector
            "ALTER TABLE {db}.http_events ADD COLUMN rate_limited_rules Array(String) AFTER block_rule_id",
            "DROP TABLE IF EXISTS {db}.events",
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
        ],
    },
];

/// All statements of all migrations for a database, in order (for portability checks).
pub fn statements(database: &str) -> Vec<String> {
    MIGRATIONS.iter().flat_map(|m| m.statements.iter().map(|s| s.replace("{db}", database))).collect()
}

/// Creates the database if needed and applies the migrations it has not seen yet.
pub async fn migrate(config: &ClickHouseConfig) -> Result<u32, StoreError> {
    let url = config.url.clone();
    let db = &config.database;
    // the database may not exist yet: run the bootstrap statements against `default`
    let bootstrap = super::connect(config).with_database("default");
    let err = |error| StoreError::ClickHouse { url: url.clone(), error };
    bootstrap.query(&format!("CREATE DATABASE IF NOT EXISTS {db}")).execute().await.map_err(err)?;
    bootstrap
        .query(&format!(
            "CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, name String, applied_at DateTime) \
             ENGINE = MergeTree() ORDER BY version"
        ))
        .execute()
        .await
        .map_err(err)?;
    let applied: Vec<u32> = bootstrap
        .query(&format!("SELECT version FROM {db}.schema_migrations ORDER BY version"))
        .fetch_all()
        .await
        .map_err(err)?;
    let mut current = applied.last().copied().unwrap_or(0);
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        for statement in migration.statements {
            let sql = statement.replace("{db}", db);
            bootstrap.query(&sql).execute().await.map_err(|error| StoreError::Migration {
                version: migration.version,
                name: migration.name,
                url: url.clone(),
                error,
            })?;
        }
        bootstrap
            .query(&format!("INSERT INTO {db}.schema_migrations (version, name, applied_at) VALUES (?, ?, now())"))
            .bind(migration.version)
            .bind(migration.name)
            .execute()
            .await
            .map_err(err)?;
        tracing::info!(version = migration.version, name = migration.name, "applied schema migration");
        current = migration.version;
    }
    Ok(current)
}
