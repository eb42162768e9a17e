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
    Migration {
        version: 5,
        name: "filter_reports",
        statements: &[
            // the loss counters each filter VM sends with every batch (cumulative per VM); a batch
            // written twice folds on (source_id, batch_seq)
            "CREATE TABLE IF NOT EXISTS {db}.filter_reports (source_id String, batch_seq UInt64, received_ms UInt64, \
             events UInt32, dropped_buffer_full UInt64, dropped_resend_full UInt64, dropped_too_large UInt64) \
             ENGINE = ReplacingMergeTree() ORDER BY (source_id, batch_seq)",
        ],
    },
    Migration {
        version: 6,
        name: "inventory_status",
        statements: &[
            // snapshots of each spec'd host's standing; the latest `computed_ms` is current
            "CREATE TABLE IF NOT EXISTS {db}.inventory_status (computed_ms UInt64, host String, method String, \
             template String, status String, calls UInt64, last_seen_ms UInt64) \
             ENGINE = MergeTree() ORDER BY (host, computed_ms, method, template)",
        ],
    },
    Migration {
        version: 7,
        name: "alerts",
        statements: &[
            // every change of an alert is a row (opened, updated while it lasts, acknowledged,
            // resolved); the highest version of an id is current. Read with argMax by version.
            "CREATE TABLE IF NOT EXISTS {db}.alerts (id String, version UInt64, alert_key String, kind String, \
             state String, last_seen_ms UInt64, body String, changed_by String) ENGINE = MergeTree() ORDER BY (id, version)",
        ],
    },
    Migration {
        version: 8,
        name: "baselines",
        statements: &[
            // per endpoint and hour, kept up to date by a materialized view as events arrive:
            // request count, status-class mix, latency quantiles, sizes, callers, query
            // parameters and the sensitive classes seen in responses (rows count as inserted: a
            // resent batch counts twice, which is rare and small)
            "CREATE TABLE IF NOT EXISTS {db}.endpoint_hourly (hour DateTime, authority String, method String, \
             path_template String, requests AggregateFunction(count), client_errors AggregateFunction(sum, UInt64), \
             server_errors AggregateFunction(sum, UInt64), latency_us AggregateFunction(quantiles(0.5, 0.9, 0.99), UInt64), \
             request_bytes AggregateFunction(avg, UInt64), response_bytes AggregateFunction(avg, UInt64), \
             callers AggregateFunction(uniq, String), params AggregateFunction(groupUniqArrayArray, Array(String)), \
             response_classes AggregateFunction(groupUniqArrayArray, Array(String))) \
             ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(hour) ORDER BY (authority, path_template, method, hour)",
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.endpoint_hourly_mv TO {db}.endpoint_hourly AS \
             SELECT toStartOfHour(ts) AS hour, authority, method, path_template, countState() AS requests, \
             sumState(toUInt64(status >= 400 AND status < 500)) AS client_errors, sumState(toUInt64(status >= 500)) AS server_errors, \
             quantilesState(0.5, 0.9, 0.99)(duration_us) AS latency_us, avgState(request_total_bytes) AS request_bytes, \
             avgState(response_total_bytes) AS response_bytes, uniqState(caller_id) AS callers, \
             groupUniqArrayArrayState(query_params) AS params, \
             groupUniqArrayArrayState(arrayFilter((c, d) -> d = 2, `sensitive.class`, `sensitive.direction`)) AS response_classes \
             FROM {db}.http_events GROUP BY hour, authority, method, path_template",
            // per caller (identity hash or client address), endpoint and hour: requests, failures and
            // the distinct objects (raw paths) it touched
            "CREATE TABLE IF NOT EXISTS {db}.caller_hourly (hour DateTime, caller String, method String, path_template String, \
             requests AggregateFunction(count), failures AggregateFunction(sum, UInt64), objects AggregateFunction(uniq, String)) \
             ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(hour) ORDER BY (caller, path_template, method, hour)",
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.caller_hourly_mv TO {db}.caller_hourly AS \
             SELECT toStartOfHour(ts) AS hour, if(caller_id != '', caller_id, client_ip) AS caller, method, path_template, \
             countState() AS requests, sumState(toUInt64(status >= 400)) AS failures, uniqState(path) AS objects \
             FROM {db}.http_events GROUP BY hour, caller, method, path_template",
        ],
    },
    Migration {
        version: 9,
        name: "inventory_pins",
        statements: &[
            // templates operators pin through the API (besides the configuration); every change is a
            // row, the latest per host and template says whether the pin stands
            "CREATE TABLE IF NOT EXISTS {db}.inventory_pins (host String, template String, changed_ms UInt64, \
             removed UInt8, changed_by String) ENGINE = MergeTree() ORDER BY (host, template, changed_ms)",
        ],
    },
    Migration {
        version: 10,
        name: "baseline_fields_records_and_spec_operations",
        statements: &[
            // how many values of its class each finding's field held (records per response)
            "ALTER TABLE {db}.http_events ADD COLUMN `sensitive.count` Array(UInt32) AFTER `sensitive.sample`",
            "DROP TABLE IF EXISTS {db}.events",
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
            // the hourly endpoint baseline also keeps the body fields seen and the sensitive
            // records its responses carried; the view is recreated to fill them (events inserted
            // in the instant between the two statements miss the baseline, nothing else)
            "ALTER TABLE {db}.endpoint_hourly ADD COLUMN request_fields \
             AggregateFunction(groupUniqArrayArray, Array(String))",
            "ALTER TABLE {db}.endpoint_hourly ADD COLUMN response_fields \
             AggregateFunction(groupUniqArrayArray, Array(String))",
            "ALTER TABLE {db}.endpoint_hourly ADD COLUMN response_records AggregateFunction(sum, UInt64)",
            "DROP TABLE IF EXISTS {db}.endpoint_hourly_mv",
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.endpoint_hourly_mv TO {db}.endpoint_hourly AS \
             SELECT toStartOfHour(ts) AS hour, authority, method, path_template, countState() AS requests, \
             sumState(toUInt64(status >= 400 AND status < 500)) AS client_errors, sumState(toUInt64(status >= 500)) AS server_errors, \
             quantilesState(0.5, 0.9, 0.99)(duration_us) AS latency_us, avgState(request_total_bytes) AS request_bytes, \
             avgState(response_total_bytes) AS response_bytes, uniqState(caller_id) AS callers, \
             groupUniqArrayArrayState(query_params) AS params, \
             groupUniqArrayArrayState(arrayFilter((c, d) -> d = 2, `sensitive.class`, `sensitive.direction`)) AS response_classes, \
             groupUniqArrayArrayState(`request_body_fields.path`) AS request_fields, \
             groupUniqArrayArrayState(`response_body_fields.path`) AS response_fields, \
             sumState(toUInt64(arraySum(arrayFilter((n, d) -> d = 2, `sensitive.count`, `sensitive.direction`)))) AS response_records \
             FROM {db}.http_events GROUP BY hour, authority, method, path_template",
            // the operations of each uploaded spec, path split into segments, so detectors can
            // tell documented from shadow endpoints and parameters in SQL
            "CREATE TABLE IF NOT EXISTS {db}.api_operations (host String, uploaded_ms UInt64, method String, \
             template String, segments Array(String), query_params Array(String), deprecated UInt8) \
             ENGINE = MergeTree() ORDER BY (host, uploaded_ms, method, template)",
        ],
    },
    Migration {
        version: 11,
        name: "inspection_budget_and_body_shapes",
        statements: &[
            // whether the filter read and scanned the bodies, and what the event's body data
            // stands for when summed (1/p for a sampled exchange; older filters inspected
            // everything: 1)
            "ALTER TABLE {db}.http_events ADD COLUMN inspected UInt8 DEFAULT 1 AFTER rate_limited_rules",
            "ALTER TABLE {db}.http_events ADD COLUMN inspection_weight Float32 DEFAULT 1 AFTER inspected",
            // the body shapes the fields were expanded from (0: none, or an older filter)
            "ALTER TABLE {db}.http_events ADD COLUMN request_body_shape UInt64 AFTER inspection_weight",
            "ALTER TABLE {db}.http_events ADD COLUMN response_body_shape UInt64 AFTER request_body_shape",
            "DROP TABLE IF EXISTS {db}.events",
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
            // the field lists of body shapes, which filters send once per window
            "CREATE TABLE IF NOT EXISTS {db}.body_shapes (shape_id UInt64, last_seen_ms UInt64, \
             `fields.path` Array(String), `fields.type` Array(String)) \
             ENGINE = ReplacingMergeTree(last_seen_ms) ORDER BY shape_id",
            // weighted sensitive records of inspected responses, and the weight of the inspected
            // responses they came from: their ratio is records per response however the bodies
            // were sampled
            "ALTER TABLE {db}.endpoint_hourly ADD COLUMN inspected_weight AggregateFunction(sum, Float64)",
            "ALTER TABLE {db}.endpoint_hourly ADD COLUMN response_records_weighted AggregateFunction(sum, Float64)",
            "DROP TABLE IF EXISTS {db}.endpoint_hourly_mv",
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.endpoint_hourly_mv TO {db}.endpoint_hourly AS \
             SELECT toStartOfHour(ts) AS hour, authority, method, path_template, countState() AS requests, \
             sumState(toUInt64(status >= 400 AND status < 500)) AS client_errors, sumState(toUInt64(status >= 500)) AS server_errors, \
             quantilesState(0.5, 0.9, 0.99)(duration_us) AS latency_us, avgState(request_total_bytes) AS request_bytes, \
             avgState(response_total_bytes) AS response_bytes, uniqState(caller_id) AS callers, \
             groupUniqArrayArrayState(query_params) AS params, \
             groupUniqArrayArrayState(arrayFilter((c, d) -> d = 2, `sensitive.class`, `sensitive.direction`)) AS response_classes, \
             groupUniqArrayArrayState(`request_body_fields.path`) AS request_fields, \
             groupUniqArrayArrayState(`response_body_fields.path`) AS response_fields, \
             sumState(toUInt64(arraySum(arrayFilter((n, d) -> d = 2, `sensitive.count`, `sensitive.direction`)))) AS response_records, \
             sumState(toFloat64(inspection_weight)) AS inspected_weight, \
             sumState(toFloat64(arraySum(arrayFilter((n, d) -> d = 2, `sensitive.count`, `sensitive.direction`))) * inspection_weight) \
               AS response_records_weighted \
             FROM {db}.http_events GROUP BY hour, authority, method, path_template",
        ],
    },
    Migration {
        version: 12,
        name: "reported_event_time",
        statements: &[
            // the start time as the filter reported it; ts_ms and ts are it, clamped to its
            // batch's arrival when a sidecar's clock is far off (a 1970 event would land in a
            // partition retention drops at once)
            "ALTER TABLE {db}.http_events ADD COLUMN reported_ts_ms UInt64 DEFAULT ts_ms AFTER ts",
            "DROP TABLE IF EXISTS {db}.events",
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
        ],
    },
    Migration {
        version: 13,
        name: "blocks_view",
        statements: &[
            // every block and dry-run match with its rule's reason (its latest version): what the
            // collector's audit log writes, for SQL and the dashboards (sql/README.md)
            "CREATE VIEW IF NOT EXISTS {db}.blocks AS \
             SELECT ts, ts_ms, action, rule_id, reason, created_by, client, caller_id, principal, request_id, event_id, \
             host, method, path, endpoint, status, workload, namespace \
             FROM (SELECT ts, ts_ms, if(verdict = 1, 'block', 'dry_run') AS action, block_rule_id AS rule_id, \
               client_ip AS client, caller_id, peer_principal AS principal, request_id, lower(hex(event_id)) AS event_id, \
               authority AS host, method, path, path_template AS endpoint, status, workload, namespace \
               FROM {db}.events WHERE verdict != 0) AS enforced \
             ANY LEFT JOIN (SELECT id AS rule_id, visitParamExtractString(argMax(rule, version), 'reason') AS reason, \
               visitParamExtractString(argMax(rule, version), 'created_by') AS created_by \
               FROM {db}.block_rules GROUP BY id) AS rules USING rule_id",
        ],
    },
    Migration {
        version: 14,
        name: "operations",
        statements: &[
            // the operation a GraphQL or JSON-RPC body names (`query GetUser`, `rpc users.get`)
            // and its top-level fields: the inventory lists operations beside paths
            "ALTER TABLE {db}.http_events ADD COLUMN operation String",
            "ALTER TABLE {db}.http_events ADD COLUMN operation_fields Array(String)",
            "DROP TABLE IF EXISTS {db}.events",
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
        ],
    },
    Migration {
        version: 15,
        name: "unset_columns",
        statements: &[
            // columns nothing ever set: the protocol (Envoy's is not read) and resend drops (the
            // outbox never drops on a resend); their proto tags are reserved
            "ALTER TABLE {db}.http_events DROP COLUMN protocol",
            "ALTER TABLE {db}.filter_reports DROP COLUMN dropped_resend_full",
            "DROP TABLE IF EXISTS {db}.events",
            "CREATE VIEW IF NOT EXISTS {db}.events AS SELECT * FROM {db}.http_events FINAL",
        ],
    },
];

