//! Every SQL statement Meshward ships (schema migrations, jobs, documented queries, the SQL
//! query library and the Grafana dashboards) runs on the ClickHouse 18.16 server from Debian and
//! on current ClickHouse (chDB 26.x, in-process); over seeded events, every library query and
//! every dashboard panel returns rows.

use meshward::store::{queries, retention, statements};
use meshward_e2e::clickhouse::ClickHouse;

const DB: &str = "meshward_compat";

fn all_statements() -> Vec<String> {
    let mut all = statements(DB);
    all.extend(queries::ALL.iter().map(|q| queries::render(q, DB, &["GET", "/x"])));
    all.push(queries::render(&retention::expired_partitions_sql(30), DB, &[DB, "http_events"]));
    all.push(retention::drop_partition_sql(DB, 20000101, ""));
    all.push(meshward::inventory::TEMPLATE_STATS.replace("{db}", DB));
    all.push(meshward::blocklist::latest_rules_sql(DB));
    all.extend(meshward::blocklist::policy::all_sql(DB));
    all.push(meshward::detect::latest_alerts_sql(DB));
    all.push(meshward::inventory::status::stored_pins_sql(DB));
    all.push(meshward::inventory::status::specs_without_operations_sql(DB));
    for filter in ["", "WHERE shape_id IN (1, 2)"] {
        let sql = meshward::store::shapes::shapes_query(filter, 10);
        all.push(sql.replace("FROM body_shapes", &format!("FROM {DB}.body_shapes")));
    }
    let detect = meshward::config::DetectConfig::default();
    for kind in meshward::detect::rules::KINDS {
        all.push(meshward::detect::rules::sql(*kind, DB, 1_790_000_000, 1_790_000_300, &detect));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_run_on_clickhouse_18_16() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("sql_compat")?;
    let server = ClickHouse::start(&dir).await?;
    server.query(&format!("CREATE DATABASE {DB}")).await?;
    let version = server.query("SELECT version()").await?;
    for sql in all_statements() {
        server.query(&sql).await.map_err(|e| anyhow::anyhow!("on ClickHouse {}: {e}", version.trim()))?;
    }
    Ok(())
}

#[test]
fn statements_run_on_current_clickhouse() -> anyhow::Result<()> {
    let mut all = vec![format!("CREATE DATABASE {DB}")];
    all.extend(all_statements());
    // current servers take the table TTL (18.16 does not: the collector drops partitions there)
    all.push(retention::ttl_sql(DB, 30, ""));
    run_on_chdb("sql_compat_chdb", &all)
}

/// Runs statements on chDB (`scripts/chdb_run.py`; `-- expect rows` ones must return rows).
fn run_on_chdb(name: &str, statements: &[String]) -> anyhow::Result<()> {
    let file = meshward_e2e::process::fresh_dir(name)?.join("statements.sql");
    std::fs::write(&file, statements.join("\n;;\n"))?;
    let script = meshward_e2e::workspace_root().join("scripts/chdb_run.py");
    meshward_e2e::python([script.as_os_str(), file.as_os_str()])?;
    Ok(())
}

/// A query of the library or a dashboard panel, named for the failure message.
struct Library {
    name: String,
    sql: String,
}

/// `sql/queries/*.sql` for database `db`, and every panel of `grafana/*.json` with the ClickHouse
/// plugin's macros expanded the way the plugin expands them, for the last day.
fn library(db: &str) -> anyhow::Result<Vec<Library>> {
    let root = meshward_e2e::workspace_root();
    let mut all = Vec::new();
    for file in meshward_e2e::files_with_extension(&root.join("sql/queries"), "sql")? {
        let text = std::fs::read_to_string(&file)?;
        let sql: String = text.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n");
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        all.push(Library { name, sql: sql.replace("meshward.", &format!("{db}.")) });
    }
    let to = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 60;
    let from = to - 86_400 - 60;
    for file in meshward_e2e::files_with_extension(&root.join("grafana"), "json")? {
        let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        for panel in dashboard["panels"].as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let sql = target["rawSql"].as_str().unwrap_or_default();
                let sql = expand_time_filter(sql, from, to)
                    .replace("$__fromTime", &format!("toDateTime({from})"))
                    .replace("$__toTime", &format!("toDateTime({to})"))
                    .replace("${database}", db);
                let name = format!("{} / {}", file.display(), panel["title"].as_str().unwrap_or(""));
                all.push(Library { name, sql });
            }
        }
    }
    Ok(all)
}

/// `$__timeFilter(col)` -> `col >= toDateTime(from) AND col <= toDateTime(to)`.
fn expand_time_filter(sql: &str, from: u64, to: u64) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find("$__timeFilter(") {
        out.push_str(&rest[..start]);
        let tail = &rest[start + "$__timeFilter(".len()..];
        let end = tail.find(')').unwrap_or(tail.len());
        let column = tail[..end].trim();
        out.push_str(&format!("{column} >= toDateTime({from}) AND {column} <= toDateTime({to})"));
        rest = tail.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn seed(db: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(meshward_e2e::workspace_root().join("tests/fixtures/seed-events.sql"))?;
    Ok(text.split("\n;;\n").map(|s| s.trim().replace("{db}", db)).filter(|s| !s.is_empty()).collect())
}

const LIBRARY_DB: &str = "meshward_library";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_library_and_dashboards_return_rows_on_clickhouse_18_16() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("sql_library")?;
    let server = ClickHouse::start(&dir).await?;
    server.query(&format!("CREATE DATABASE {LIBRARY_DB}")).await?;
    for sql in statements(LIBRARY_DB).into_iter().chain(seed(LIBRARY_DB)?) {
        server.query(&sql).await?;
    }
    let queries = library(LIBRARY_DB)?;
    assert!(queries.len() >= 30, "only {} queries and panels found", queries.len());
    for q in queries {
        let rows =
            server.query(&format!("{} FORMAT TSV", q.sql)).await.map_err(|e| anyhow::anyhow!("{}: {e}", q.name))?;
        anyhow::ensure!(!rows.trim().is_empty(), "{} returned no rows on ClickHouse 18.16:\n{}", q.name, q.sql);
    }
    Ok(())
}

#[test]
fn query_library_and_dashboards_return_rows_on_current_clickhouse() -> anyhow::Result<()> {
    let mut all = vec![format!("CREATE DATABASE {LIBRARY_DB}")];
    all.extend(statements(LIBRARY_DB));
    all.extend(seed(LIBRARY_DB)?);
    all.extend(library(LIBRARY_DB)?.into_iter().map(|q| format!("-- expect rows ({})\n{}", q.name, q.sql)));
    run_on_chdb("sql_library_chdb", &all)
}
