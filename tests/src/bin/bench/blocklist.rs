//! Block lists: the matching cost of 10,000 rules against an empty list (same filter), and the
//! time from creating a rule to Envoy blocking with it.

use anyhow::Result;
use meshward_e2e::clickhouse::ClickHouse;
use meshward_e2e::collector::{Collector, CollectorOptions};
use meshward_e2e::envoy::{Envoy, EnvoyOptions, Filter};
use meshward_e2e::sample_api::{bench_body, SampleApi};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::runs::{filter_rounds, meshward_config, start_envoys, wrk_script};
use crate::Cli;

/// Block lists: the matching cost of 10,000 rules against an empty list (same filter), and the
/// time from creating a rule to Envoy blocking with it.
pub async fn blocklist_bench(cli: &Cli, dir: &Path, clickhouse: &ClickHouse, report: &mut String) -> Result<()> {
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
