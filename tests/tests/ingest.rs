//! The collector's gRPC ingest, driven by a real tonic client against the real binary:
//! authentication, validation and acknowledgements.

use meshward_e2e::clickhouse::ClickHouse;
use meshward_e2e::collector::{Collector, CollectorOptions};
use meshward_proto::{ack, EventBatch, HttpEvent, SensitiveFinding};
use prost::Message;
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
    let now_ms = now_ms();
    let day_ms = 86_400_000;
    // two recent events through ingest; two 60 and 45 days old (past the default 30) straight
    // into the table, since ingest stores events that old at their arrival (a filter never holds
    // one that long: its clock is off)
    let at = |i: u8, age_days: u64| HttpEvent { start_time_ms: now_ms - age_days * day_ms, ..event(i) };
    let batch = EventBatch { seq: 1, source_id: "r".into(), events: vec![at(3, 1), at(4, 0)], ..Default::default() };
    let acks =
        meshward_e2e::collector::send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, vec![batch]).await?;
    assert_eq!(acks.len(), 1);
    for (i, age_days) in [(1u8, 60u64), (2, 45)] {
        let ts_ms = now_ms - age_days * day_ms;
        let id = format!("{i:02}").repeat(16);
        clickhouse
            .query(&format!(
                "INSERT INTO meshward_retention.http_events (event_id, ts_ms, ts, reported_ts_ms, method, status) \
                 VALUES (unhex('{id}'), {ts_ms}, {}, {ts_ms}, 'GET', 200)",
                ts_ms / 1000
            ))
            .await?;
    }
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

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Ids stored in the events table, as hex, sorted.
async fn stored_ids(clickhouse: &ClickHouse, db: &str) -> anyhow::Result<Vec<String>> {
    let sql = format!("SELECT hex(event_id) FROM {db}.events ORDER BY 1 FORMAT TSV");
    Ok(clickhouse.query(&sql).await?.lines().map(|l| l[..2].to_owned()).collect())
}

/// What the writer could not store is refused before the ack, with a reason, and the valid
/// batches beside it are stored: the poison batch of empty repeated findings (two bytes each on
/// the wire, once acknowledged and then refused by every INSERT), invalid UTF-8 in a path or a
/// source id, a wrong wire type, a message over the size limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_the_writer_cannot_store_are_refused_before_the_ack() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("ingest-refused")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let db = "meshward_refused";
    let collector = Collector::start(&dir.join("collector"), CollectorOptions::new(&clickhouse.url(), db)).await?;
    collector.wait_ready().await?;
    let batch =
        |seq: u64, events: Vec<HttpEvent>| EventBatch { seq, source_id: "t".into(), events, ..Default::default() };

    let poison = HttpEvent { sensitive: vec![SensitiveFinding::default(); 300_000], ..event(2) };
    let mut bad_path = batch(3, vec![HttpEvent { path: "/ok-path".into(), ..event(3) }]).encode_to_vec();
    let at = bad_path.windows(8).position(|w| w == b"/ok-path").expect("the path is on the wire");
    bad_path[at + 3] = 0xff;
    let mut bad_source = EventBatch { source_id: "src-ok".into(), ..batch(4, vec![event(4)]) }.encode_to_vec();
    let at = bad_source.windows(6).position(|w| w == b"src-ok").expect("the source id is on the wire");
    bad_source[at] = 0xc0;
    let raw = vec![
        batch(1, vec![event(1)]).encode_to_vec(),
        batch(2, vec![poison]).encode_to_vec(),
        bad_path,
        bad_source,
        batch(5, vec![event(5)]).encode_to_vec(),
    ];
    let acks = meshward_e2e::collector::send_raw_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, raw).await?;
    let codes: Vec<(u64, i32)> = acks.iter().map(|a| (a.seq, a.code)).collect();
    let (ok, rejected) = (ack::Code::Ok as i32, ack::Code::Rejected as i32);
    assert_eq!(codes, vec![(1, ok), (2, rejected), (3, rejected), (4, rejected), (5, ok)]);
    assert!(
        acks[1].message.contains("300000 `HttpEvent.sensitive` entries"),
        "says what is wrong: {}",
        acks[1].message
    );
    assert!(acks[2].message.contains("UTF-8") || acks[2].message.contains("utf-8"), "{}", acks[2].message);

    // a message over the limit ends the stream with a status the sender sees, not OK
    let huge = batch(6, vec![HttpEvent { path: "/p".repeat(9 << 20), ..event(6) }]);
    let over = meshward_e2e::collector::send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, vec![huge]).await;
    let status = over.expect_err("a message over 16 MiB is not acknowledged");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("max_batch_bytes"), "{}", status.message());
    // and the next stream goes on
    let acks = meshward_e2e::collector::send_batches(
        collector.grpc_port,
        meshward_e2e::TEST_TOKEN,
        vec![batch(7, vec![event(7)])],
    )
    .await?;
    assert_eq!(acks.iter().map(|a| a.code).collect::<Vec<_>>(), vec![ok]);

    meshward_e2e::process::wait_for("the three valid events stored", Duration::from_secs(30), || async {
        (stored_ids(&clickhouse, db).await.ok()? == ["01", "05", "07"]).then_some(())
    })
    .await?;
    let metrics = collector.metrics().await?;
    for line in ["meshward_ingest_rejected_batches_total 3", "meshward_ingest_oversized_messages_total 1"] {
        assert!(metrics.contains(line), "missing `{line}` in /metrics:\n{metrics}");
    }
    assert!(!metrics.contains("meshward_writer_undecodable_records_total"), "nothing acknowledged was skipped");
    Ok(())
}

