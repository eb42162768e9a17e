//! `meshward-bench` (`make bench`): measures, side by side in one run,
//! 1. Envoy throughput with no filter, with a no-op wasm filter, with that module making the
//!    Meshward filter's host calls (the floor) and with the Meshward filter (same upstream, 1 and
//!    16 KiB JSON request and response bodies, wrk, interleaved rounds);
//! 2. the collector's end-to-end ingest rate (gRPC -> spool -> ClickHouse) against the ceiling
//!    of inserting the same rows into ClickHouse directly.
//!
//! It prints the results and, with `--write FILE`, writes them with the method as Markdown.

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures::StreamExt;
use meshward::store::{event_row, insert_rows, EventRow};
use meshward_e2e::clickhouse::ClickHouse;
use meshward_e2e::collector::{Collector, CollectorOptions};
use meshward_e2e::envoy::{default_filter_config, Envoy, EnvoyOptions, Filter};
use meshward_e2e::process::{cpu_seconds, fresh_dir};
use meshward_e2e::sample_api::{bench_body, bench_body_16k, SampleApi};
use meshward_proto::ingest_client::IngestClient;
use meshward_proto::{BodyField, EventBatch, Header, HttpEvent};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(name = "meshward-bench", about = "Meshward benchmarks: filter throughput and collector ingest")]
struct Cli {
    /// Seconds per wrk run.
    #[arg(long, default_value_t = 6)]
    duration: u64,
    /// Interleaved rounds per filter configuration (the median is reported).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// wrk connection counts to measure at, comma-separated (1 is latency-bound, 16 saturates Envoy).
    #[arg(long, value_delimiter = ',', default_values_t = [1u32, 16])]
    connections: Vec<u32>,
    /// Events for the ingest benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Concurrent gRPC streams in the ingest benchmark (filters are one stream per worker).
    #[arg(long, default_value_t = 4)]
    streams: usize,
    /// Skip the path templating accuracy report.
    #[arg(long)]
    skip_templating: bool,
    /// Criterion output of `cargo bench -p meshward-core` to summarise in the report.
    #[arg(long)]
    core_bench: Option<PathBuf>,
    /// Write the results as Markdown here.
    #[arg(long)]
    write: Option<PathBuf>,
    /// Skip the Envoy filter benchmark.
    #[arg(long)]
    skip_filter: bool,
    /// Skip the ingest benchmark.
    #[arg(long)]
    skip_ingest: bool,
    /// Skip the block-list benchmark.
    #[arg(long)]
    skip_blocklist: bool,
    /// Events for the detector cost benchmark (a simulated day of them).
    #[arg(long, default_value_t = 10_000_000)]
    detect_events: u64,
    /// Skip the detector cost benchmark.
    #[arg(long)]
    skip_detect: bool,
    /// Skip the `meshward analyze` benchmark.
    #[arg(long)]
    skip_analyze: bool,
    /// Size of the large HAR file for the analyze benchmark, in GiB.
    #[arg(long, default_value_t = 1.0)]
    har_gb: f64,
    /// Extra Meshward filter settings (JSON object merged over the defaults), for experiments.
    #[arg(long)]
    filter_config: Option<String>,
}

/// The row of the no-op module making Meshward's host calls: the floor under the filter's cost.
const HOST_READS: &str = "Envoy + no-op module making Meshward's host calls (the floor)";

struct FilterResult {
    name: &'static str,
    rps: Vec<f64>,
    p99_ms: Vec<f64>,
    rss_mb: f64,
    /// Envoy CPU microseconds per request, per round.
    cpu_us: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}

/// The median over rounds of `a[i] / b[i]`: each round's two runs were seconds apart, so the
/// machine's drift over a run (±15% on these VMs) cancels out of the ratio.
fn paired_ratio(a: &[f64], b: &[f64]) -> f64 {
    let ratios: Vec<f64> = a.iter().zip(b).filter(|(_, b)| **b > 0.0).map(|(a, b)| a / b).collect();
    median(&ratios)
}

