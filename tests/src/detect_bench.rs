//! The cost of baselines and detectors (`make bench`): a simulated day of events (10 million by
//! default) inserted into ClickHouse with and without the baseline materialized views, then
//! full detector passes over the window ending at the day's end, timed per rule, with the
//! server's CPU time. "Keeps up in real time" means: inserting the day takes far less than a
//! day, and a pass takes far less than the interval the live job runs it at.

use crate::clickhouse::ClickHouse;
use crate::process::cpu_seconds;
use anyhow::Result;
use meshward::config::{ClickHouseConfig, DetectConfig};
use meshward::detect::rules;
use meshward::detect::{Detector, Finding};
use std::fmt::Write as _;
use std::time::Instant;

/// One simulated day of traffic as an `INSERT ... SELECT`: 5 hosts, 50 templated endpoints,
/// 5000 callers each reading a few objects of their own, 0.5% 5xx, 2.5% 401, 1% 404, a third of
/// the responses carrying an email and a phone number, one request in a thousand an injection.
fn day_of_events(db: &str, events: u64, start_s: u64) -> String {
    format!(
        "INSERT INTO {db}.http_events (event_id, ts_ms, ts, duration_us, method, authority, path, path_template, \
         query_params, status, client_ip, caller_id, request_id, request_total_bytes, response_total_bytes, \
         `sensitive.class`, `sensitive.direction`, `sensitive.part`, `sensitive.location`, `sensitive.confidence`, \
         `sensitive.sample`, `sensitive.count`, `attacks.class`, `attacks.direction`, `attacks.part`, `attacks.location`, \
         `attacks.reason`, `attacks.severity`) \
         SELECT MD5(toString(number)), ts_ms, toDateTime(intDiv(ts_ms, 1000)), toUInt64(8000 + h % 40000), \
           if(e % 5 = 0, 'POST', 'GET'), concat('svc', toString(e % 5), '.example.com'), \
           concat('/api/v1/r', toString(e), '/', toString(caller * 10 + number % 7)), concat('/api/v1/r', toString(e), '/{{id}}'), \
           if(h % 4 = 0, ['page'], emptyArrayString()), \
           toUInt16(multiIf(h % 1000 < 5, 500, h % 1000 < 30, 401, h % 1000 < 40, 404, 200)), \
           concat('10.', toString(caller % 250), '.', toString(intDiv(caller, 250)), '.1'), concat('c', toString(caller)), \
           concat('r', toString(number)), toUInt64(300 + h % 700), toUInt64(500 + h % 3000), \
           if(sens, ['email', 'phone'], emptyArrayString()), if(sens, [toUInt8(2), toUInt8(2)], emptyArrayUInt8()), \
           if(sens, ['body', 'body'], emptyArrayString()), if(sens, ['$.email', '$.phone'], emptyArrayString()), \
           if(sens, [toFloat32(0.9), toFloat32(0.9)], emptyArrayFloat32()), if(sens, ['', ''], emptyArrayString()), \
           if(sens, [toUInt32(1), toUInt32(1)], emptyArrayUInt32()), \
           if(attack, ['sqli'], emptyArrayString()), if(attack, [toUInt8(1)], emptyArrayUInt8()), \
           if(attack, ['query'], emptyArrayString()), if(attack, ['q'], emptyArrayString()), \
           if(attack, ['union select'], emptyArrayString()), if(attack, [toUInt8(4)], emptyArrayUInt8()) \
         FROM (SELECT number, toUInt64({start_ms} + intDiv(number * 86400000, {events})) AS ts_ms, \
                 cityHash64(number) AS h, cityHash64(number, 1) % 50 AS e, cityHash64(number, 2) % 5000 AS caller, \
                 h % 3 = 0 AS sens, h % 1000 = 999 AS attack FROM numbers({events}))",
        start_ms = start_s * 1000
    )
}

/// A fresh database with the schema; without the baseline views when `views` is false.
async fn database(clickhouse: &ClickHouse, name: &str, views: bool) -> Result<ClickHouseConfig> {
    let config = ClickHouseConfig {
        url: clickhouse.url(),
        database: name.into(),
        // the day's INSERT ... SELECT runs for minutes on a slow machine
        timeout_s: 3_600,
        ..Default::default()
    };
    clickhouse.query(&format!("DROP DATABASE IF EXISTS {name}")).await?;
    meshward::store::migrate(&config).await?;
    if !views {
        for view in ["endpoint_hourly_mv", "caller_hourly_mv"] {
            clickhouse.query(&format!("DROP TABLE {name}.{view}")).await?;
        }
    }
    Ok(config)
}

