//! `meshward-stack`: runs the local stack (ClickHouse, collector, sample API, Envoy with the
//! filter) for the demo and for exploring. `make demo` and `make up` call it.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use meshward_e2e::sample_api::Fault;
use meshward_e2e::stack::{Stack, StackOptions};
use meshward_e2e::traffic;
use std::time::Duration;

/// Run Meshward's local stack: real ClickHouse, collector, and Envoy with the filter in front
/// of a sample API, all on free loopback ports.
#[derive(Debug, Parser)]
#[command(name = "meshward-stack")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start everything, drive realistic traffic through Envoy, print what landed, stop.
    Demo {
        /// Requests to send.
        #[arg(long, default_value_t = 500)]
        requests: usize,
    },
    /// Start everything and keep it running until interrupted (SIGINT/SIGTERM).
    Up {
        /// Write the connection details here as KEY=value lines once the stack is up.
        #[arg(long)]
        info_file: Option<std::path::PathBuf>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Demo { requests } => demo(requests).await,
        Command::Up { info_file } => up(info_file).await,
    }
}

/// Requests with an SQL injection, an XSS probe, a path traversal and a card number in a body.
async fn demo_attacks(stack: &Stack) -> Result<usize> {
    let url = stack.envoy.url();
    let token = format!("Bearer {}", meshward_e2e::traffic::SECRET_TOKEN);
    let requests = [
        stack.client.get(format!("{url}/api/products?category=tools%27%20OR%20%271%27%3D%271")),
        stack.client.get(format!("{url}/api/products?category=%3Cscript%3Ealert(1)%3C%2Fscript%3E")),
        stack.client.get(format!("{url}/api/products/..%2F..%2Fetc%2Fpasswd")),
        stack.client.post(format!("{url}/api/orders")).header("authorization", &token).json(&serde_json::json!({
            "items": [{"sku": "SKU-000123", "qty": 1}],
            "payment": {"card_number": "4111 1111 1111 1111", "holder": "Ann O'Brien"}
        })),
    ];
    let n = requests.len();
    for request in requests {
        request.send().await.context("sending a demo request through Envoy")?;
    }
    Ok(n)
}

/// Blocks a scanner with `meshward block add` and shows every sidecar answering 403 for it.
async fn demo_block(stack: &Stack) -> Result<()> {
    let api = format!("http://127.0.0.1:{}", stack.collector.api_port);
    let args = ["block", "add", "--header-regex", "user-agent=(?i)sqlmap", "--reason", "scanner seen in the demo"];
    let shown: Vec<String> =
        args.iter().map(|a| if a.contains([' ', '(', '?']) { format!("'{a}'") } else { (*a).to_owned() }).collect();
    println!("\nBlocking a scanner: meshward {} --api {api} --token ...", shown.join(" "));
    print!("{}", stack.meshward(&args, meshward_e2e::API_ADMIN_TOKEN)?);
    let started = std::time::Instant::now();
    let url = format!("{}/api/products", stack.envoy.url());
    let scanner = || stack.client.get(&url).header("user-agent", "sqlmap/1.8").send();
    let body = meshward_e2e::process::wait_for("the block to reach Envoy", Duration::from_secs(15), || async {
        let response = scanner().await.ok()?;
        (response.status().as_u16() == 403).then_some(())?;
        response.text().await.ok()
    })
    .await?;
    let browser = stack.client.get(&url).header("user-agent", "Mozilla/5.0").send().await?.status();
    println!(
        "after {} ms Envoy answers the scanner 403 {} ; a browser still gets {}",
        started.elapsed().as_millis(),
        body.trim(),
        browser.as_u16()
    );
    Ok(())
}

/// Sends requests through Envoy one after another and says what they stand for.
async fn incident(what: &str, requests: Vec<reqwest::RequestBuilder>) -> Result<()> {
    let n = requests.len();
    for request in requests {
        request.send().await.with_context(|| format!("sending {what} through Envoy"))?;
    }
    println!("  {n:>4} requests: {what}");
    Ok(())
}

