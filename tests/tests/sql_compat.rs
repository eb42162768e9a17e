//! Every SQL statement Meshward ships (schema migrations and documented queries) runs on the
//! ClickHouse 18.16 server from Debian and on current ClickHouse (chDB 26.x, in-process).

use meshward::store::{queries, retention, statements};
use meshward_e2e::clickhouse::ClickHouse;
use std::process::Command;

const DB: &str = "meshward_compat";

fn all_statements() -> Vec<String> {
    let mut all = statements(DB);
    all.extend(queries::ALL.iter().map(|q| queries::render(q, DB, &["GET", "/x"])));
    all.push(queries::render(&retention::expired_partitions_sql(30), DB, &[DB, "http_events"]));
    all.push(retention::drop_partition_sql(DB, 20000101));
    all.push(meshward::inventory::TEMPLATE_STATS.replace("{db}", DB));
    all.push(meshward::blocklist::latest_rules_sql(DB));
    all.extend(meshward::blocklist::policy::all_sql(DB));
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
    let python = meshward_e2e::workspace_root().join(".tools/py/bin/python");
    anyhow::ensure!(python.exists(), "no {}: run `make setup`", python.display());
    let dir = meshward_e2e::process::fresh_dir("sql_compat_chdb")?;
    let file = dir.join("statements.sql");
    let mut text = format!("CREATE DATABASE {DB}\n;;\n");
    text.push_str(&all_statements().join("\n;;\n"));
    // current servers take the table TTL (18.16 does not: the collector drops partitions there)
    text.push_str(&format!("\n;;\n{}", retention::ttl_sql(DB, 30)));
    std::fs::write(&file, text)?;
    let output =
        Command::new(python).arg(meshward_e2e::workspace_root().join("scripts/chdb_run.py")).arg(&file).output()?;
    let report = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "{report}{}", String::from_utf8_lossy(&output.stderr));
    Ok(())
}