/// Seconds and ClickHouse CPU seconds of one statement.
async fn timed(clickhouse: &ClickHouse, sql: &str) -> Result<(f64, f64)> {
    let cpu = cpu_seconds(clickhouse.pid());
    let started = Instant::now();
    clickhouse.query(sql).await?;
    Ok((started.elapsed().as_secs_f64(), cpu_seconds(clickhouse.pid()) - cpu))
}

pub async fn run(clickhouse: &ClickHouse, events: u64, report: &mut String) -> Result<()> {
    let end_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() / 60 * 60;
    let start_s = end_s - 86_400;
    let plain = database(clickhouse, "bench_detect_plain", false).await?;
    let (plain_s, plain_cpu) = timed(clickhouse, &day_of_events(&plain.database, events, start_s)).await?;
    eprintln!("detect bench: {events} events without baseline views in {plain_s:.1} s");
    let config = database(clickhouse, "bench_detect", true).await?;
    let (views_s, views_cpu) = timed(clickhouse, &day_of_events(&config.database, events, start_s)).await?;
    eprintln!("detect bench: {events} events with baseline views in {views_s:.1} s");
    clickhouse.query("DROP DATABASE IF EXISTS bench_detect_plain").await?;

    // full passes over the last window of the day, as the live job runs them, each rule timed
    let detector = Detector::connect(&config, DetectConfig::default());
    let (from, to) = (end_s - detector.config.window_s, end_s);
    const PASSES: usize = 3;
    let mut per_rule: Vec<(rules::Kind, Vec<f64>, usize)> = rules::KINDS.iter().map(|k| (*k, Vec::new(), 0)).collect();
    let mut passes = Vec::new();
    let mut pass_cpu = Vec::new();
    for _ in 0..PASSES {
        let cpu = cpu_seconds(clickhouse.pid());
        let started = Instant::now();
        for (kind, times, found) in &mut per_rule {
            let sql = rules::sql(*kind, &config.database, from, to, &detector.config);
            let rule_started = Instant::now();
            let rows: Vec<Finding> = detector.client.query(&sql).fetch_all().await?;
            times.push(rule_started.elapsed().as_secs_f64());
            *found = rows.len();
        }
        passes.push(started.elapsed().as_secs_f64());
        pass_cpu.push(cpu_seconds(clickhouse.pid()) - cpu);
    }
    clickhouse.query("DROP DATABASE IF EXISTS bench_detect").await?;
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let (pass_s, pass_cpu_s) = (median(&passes), median(&pass_cpu));
    let interval = detector.config.interval_s as f64;

    writeln!(report, "## Baselines and detectors over a day of events\n")?;
    writeln!(
        report,
        "{events} events spread over one simulated day (5 hosts, 50 templated endpoints, 5000 callers, a third of the \
         responses with sensitive data, errors and injections mixed in; `tests/src/detect_bench.rs`), inserted with one \
         `INSERT ... SELECT` into ClickHouse 18.16 twice side by side: into a schema without the baseline materialized \
         views and into the full schema, where `endpoint_hourly` and `caller_hourly` are maintained as the rows arrive. \
         Then {PASSES} full detector passes over the 5-minute window ending at the day's end, as the live job runs them \
         every {interval:.0} s with the default settings (median reported). CPU is the ClickHouse server's own (user + system).\n"
    )?;
    writeln!(report, "| | wall | ClickHouse CPU | events/s | against real time |")?;
    writeln!(report, "|---|---:|---:|---:|---:|")?;
    for (name, secs, cpu) in
        [("insert, no baseline views", plain_s, plain_cpu), ("insert with baselines", views_s, views_cpu)]
    {
        writeln!(
            report,
            "| {name} | {secs:.1} s | {cpu:.1} s | {:.0} | a day in {secs:.0} s: {:.0}x faster |",
            events as f64 / secs.max(1e-9),
            86_400.0 / secs.max(1e-9)
        )?;
    }
    writeln!(
        report,
        "| detector pass ({} rules) | {pass_s:.2} s | {pass_cpu_s:.2} s | | {:.1}% of the {interval:.0} s interval |\n",
        per_rule.len(),
        100.0 * pass_s / interval
    )?;
    writeln!(
        report,
        "Maintaining the baselines costs {:.2}x the insert without them. Per rule (median of {PASSES}):\n",
        views_s / plain_s.max(1e-9)
    )?;
    writeln!(report, "| rule | seconds | findings |")?;
    writeln!(report, "|---|---:|---:|")?;
    for (kind, times, found) in &per_rule {
        writeln!(report, "| {} | {:.3} | {found} |", kind.as_str(), median(times))?;
    }
    writeln!(report)?;
    Ok(())
}
