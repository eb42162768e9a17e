//! End to end: real Envoy running the built filter, real collector, real ClickHouse.
//! Each test starts its own stack (own ports, folders and database) and stops it.

use meshward_e2e::stack::{Stack, StackOptions};
use meshward_e2e::traffic::{SECRET_API_KEY, SECRET_TOKEN};
use std::collections::HashMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn tsv_rows(body: &str) -> Vec<Vec<String>> {
    body.lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_becomes_one_row_with_its_details() -> anyhow::Result<()> {
    let stack = Stack::start(StackOptions::new("rows")).await?;
    let sent = stack.send_expecting(300, "rows", 8).await?;
    stack.wait_for_events(300, WAIT).await?;
    let body = stack
        .clickhouse
        .query(&format!(
            "SELECT request_id, method, path_template, status, arrayStringConcat(request_body_fields.path, ','), \
             workload, caller_id_source, length(caller_id), namespace, inspected, inspection_weight \
             FROM {}.events FORMAT TSV",
            stack.db()
        ))
        .await?;
    let rows: HashMap<String, Vec<String>> = tsv_rows(&body).into_iter().map(|r| (r[0].clone(), r)).collect();
    assert_eq!(rows.len(), 300, "one row per request");
    assert_eq!(stack.event_count().await?, 300);
    // each batch's report from its filter VM: what it carried, nothing dropped
    let reports = stack
        .clickhouse
        .query(&format!(
            "SELECT sum(events), max(dropped_buffer_full + dropped_too_large), uniqExact(source_id) \
             FROM {}.filter_reports FINAL FORMAT TSV",
            stack.db()
        ))
        .await?;
    let reports: Vec<&str> = reports.trim().split('\t').collect();
    assert_eq!(reports[..2], ["300", "0"], "{reports:?}");
    assert!(reports[2].parse::<u32>().unwrap_or(0) >= 1);
    // bodies are read for the exchanges the inspection budget chose: the first of each endpoint
    // variant in the window among them, so every template shows its fields
    let mut inspected_templates = std::collections::HashSet::new();
    let mut weights = 0.0;
    for s in &sent {
        let p = &s.planned;
        let row = rows.get(&p.request_id).ok_or_else(|| anyhow::anyhow!("no row for {}", p.request_id))?;
        assert_eq!(row[1], p.method, "{}", p.request_id);
        assert_eq!(row[2], p.template, "{} {}", p.request_id, p.path);
        assert_eq!(row[3], p.status.to_string(), "{}", p.request_id);
        let fields: Vec<&str> = row[4].split(',').filter(|f| !f.is_empty()).collect();
        let weight: f64 = row[10].parse()?;
        if row[9] == "1" {
            inspected_templates.insert(p.template);
            weights += weight;
            assert!(weight >= 1.0, "{}: an inspected event stands for itself at least", p.request_id);
            for want in p.request_fields {
                assert!(fields.contains(want), "{} {}: {want} missing from {fields:?}", p.method, p.path);
            }
        } else {
            assert!(fields.is_empty() && weight == 0.0, "{}: a metadata-only event has no body data", p.request_id);
        }
        assert_eq!((row[5].as_str(), row[8].as_str()), ("sample-api", "demo"));
        if p.bearer.is_some() {
            assert_eq!((row[6].as_str(), row[7].as_str()), ("bearer", "32"));
        } else if p.api_key.is_some() {
            assert_eq!(row[6], "api_key");
        }
    }
    let templates: std::collections::HashSet<&str> = sent.iter().map(|s| s.planned.template).collect();
    assert_eq!(inspected_templates, templates, "every endpoint had exchanges inspected");
    // the weights of the inspected events estimate all of them (300 here)
    assert!((200.0..=400.0).contains(&weights), "inspected events stand for {weights} exchanges of 300");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_tokens_and_api_keys_never_reach_clickhouse() -> anyhow::Result<()> {
    let stack = Stack::start(StackOptions::new("secrets")).await?;
    stack.send_expecting(100, "secrets", 4).await?;
    stack.wait_for_events(100, WAIT).await?;
    let dump = stack.clickhouse.query(&format!("SELECT * FROM {}.http_events FORMAT TSV", stack.db())).await?;
    assert!(dump.lines().count() >= 100);
    for secret in [SECRET_TOKEN, SECRET_API_KEY, &SECRET_TOKEN[8..], "correct-horse-battery"] {
        assert!(!dump.contains(secret), "a raw secret reached ClickHouse: {secret}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collector_outage_keeps_traffic_flowing_and_events_arrive_later() -> anyhow::Result<()> {
    let mut stack = Stack::start(StackOptions::new("collector_down")).await?;
    stack.send_expecting(50, "before", 4).await?;
    stack.wait_for_events(50, WAIT).await?;

    stack.collector.stop();
    // Envoy must keep answering with the collector down
    stack.send_expecting(200, "during", 4).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stack.collector.start_again().await?;
    stack.wait_for_events(250, WAIT).await?;
    assert_eq!(stack.event_count().await?, 250);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_acknowledgement_loses_nothing() -> anyhow::Result<()> {
    let mut options = StackOptions::new("kill9");
    // Hold rows in the spool long enough that the kill surely lands before the INSERT.
    options.writer_max_delay_ms = 30_000;
    let mut stack = Stack::start(options).await?;
    stack.send_expecting(400, "kill9", 8).await?;
    meshward_e2e::process::wait_for("the collector to acknowledge 400 events", WAIT, || async {
        (stack.envoy.stat("wasmcustom.meshward.events_acked").await.ok()? >= 400).then_some(())
    })
    .await?;
    assert_eq!(stack.event_count().await?, 0, "rows must still be in the spool only");
    stack.collector.kill9();
    stack.collector.options.writer_max_delay_ms = 200;
    stack.collector.start_again().await?;
    stack.wait_for_events(400, WAIT).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stack.event_count().await?, 400);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_outage_of_ten_seconds_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let mut stack = Stack::start(StackOptions::new("ch_down")).await?;
    stack.send_expecting(100, "first", 4).await?;
    stack.wait_for_events(100, WAIT).await?;

    stack.clickhouse.kill9();
    let started = std::time::Instant::now();
    stack.send_expecting(300, "during", 4).await?;
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(started.elapsed())).await;
    stack.clickhouse.restart().await?;

    stack.wait_for_events(400, WAIT).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let db = stack.db();
    assert_eq!(stack.event_count().await?, 400);
    let distinct = stack.clickhouse.count(&format!("SELECT uniqExact(event_id) FROM {db}.events")).await?;
    let ids = stack.clickhouse.count(&format!("SELECT uniqExact(request_id) FROM {db}.events")).await?;
    assert_eq!((distinct, ids), (400, 400));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_spool_pushes_back_and_loses_nothing() -> anyhow::Result<()> {
    let mut options = StackOptions::new("spool_full");
    options.spool_segment_bytes = 1 << 20;
    options.spool_max_bytes = 2 << 20;
    let mut stack = Stack::start(options).await?;
    stack.clickhouse.kill9();
    // ~6,000 events (about 3 MB) are more than the 2 MiB spool holds while ClickHouse is down
    stack.send_expecting(6000, "full", 16).await?;
    meshward_e2e::process::wait_for("the collector to refuse a batch for a full spool", WAIT, || async {
        let metrics = stack.collector.metrics().await.ok()?;
        metrics
            .lines()
            .any(|l| l.starts_with("meshward_ingest_refused_full_total ") && !l.ends_with(" 0"))
            .then_some(())
    })
    .await?;
    stack.clickhouse.restart().await?;
    stack.wait_for_events(6000, Duration::from_secs(90)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stack.event_count().await?, 6000);
    assert_eq!(stack.envoy.stat("wasmcustom.meshward.events_dropped_buffer_full").await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filter_configuration_fails_open() -> anyhow::Result<()> {
    let mut options = StackOptions::new("bad_config");
    options.filter_config = serde_json::json!({"flush_interval": 5, "collector_token": meshward_e2e::TEST_TOKEN});
    let stack = Stack::start(options).await?;
    stack.send_expecting(50, "badcfg", 4).await?;
    meshward_e2e::process::wait_for("the filter to count its configuration error", WAIT, || async {
        (stack.envoy.stat("wasmcustom.meshward.config_errors").await.ok()? >= 1).then_some(())
    })
    .await?;
    assert!(stack.envoy.log_tail().contains("unknown field `flush_interval`"), "the log says what is wrong");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_peer_principal_is_recorded() -> anyhow::Result<()> {
    let certs = meshward_e2e::certs::make(&meshward_e2e::process::fresh_dir("certs")?)?;
    let mut options = StackOptions::new("mtls");
    options.mtls = Some(certs.envoy_files());
    let stack = Stack::start(options).await?;
    let port = stack.envoy.listen_port;
    let output = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", &format!("localhost:{port}:127.0.0.1")])
        .arg("--cacert")
        .arg(&certs.ca)
        .arg("--cert")
        .arg(&certs.client_cert)
        .arg("--key")
        .arg(&certs.client_key)
        .args(["-H", "x-request-id: mtls-1", &format!("https://localhost:{port}/api/products/SKU-000001")])
        .output()?;
    assert_eq!(String::from_utf8_lossy(&output.stdout), "200", "{}", String::from_utf8_lossy(&output.stderr));
    stack.wait_for_events(1, WAIT).await?;
    let row = stack
        .clickhouse
        .query(&format!(
            "SELECT scheme, peer_principal, path_template FROM {}.events WHERE request_id = 'mtls-1' FORMAT TSV",
            stack.db()
        ))
        .await?;
    assert_eq!(row.trim(), format!("https\t{}\t/api/products/{{product_id}}", meshward_e2e::certs::CLIENT_SPIFFE_ID));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_command_lists_the_inventory() -> anyhow::Result<()> {
    let mut options = StackOptions::new("inventory");
    options.collector_extra_config = "inventory:\n  status_interval_s: 1\n".to_owned();
    let stack = Stack::start(options).await?;
    stack.send_expecting(200, "inv", 4).await?;
    // GraphQL through Envoy: the filter reads the operation from the body
    for query in ["query GetUser { user(id: 1) { id } }", "mutation CreateOrder { createOrder { id } }"] {
        stack
            .client
            .post(format!("{}/graphql", stack.envoy.url()))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "query": query }).to_string())
            .send()
            .await?;
    }
    stack.wait_for_events(202, WAIT).await?;
    let config = stack.collector.dir.join("meshward.yaml");
    let run = |extra: &[&str]| -> anyhow::Result<String> {
        let output = std::process::Command::new(meshward_e2e::collector::collector_binary()?)
            .arg("endpoints")
            .arg("--config")
            .arg(&config)
            .args(extra)
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "meshward endpoints failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?)
    };
    let table = run(&[])?;
    for endpoint in
        ["/api/users/{user_id}", "/api/users/{user_id}/orders", "/api/users/me", "/api/orders/{order_id}", "/api/login"]
    {
        assert!(
            table.lines().any(|l| l.split_whitespace().nth(2) == Some(endpoint)),
            "{endpoint} missing from:\n{table}"
        );
    }
    let users: Vec<serde_json::Value> = run(&["--json"])?
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["template"] == "/api/users/{user_id}" && e["method"] == "GET")
        .collect();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["calls"], 60, "40 authorised and 20 refused calls in 200 planned requests");
    assert_eq!(users[0]["statuses"], serde_json::json!([200, 401]));
    assert_eq!(users[0]["auth"], serde_json::json!(["bearer", "none"]));
    let operations: Vec<String> = run(&["--json"])?
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["template"] == "/graphql")
        .filter_map(|e| e["operation"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(operations, ["mutation CreateOrder", "query GetUser"], "one endpoint per GraphQL operation");

    // against the spec the sample API's team wrote
    let spec = meshward_e2e::workspace_root().join("tests/fixtures/sample-api.openapi.yaml");
    let spec = spec.to_string_lossy();
    let table = run(&["--spec", &spec])?;
    let status_of = |template: &str, method: &str| {
        table
            .lines()
            .find(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                cells.get(1) == Some(&method) && cells.get(2) == Some(&template)
            })
            .and_then(|l| l.split_whitespace().nth(4).map(str::to_owned))
    };
    assert_eq!(status_of("/api/users/{id}", "GET").as_deref(), Some("documented"), "the spec's path wins: {table}");
    assert_eq!(status_of("/api/users/me", "GET").as_deref(), Some("deprecated"), "{table}");
    assert_eq!(status_of("/api/orders", "POST").as_deref(), Some("shadow"), "{table}");
    assert!(table.contains("zombie operations") && table.contains("GET /api/reports/monthly"), "{table}");

    // the reconstructed spec is valid OpenAPI 3.1 (the default) and 3.0 (on request)
    let host = users[0]["host"].as_str().unwrap_or_default().to_owned();
    for (extra, version) in [(&[][..], "3.1.0"), (&["--openapi-version", "3.0"][..], "3.0.3")] {
        let exported = run(&[&["--host", host.as_str(), "--openapi"][..], extra].concat())?;
        let doc: serde_json::Value = serde_json::from_str(&exported)?;
        assert_eq!(doc["openapi"], version);
        assert!(doc["paths"]["/api/users/{user_id}"]["get"]["responses"]["200"].is_object(), "{exported}");
        let file = stack.dir.join(format!("exported-{version}.openapi.json"));
        std::fs::write(&file, &exported)?;
        meshward_e2e::validate_openapi(&file)?;
    }

    // the same over the HTTP API and `meshward spec`: a read token cannot upload, an admin one can
    let api = format!("http://127.0.0.1:{}", stack.collector.api_port);
    let spec_cli = |token: &str, args: &[&str]| -> anyhow::Result<std::process::Output> {
        Ok(std::process::Command::new(meshward_e2e::collector::collector_binary()?)
            .args(["spec", "--api", &api, "--token", token])
            .args(args)
            .output()?)
    };
    let denied = spec_cli(meshward_e2e::API_READ_TOKEN, &["upload", &spec, "--host", &host])?;
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("403"), "{}", String::from_utf8_lossy(&denied.stderr));
    let uploaded = spec_cli(meshward_e2e::API_ADMIN_TOKEN, &["upload", &spec, "--host", &host])?;
    assert!(uploaded.status.success(), "{}", String::from_utf8_lossy(&uploaded.stderr));
    assert!(String::from_utf8_lossy(&uploaded.stdout).contains("5 operations"));
    let checked = spec_cli(meshward_e2e::API_READ_TOKEN, &["check", "--host", &host])?;
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    assert!(report.contains("POST    /api/orders") && report.contains("GET     /api/reports/monthly"), "{report}");
    // the collector writes the same standing into ClickHouse for dashboards and SQL
    let standing = meshward_e2e::process::wait_for("the inventory standing in ClickHouse", WAIT, || async {
        let sql = format!(
            "SELECT method, template, status FROM {db}.inventory_status \
             WHERE computed_ms = (SELECT max(computed_ms) FROM {db}.inventory_status) ORDER BY template, method FORMAT TSV",
            db = stack.db()
        );
        stack.clickhouse.query(&sql).await.ok().filter(|rows| rows.contains("zombie"))
    })
    .await?;
    for row in [
        "POST\t/api/orders\tshadow",
        "GET\t/api/reports/monthly\tzombie",
        "GET\t/api/users/{id}\tdocumented",
        "GET\t/api/users/me\tdeprecated",
    ] {
        assert!(standing.lines().any(|l| l == row), "{row} missing from:\n{standing}");
    }
    // security tests generated from the discovered inventory, through the same API
    let tests_dir = stack.dir.join("generated-tests");
    let generated = std::process::Command::new(meshward_e2e::collector::collector_binary()?)
        .args(["test", "generate", "--from-inventory", &host, "--template", "bola", "--api", &api])
        .args(["--token", meshward_e2e::API_READ_TOKEN, "--out", &tests_dir.to_string_lossy()])
        .output()?;
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let bola = std::fs::read_to_string(tests_dir.join("bola-get-api-users-id.yaml"))?;
    assert!(bola.contains("/api/users/{{id}}") && bola.contains("${MESHWARD_B_ID}"), "{bola}");
    let client = reqwest::Client::new();
    let unauthorized = client.get(format!("{api}/api/v1/endpoints")).send().await?;
    assert_eq!(unauthorized.status().as_u16(), 401);
    let listed: serde_json::Value = client
        .get(format!("{api}/api/v1/endpoints?host={host}"))
        .bearer_auth(meshward_e2e::API_READ_TOKEN)
        .send()
        .await?
        .json()
        .await?;
    assert!(listed["endpoints"].as_array().is_some_and(|e| e.len() >= 5), "{listed}");
    let one = client
        .get(format!("{api}/api/v1/endpoint?host={host}&method=GET&template=/api/users/%7Bid%7D"))
        .bearer_auth(meshward_e2e::API_READ_TOKEN)
        .send()
        .await?;
    assert_eq!(one.status().as_u16(), 200);
    let reconstructed = spec_cli(meshward_e2e::API_READ_TOKEN, &["show", "--host", &host, "--reconstructed"])?;
    assert!(String::from_utf8_lossy(&reconstructed.stdout).contains("\"openapi\": \"3.1.0\""));
    let older = spec_cli(
        meshward_e2e::API_READ_TOKEN,
        &["show", "--host", &host, "--reconstructed", "--openapi-version", "3.0"],
    )?;
    assert!(String::from_utf8_lossy(&older.stdout).contains("\"openapi\": \"3.0.3\""));
    let unknown = client
        .get(format!("{api}/api/v1/specs/{host}/reconstructed?openapi_version=2.0"))
        .bearer_auth(meshward_e2e::API_READ_TOKEN)
        .send()
        .await?;
    assert_eq!(unknown.status().as_u16(), 400);

    // pins over the API: `meshward pin` sets one, `meshward endpoints --api` shows its effect
    let cli = |token: &str, args: &[&str]| -> anyhow::Result<std::process::Output> {
        Ok(std::process::Command::new(meshward_e2e::collector::collector_binary()?)
            .args(args)
            .env("MESHWARD_API_URL", &api)
            .env("MESHWARD_API_TOKEN", token)
            .output()?)
    };
    let templates = |token: &str| -> anyhow::Result<Vec<String>> {
        let out = cli(token, &["endpoints", "--json", "--host", &host])?;
        anyhow::ensure!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|e| e["template"].as_str().map(str::to_owned))
            .collect())
    };
    assert!(templates(meshward_e2e::API_READ_TOKEN)?.contains(&"/api/orders/{order_id}".to_owned()));
    let refused = cli(meshward_e2e::API_READ_TOKEN, &["pin", "add", "/api/orders/{order}"])?;
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("403"));
    let pinned = cli(meshward_e2e::API_ADMIN_TOKEN, &["pin", "add", "/api/orders/{order}", "--host", &host])?;
    assert!(pinned.status.success(), "{}", String::from_utf8_lossy(&pinned.stderr));
    let now = templates(meshward_e2e::API_READ_TOKEN)?;
    assert!(
        now.contains(&"/api/orders/{order}".to_owned()) && !now.contains(&"/api/orders/{order_id}".to_owned()),
        "{now:?}"
    );
    let listed = cli(meshward_e2e::API_READ_TOKEN, &["pin", "list"])?;
    assert!(String::from_utf8_lossy(&listed.stdout).contains("/api/orders/{order}  (api)"));
    cli(meshward_e2e::API_ADMIN_TOKEN, &["pin", "rm", "/api/orders/{order}", "--host", &host])?;
    assert!(templates(meshward_e2e::API_READ_TOKEN)?.contains(&"/api/orders/{order_id}".to_owned()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_name_card_numbers_and_injections_without_their_values() -> anyhow::Result<()> {
    let stack = Stack::start(StackOptions::new("detect")).await?;
    let client = reqwest::Client::new();
    let card = "4111 1111 1111 1111";
    let body = serde_json::json!({
        "items": [{"sku": "SKU-000001", "qty": 1}],
        "payment": {"card_number": card, "holder": "Ann O'Brien"},
        "note": "1' OR '1'='1"
    });
    let response = client
        .post(format!("{}/api/orders?coupon=%3Cscript%3Ealert(1)%3C%2Fscript%3E", stack.envoy.url()))
        .header("authorization", format!("Bearer {SECRET_TOKEN}"))
        .header("x-request-id", "detect-1")
        .json(&body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 201);
    let response = client
        .get(format!("{}/api/users/7", stack.envoy.url()))
        .header("authorization", format!("Bearer {SECRET_TOKEN}"))
        .header("x-request-id", "detect-2")
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    stack.wait_for_events(2, WAIT).await?;
    let query = |id: &str| {
        format!(
            "SELECT arrayStringConcat(arrayMap((c, d, p, l) -> concat(c, ' ', toString(d), ' ', p, ' ', l), \
             sensitive.class, sensitive.direction, sensitive.part, sensitive.location), ';'), \
             arrayStringConcat(arrayMap((c, p, l) -> concat(c, ' ', p, ' ', l), attacks.class, attacks.part, attacks.location), ';') \
             FROM {}.events WHERE request_id = '{id}' FORMAT TSV",
            stack.db()
        )
    };
    let row = stack.clickhouse.query(&query("detect-1")).await?;
    let cols: Vec<&str> = row.trim_end().split('\t').collect();
    assert_eq!(cols.len(), 2, "{row}");
    let sensitive: Vec<&str> = cols[0].split(';').collect();
    let attacks: Vec<&str> = cols[1].split(';').collect();
    assert!(sensitive.contains(&"credit_card 1 body $.payment.card_number"), "{sensitive:?}");
    assert!(attacks.contains(&"sqli body $.note"), "{attacks:?}");
    assert!(attacks.contains(&"xss query coupon"), "{attacks:?}");
    assert_eq!(attacks.len(), 2, "nothing else in this request is an attack: {attacks:?}");
    // the response of a user lookup carries an email and a phone number
    let row = stack.clickhouse.query(&query("detect-2")).await?;
    assert!(row.contains("email 2 body $.email") && row.contains("phone 2 body $.phone"), "{row}");
    // the body field schema says which classes each field carried
    let fields = stack
        .clickhouse
        .query(&format!(
            "SELECT arrayStringConcat(arrayMap((p, c) -> concat(p, '=', arrayStringConcat(c, '|')), \
             request_body_fields.path, request_body_fields.sensitive), ',') FROM {}.events \
             WHERE request_id = 'detect-1' FORMAT TSV",
            stack.db()
        ))
        .await?;
    assert!(fields.contains("$.payment.card_number=credit_card"), "{fields}");
    let dump = stack.clickhouse.query(&format!("SELECT * FROM {}.http_events FORMAT TSV", stack.db())).await?;
    for raw in [card, "4111111111111111", "1' OR", "alert(1)"] {
        assert!(!dump.contains(raw), "a raw value reached ClickHouse: {raw}");
    }
    // counters reach Envoy on the filter's next tick
    let deadline = std::time::Instant::now() + WAIT;
    while stack.envoy.stat("wasmcustom.meshward.findings.attack.sqli").await? < 1 {
        assert!(std::time::Instant::now() < deadline, "Envoy never counted the SQL injection");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(stack.envoy.stat("wasmcustom.meshward.findings.sensitive.credit_card").await? >= 1);
    Ok(())
}