/// Every kind of alert from traffic through Envoy. The baselines need hours of history, which
/// a demo does not have: the demo's own traffic is copied into the past eight hours (synthetic
/// timestamps, straight into ClickHouse) and the sample API's spec is uploaded; then one incident
/// of each kind goes through Envoy and the detectors, every 2 s, raise the alerts.
async fn demo_alerts(stack: &Stack) -> Result<()> {
    let db = stack.db();
    let host = stack
        .clickhouse
        .query(&format!("SELECT any(authority) FROM {db}.events WHERE request_id LIKE 'demo-%' FORMAT TSV"))
        .await?
        .trim()
        .to_owned();
    let rows = stack.backfill_history("demo-", 8, 30).await?;
    println!(
        "\nHistory for the baselines: the demo's traffic copied into each of the past 8 hours, 30 times an hour \
         ({rows} events with synthetic timestamps)."
    );
    // the spec after the history: a parameter the spec leaves out but the history has is not new
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sample-api.openapi.yaml");
    print!(
        "\nUploading the sample API's OpenAPI document for {host}: {}",
        stack.meshward(&["spec", "upload", spec, "--host", &host], meshward_e2e::API_ADMIN_TOKEN)?
    );
    println!("\nIncidents, through Envoy:");
    let url = stack.envoy.url();
    let client = &stack.client;
    let bearer = |who: &str| format!("Bearer {}{who}", traffic::SECRET_TOKEN);
    let login = |from: String| {
        client
            .post(format!("{url}/api/login"))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({"username": "alice", "password": "guess"}))
    };
    incident(
        "one address guesses passwords (credential_stuffing)",
        (0..12).map(|_| login("203.0.113.9".into())).collect(),
    )
    .await?;
    incident(
        "fifteen addresses guess three times each (distributed_stuffing)",
        (0..45).map(|i| login(format!("192.0.2.{}", 10 + i % 15))).collect(),
    )
    .await?;
    incident(
        "one caller walks through 60 order ids (enumeration)",
        (0..60)
            .map(|i| {
                client
                    .get(format!("{url}/api/orders/3fa85f64-5717-4562-b3fc-{:012}", 900_000 + i))
                    .header("authorization", bearer("scraper"))
            })
            .collect(),
    )
    .await?;
    incident(
        "profiles with ?expand=payment return the card on file (data_exposure, undocumented_parameter)",
        (0..5)
            .map(|i| {
                client.get(format!("{url}/api/users/{}?expand=payment", 10 + i)).header("authorization", bearer("00"))
            })
            .collect(),
    )
    .await?;
    incident(
        "profiles with ?include=friends return 40 more addresses each (sensitive_rise)",
        (0..25)
            .map(|i| {
                client.get(format!("{url}/api/users/{}?include=friends", 20 + i)).header("authorization", bearer("01"))
            })
            .collect(),
    )
    .await?;
    incident(
        "the documented monthly report is called for the first time (new_endpoint)",
        (0..5).map(|_| client.get(format!("{url}/api/reports/monthly"))).collect(),
    )
    .await?;
    incident(
        "an export the spec does not know answers (shadow_endpoint)",
        (0..5).map(|_| client.get(format!("{url}/api/internal/export"))).collect(),
    )
    .await?;
    incident(
        "product reads at many times their usual rate (rate_spike)",
        (0..300).map(|i| client.get(format!("{url}/api/products?category=tools&page={}", i % 5 + 1))).collect(),
    )
    .await?;
    let fault = |prefix: &str, delay_ms, fail_every| {
        stack.api.chaos.set(Some(Fault { prefix: prefix.into(), delay_ms, fail_every }));
    };
    fault("/api/products/", 0, 1);
    let failing = incident(
        "the product service is down and answers 503 (error_spike)",
        (0..30).map(|i| client.get(format!("{url}/api/products/SKU-{i:06}"))).collect(),
    )
    .await;
    fault("/api/users/me", 300, 0);
    let slow = incident(
        "the profile service answers in 300 ms (latency_spike)",
        (0..12).map(|_| client.get(format!("{url}/api/users/me")).header("authorization", bearer("02"))).collect(),
    )
    .await;
    stack.api.chaos.set(None);
    failing?;
    slow?;
    println!("  (and the injections sent earlier: attack_burst)");
    let kinds = meshward::detect::rules::KINDS;
    println!("\nThe detectors run every 2 s; waiting for all {} kinds of alert...", kinds.len());
    let table = meshward_e2e::process::wait_for("an alert of every kind", Duration::from_secs(90), || async {
        let text = stack.meshward(&["alerts", "list"], meshward_e2e::API_READ_TOKEN).ok()?;
        kinds.iter().all(|k| text.contains(k.as_str())).then_some(text)
    })
    .await?;
    println!("meshward alerts list:\n\n{table}");
    // one alert per line
    let listed = stack.meshward(&["alerts", "list", "--json"], meshward_e2e::API_READ_TOKEN)?;
    let alerts: Vec<serde_json::Value> = listed.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    for kind in ["rate_spike", "sensitive_rise"] {
        let id = alerts.iter().find(|a| a["kind"] == kind).and_then(|a| a["id"].as_str());
        if let Some(id) = id {
            println!(
                "meshward alerts show {id}:\n{}",
                stack.meshward(&["alerts", "show", id], meshward_e2e::API_READ_TOKEN)?
            );
        }
    }
    Ok(())
}

