//! Envoy with and without the filter, on traffic that varies: a thousand distinct request and
//! response pairs (`core/benches/support/traffic.rs`) cycled by wrk, answered by an upstream that
//! returns each pair's own response. Saturated throughput and Envoy CPU per request, paired per
//! round against the no-op module; the floors (the host calls alone); the share of exchanges
//! deeply inspected; latency at a fixed offered rate from an open-loop generator; and Envoy's
//! memory at 1, 2 and 4 workers.

use anyhow::Result;
use meshward_e2e::bench_traffic::corpus::{self, Pair, Size};
use meshward_e2e::bench_traffic::{open_loop, wrk_script, BenchUpstream, Latencies};
use meshward_e2e::clickhouse::ClickHouse;
use meshward_e2e::collector::{Collector, CollectorOptions};
use meshward_e2e::envoy::{Envoy, EnvoyOptions, Filter};
use meshward_e2e::process::cpu_seconds;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::runs::{background, median, paired_ratio, rss_mb, with_detection_off, wrk};
use crate::Cli;

const PAIRS: usize = 1000;
const NO_FILTER: &str = "Envoy, no filter";
const NOOP: &str = "no-op wasm module";
const FLOOR_METADATA: &str = "floor: the host calls of a metadata-only exchange";
const FLOOR_ALL: &str = "floor: the host calls of a deeply inspected exchange";
const DEFAULT: &str = "Meshward, default (inspection budget)";
const DETECTION_OFF: &str = "Meshward, default, detection off";
const FULL: &str = "Meshward, full inspection";
/// Seconds of each open-loop latency run.
const LATENCY_SECONDS: u64 = 10;
const LATENCY_ROUNDS: usize = 3;

/// Inspection stats read from an Envoy: exchanges inspected and skipped so far.
async fn inspection(envoy: &Envoy) -> (u64, u64) {
    let deep = envoy.stat("wasmcustom.meshward.inspection.deep").await.unwrap_or(0);
    let sampled = envoy.stat("wasmcustom.meshward.inspection.skipped_sampled").await.unwrap_or(0);
    let budget = envoy.stat("wasmcustom.meshward.inspection.skipped_budget").await.unwrap_or(0);
    (deep, sampled + budget)
}

struct Row {
    name: &'static str,
    rps: Vec<f64>,
    cpu_us: Vec<f64>,
    p99_ms: Vec<f64>,
    /// share of exchanges deeply inspected, per round (None for Envoys without the filter)
    inspected: Vec<f64>,
    rss_mb: f64,
}

fn config(base: &serde_json::Value, inspection: serde_json::Value) -> serde_json::Value {
    let mut config = base.clone();
    if let Some(map) = config.as_object_mut() {
        map.insert("inspection".into(), inspection);
    }
    config
}