/// All statements of all migrations for a database, in order (for portability checks).
pub fn statements(database: &str) -> Vec<String> {
    MIGRATIONS.iter().flat_map(|m| m.statements.iter().map(|s| s.replace("{db}", database))).collect()
}

/// The same statements for a ClickHouse cluster (`clickhouse.cluster`), as `migrate` runs them.
#[cfg(test)]
fn cluster_statements(database: &str, cluster: &str) -> Vec<String> {
    statements(database).iter().flat_map(|s| for_cluster(s, database, cluster)).collect()
}

/// How rows of a table are spread over shards. Events go by their id, so a resent event lands
/// on the shard that holds the first copy and `FINAL` there folds them.
fn sharding_key(table: &str) -> &'static str {
    match table {
        "http_events" => "cityHash64(event_id)",
        "block_rules" => "cityHash64(id)",
        "api_specs" => "cityHash64(host)",
        "filter_reports" => "cityHash64(source_id)",
        "inventory_status" => "cityHash64(host)",
        "alerts" => "cityHash64(id)",
        "endpoint_hourly" => "cityHash64(path_template)",
        "inventory_pins" => "cityHash64(host)",
        "api_operations" => "cityHash64(host)",
        "caller_hourly" => "cityHash64(caller)",
        "body_shapes" => "cityHash64(shape_id)",
        _ => "rand()",
    }
}

