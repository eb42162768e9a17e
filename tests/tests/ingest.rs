//! The collector's gRPC ingest, driven by a real tonic client against the real binary:
//! authentication, validation and acknowledgements.

use meshward_e2e::clickhouse::ClickHouse;
use meshward_e2e::collector::{Collector, CollectorOptions};
use meshward_proto::{ack, EventBatch, HttpEvent};
use std::time::Duration;

fn event(i: u8) -> HttpEvent {
    HttpEvent {
        event_id: vec![i; 16],
        method: "GET".into(),
        path_template: "/x".into(),
        status: 200,
        start_time_ms: 1_790_000_000_000,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_refuses_wrong_tokens_and_rejects_bad_batches() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("ingest")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let collector =
        Collector::start(&dir.join("collector"), CollectorOptions::new(&clickhouse.url(), "meshward_ingest")).await?;
    collector.wait_ready().await?;

    let refused = meshward_e2e::collector::send_batches(
        collector.grpc_port,
        "not-the-token-at-all-000000000000",
        vec![EventBatch { seq: 1, events: vec![event(1)], ..Default::default() }],
    )
    .await;
    assert_eq!(refused.err().map(|s| s.code()), Some(tonic::Code::Unauthenticated));

    let batches = vec![
        EventBatch { seq: 1, source_id: "t".into(), events: vec![event(1), event(2)], ..Default::default() },
        EventBatch { seq: 0, source_id: "t".into(), events: vec![event(3)], ..Default::default() },
        EventBatch {
            seq: 3,
            source_id: "t".into(),
            events: vec![HttpEvent { event_id: vec![9; 4], ..event(4) }],
            ..Default::default()
        },
        EventBatch { seq: 4, source_id: "t".into(), events: vec![event(5)], ..Default::default() },
    ];
    let acks = meshward_e2e::collector::send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, batches).await?;
    let codes: Vec<(u64, i32)> = acks.iter().map(|a| (a.seq, a.code)).collect();
    let ok = ack::Code::Ok as i32;
    let rejected = ack::Code::Rejected as i32;
    assert_eq!(codes, vec![(1, ok), (0, rejected), (3, rejected), (4, ok)]);
    assert!(acks[2].message.contains("16 bytes"), "the reason says what is wrong: {}", acks[2].message);

    // the accepted events, and only they, reach ClickHouse
    meshward_e2e::process::wait_for("3 events in ClickHouse", Duration::from_secs(30), || async {
        (clickhouse.count("SELECT count() FROM meshward_ingest.events").await.ok()? == 3).then_some(())
    })
    .await?;
    let metrics = collector.metrics().await?;
    for line in [
        "meshward_ingest_auth_failures_total 1",
        "meshward_ingest_rejected_batches_total 2",
        "meshward_ingest_events_total 3",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in /metrics:\n{metrics}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_drops_partitions_older_than_configured_on_clickhouse_18() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("retention")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let mut collector =
        Collector::start(&dir.join("collector"), CollectorOptions::new(&clickhouse.url(), "meshward_retention"))
            .await?;
    collector.wait_ready().await?;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64;
    let day_ms = 86_400_000;
    let at = |i: u8, age_days: u64| HttpEvent { start_time_ms: now_ms - age_days * day_ms, ..event(i) };
    // two events 60 and 45 days old (past the default 30), two recent ones
    let batch = EventBatch {
        seq: 1,
        source_id: "r".into(),
        events: vec![at(1, 60), at(2, 45), at(3, 1), at(4, 0)],
        ..Default::default()
    };
    let acks =
        meshward_e2e::collector::send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, vec![batch]).await?;
    assert_eq!(acks.len(), 1);
    let count = |sql: &'static str| async { clickhouse.count(sql).await.ok() };
    meshward_e2e::process::wait_for("4 events stored", Duration::from_secs(30), || async {
        (count("SELECT count() FROM meshward_retention.events").await? == 4).then_some(())
    })
    .await?;
    // retention runs when the collector starts (then hourly)
    collector.restart().await?;
    meshward_e2e::process::wait_for("the expired partitions to be dropped", Duration::from_secs(30), || async {
        (count("SELECT count() FROM meshward_retention.events").await? == 2).then_some(())
    })
    .await?;
    let left = clickhouse.query("SELECT hex(event_id) FROM meshward_retention.events ORDER BY 1 FORMAT TSV").await?;
    assert_eq!(left.lines().count(), 2);
    assert!(left.starts_with("03030303"), "the recent events stay: {left}");
    Ok(())
}
