//! The filter in Envoy and `meshward analyze` record an exchange with the same code
//! (`core::recorder`): the same exchanges, sent through Envoy and written to a HAR file as Envoy
//! handed them to the filter, give the same events field for field, apart from ids and timings
//! and what only the sidecar knows (the peer address, the node it runs on).

use anyhow::{bail, Context, Result};
use meshward_e2e::stack::{Stack, StackOptions};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Columns that differ by nature: ids, timings, the connection and the node.
const NOT_COMPARED: &[&str] = &[
    "event_id",
    "ts_ms",
    "ts",
    "reported_ts_ms",
    "duration_us",
    "received_ms",
    "source_id",
    "batch_seq",
    "source_address",
    "source_ip",
    "client_ip",
    "peer_principal",
    "workload",
    "namespace",
];

/// What one test exchange sends: method, path and query, extra headers, JSON body.
struct Send {
    method: &'static str,
    target: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Option<Value>,
}

fn exchanges() -> Vec<Send> {
    let bearer: &'static [(&'static str, &'static str)] = &[("authorization", "Bearer tok-same-event-0123456789")];
    vec![
        Send { method: "GET", target: "/api/users/42", headers: bearer, body: None },
        Send { method: "GET", target: "/api/users/43?expand=orders&fields=email", headers: bearer, body: None },
        Send {
            method: "POST",
            target: "/api/orders",
            headers: bearer,
            body: Some(json!({"items": [{"sku": "SKU-000123", "qty": 2}], "note": "leave at the door",
                              "payment": {"card_number": "4111111111111111"}})),
        },
        Send { method: "GET", target: "/api/products?category=1%27%20OR%20%271%27%3D%271", headers: &[], body: None },
        Send {
            method: "POST",
            target: "/api/login",
            headers: &[("x-api-key", "ak_same_event_key_0001")],
            body: Some(json!({"username": "jane", "password": meshward_e2e::sample_api::PASSWORD})),
        },
        Send {
            method: "GET",
            target: "/api/products/..%2F..%2Fetc%2Fpasswd",
            headers: &[("referer", "https://shop.example/search?q=<script>alert(1)</script>")],
            body: None,
        },
        Send { method: "DELETE", target: "/api/orders/7", headers: bearer, body: None },
        Send {
            method: "GET",
            target: "/api/users/me",
            headers: &[("cookie", "session=abc123; theme=dark")],
            body: None,
        },
        // a JWT: {"sub":"user-9","iss":"shop"}
        Send {
            method: "GET",
            target: "/api/users/9/orders",
            headers: &[("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTkiLCJpc3MiOiJzaG9wIn0.c2ln")],
            body: None,
        },
    ]
}

/// A value of a row as text, so that ClickHouse's and serde's spellings of numbers compare.
fn normalize(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.as_f64().map_or_else(|| n.to_string(), |f| format!("{f}"))),
        Value::Bool(b) => Value::String(if *b { "1" } else { "0" }.to_owned()),
        Value::String(s) => match s.parse::<f64>() {
            Ok(f) if s.bytes().all(|c| c.is_ascii_digit() || c == b'.' || c == b'-') => Value::String(format!("{f}")),
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect()),
        Value::Null => Value::Null,
    }
}

fn compared(row: &Map<String, Value>) -> Map<String, Value> {
    row.iter().filter(|(k, _)| !NOT_COMPARED.contains(&k.as_str())).map(|(k, v)| (k.clone(), normalize(v))).collect()
}