fn rss_mb(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else { return 0.0 };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs wrk; returns (requests/s, p99 latency ms).
fn wrk(url: &str, script: &Path, seconds: u64, connections: u32) -> Result<(f64, f64)> {
    let output = Command::new("taskset")
        .args(["-c", "0", "wrk", "-t1"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--latency")
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .context("running wrk (make bench installs it)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    }
    if text.contains("Non-2xx") {
        bail!("wrk saw non-2xx answers:\n{text}");
    }
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{text}"))?;
    let p99 =
        text.lines().find_map(|l| l.trim().strip_prefix("99%")).map(|v| parse_latency_ms(v.trim())).unwrap_or(0.0);
    Ok((rps, p99))
}

fn parse_latency_ms(value: &str) -> f64 {
    let (number, factor) = if let Some(v) = value.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = value.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (value, 1.0)
    };
    number.parse::<f64>().map_or(0.0, |n| n * factor)
}

fn meshward_config(cli: &Cli) -> Result<serde_json::Value> {
    let mut config = default_filter_config();
    if let Some(extra) = &cli.filter_config {
        let extra: serde_json::Value = serde_json::from_str(extra).context("--filter-config must be a JSON object")?;
        if let (Some(base), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
    }
    Ok(config)
}

fn wrk_script(dir: &Path, name: &str, body: &str) -> Result<PathBuf> {
    let script = dir.join(name);
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer bench-token-0123456789\"\n",
            serde_json::to_string(body)?
        ),
    )?;
    Ok(script)
}

fn with_detection_off(config: &serde_json::Value) -> serde_json::Value {
    let mut config = config.clone();
    if let Some(map) = config.as_object_mut() {
        map.insert("detection".into(), serde_json::json!({"sensitive": false, "attacks": false}));
    }
    config
}

/// Interleaved wrk rounds against each Envoy at one load; one row per Envoy. Index 0 of
/// `envoys` is the baseline for "vs first", `noop` the no-op module's index.
#[allow(clippy::too_many_arguments)]
fn filter_rounds(
    cli: &Cli,
    envoys: &[(&'static str, Envoy)],
    path: &str,
    script: &Path,
    connections: u32,
    noop: usize,
    report: &mut String,
) -> Result<()> {
    let mut results: Vec<FilterResult> = envoys
        .iter()
        .map(|(name, _)| FilterResult { name, rps: Vec::new(), p99_ms: Vec::new(), rss_mb: 0.0, cpu_us: Vec::new() })
        .collect();
    for round in 0..cli.rounds {
        for (i, (name, envoy)) in envoys.iter().enumerate() {
            let cpu_before = cpu_seconds(envoy.pid());
            let (rps, p99) = wrk(&format!("{}{path}", envoy.url()), script, cli.duration, connections)?;
            let cpu_us = (cpu_seconds(envoy.pid()) - cpu_before) * 1e6 / (rps * cli.duration as f64).max(1.0);
            eprintln!(
                "{path} c={connections} round {}: {name}: {rps:.0} req/s, p99 {p99:.2} ms, Envoy CPU {cpu_us:.1} µs/request",
                round + 1
            );
            results[i].cpu_us.push(cpu_us);
            results[i].rps.push(rps);
            results[i].p99_ms.push(p99);
        }
    }
    for (i, (_, envoy)) in envoys.iter().enumerate() {
        results[i].rss_mb = rss_mb(envoy.pid());
    }
    let first = median(&results[0].rps);
    let noop_cpu = median(&results[noop].cpu_us);
    writeln!(
        report,
        "| configuration | req/s (median) | runs | p99 ms | vs {} | vs no-op wasm, paired | Envoy CPU µs/request | added vs no-op | Envoy RSS MB |",
        envoys.first().map_or("first row", |(name, _)| name.trim_start_matches("Envoy").trim_start_matches(", ").trim_start_matches(" + "))
    )?;
    writeln!(report, "|---|---:|---|---:|---:|---:|---:|---:|---:|")?;
    for r in &results {
        let m = median(&r.rps);
        let cpu = median(&r.cpu_us);
        writeln!(
            report,
            "| {} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {:+.1} | {:.0} |",
            r.name,
            m,
            r.rps.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(" / "),
            median(&r.p99_ms),
            m / first,
            paired_ratio(&r.rps, &results[noop].rps),
            cpu,
            cpu - noop_cpu,
            r.rss_mb
        )?;
    }
    writeln!(report)?;
    Ok(())
}

async fn start_envoys(
    dir: &Path,
    tag: &str,
    upstream_port: u16,
    configs: Vec<(&'static str, Filter, u16, u16)>,
    warm_path: &str,
    warm_script: &Path,
) -> Result<Vec<(&'static str, Envoy)>> {
    let mut envoys = Vec::new();
    for (i, (name, filter, grpc_port, api_port)) in configs.into_iter().enumerate() {
        let options = EnvoyOptions {
            upstream_port,
            collector_grpc_port: grpc_port,
            collector_api_port: api_port,
            filter,
            concurrency: 1,
            cpu_list: Some("1".into()),
            mtls: None,
        };
        let envoy = Envoy::start(&dir.join(format!("envoy-{tag}-{i}")), &options).await?;
        // warm up (V8 compiles lazily)
        wrk(&format!("{}{warm_path}", envoy.url()), warm_script, 2, 8)?;
        envoys.push((name, envoy));
    }
    Ok(envoys)
}

async fn filter_bench(cli: &Cli, dir: &Path, clickhouse: &ClickHouse, report: &mut String) -> Result<()> {
    let collector =
        Collector::start(&dir.join("collector-filter"), CollectorOptions::new(&clickhouse.url(), "bench_filter"))
            .await?;
    collector.wait_ready().await?;
    let api = SampleApi::start().await?;
    let script = wrk_script(dir, "post.lua", &bench_body())?;
    // Nothing listens on this port: the filter captures and encodes every event, then drops it
    // when its outbox is full, so the collector's CPU is out of the picture.
    let nowhere = meshward_e2e::process::free_port()?;
    let meshward = meshward_config(cli)?;
    // an Envoy shipping to (and fetching block lists from) the benchmark's collector
    let to_collector = |name: &'static str, filter: Filter| (name, filter, collector.grpc_port, collector.api_port);
    // the no-op module, the floor, the filter with and without detection: both body sizes
    let compared = || {
        vec![
            to_collector("Envoy + no-op wasm filter", Filter::Noop),
            to_collector(HOST_READS, Filter::HostReads),
            to_collector("Envoy + Meshward filter", Filter::Meshward { config: meshward.clone() }),
            to_collector(
                "Envoy + Meshward filter, detection off",
                Filter::Meshward { config: with_detection_off(&meshward) },
            ),
        ]
    };
    let mut configs: Vec<(&'static str, Filter, u16, u16)> = vec![to_collector("Envoy, no filter", Filter::None)];
    configs.extend(compared());
    configs.push((
        "Envoy + Meshward filter, no collector (capture only)",
        Filter::Meshward { config: meshward.clone() },
        nowhere,
        collector.api_port,
    ));
    let envoys = start_envoys(dir, "1k", api.port, configs, "/bench", &script).await?;
    writeln!(report, "## Envoy with and without the filter\n")?;
    writeln!(
        report,
        "Envoy 1.40, `--concurrency 1` pinned to CPU 1; wrk (1 thread, {} s per run) and the upstream on CPU 0; \
         `POST /bench` with a 1 KiB JSON body answered by 1 KiB of JSON; {} interleaved rounds per load, median shown; \
         *paired* is the median over rounds of each round's ratio to the no-op module's run of the same round, \
         which cancels the machine's drift over the run. \
         The Meshward filter runs with its default configuration (both detectors on) and ships every event to a real \
         collector and ClickHouse, which also run on CPU 0 and so compete with the load generator; *detection off* \
         is the same filter with `detection: {{sensitive: false, attacks: false}}`; the *capture only* row runs the \
         filter with no collector listening (events are captured and encoded, then dropped once the outbox is \
         full), to separate the two. *The floor* is the no-op module making the host calls the Meshward filter \
         makes with detection off (both header maps, both bodies chunk by chunk, the clock twice, two properties) \
         and discarding the answers: what any filter that records this much pays for crossing into V8 and \
         copying, before its own code runs. *Envoy CPU/request* is Envoy's user+system CPU time over the run divided by the \
         requests served: the cost the filter adds, independent of what else the machine does.\n",
        cli.duration, cli.rounds
    )?;
    for &connections in &cli.connections {
        let load = if connections == 1 { "one connection (latency-bound)" } else { "saturating Envoy's core" };
        writeln!(report, "### 1 KiB bodies, {connections} connection(s): {load}\n")?;
        filter_rounds(cli, &envoys, "/bench", &script, connections, 1, report)?;
    }
    let meshward_envoy = &envoys[3].1;
    let captured = meshward_envoy.stat("wasmcustom.meshward.events_captured").await?;
    let dropped = meshward_envoy.stat("wasmcustom.meshward.events_dropped_buffer_full").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let acked = meshward_envoy.stat("wasmcustom.meshward.events_acked").await?;
    let stored = clickhouse.count("SELECT count() FROM bench_filter.events").await.unwrap_or(0);
    writeln!(
        report,
        "Over all runs the Meshward filter (detection on) captured {captured} events, dropped {dropped} for a full \
         buffer, had {acked} acknowledged (read 3 s later); ClickHouse holds {stored}, from it and the *detection off* \
         filter, which ships to the same collector.\n"
    )?;
    drop(envoys);
    // Large bodies: a 16 KiB JSON request answered by a page of 40 customer records (names,
    // emails, phone numbers, addresses), the bodies detection has to read.
    let script16 = wrk_script(dir, "post16.lua", &bench_body_16k())?;
    let envoys = start_envoys(dir, "16k", api.port, compared(), "/bench16", &script16).await?;
    let connections = cli.connections.iter().copied().max().unwrap_or(16);
    writeln!(
        report,
        "### 16 KiB bodies, {connections} connections: `POST /bench16`, 16 KiB of JSON both ways (customer records)\n"
    )?;
    filter_rounds(cli, &envoys, "/bench16", &script16, connections, 0, report)?;
    Ok(())
}

/// Block lists: the matching cost of 10,000 rules against an empty list (same filter), and the
/// time from creating a rule to Envoy blocking with it.
async fn blocklist_bench(cli: &Cli, dir: &Path, clickhouse: &ClickHouse, report: &mut String) -> Result<()> {
    const RULES: usize = 10_000;
    let empty =
        Collector::start(&dir.join("collector-bl-empty"), CollectorOptions::new(&clickhouse.url(), "bench_bl_empty"))
            .await?;
    let full =
        Collector::start(&dir.join("collector-bl-full"), CollectorOptions::new(&clickhouse.url(), "bench_bl_full"))
            .await?;
    empty.wait_ready().await?;
    full.wait_ready().await?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let full_api = format!("http://127.0.0.1:{}", full.api_port);
    meshward_e2e::blocklist::load_rules(&http, &full_api, &meshward_e2e::blocklist::synthetic_rules(RULES)).await?;
    let api = SampleApi::start().await?;
    let script = wrk_script(dir, "post-bl.lua", &bench_body())?;
    let meshward = meshward_config(cli)?;
    let configs: Vec<(&'static str, Filter, u16, u16)> = vec![
        (
            "Envoy + Meshward filter, empty block list",
            Filter::Meshward { config: meshward.clone() },
            empty.grpc_port,
            empty.api_port,
        ),
        (
            "Envoy + Meshward filter, 10,000 block rules",
            Filter::Meshward { config: meshward.clone() },
            full.grpc_port,
            full.api_port,
        ),
        ("Envoy + no-op wasm filter", Filter::Noop, empty.grpc_port, empty.api_port),
    ];
    let envoys = start_envoys(dir, "bl", api.port, configs, "/bench", &script).await?;
    let loaded = meshward_e2e::process::wait_for("the 10,000-rule list in Envoy", Duration::from_secs(60), || async {
        envoys[1].1.stat("wasmcustom.meshward.blocklist_rules").await.ok().filter(|n| *n == RULES as u64)
    })
    .await;
    loaded?;
    writeln!(report, "## Block lists\n")?;
    writeln!(
        report,
        "The same Meshward filter (default configuration, detection on) with an empty block list and with 10,000 \
         rules loaded: 4,000 single IPv4 addresses, 2,000 IPv4 CIDRs (/16 to /28), 1,000 IPv6 /48s, 2,000 caller \
         identities, 500 principal + path rules and 500 host + method rules. None matches the load (the request \
         from 127.0.0.1 with a bearer token still goes through every index: address, its CIDR prefix lengths, \
         identity, host). Same setup as above: `POST /bench`, 1 KiB both ways, Envoy `--concurrency 1` on CPU 1, \
         {} interleaved rounds, median shown. The goal is at least 0.95 of the empty list.\n",
        cli.rounds
    )?;
    for &connections in &cli.connections {
        let load = if connections == 1 { "one connection (latency-bound)" } else { "saturating Envoy's core" };
        writeln!(report, "### {connections} connection(s): {load}\n")?;
        filter_rounds(cli, &envoys, "/bench", &script, connections, 2, report)?;
    }
    drop(envoys);

    // Propagation, as deployed: Envoy with two workers, the default 2 s fetch interval.
    const TRIES: usize = 40;
    let envoy = Envoy::start(
        &dir.join("envoy-bl-propagation"),
        &EnvoyOptions {
            upstream_port: api.port,
            collector_grpc_port: full.grpc_port,
            collector_api_port: full.api_port,
            filter: Filter::Meshward { config: meshward.clone() },
            concurrency: 2,
            cpu_list: None,
            mtls: None,
        },
    )
    .await?;
    meshward_e2e::process::wait_for("the list in the propagation Envoy", Duration::from_secs(60), || async {
        envoy.stat("wasmcustom.meshward.blocklist_rules").await.ok().filter(|n| *n == RULES as u64)
    })
    .await?;
    let fetches_before = envoy.stat("wasmcustom.meshward.blocklist_fetches").await?;
    let started = Instant::now();
    let times = meshward_e2e::blocklist::propagation_ms(&http, &full_api, &envoy.url(), TRIES).await?;
    let fetch_seconds = started.elapsed().as_secs_f64();
    let fetches = envoy.stat("wasmcustom.meshward.blocklist_fetches").await?.saturating_sub(fetches_before);
    let at = |q: f64| times.get(((times.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    writeln!(
        report,
        "### Propagation: API call to the first blocked request\n\n\
         {TRIES} tries against Envoy with `--concurrency 2` and the default 2 s fetch interval, with the 10,000-rule \
         list loaded (each try adds a rule to it and deletes it after): `POST /api/v1/block-rules`, then a request \
         every 10 ms until one is answered 403. The goal is under 3 s.\n\n\
         | min | p50 | p90 | p99 | max | mean |\n|---:|---:|---:|---:|---:|---:|\n\
         | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |\n",
        at(0.0),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        mean
    )?;
    writeln!(
        report,
        "Envoy's three root contexts (two workers and the main thread) all tick, but one fetch per interval goes \
         out: {fetches} fetches in {fetch_seconds:.0} s, {:.2} per 2 s interval; the other VMs take the list from \
         shared data.\n",
        fetches as f64 / (fetch_seconds / 2.0)
    )?;
    Ok(())
}

/// Writes a HAR file of about `target_bytes`: API calls with JSON bodies (customer records,
/// orders), word-like and numeric IDs, query strings, some with PII and some with injections.
fn write_har(path: &Path, target_bytes: u64) -> Result<u64> {
    use std::io::Write as _;
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(br#"{"log":{"version":"1.2","creator":{"name":"meshward-bench","version":"1"},"entries":["#)?;
    let mut written: u64 = 0;
    let mut i: u64 = 0;
    let names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    while written < target_bytes {
        let id = (i * 7919) % 100_000;
        let (method, url, request_body, response_body) = match i % 5 {
            0 => (
                "GET",
                format!("https://shop.example.com/api/users/{id}/orders?page={}", i % 9),
                String::new(),
                bench_body_16k(),
            ),
            1 => (
                "GET",
                format!("https://shop.example.com/api/org/{}/members", names[(i % 8) as usize]),
                String::new(),
                bench_body(),
            ),
            2 => (
                "POST",
                "https://shop.example.com/api/orders".to_owned(),
                bench_body(),
                format!(r#"{{"id":"{id}","status":"created"}}"#),
            ),
            3 => (
                "GET",
                format!(
                    "https://shop.example.com/api/search?q={}",
                    if i % 50 == 3 { "1%27%20or%20%271%27%3D%271" } else { "red+shoes" }
                ),
                String::new(),
                bench_body(),
            ),
            _ => (
                "GET",
                format!("https://shop.example.com/api/products/SKU-{id:06}"),
                String::new(),
                r#"{"sku":"x","price":9.99}"#.to_owned(),
            ),
        };
        let post = if request_body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::json!({"mimeType": "application/json", "text": request_body})
        };
        let entry = serde_json::json!({
            "startedDateTime": format!("2024-03-15T12:{:02}:{:02}.000Z", (i / 60) % 60, i % 60),
            "time": 12.5,
            "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "Accept", "value": "application/json"},
                                    {"name": "Authorization", "value": format!("Bearer token-{}", i % 97)}],
                        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": request_body.len(),
                        "postData": post},
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                         "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                         "content": {"size": response_body.len(), "mimeType": "application/json", "text": response_body},
                         "redirectURL": "", "headersSize": -1, "bodySize": response_body.len()},
            "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2}
        });
        let text = entry.to_string();
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(text.as_bytes())?;
        written += text.len() as u64 + 1;
        i += 1;
    }
    out.write_all(b"]}}")?;
    out.flush()?;
    Ok(i)
}

/// `meshward analyze` over generated HAR files of two sizes: time and peak memory.
fn analyze_bench(cli: &Cli, dir: &Path, report: &mut String) -> Result<()> {
    let bin = std::env::var("MESHWARD_BIN").unwrap_or_else(|_| "target/release/meshward".into());
    writeln!(report, "## `meshward analyze` over a HAR file\n")?;
    writeln!(
        report,
        "Generated HAR 1.2 files (API calls with 1 to 16 KiB JSON bodies, word-like and numeric IDs, PII in \
         responses, some injections in query strings), analyzed by the release binary with `--format json` into \
         /dev/null, on one core. Peak memory is the process's maximum resident set size (GNU time).\n"
    )?;
    writeln!(report, "| file | entries | seconds | MB/s | peak RSS MB |")?;
    writeln!(report, "|---|---:|---:|---:|---:|")?;
    for mb in [100u64, (cli.har_gb * 1024.0) as u64] {
        let path = dir.join(format!("traffic-{mb}mb.har"));
        let entries = write_har(&path, mb << 20)?;
        let size = std::fs::metadata(&path)?.len();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(&bin)
            .args(["analyze", "--format", "json"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .output()
            .context("running /usr/bin/time meshward analyze (make bench installs GNU time)")?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            bail!("meshward analyze failed: {stderr}");
        }
        let last = stderr.lines().last().unwrap_or_default();
        let mut fields = last.split_whitespace();
        let seconds: f64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let rss_kb: f64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        eprintln!("analyze {mb} MB: {seconds:.1} s, {:.0} MB peak", rss_kb / 1024.0);
        writeln!(
            report,
            "| {:.0} MB | {entries} | {seconds:.1} | {:.0} | {:.0} |",
            size as f64 / 1048576.0,
            size as f64 / 1048576.0 / seconds.max(0.001),
            rss_kb / 1024.0
        )?;
        let _ = std::fs::remove_file(&path);
    }
    writeln!(report)?;
    Ok(())
}

/// A realistic event: a JSON POST with headers, identity and body fields.
fn sample_event(i: u64) -> HttpEvent {
    let mut id = vec![0xab; 8];
    id.extend_from_slice(&i.to_be_bytes());
    let header = |n: &str, v: Option<&str>| Header { name: n.into(), value: v.map(str::to_owned) };
    let field = |p: &str, t: &str| BodyField { path: p.into(), r#type: t.into(), sensitive_classes: Vec::new() };
    HttpEvent {
        event_id: id,
        start_time_ms: 1_790_000_000_000 + i / 10,
        duration_us: 850 + i % 300,
        method: "POST".into(),
        scheme: "http".into(),
        authority: "orders.shop.svc.cluster.local".into(),
        path: format!("/api/users/{}/orders", i % 5000),
        path_template: "/api/users/{id}/orders".into(),
        query_params: vec!["expand".into()],
        request_headers: vec![
            header("content-type", Some("application/json")),
            header("user-agent", Some("okhttp/4.12.0")),
            header("authorization", None),
            header("x-request-id", Some("6f1c2b9e-1f3a-4c7d-9e2b-5a8d7c6b4e3f")),
        ],
        response_headers: vec![header("content-type", Some("application/json")), header("date", None)],
        status: if i.is_multiple_of(17) { 404 } else { 200 },
        request_body_bytes: 1024,
        response_body_bytes: 1024,
        request_total_bytes: 1300,
        response_total_bytes: 1200,
        source_address: "10.0.3.17:51234".into(),
        forwarded_for: vec!["203.0.113.9".into()],
        peer_principal: "spiffe://cluster.local/ns/shop/sa/frontend".into(),
        workload: "orders-v1".into(),
        namespace: "shop".into(),
        request_id: "6f1c2b9e-1f3a-4c7d-9e2b-5a8d7c6b4e3f".into(),
        caller_id: format!("{:032x}", i % 977),
        caller_id_source: "bearer".into(),
        request_body_fields: vec![
            field("$.items", "array"),
            field("$.items[*].sku", "string"),
            field("$.items[*].qty", "integer"),
        ],
        response_body_fields: vec![field("$.id", "string"), field("$.status", "string"), field("$.total", "number")],
        request_content_type: "application/json".into(),
        response_content_type: "application/json".into(),
        protocol: "HTTP/1.1".into(),
        ..Default::default()
    }
}

async fn wait_count(clickhouse: &ClickHouse, sql: &str, n: u64, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if clickhouse.count(sql).await.unwrap_or(0) >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {n} rows ({sql})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ingest_bench(cli: &Cli, dir: &Path, clickhouse: &ClickHouse, report: &mut String) -> Result<()> {
    const BATCH: usize = 500;
    let n = cli.events;
    // Direct-insert ceiling: the same rows, straight into ClickHouse in 50k-row INSERTs.
    let direct_db = "bench_direct";
    let ch_config =
        meshward::config::ClickHouseConfig { url: clickhouse.url(), database: direct_db.into(), ..Default::default() };
    meshward::store::migrate(&ch_config).await?;
    let client = meshward::store::connect(&ch_config);
    let rows: Vec<EventRow> =
        (0..n as u64).filter_map(|i| event_row(sample_event(i), "bench", i / 500 + 1, 0)).collect();
    let started = Instant::now();
    for chunk in rows.chunks(50_000) {
        insert_rows(&client, &ch_config.url, chunk).await?;
    }
    let direct_secs = started.elapsed().as_secs_f64();
    drop(rows);
    eprintln!("direct insert: {n} rows in {direct_secs:.2} s");

    // Through the collector: gRPC streams -> spool (fsync) -> writer -> ClickHouse.
    let mut options = CollectorOptions::new(&clickhouse.url(), "bench_ingest");
    options.spool_max_bytes = 8 << 30;
    let collector = Collector::start(&dir.join("collector-ingest"), options).await?;
    collector.wait_ready().await?;
    let batches: Vec<EventBatch> = (0..n.div_ceil(BATCH))
        .map(|b| EventBatch {
            seq: b as u64 + 1,
            source_id: format!("bench-{}", b % cli.streams),
            events: (b * BATCH..((b + 1) * BATCH).min(n)).map(|i| sample_event(i as u64)).collect(),
            stats: None,
        })
        .collect();
    let mut per_stream: Vec<Vec<EventBatch>> = (0..cli.streams).map(|_| Vec::new()).collect();
    for (i, batch) in batches.into_iter().enumerate() {
        per_stream[i % cli.streams].push(batch);
    }
    let endpoint = format!("http://127.0.0.1:{}", collector.grpc_port);
    let cpu_before =
        (cpu_seconds(collector.pid()), cpu_seconds(clickhouse.pid()), cpu_seconds(Some(std::process::id())));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for batches in per_stream {
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = IngestClient::connect(endpoint).await?.max_decoding_message_size(16 << 20);
            let count = batches.len();
            let mut request = tonic::Request::new(futures::stream::iter(batches));
            request.metadata_mut().insert("authorization", format!("Bearer {}", meshward_e2e::TEST_TOKEN).parse()?);
            let mut acks = client.stream(request).await?.into_inner();
            let mut acked = 0;
            while let Some(ack) = acks.next().await {
                ack?;
                acked += 1;
                if acked == count {
                    break;
                }
            }
            anyhow::Ok(acked)
        }));
    }
    for task in tasks {
        task.await??;
    }
    let acked_secs = started.elapsed().as_secs_f64();
    wait_count(clickhouse, "SELECT count() FROM bench_ingest.http_events", n as u64, Duration::from_secs(600)).await?;
    let stored_secs = started.elapsed().as_secs_f64();
    let cpu = (
        cpu_seconds(collector.pid()) - cpu_before.0,
        cpu_seconds(clickhouse.pid()) - cpu_before.1,
        cpu_seconds(Some(std::process::id())) - cpu_before.2,
    );
    eprintln!("collector: acked in {acked_secs:.2} s, stored in {stored_secs:.2} s");
    let direct_rate = n as f64 / direct_secs;
    let e2e_rate = n as f64 / stored_secs;
    writeln!(report, "## Collector ingest into ClickHouse\n")?;
    writeln!(
        report,
        "{n} realistic events (a JSON POST with 6 headers, identity, 6 body fields), in batches of {BATCH} over {} \
         concurrent gRPC streams, into the release collector (`fsync: always`, writer batches of 50k rows) and \
         ClickHouse 18.16, all on this 2-core machine. The ceiling is the same rows inserted straight into \
         ClickHouse with the same client, 50k rows per INSERT, no gRPC and no spool. Timed from the first batch \
         sent to the last row visible in ClickHouse.\n",
        cli.streams
    )?;
    writeln!(report, "| path | seconds | events/s | vs direct insert |")?;
    writeln!(report, "|---|---:|---:|---:|")?;
    writeln!(report, "| direct INSERT (ceiling) | {direct_secs:.2} | {direct_rate:.0} | 1.00 |")?;
    writeln!(
        report,
        "| collector: all batches acknowledged (durable in spool) | {acked_secs:.2} | {:.0} | {:.2} |",
        n as f64 / acked_secs,
        (n as f64 / acked_secs) / direct_rate
    )?;
    writeln!(
        report,
        "| collector: end to end, all rows in ClickHouse | {stored_secs:.2} | {e2e_rate:.0} | {:.2} |\n",
        e2e_rate / direct_rate
    )?;
    writeln!(
        report,
        "CPU used during the end-to-end run: collector {:.2} s ({:.1} µs/event), ClickHouse {:.2} s, load generator {:.2} s, \
         over {stored_secs:.2} s of wall time on 2 cores.\n",
        cpu.0,
        cpu.0 * 1e6 / n as f64,
        cpu.1,
        cpu.2
    )?;
    Ok(())
}

/// Per-request path templating (`core::template_path`, what the filter runs) against the
/// templates of three public OpenAPI specs, on traffic generated from them.
fn templating_section(report: &mut String) -> Result<()> {
    let dir = meshward_e2e::corpus::corpora_dir();
    writeln!(report, "## Path templating and discovery on public API specs\n")?;
    writeln!(
        report,
        "Five concrete paths per template of each spec in `../shared/corpora/openapi/`, generated by \
         `tests/src/corpus.rs` (parameters from the spec's example, enum, format or type; else the value shapes the \
         API really uses), templated one request at a time by `core::template_path`. *Exact*: every path of the \
         template gives the spec's template (parameter names aside). *Literal swallowed*: a literal segment became \
         a parameter. *Parameter missed*: a parameter stayed literal. Word-like values (GitHub's `owner` and \
         `repo`) cannot be told from words one request at a time; cross-request discovery (below) recovers \
         them.\n"
    )?;
    writeln!(
        report,
        "*With discovery*: all generated paths of the API are fed to `core::discovery` (cross-request: positions with \
         many values, each rare or all of one shape, become parameters; frequent siblings without that shape stay literal), then each path is resolved.\n"
    )?;
    writeln!(
        report,
        "| API | templates | per request: exact | swallowed | missed | with discovery: exact | swallowed | missed |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let mut examples = Vec::new();
    for api in ["stripe", "digitalocean", "github_rest"] {
        let samples = meshward_e2e::corpus::generate(&dir, api, meshward_e2e::corpus::SAMPLES_PER_TEMPLATE)?;
        let per_request = meshward_e2e::corpus::measure(&samples, meshward_core::template_path);
        let discovered = meshward_e2e::corpus::discover_and_measure(&samples);
        let pct = |a: &meshward_e2e::corpus::Accuracy| 100.0 * a.exact as f64 / a.templates.max(1) as f64;
        writeln!(
            report,
            "| {api} | {} | {} ({:.1}%) | {} | {} | {} ({:.1}%) | {} | {} |",
            per_request.templates,
            per_request.exact,
            pct(&per_request),
            per_request.wrong_merges,
            per_request.missed_params,
            discovered.exact,
            pct(&discovered),
            discovered.wrong_merges,
            discovered.missed_params
        )?;
        examples.extend(discovered.examples.into_iter().take(4).map(|e| format!("{api}: {e}")));
    }
    writeln!(report, "\nSome misses left after discovery:\n")?;
    for example in examples {
        writeln!(report, "- {example}")?;
    }
    writeln!(report)?;
    Ok(())
}

/// The medians of criterion's `name  time: [low median high]` lines as a table.
fn core_section(path: &Path, report: &mut String) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    writeln!(report, "## Core functions, native (criterion)\n")?;
    writeln!(
        report,
        "`scan/*`: `core::detect` over a whole body (walk, sensitive data, and for requests attacks), against the \
         JSON walk alone on the same body (`*_walk_only`). The response body is 16 KiB of customer records, the \
         request a 1 KiB order.\n"
    )?;
    writeln!(report, "| function | median per call | throughput |")?;
    writeln!(report, "|---|---:|---:|")?;
    // criterion prints `name time: [...]` or, for long names, the name on a line of its own
    let mut name = String::new();
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [n, "time:", _low, _low_unit, median, unit, ..] if !median.contains('%') => {
                rows.push(((*n).to_owned(), format!("{median} {unit}"), String::new()))
            }
            ["time:", _low, _low_unit, median, unit, ..] if !name.is_empty() && !median.contains('%') => {
                rows.push((name.clone(), format!("{median} {unit}"), String::new()))
            }
            ["thrpt:", _low, _low_unit, median, unit, ..] if !median.contains('%') => {
                if let Some(last) = rows.last_mut() {
                    last.2 = format!("{median} {unit}");
                }
            }
            [n] if !n.contains(':') => name = (*n).to_owned(),
            _ => {}
        }
    }
    for (n, t, thrpt) in rows {
        writeln!(report, "| `{n}` | {t} | {thrpt} |")?;
    }
    writeln!(report)?;
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cores} vCPUs ({cpu})")
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let dir = fresh_dir("bench")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let mut report = String::new();
    writeln!(report, "# Benchmarks\n")?;
    writeln!(
        report,
        "Written by `make bench` (`target/release/meshward-bench`) on {}, {}. Every figure in a table comes from \
         the same run, side by side, because these machines are noisy: compare ratios, not absolute numbers.\n",
        machine(),
        std::process::Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    )?;
    if !cli.skip_templating {
        templating_section(&mut report)?;
    }
    if !cli.skip_filter {
        filter_bench(&cli, &dir, &clickhouse, &mut report).await?;
    }
    if !cli.skip_blocklist {
        blocklist_bench(&cli, &dir, &clickhouse, &mut report).await?;
    }
    if !cli.skip_analyze {
        analyze_bench(&cli, &dir, &mut report)?;
    }
    if !cli.skip_ingest {
        ingest_bench(&cli, &dir, &clickhouse, &mut report).await?;
    }
    if !cli.skip_detect {
        meshward_e2e::detect_bench::run(&clickhouse, cli.detect_events, &mut report).await?;
    }
    if let Some(path) = &cli.core_bench {
        core_section(path, &mut report)?;
    }
    println!("{report}");
    if let Some(path) = &cli.write {
        let method_path = meshward_e2e::workspace_root().join("docs/benchmark-method.md");
        let method =
            std::fs::read_to_string(&method_path).with_context(|| format!("reading {}", method_path.display()))?;
        std::fs::write(path, format!("{report}{method}")).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