/// The Distributed table with a table's own name over its replicated `<name>_local`.
fn distributed(database: &str, table: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {database}.{table} ON CLUSTER {cluster} AS {database}.{table}_local \
         ENGINE = Distributed({cluster}, {database}, {table}_local, {})",
        sharding_key(table)
    )
}

/// Rewrites one single-server statement for a cluster: each table becomes a replicated local
/// table (`<name>_local`, its data in ZooKeeper-coordinated replicas per shard) under a
/// `Distributed` table with the original name, so every query and INSERT stays as it is; every
/// statement runs `ON CLUSTER`.
pub fn for_cluster(sql: &str, database: &str, cluster: &str) -> Vec<String> {
    let sql = sql.trim();
    let prefix = format!("{database}.");
    let name_after = |rest: &str| -> String {
        rest.trim_start()
            .strip_prefix(&prefix)
            .map(|r| r.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
            .unwrap_or_default()
    };
    if let Some(rest) = sql.strip_prefix("CREATE TABLE IF NOT EXISTS ") {
        let table = name_after(rest);
        let after_name = &rest.trim_start()[prefix.len() + table.len()..];
        let Some(engine_at) = after_name.find("ENGINE = ") else { return vec![sql.to_owned()] };
        let columns = &after_name[..engine_at];
        let engine = &after_name[engine_at + "ENGINE = ".len()..];
        let open = engine.find('(').unwrap_or(engine.len());
        let close = engine.find(')').unwrap_or(engine.len());
        let (engine_name, args, tail) =
            (&engine[..open], &engine[(open + 1).min(close)..close], engine.get(close + 1..).unwrap_or(""));
        let zk = format!("'/clickhouse/tables/{{shard}}/{database}/{table}', '{{replica}}'");
        let args = if args.trim().is_empty() { zk } else { format!("{zk}, {args}") };
        return vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {database}.{table}_local ON CLUSTER {cluster} {columns}ENGINE = Replicated{engine_name}({args}){tail}"
            ),
            distributed(database, &table, cluster),
        ];
    }
    if let Some(rest) = sql.strip_prefix("ALTER TABLE ") {
        let table = name_after(rest);
        let change = &rest.trim_start()[prefix.len() + table.len()..];
        // A Distributed table is not replicated, and a cluster of replicated shards refuses
        // ALTER ON CLUSTER for it: it is recreated over the altered local table instead. Nothing
        // waits in it to be forwarded: the writer inserts with insert_distributed_sync.
        return vec![
            format!("ALTER TABLE {database}.{table}_local ON CLUSTER {cluster}{change}"),
            format!("DROP TABLE IF EXISTS {database}.{table} ON CLUSTER {cluster}"),
            distributed(database, &table, cluster),
        ];
    }
    if let Some(rest) = sql.strip_prefix("DROP TABLE IF EXISTS ") {
        return vec![format!("DROP TABLE IF EXISTS {} ON CLUSTER {cluster}", rest.trim())];
    }
    if let Some(rest) = sql.strip_prefix("CREATE MATERIALIZED VIEW IF NOT EXISTS ") {
        // on each server: fed by the local events table, writing the local aggregate table
        let view = name_after(rest);
        let after = &rest.trim_start()[prefix.len() + view.len()..];
        let target = name_after(after.trim_start().strip_prefix("TO ").unwrap_or(""));
        let body = after.replacen(&format!("TO {database}.{target} "), &format!("TO {database}.{target}_local "), 1);
        let body =
            body.replace(&format!("FROM {database}.http_events "), &format!("FROM {database}.http_events_local "));
        return vec![format!("CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.{view} ON CLUSTER {cluster}{body}")];
    }
    if let Some(rest) = sql.strip_prefix("CREATE VIEW IF NOT EXISTS ") {
        let view = name_after(rest);
        let query = &rest.trim_start()[prefix.len() + view.len()..];
        return vec![format!("CREATE VIEW IF NOT EXISTS {database}.{view} ON CLUSTER {cluster}{query}")];
    }
    vec![sql.to_owned()]
}