fn strings(row: &Map<String, Value>, column: &str) -> Vec<String> {
    row.get(column)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_and_analyze_record_an_exchange_alike() -> Result<()> {
    let mut options = StackOptions::new("same_event");
    options.envoy_concurrency = 1;
    if let Some(config) = options.filter_config.as_object_mut() {
        config.insert("inspection".into(), json!({"mode": "full"}));
    }
    let identity_key = options.filter_config["identity_hash_key"].as_str().unwrap_or_default().to_owned();
    let stack = Stack::start(options).await?;
    let base = stack.envoy.url();
    let authority = base.trim_start_matches("http://").to_owned();
    // what each exchange sent and got back, by the user agent that marks it
    let mut sent: HashMap<String, (usize, reqwest::header::HeaderMap, u16, String)> = HashMap::new();
    let plan = exchanges();
    for (i, exchange) in plan.iter().enumerate() {
        let agent = format!("meshward-same-event/1 n{i}");
        let method = reqwest::Method::from_bytes(exchange.method.as_bytes())?;
        let mut request =
            stack.client.request(method, format!("{base}{}", exchange.target)).header("user-agent", &agent);
        for (name, value) in exchange.headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = &exchange.body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await?;
        sent.insert(agent, (i, headers, status, body));
    }
    stack.wait_for_events(plan.len() as u64, Duration::from_secs(60)).await?;
    let text = stack.clickhouse.query(&format!("SELECT * FROM {}.events FORMAT JSONEachRow", stack.db())).await?;
    let rows: Vec<Map<String, Value>> =
        text.lines().map(serde_json::from_str).collect::<Result<_, _>>().context("reading the events")?;

    // the HAR: each exchange as the filter saw it (the headers Envoy added included, with
    // the values Envoy gave them)
    let mut entries = Vec::new();
    let mut stored_by_agent: HashMap<String, Map<String, Value>> = HashMap::new();
    for row in &rows {
        let names = strings(row, "request_headers.name");
        let values = strings(row, "request_headers.value");
        let agent =
            names.iter().zip(&values).find(|(n, _)| *n == "user-agent").map(|(_, v)| v.clone()).unwrap_or_default();
        let Some((i, response_headers, status, response_body)) = sent.get(&agent) else {
            bail!("an event no test exchange sent: {row:?}");
        };
        let exchange = &plan[*i];
        let request_id = row["request_id"].as_str().unwrap_or_default();
        let mut har_request_headers = Vec::new();
        for name in &names {
            let value = match name.as_str() {
                "user-agent" => agent.clone(),
                "x-request-id" => request_id.to_owned(),
                "x-forwarded-proto" => "http".to_owned(),
                // the connection manager marks a caller from an internal range (a sidecar does)
                "x-envoy-internal" => "true".to_owned(),
                "accept" => "*/*".to_owned(),
                "content-type" => "application/json".to_owned(),
                "content-length" => exchange.body.as_ref().map(|b| b.to_string().len()).unwrap_or(0).to_string(),
                other => match exchange.headers.iter().find(|(n, _)| *n == other) {
                    Some((_, v)) => (*v).to_owned(),
                    None => bail!("Envoy handed the filter a header the test does not know the value of: {other}"),
                },
            };
            har_request_headers.push(json!({"name": name, "value": value}));
        }
        let mut har_response_headers = Vec::new();
        for name in strings(row, "response_headers.name") {
            let Some(value) = response_headers.get(&name).and_then(|v| v.to_str().ok()) else {
                bail!("the filter saw response header {name}, which did not reach the client");
            };
            har_response_headers.push(json!({"name": name, "value": value}));
        }
        let mut request = json!({
            "method": exchange.method,
            "url": format!("http://{authority}{}", exchange.target),
            "headers": har_request_headers,
        });
        if let Some(body) = &exchange.body {
            request["postData"] = json!({"mimeType": "application/json", "text": body.to_string()});
        }
        entries.push(json!({
            "startedDateTime": "2026-12-04T12:00:00.000Z",
            "time": 1.0,
            "request": request,
            "response": {"status": status, "headers": har_response_headers,
                         "content": {"mimeType": response_headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or(""),
                                     "text": response_body}},
        }));
        stored_by_agent.insert(agent, row.clone());
    }
    let har = stack.dir.join("same-event.har");
    std::fs::write(
        &har,
        json!({"log": {"version": "1.2", "creator": {"name": "test"}, "entries": entries}}).to_string(),
    )?;
    let output = std::process::Command::new(meshward_e2e::collector::collector_binary()?)
        .args(["analyze", "--format", "events", "--identity-key", &identity_key])
        .arg(&har)
        .output()?;
    anyhow::ensure!(output.status.success(), "analyze failed: {}", String::from_utf8_lossy(&output.stderr));
    let analyzed: Vec<Map<String, Value>> =
        String::from_utf8_lossy(&output.stdout).lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(analyzed.len(), plan.len());
    for event in &analyzed {
        let names = strings(event, "request_headers.name");
        let values = strings(event, "request_headers.value");
        let agent =
            names.iter().zip(&values).find(|(n, _)| *n == "user-agent").map(|(_, v)| v.clone()).unwrap_or_default();
        let stored = stored_by_agent.get(&agent).with_context(|| format!("no stored event for {agent}"))?;
        let (ours, theirs) = (compared(event), compared(stored));
        for (column, value) in &theirs {
            assert_eq!(ours.get(column), Some(value), "{agent}: column {column} differs");
        }
        assert_eq!(ours.len(), theirs.len(), "{agent}: the same columns");
    }
    // the exchanges exercised what they should have: findings, shapes, identities
    for want in ["\"sqli\"", "\"path_traversal\"", "\"credit_card\"", "\"jwt_sub\"", "\"bearer\"", "\"api_key\""] {
        assert!(text.contains(want), "no event shows {want}");
    }
    Ok(())
}