async fn demo(requests: usize) -> Result<()> {
    eprintln!("starting ClickHouse, the collector, the sample API and Envoy with the Meshward filter...");
    let mut options = StackOptions::new("demo");
    // detectors every 2 s, with thresholds a short demo reaches
    options.collector_extra_config =
        "detect:\n  interval_s: 2\n  window_s: 300\n  stuffing_min_failures: 10\n  stuffing_spread_failures: 40\n  \
         stuffing_spread_sources: 10\n  enumeration_min_objects: 30\n  attack_burst_min: 3\n  error_min_requests: 10\n  \
         new_endpoint_min_calls: 3\n  undocumented_parameter_min_calls: 3\n"
            .to_owned();
    // one proxy in front of the sidecar: the incidents' x-forwarded-for names their client
    options.filter_config["trusted_proxies"] = serde_json::json!(1);
    let stack = Stack::start(options).await.context("starting the stack")?;
    eprintln!("sending {requests} requests through Envoy at {}", stack.envoy.url());
    let bar = ProgressBar::new(requests as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} requests {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut sent = Vec::new();
    for chunk in traffic::plan(requests, "demo").chunks(50) {
        sent.extend(traffic::send(&stack.client, &stack.envoy.url(), chunk.to_vec(), 8).await);
        bar.inc(chunk.len() as u64);
    }
    bar.finish();
    let ok = sent.iter().filter(|s| s.status == s.planned.status).count();
    // and a few requests an attacker or a careless client sends
    let extra = demo_attacks(&stack).await?;
    eprintln!(
        "{ok}/{requests} answered as expected, plus {extra} suspicious ones; waiting for the events in ClickHouse..."
    );
    stack.wait_for_events((requests + extra) as u64, Duration::from_secs(60)).await?;
    println!("\nEvents per endpoint template and status, read back from ClickHouse ({}.events):\n", stack.db());
    println!("{}", stack.summary().await?);
    // the inventory over those events: attack paths count on the endpoint they hit
    println!("\nThe API inventory: meshward endpoints --api ... --token ...\n");
    println!("{}", stack.meshward(&["endpoints"], meshward_e2e::API_READ_TOKEN)?);
    // each worker pushes its counters to Envoy on its tick, so the last acknowledgements show a
    // moment after the events are in ClickHouse
    let sent = (requests + extra) as u64;
    let acked = meshward_e2e::process::wait_for("the filter's acknowledged count", Duration::from_secs(5), || async {
        stack.envoy.stat("wasmcustom.meshward.events_acked").await.ok().filter(|acked| *acked >= sent)
    })
    .await;
    let acked = match acked {
        Ok(acked) => acked,
        Err(_) => stack.envoy.stat("wasmcustom.meshward.events_acked").await?,
    };
    println!(
        "Filter stats: captured {} · acknowledged {acked} · dropped {}",
        stack.envoy.stat("wasmcustom.meshward.events_captured").await?,
        stack.envoy.stat("wasmcustom.meshward.events_dropped_buffer_full").await?
    );
    println!("\nSample body schema of POST /api/orders (field paths and types, no values):");
    println!("{}", stack.request_body_fields("POST", "/api/orders").await?);
    println!("\nWhat the filter found inside the sidecar (class and place only; the values never left it):\n");
    println!("{}", stack.findings().await?);
    demo_block(&stack).await?;
    demo_alerts(&stack).await?;
    eprintln!("stopping everything (logs and data stay in {})", stack.dir.display());
    Ok(())
}

async fn up(info_file: Option<std::path::PathBuf>) -> Result<()> {
    let stack = Stack::start(StackOptions::new("up")).await.context("starting the stack")?;
    let info = format!(
        "ENVOY_URL={envoy}\nENVOY_ADMIN_URL={admin}\nCOLLECTOR_API_URL=http://127.0.0.1:{api}\nCOLLECTOR_GRPC=127.0.0.1:{grpc}\n\
         CLICKHOUSE_URL={ch}\nCLICKHOUSE_SQL_SHELL=clickhouse-client --host 127.0.0.1 --port {tcp} --database {db}\n\
         INGEST_TOKEN={token}\nMESHWARD_API_URL=http://127.0.0.1:{api}\nMESHWARD_API_TOKEN={admin_token}\nSTACK_DIR={dir}\n",
        envoy = stack.envoy.url(),
        admin = stack.envoy.admin_url(),
        api = stack.collector.api_port,
        grpc = stack.collector.grpc_port,
        ch = stack.clickhouse.url(),
        tcp = stack.clickhouse.tcp_port,
        db = stack.db(),
        token = meshward_e2e::TEST_TOKEN,
        admin_token = meshward_e2e::API_ADMIN_TOKEN,
        dir = stack.dir.display(),
    );
    if let Some(path) = info_file {
        std::fs::write(&path, &info).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{info}");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("stopping the stack");
    drop(stack);
    Ok(())
}
