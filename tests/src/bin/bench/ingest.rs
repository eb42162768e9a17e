//! The collector's end-to-end ingest rate (gRPC -> spool -> ClickHouse) against the ceiling
//! of inserting the same rows into ClickHouse directly.

use anyhow::{bail, Result};
use futures::StreamExt;
use meshward::store::{event_row, insert_rows, EventRow};
use meshward_e2e::clickhouse::ClickHouse;
use meshward_e2e::collector::{Collector, CollectorOptions};
use meshward_e2e::process::cpu_seconds;
use meshward_proto::ingest_client::IngestClient;
use meshward_proto::{BodyField, EventBatch, Header, HttpEvent};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::Cli;

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

pub async fn ingest_bench(cli: &Cli, dir: &Path, clickhouse: &ClickHouse, report: &mut String) -> Result<()> {
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
            ..Default::default()
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