/// Creates the database if needed and applies the migrations it has not seen yet.
pub async fn migrate(config: &ClickHouseConfig) -> Result<u32, StoreError> {
    let url = config.url.clone();
    let db = &config.database;
    // the database may not exist yet: run the bootstrap statements against `default`
    let bootstrap = super::connect(config).with_database("default");
    let err = StoreError::at(&url);
    let cluster = (!config.cluster.is_empty()).then_some(config.cluster.as_str());
    let on_cluster = cluster.map(|c| format!(" ON CLUSTER {c}")).unwrap_or_default();
    bootstrap.query(&format!("CREATE DATABASE IF NOT EXISTS {db}{on_cluster}")).execute().await.map_err(err)?;
    // on a cluster every server is a replica of one migrations table (no {shard} in its path),
    // so a migration applied through any server is recorded for all
    let engine = match cluster {
        Some(_) => format!("ReplicatedMergeTree('/clickhouse/tables/{db}/schema_migrations', '{{replica}}')"),
        None => "MergeTree()".to_owned(),
    };
    bootstrap
        .query(&format!(
            "CREATE TABLE IF NOT EXISTS {db}.schema_migrations{on_cluster} (version UInt32, name String, applied_at DateTime) \
             ENGINE = {engine} ORDER BY version"
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
            let sqls = match cluster {
                Some(cluster) => for_cluster(&sql, db, cluster),
                None => vec![sql],
            };
            for sql in sqls {
                bootstrap.query(&sql).execute().await.map_err(|error| StoreError::Migration {
                    version: migration.version,
                    name: migration.name,
                    url: url.clone(),
                    error,
                })?;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_statements_are_replicated_and_distributed() {
        let all = cluster_statements("mw", "c1");
        assert!(all.iter().all(|s| s.contains(" ON CLUSTER c1")), "{all:#?}");
        let local =
            all.iter().find(|s| s.contains("mw.http_events_local ON CLUSTER")).map(String::as_str).unwrap_or("");
        assert!(
            local.contains(
                "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/mw/http_events', '{replica}')"
            ),
            "{local}"
        );
        assert!(local.contains("PARTITION BY toYYYYMMDD(ts)") && local.contains("event_id FixedString(16)"), "{local}");
        assert!(all
            .iter()
            .any(|s| s.contains("ENGINE = Distributed(c1, mw, http_events_local, cityHash64(event_id))")));
        let rules = all.iter().find(|s| s.contains("mw.block_rules_local")).map(String::as_str).unwrap_or("");
        assert!(
            rules.contains("ReplicatedMergeTree('/clickhouse/tables/{shard}/mw/block_rules', '{replica}')"),
            "{rules}"
        );
        assert!(all.iter().any(|s| s.starts_with("ALTER TABLE mw.http_events_local ON CLUSTER c1 ADD COLUMN")));
        assert!(
            !all.iter().any(|s| s.starts_with("ALTER TABLE mw.http_events ON CLUSTER")),
            "distributed tables are recreated"
        );
        assert!(all.iter().any(|s| s == "DROP TABLE IF EXISTS mw.http_events ON CLUSTER c1"));
        assert!(all.iter().any(|s| s == "DROP TABLE IF EXISTS mw.events ON CLUSTER c1"));
        assert!(all.iter().any(|s| s.starts_with("CREATE VIEW IF NOT EXISTS mw.events ON CLUSTER c1 AS SELECT")));
    }
}