async fn start(
    dir: &Path,
    tag: &str,
    upstream: u16,
    collector: &Collector,
    configs: &[(&'static str, Filter)],
    warm: &Path,
) -> Result<Vec<(&'static str, Envoy)>> {
    let mut envoys = Vec::new();
    for (i, (name, filter)) in configs.iter().enumerate() {
        let options = EnvoyOptions {
            upstream_port: upstream,
            collector_grpc_port: collector.grpc_port,
            collector_api_port: collector.api_port,
            filter: filter.clone(),
            concurrency: 1,
            cpu_list: Some("1".into()),
            mtls: None,
        };
        let envoy = Envoy::start(&dir.join(format!("envoy-{tag}-{i}")), &options).await?;
        // warm up: V8 compiles lazily, and the first window inspects more
        wrk(&format!("{}/", envoy.url()), warm, 2, 8)?;
        envoys.push((*name, envoy));
    }
    Ok(envoys)
}

/// Interleaved wrk rounds against each Envoy.
async fn rounds(cli: &Cli, envoys: &[(&'static str, Envoy)], script: &Path, connections: u32) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = envoys
        .iter()
        .map(|(name, _)| Row { name, rps: vec![], cpu_us: vec![], p99_ms: vec![], inspected: vec![], rss_mb: 0.0 })
        .collect();
    for round in 0..cli.rounds {
        for (i, (name, envoy)) in envoys.iter().enumerate() {
            let before = inspection(envoy).await;
            let cpu_before = cpu_seconds(envoy.pid());
            let (rps, p99) = wrk(&format!("{}/", envoy.url()), script, cli.duration, connections)?;
            let cpu_us = (cpu_seconds(envoy.pid()) - cpu_before) * 1e6 / (rps * cli.duration as f64).max(1.0);
            // counters reach Envoy on the filter's tick
            tokio::time::sleep(Duration::from_millis(300)).await;
            let after = inspection(envoy).await;
            let (deep, skipped) = (after.0 - before.0, after.1 - before.1);
            if deep + skipped > 0 {
                rows[i].inspected.push(deep as f64 / (deep + skipped) as f64);
            }
            eprintln!(
                "c={connections} round {}: {name}: {rps:.0} req/s, p99 {p99:.2} ms, {cpu_us:.1} µs/request",
                round + 1
            );
            rows[i].rps.push(rps);
            rows[i].cpu_us.push(cpu_us);
            rows[i].p99_ms.push(p99);
        }
    }
    for (i, (_, envoy)) in envoys.iter().enumerate() {
        rows[i].rss_mb = rss_mb(envoy.pid());
    }
    Ok(rows)
}

fn table(report: &mut String, rows: &[Row], noop: usize) -> Result<()> {
    writeln!(
        report,
        "| configuration | req/s (median) | vs no-op, paired | Envoy CPU µs/request | added vs no-op | deeply inspected | p99 ms (wrk) | Envoy RSS MB |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let noop_cpu = median(&rows[noop].cpu_us);
    for r in rows {
        let share =
            if r.inspected.is_empty() { "".to_owned() } else { format!("{:.1}%", 100.0 * median(&r.inspected)) };
        writeln!(
            report,
            "| {} | {:.0} | {:.2} | {:.1} | {:+.1} | {} | {:.2} | {:.0} |",
            r.name,
            median(&r.rps),
            paired_ratio(&r.rps, &rows[noop].rps),
            median(&r.cpu_us),
            median(&r.cpu_us) - noop_cpu,
            share,
            median(&r.p99_ms),
            r.rss_mb
        )?;
    }
    writeln!(report)?;
    Ok(())
}

/// Latency at a fixed offered rate, open loop, interleaved rounds; medians over rounds.
async fn latency(
    report: &mut String,
    envoys: &[(&'static str, Envoy)],
    which: &[&str],
    pairs: &[Pair],
    rate: f64,
) -> Result<()> {
    let chosen: Vec<&(&'static str, Envoy)> = envoys.iter().filter(|(n, _)| which.contains(n)).collect();
    let mut runs: Vec<Vec<Latencies>> = vec![Vec::new(); chosen.len()];
    for round in 0..LATENCY_ROUNDS {
        for (i, (name, envoy)) in chosen.iter().enumerate() {
            let l = open_loop(&envoy.url(), pairs, rate, Duration::from_secs(LATENCY_SECONDS)).await?;
            eprintln!(
                "latency at {rate:.0}/s round {}: {name}: p50 {:.2} p99 {:.2} p99.9 {:.2} ms, {} errors, {} late",
                round + 1,
                l.quantile_ms(0.5),
                l.quantile_ms(0.99),
                l.quantile_ms(0.999),
                l.errors,
                l.late
            );
            runs[i].push(l);
        }
    }
    let q = |i: usize, q: f64| median(&runs[i].iter().map(|l| l.quantile_ms(q)).collect::<Vec<_>>());
    let noop = chosen.iter().position(|(n, _)| *n == NOOP).unwrap_or(0);
    writeln!(
        report,
        "| configuration | p50 ms | p99 ms | p99.9 ms | p50 added | p99 added | p99.9 added | errors | sent late |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for (i, (name, _)) in chosen.iter().enumerate() {
        let errors: u64 = runs[i].iter().map(|l| l.errors).sum();
        let late: u64 = runs[i].iter().map(|l| l.late).sum();
        writeln!(
            report,
            "| {name} | {:.2} | {:.2} | {:.2} | {:+.2} | {:+.2} | {:+.2} | {errors} | {late} |",
            q(i, 0.5),
            q(i, 0.99),
            q(i, 0.999),
            q(i, 0.5) - q(noop, 0.5),
            q(i, 0.99) - q(noop, 0.99),
            q(i, 0.999) - q(noop, 0.999)
        )?;
    }
    writeln!(report)?;
    Ok(())
}

/// Envoy's memory with the no-op module and with the filter at 1, 2 and 4 workers, after a run
/// of varied traffic.
async fn memory(
    cli: &Cli,
    dir: &Path,
    report: &mut String,
    upstream: u16,
    collector: &Collector,
    meshward: &serde_json::Value,
    script: &Path,
) -> Result<()> {
    writeln!(report, "| workers | no-op module RSS MB | Meshward (default) RSS MB | difference |")?;
    writeln!(report, "|---:|---:|---:|---:|")?;
    for workers in [1u32, 2, 4] {
        let mut rss = Vec::new();
        for (i, filter) in [Filter::Noop, Filter::Meshward { config: meshward.clone() }].into_iter().enumerate() {
            let options = EnvoyOptions {
                upstream_port: upstream,
                collector_grpc_port: collector.grpc_port,
                collector_api_port: collector.api_port,
                filter,
                concurrency: workers,
                cpu_list: None,
                mtls: None,
            };
            let envoy = Envoy::start(&dir.join(format!("envoy-memory-{workers}-{i}")), &options).await?;
            wrk(&format!("{}/", envoy.url()), script, cli.duration, 16)?;
            rss.push(rss_mb(envoy.pid()));
        }
        writeln!(report, "| {workers} | {:.0} | {:.0} | {:+.0} |", rss[0], rss[1], rss[1] - rss[0])?;
    }
    writeln!(report)?;
    Ok(())
}

pub async fn filter_bench(cli: &Cli, dir: &Path, clickhouse: &ClickHouse, report: &mut String) -> Result<()> {
    let collector =
        Collector::start(&dir.join("collector-filter"), CollectorOptions::new(&clickhouse.url(), "bench_filter"))
            .await?;
    collector.wait_ready().await?;
    background(collector.pid());
    background(clickhouse.pid());
    let small = corpus::pairs(PAIRS, Size::Small, 42);
    let large = corpus::pairs(PAIRS, Size::Large, 43);
    let small_bytes: usize = small.iter().map(|p| p.request_body.len() + p.response_body.len()).sum();
    let large_bytes: usize = large.iter().map(|p| p.request_body.len() + p.response_body.len()).sum();
    let upstream_small = BenchUpstream::start(&small).await?;
    let upstream_large = BenchUpstream::start(&large).await?;
    let script_small = wrk_script(dir, "varied-1k.lua", &small)?;
    let script_large = wrk_script(dir, "varied-16k.lua", &large)?;
    let meshward = crate::runs::meshward_config(cli)?;
    let full = config(&meshward, serde_json::json!({"mode": "full"}));
    let small_configs: Vec<(&'static str, Filter)> = vec![
        (NO_FILTER, Filter::None),
        (NOOP, Filter::Noop),
        (FLOOR_METADATA, Filter::MetadataReads),
        (FLOOR_ALL, Filter::HostReads),
        (DEFAULT, Filter::Meshward { config: meshward.clone() }),
        (DETECTION_OFF, Filter::Meshward { config: with_detection_off(&meshward) }),
        (FULL, Filter::Meshward { config: full.clone() }),
    ];
    writeln!(report, "## Envoy with and without the filter\n")?;
    writeln!(
        report,
        "Envoy 1.40, `--concurrency 1` pinned to CPU 1; wrk (1 thread, {} s per run), the upstream, the collector and \
         ClickHouse on CPU 0. The traffic varies as real traffic does: {PAIRS} distinct request/response pairs over ten \
         endpoints of a shop's API (`core/benches/support/traffic.rs`: names, emails, phone numbers, addresses, ids, \
         prices, prose, tokens, some card numbers, some injections), cycled by a wrk script, each answered by the \
         upstream with its own response: {:.0} bytes of body per exchange on average in the 1 KiB set, {:.0} in the \
         16 KiB set. The collector and ClickHouse run at the lowest priority (`renice 19`), so that their bursts do \
         not show as the sidecar's latency. {} interleaved rounds per load, median shown; *vs no-op, paired* is the median over rounds of \
         each round's ratio to the no-op module's run in the same round, which cancels the machine's drift. The \
         filter runs the shipped configuration (`istio/meshward-filter.json`) and ships every event to a real \
         collector; *detection off* is the same with both detectors off; *full inspection* is `inspection.mode: \
         full`, every exchange's bodies read and scanned. The floors are the no-op module making the host calls of \
         a metadata-only or of a deeply inspected exchange and discarding the answers. *Deeply inspected* is the \
         share of exchanges whose bodies the filter read (Envoy's `inspection.*` counters over each run). *Envoy \
         CPU µs/request* is Envoy's user+system CPU over the run divided by the requests served.\n",
        cli.duration,
        small_bytes as f64 / PAIRS as f64,
        large_bytes as f64 / PAIRS as f64,
        cli.rounds
    )?;
    let envoys = start(dir, "1k", upstream_small.port, &collector, &small_configs, &script_small).await?;
    let noop = 1;
    let mut saturated_noop = 0.0;
    for &connections in &cli.connections {
        let load = if connections == 1 { "one connection (latency-bound)" } else { "saturating Envoy's core" };
        writeln!(report, "### About 1 KiB each way, {connections} connection(s): {load}\n")?;
        let rows = rounds(cli, &envoys, &script_small, connections).await?;
        table(report, &rows, noop)?;
        if connections > 1 {
            saturated_noop = median(&rows[noop].rps);
        }
    }
    let (captured, dropped) = (
        envoys[4].1.stat("wasmcustom.meshward.events_captured").await?,
        envoys[4].1.stat("wasmcustom.meshward.events_dropped_buffer_full").await?,
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let acked = envoys[4].1.stat("wasmcustom.meshward.events_acked").await?;
    writeln!(
        report,
        "Over all runs the default filter captured {captured} events, dropped {dropped} for a full buffer and had \
         {acked} acknowledged by the collector (read 3 s later).\n"
    )?;
    if saturated_noop > 0.0 {
        let rate = (saturated_noop / 2.0).round();
        writeln!(
            report,
            "### Latency at a fixed rate: {rate:.0} requests/s, half the no-op module's saturated rate\n\n\
             An open-loop generator in the harness (`tests/src/bench_traffic.rs`) sends the same varied pairs at a \
             constant rate, each request on its own as it falls due, and measures each latency from when it was due \
             (no coordinated omission); {LATENCY_ROUNDS} interleaved rounds of {LATENCY_SECONDS} s, medians of the \
             rounds' percentiles. *Added* is against the no-op module.\n"
        )?;
        latency(report, &envoys, &[NO_FILTER, NOOP, DEFAULT, FULL], &small, rate).await?;
    }
    drop(envoys);

    let large_configs: Vec<(&'static str, Filter)> = vec![
        (NOOP, Filter::Noop),
        (FLOOR_ALL, Filter::HostReads),
        (DEFAULT, Filter::Meshward { config: meshward.clone() }),
        (FULL, Filter::Meshward { config: full }),
    ];
    let envoys = start(dir, "16k", upstream_large.port, &collector, &large_configs, &script_large).await?;
    let connections = cli.connections.iter().copied().max().unwrap_or(16);
    writeln!(report, "### About 16 KiB each way, {connections} connections: lists and batches of records\n")?;
    let rows = rounds(cli, &envoys, &script_large, connections).await?;
    table(report, &rows, 0)?;
    drop(envoys);

    writeln!(
        report,
        "### Memory: Envoy's resident set after {} s of the 1 KiB traffic at 16 connections\n\n\
         Envoy with `--concurrency` 1, 2 and 4, not pinned; the no-op module and the filter's default configuration. \
         Envoy runs a wasm VM per worker and one on its main thread.\n",
        cli.duration
    )?;
    memory(cli, dir, report, upstream_small.port, &collector, &meshward, &script_small).await?;
    Ok(())
}

/// `--experiment`: named configurations against the no-op module, 1 KiB traffic, 16 connections.
pub async fn experiment(cli: &Cli, dir: &Path, clickhouse: &ClickHouse, path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let named: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)?;
    let collector = Collector::start(
        &dir.join("collector-experiment"),
        CollectorOptions::new(&clickhouse.url(), "bench_experiment"),
    )
    .await?;
    collector.wait_ready().await?;
    background(collector.pid());
    background(clickhouse.pid());
    let small = corpus::pairs(PAIRS, Size::Small, 42);
    let upstream = BenchUpstream::start(&small).await?;
    let script = wrk_script(dir, "experiment.lua", &small)?;
    let base = crate::runs::meshward_config(cli)?;
    let mut configs: Vec<(&'static str, Filter)> = vec![(NOOP, Filter::Noop)];
    for (name, value) in named {
        let filter = match value.as_str() {
            Some("noop") => Filter::Noop,
            Some("floor") => Filter::HostReads,
            Some("floor_metadata") => Filter::MetadataReads,
            _ if value.is_null() => Filter::None,
            _ => {
                let mut config = base.clone();
                let mut wasm = None;
                let mut native = None;
                if let (Some(base), Some(extra)) = (config.as_object_mut(), value.as_object()) {
                    for (k, v) in extra {
                        // `_wasm`: another build of the filter, to compare builds in one run
                        match (k.as_str(), v.as_str()) {
                            ("_wasm", Some(path)) => wasm = Some(std::path::PathBuf::from(path)),
                            ("_native", Some(path)) => native = Some(std::path::PathBuf::from(path)),
                            _ => {
                                base.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
                match (native, wasm) {
                    (Some(so), _) => Filter::Native { so, config },
                    (None, Some(wasm)) => Filter::MeshwardBuild { wasm, config },
                    (None, None) => Filter::Meshward { config },
                }
            }
        };
        configs.push((Box::leak(name.into_boxed_str()), filter));
    }
    let envoys = start(dir, "experiment", upstream.port, &collector, &configs, &script).await?;
    let connections = cli.connections.iter().copied().max().unwrap_or(16);
    let rows = rounds(cli, &envoys, &script, connections).await?;
    let mut report = String::new();
    table(&mut report, &rows, 0)?;
    println!("{report}");
    Ok(())
}
