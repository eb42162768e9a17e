//! What the Envoy benchmarks share: wrk runs, interleaved rounds against several Envoys, and
//! ratios paired per round.

use anyhow::{bail, Context, Result};
use meshward_e2e::envoy::{default_filter_config, Envoy, EnvoyOptions, Filter};
use meshward_e2e::process::cpu_seconds;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Cli;

/// One Envoy's results over the rounds.
pub struct FilterResult {
    pub name: &'static str,
    pub rps: Vec<f64>,
    pub p99_ms: Vec<f64>,
    pub rss_mb: f64,
    /// Envoy CPU microseconds per request, per round.
    pub cpu_us: Vec<f64>,
}

pub fn median(values: &[f64]) -> f64 {
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
pub fn paired_ratio(a: &[f64], b: &[f64]) -> f64 {
    let ratios: Vec<f64> = a.iter().zip(b).filter(|(_, b)| **b > 0.0).map(|(a, b)| a / b).collect();
    median(&ratios)
}

pub fn rss_mb(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else { return 0.0 };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs wrk; returns (requests/s, p99 latency ms).
pub fn wrk(url: &str, script: &Path, seconds: u64, connections: u32) -> Result<(f64, f64)> {
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

pub fn parse_latency_ms(value: &str) -> f64 {
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

pub fn meshward_config(cli: &Cli) -> Result<serde_json::Value> {
    let mut config = default_filter_config();
    if let Some(extra) = &cli.filter_config {
        let extra: serde_json::Value = serde_json::from_str(extra).context("--filter-config must be a JSON object")?;
        if let (Some(base), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
    }
    Ok(config)
}

pub fn wrk_script(dir: &Path, name: &str, body: &str) -> Result<PathBuf> {
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

pub fn with_detection_off(config: &serde_json::Value) -> serde_json::Value {
    let mut config = config.clone();
    if let Some(map) = config.as_object_mut() {
        map.insert("detection".into(), serde_json::json!({"sensitive": false, "attacks": false}));
    }
    config
}

/// Interleaved wrk rounds against each Envoy at one load; one row per Envoy. Index 0 of
/// `envoys` is the baseline for "vs first", `noop` the no-op module's index.
#[allow(clippy::too_many_arguments)]
pub fn filter_rounds(
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

pub async fn start_envoys(
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

/// Lowers the priority of a process of the pipeline (the collector, ClickHouse) to the least, on
/// every thread it has: they share CPU 0 with the load generator and the upstream, and their
/// bursts (an INSERT, a merge) would otherwise show as latency of the sidecar under test. New
/// threads inherit it from the threads that start them.
pub fn background(pid: Option<u32>) {
    let Some(pid) = pid else { return };
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return };
    for task in tasks.flatten() {
        let tid = task.file_name().to_string_lossy().into_owned();
        let _ = Command::new("renice").args(["-n", "19", "-p", &tid]).output();
    }
}
