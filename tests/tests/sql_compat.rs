//! Every SQL statement Meshward ships (schema migrations, jobs, documented queries, the SQL
//! query library and the Grafana dashboards) runs on the ClickHouse 18.16 server from Debian and
//! on current ClickHouse (chDB 26.x, in-process); over seeded events, every library query and
//! every dashboard panel returns rows. The inventory counts a client once per endpoint on both.

use meshward::store::{queries, retention, statements};
use meshward_e2e::clickhouse::ClickHouse;

const DB: &str = "meshward_compat";

fn all_statements() -> Vec<String> {
    let mut all = statements(DB);
    all.extend(queries::ALL.iter().map(|q| queries::render(q, DB, &["GET", "/x"])));
    all.push(queries::render(&retention::expired_partitions_sql(30), DB, &[DB, "http_events"]));
    all.push(retention::drop_partition_sql(DB, 20000101, ""));
    all.push(meshward::inventory::TEMPLATE_STATS.replace("{db}", DB));
    all.extend(CallerFixture::new().plan(DB).0.queries);
    all.push(meshward::blocklist::latest_rules_sql(DB));
    all.extend(meshward::blocklist::policy::all_sql(DB));
    all.push(meshward::detect::latest_alerts_sql(DB));
    all.push(meshward::inventory::status::stored_pins_sql(DB));
    all.push(meshward::inventory::status::specs_without_operations_sql(DB));
    for filter in ["", "WHERE shape_id IN (1, 2)"] {
        let sql = meshward::store::shapes::shapes_query(filter, 10);
        all.push(sql.replace("FROM body_shapes", &format!("FROM {DB}.body_shapes")));
    }
    // every detector's rendered SQL as its snapshot holds it (the unit test holds the renderer
    // to the snapshots, written for database `meshward`)
    let detect = meshward::config::DetectConfig::default();
    let (from, to) = meshward::detect::rules::SNAPSHOT_WINDOW;
    let snapshots = meshward_e2e::workspace_root().join("collector/src/detect/sql/snapshots");
    for kind in meshward::detect::rules::KINDS {
        let file = snapshots.join(format!("{}.sql", kind.as_str()));
        let snapshot = std::fs::read_to_string(&file).unwrap_or_default().replace("meshward.", &format!("{DB}."));
        let sql = meshward::detect::rules::sql(*kind, DB, from, to, &detect);
        assert_eq!(snapshot.trim_end(), sql, "{} is not the rendered SQL", file.display());
        all.push(sql);
    }
    all
}

/// A statement that must return rows on both servers: SQL that mirrors Rust code, checked
/// against what the Rust code gives.
struct Check {
    name: String,
    sql: String,
}

/// SQL quoting of a string literal.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `finding_location_sql!` spells every location as `core::detect::finding_location` does.
fn location_checks() -> Vec<Check> {
    let cases = [
        (1, "query", "q"),
        (2, "body", "$.user.email"),
        (1, "path", ""),
        (2, "header", "x-api.key"),
        (1, "cookie", "session id"),
        (0, "path", ""),
    ];
    cases
        .iter()
        .map(|(direction, part, field)| {
            let direction_name = meshward_core::detect::Direction::from_wire(*direction).as_str();
            let expected = meshward_core::detect::finding_location(direction_name, part, field);
            let sql = format!(
                "SELECT 1 FROM (SELECT toUInt8({direction}) AS d, {part} AS p, {field} AS l) WHERE {location} = {expected}",
                part = quoted(part),
                field = quoted(field),
                location = meshward_core::finding_location_sql!("d", "p", "l"),
                expected = quoted(&expected),
            );
            Check { name: format!("location {expected}"), sql }
        })
        .collect()
}

/// The detectors' `fits` matches templates and paths as `core::endpoint::fit` does.
fn template_checks() -> Vec<Check> {
    let cases = [
        ("/users/{id}", "/users/{user_id}"),
        ("/users/{id}", "/Users/42"),
        ("/users/me", "/users/{user_id}"),
        ("/users/{id}", "/users/42/orders"),
        ("/users/{id}/orders", "/users/42"),
        ("//a/b/", "/a/b"),
        ("/{}", "/x"),
        ("/{/x", "/{/x"),
        ("/a/B", "/A/b"),
        ("/", "/"),
    ];
    cases
        .iter()
        .map(|(spec, observed)| {
            let expected = meshward_core::endpoint::fit(spec, observed).is_some();
            let fits = meshward::detect::rules::fits(
                &meshward::detect::rules::segments(&quoted(spec)),
                &meshward::detect::rules::segments(&quoted(observed)),
            );
            let sql = format!("SELECT 1 WHERE {fits} = {}", u8::from(expected));
            Check { name: format!("fits({spec}, {observed}) = {expected}"), sql }
        })
        .collect()
}