/// A batch within every bound that ClickHouse still refuses is set aside after a few retries,
/// so the events behind it are stored; `meshward dead-letter` lists it and, once the server
/// takes it, replays it. The refusal is ClickHouse's own: a materialized view of the test's that
/// throws on one path (as a server's memory limit or a column type refuses some batches and not
/// others). ClickHouse may have stored the table's part of that batch before the view threw;
/// event ids fold the copies. Events with a clock far off are stored at their arrival, with the
/// reported time kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_clickhouse_refuses_is_set_aside_and_the_rest_goes_on() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("dead-letter")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let db = "meshward_dead_letter";
    let collector = Collector::start(&dir.join("collector"), CollectorOptions::new(&clickhouse.url(), db)).await?;
    collector.wait_ready().await?;
    let refused_path = "/refused-by-clickhouse";
    clickhouse
        .query(&format!(
            "CREATE MATERIALIZED VIEW {db}.refuse ENGINE = Memory AS \
             SELECT throwIf(path = '{refused_path}') AS refused FROM {db}.http_events"
        ))
        .await?;

    let batch =
        |seq: u64, events: Vec<HttpEvent>| EventBatch { seq, source_id: "t".into(), events, ..Default::default() };
    let refused = HttpEvent { path: refused_path.into(), ..event(2) };
    let clock_off = HttpEvent { start_time_ms: 0, ..event(3) };
    let sent = vec![batch(1, vec![event(1)]), batch(2, vec![refused]), batch(3, vec![clock_off])];
    let acks = meshward_e2e::collector::send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, sent).await?;
    assert_eq!(acks.iter().map(|a| a.code).collect::<Vec<_>>(), vec![ack::Code::Ok as i32; 3]);

    let dead_letter = collector.dir.join("spool").join("dead-letter");
    meshward_e2e::process::wait_for("the events behind the refused batch", Duration::from_secs(60), || async {
        let ids = stored_ids(&clickhouse, db).await.ok()?;
        (ids.contains(&"03".to_owned()) && dead_letter.exists()).then_some(())
    })
    .await?;
    let times = clickhouse
        .query(&format!(
            "SELECT ts_ms, reported_ts_ms FROM {db}.events WHERE event_id = unhex('{}') FORMAT TSV",
            "03".repeat(16)
        ))
        .await?;
    let (ts, reported) = times.trim().split_once('\t').expect("two columns");
    assert_eq!(reported, "0", "the reported time is kept");
    let ts: u64 = ts.parse()?;
    assert!(now_ms().abs_diff(ts) < 600_000, "stored at its arrival, not in 1970: {ts}");

    let config = collector.dir.join("meshward.yaml");
    let meshward = meshward_e2e::collector::collector_binary()?;
    let cli = |args: &[&str]| -> anyhow::Result<String> {
        let out = std::process::Command::new(&meshward).args(args).arg("--config").arg(&config).output()?;
        anyhow::ensure!(out.status.success(), "meshward {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8(out.stdout)?)
    };
    let listed = cli(&["dead-letter", "list", "--json"])?;
    assert_eq!(listed.lines().count(), 1, "one batch set aside: {listed}");
    let line: serde_json::Value = serde_json::from_str(listed.trim())?;
    assert_eq!((line["source_id"].as_str(), line["events"].as_u64()), (Some("t"), Some(1)));
    assert!(line["reason"].as_str().unwrap_or_default().contains("throwIf"), "ClickHouse's answer: {line}");
    let metrics = collector.metrics().await?;
    assert!(metrics.contains("meshward_writer_dead_letter_records_total 1"), "counted:\n{metrics}");

    // refused again while the cause stays; stored once it is gone
    assert!(cli(&["dead-letter", "replay"])?.contains("0 batches stored, 1 still set aside"));
    clickhouse.query(&format!("DROP TABLE {db}.refuse")).await?;
    let replayed = cli(&["dead-letter", "replay"])?;
    assert!(replayed.contains("1 batches stored, 0 still set aside"), "{replayed}");
    assert_eq!(stored_ids(&clickhouse, db).await?, ["01", "02", "03"]);
    assert_eq!(cli(&["dead-letter", "list", "--json"])?, "");
    Ok(())
}