/// An event with every field set and one entry in every list, as the writer stores it.
fn sample_row() -> anyhow::Result<meshward::store::EventRow> {
    use meshward_proto::{AttackFinding, BodyField, Header, HttpEvent, SensitiveFinding};
    let field =
        |path: &str| BodyField { path: path.into(), r#type: "string".into(), sensitive_classes: vec!["email".into()] };
    let header = |name: &str| Header { name: name.into(), value: Some("v".into()) };
    let event = HttpEvent {
        event_id: vec![7; 16],
        start_time_ms: 1_790_000_000_000,
        duration_us: 1_234,
        method: "POST".into(),
        scheme: "https".into(),
        authority: "shop.example".into(),
        path: "/users/42".into(),
        path_template: "/users/{user_id}".into(),
        query_params: vec!["q".into()],
        request_headers: vec![header("accept")],
        response_headers: vec![header("content-type")],
        status: 201,
        request_body_bytes: 1,
        response_body_bytes: 2,
        request_total_bytes: 3,
        response_total_bytes: 4,
        source_address: "10.0.0.7:41000".into(),
        forwarded_for: vec!["203.0.113.9".into()],
        peer_principal: "spiffe://p".into(),
        workload: "w".into(),
        namespace: "n".into(),
        request_id: "r".into(),
        caller_id: "c".into(),
        caller_id_source: "bearer".into(),
        request_body_fields: vec![field("$.a")],
        response_body_fields: vec![field("$.b")],
        request_body_truncated: true,
        response_body_truncated: true,
        request_content_type: "application/json".into(),
        response_content_type: "application/json".into(),
        sensitive: vec![SensitiveFinding {
            class: "email".into(),
            direction: 2,
            part: "body".into(),
            location: "$.b".into(),
            confidence: 0.9,
            masked_sample: Some("a***".into()),
            count: 3,
        }],
        attacks: vec![AttackFinding {
            class: "sqli".into(),
            direction: 1,
            part: "query".into(),
            location: "q".into(),
            reason: "r".into(),
            severity: 3,
        }],
        verdict: 2,
        block_rule_id: "r-1".into(),
        client_ip: "10.0.0.7".into(),
        rate_limited_rules: vec!["r-2".into()],
        request_body_shape: 5,
        response_body_shape: 6,
        inspection: 1,
        inspection_weight: 2.0,
        operation: "query GetUser".into(),
        operation_fields: vec!["user".into()],
    };
    meshward::store::event_row(event, "source", 9, 1_790_000_000_500).ok_or_else(|| anyhow::anyhow!("no row"))
}

/// Each row struct the writer inserts has its table's columns: names, order and types (a
/// DateTime is written as its UInt32). The client writes with validation off, so a struct
/// drifting from its table would be stored wrong, not refused.
fn row_checks() -> anyhow::Result<Vec<Check>> {
    let report = meshward::store::FilterReportRow {
        source_id: "s".into(),
        batch_seq: 1,
        received_ms: 2,
        events: 3,
        dropped_buffer_full: 4,
        dropped_too_large: 6,
    };
    let rows = [
        (meshward::store::EVENTS_TABLE, meshward_e2e::columns::columns(&sample_row()?)),
        (meshward::store::FILTER_REPORTS_TABLE, meshward_e2e::columns::columns(&report)),
    ];
    rows.into_iter()
        .map(|(table, columns)| {
            let columns = columns.map_err(|e| anyhow::anyhow!("the columns of {table}'s row: {e}"))?;
            let expected: Vec<String> = columns.iter().map(|(name, ty)| quoted(&format!("{name} {ty}"))).collect();
            let sql = format!(
                "SELECT 1 FROM (SELECT groupArray(concat(name, ' ', if(type = 'DateTime', 'UInt32', type))) AS columns \
                 FROM system.columns WHERE database = '{DB}' AND table = '{table}') WHERE columns = [{}]",
                expected.join(", ")
            );
            Ok(Check { name: format!("the columns of {table} are its row's"), sql })
        })
        .collect()
}

fn checks() -> anyhow::Result<Vec<Check>> {
    Ok(location_checks().into_iter().chain(template_checks()).chain(row_checks()?).collect())
}

/// `analyze`'s event lines read the columns of `EventRow` by its names and types: a row as JSON
/// (JSONEachRow's names) read back as a line keeps every value the line has.
#[test]
fn event_lines_read_the_rows_columns() -> anyhow::Result<()> {
    let row = sample_row()?;
    let line: meshward::analyze::har::EventLine = serde_json::from_value(serde_json::to_value(&row)?)?;
    let r = &row;
    let line_values = format!(
        "{:?}",
        (
            (&line.authority, &line.method, &line.path, &line.path_template, line.status, line.ts_ms),
            (&line.caller_id, &line.caller_id_source, &line.client_ip, &line.query_params),
            (
                &line.request_field_paths,
                &line.request_field_types,
                &line.response_field_paths,
                &line.response_field_types
            ),
            (&line.sensitive_class, &line.sensitive_direction, &line.sensitive_part, &line.sensitive_location),
            (
                &line.sensitive_confidence,
                &line.attack_class,
                &line.attack_direction,
                &line.attack_part,
                &line.attack_location
            ),
        )
    );
    let row_values = format!(
        "{:?}",
        (
            (&r.authority, &r.method, &r.path, &r.path_template, r.status, r.ts_ms),
            (&r.caller_id, &r.caller_id_source, &r.client_ip, &r.query_params),
            (&r.request_field_paths, &r.request_field_types, &r.response_field_paths, &r.response_field_types),
            (&r.sensitive_class, &r.sensitive_direction, &r.sensitive_part, &r.sensitive_location),
            (&r.sensitive_confidence, &r.attack_class, &r.attack_direction, &r.attack_part, &r.attack_location),
        )
    );
    anyhow::ensure!(line_values == row_values, "line {line_values}\nrow  {row_values}");
    // every list of the sample is filled: a line field that missed its column would be empty
    anyhow::ensure!(!line_values.contains("[]") && !line_values.contains("\"\""), "{line_values}");
    Ok(())
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
    for check in checks()? {
        let rows = server.query(&check.sql).await?;
        anyhow::ensure!(
            !rows.trim().is_empty(),
            "{} fails on ClickHouse {}:\n{}",
            check.name,
            version.trim(),
            check.sql
        );
    }
    Ok(())
}

#[test]
fn statements_run_on_current_clickhouse() -> anyhow::Result<()> {
    let mut all = vec![format!("CREATE DATABASE {DB}")];
    all.extend(all_statements());
    // current servers take the table TTL (18.16 does not: the collector drops partitions there)
    all.push(retention::ttl_sql(DB, 30, ""));
    all.extend(checks()?.into_iter().map(|c| format!("-- expect rows ({})\n{}", c.name, c.sql)));
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

/// One anonymous client (10.0.0.1) reads fourteen teams (`/teams/acme`: discovery merges them,
/// and the callers query lists them) and half of a hundred organisations with word-like names
/// (`/org/north-blue/members`: merged, and so many named by their shape), another (10.0.0.7)
/// the other half; five others read `/org/me/members`, which stays literal beside the parameter.
/// Added up, the teams had 14 callers; the most of any one organisation is 1, the union 2.
struct CallerFixture {
    /// (path, client address) per event
    calls: Vec<(String, String)>,
}

impl CallerFixture {
    /// endpoint -> distinct callers
    const EXPECTED: [(&'static str, u64); 3] =
        [("/org/me/members", 5), ("/org/{org_id}/members", 2), ("/teams/{team_id}", 1)];

    fn new() -> Self {
        let words = ["north", "south", "east", "west", "blue", "green", "red", "amber", "grey", "white"];
        let teams = ["acme", "globex", "initech", "umbrella", "hooli", "vehement", "massive"];
        let client = "10.0.0.1".to_owned();
        let mut calls = Vec::new();
        for (i, a) in words.iter().enumerate() {
            let reader = if i < words.len() / 2 { &client } else { "10.0.0.7" };
            calls.extend(words.iter().map(|b| (format!("/org/{a}-{b}/members"), reader.to_owned())));
        }
        calls.extend(
            teams.iter().flat_map(|t| [format!("/teams/{t}"), format!("/teams/{t}-labs")]).map(|p| (p, client.clone())),
        );
        calls.extend((2..=6).map(|i| ("/org/me/members".to_owned(), format!("10.0.0.{i}"))));
        CallerFixture { calls }
    }

    /// The events, as one INSERT into `db`.
    fn insert(&self, db: &str) -> String {
        let rows: Vec<String> = self
            .calls
            .iter()
            .enumerate()
            .map(|(i, (path, client))| {
                format!("('{i:016}', 1790000000000, '2026-09-21 12:00:00', 'GET', 'shop.example', '{path}', '{path}', 200, '{client}')")
            })
            .collect();
        format!(
            "INSERT INTO {db}.http_events (event_id, ts_ms, ts, method, authority, path, path_template, status, client_ip) VALUES {}",
            rows.join(", ")
        )
    }

    /// The inventory's rows as `TEMPLATE_STATS` gives them, discovery over them, and the queries
    /// counting the callers of the merged endpoints.
    fn plan(&self, db: &str) -> (meshward::inventory::callers::CallerQueries, Vec<meshward::inventory::Discovered>) {
        let mut callers: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> = Default::default();
        for (path, client) in &self.calls {
            callers.entry(path).or_default().insert(client);
        }
        let stats: Vec<meshward::inventory::TemplateStats> = callers
            .into_iter()
            .map(|(path, clients)| meshward::inventory::TemplateStats {
                authority: "shop.example".into(),
                method: "GET".into(),
                path_template: path.into(),
                calls: clients.len() as u64,
                first_seen_ms: 1_790_000_000_000,
                last_seen_ms: 1_790_000_000_000,
                statuses: vec![200],
                callers: clients.len() as u64,
                auth: vec![String::new()],
                ..Default::default()
            })
            .collect();
        let keys: Vec<_> = stats.iter().map(meshward::inventory::callers::TemplateKey::of).collect();
        let discovered = meshward::inventory::build(stats, meshward_core::DiscoveryConfig::default());
        (meshward::inventory::callers::queries(db, &keys, &discovered), discovered)
    }
}

const CALLERS_DB: &str = "meshward_callers";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_counts_a_client_once_per_endpoint_on_clickhouse_18_16() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("sql_callers")?;
    let server = ClickHouse::start(&dir).await?;
    server.query(&format!("CREATE DATABASE {CALLERS_DB}")).await?;
    for sql in statements(CALLERS_DB).into_iter().chain([CallerFixture::new().insert(CALLERS_DB)]) {
        server.query(&sql).await?;
    }
    let config =
        meshward::config::ClickHouseConfig { url: server.url(), database: CALLERS_DB.into(), ..Default::default() };
    let client = meshward::store::connect(&config);
    let pins = meshward::inventory::Pins::default();
    let endpoints = meshward::inventory::endpoints(&client, &config.url, CALLERS_DB, &pins, None).await?;
    let listed: Vec<(&str, u64)> = endpoints.iter().map(|e| (e.template.as_str(), e.callers)).collect();
    assert_eq!(listed, CallerFixture::EXPECTED);
    Ok(())
}

#[test]
fn inventory_counts_a_client_once_per_endpoint_on_current_clickhouse() -> anyhow::Result<()> {
    let fixture = CallerFixture::new();
    let (planned, discovered) = fixture.plan(CALLERS_DB);
    anyhow::ensure!(planned.queries.len() == 1 && planned.too_large.is_empty(), "{planned:?}");
    let query = &planned.queries[0];
    // the organisations by their shape less the literal, the teams by their list
    anyhow::ensure!(query.contains("NOT IN ('/org/me/members')") && query.contains("IN ('/teams/acme'"), "{query}");
    let mut all = vec![format!("CREATE DATABASE {CALLERS_DB}")];
    all.extend(statements(CALLERS_DB));
    all.push(fixture.insert(CALLERS_DB));
    for (template, callers) in CallerFixture::EXPECTED {
        let index = discovered.iter().position(|d| d.endpoint.template == template);
        let Some(index) = index else { anyhow::bail!("{template} not discovered: {discovered:?}") };
        if discovered[index].rows.len() > 1 {
            let id = index + 1;
            all.push(format!(
                "-- expect rows ({template}: {callers})\nSELECT * FROM ({query}) WHERE endpoint = {id} AND callers = {callers}"
            ));
        }
    }
    run_on_chdb("sql_callers_chdb", &all)
}
