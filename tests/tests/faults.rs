//! Faults of the collector's surroundings, one at a time, with the real binary and ClickHouse.

use meshward_e2e::clickhouse::ClickHouse;
use meshward_e2e::collector::{Collector, CollectorOptions};
use std::time::{Duration, Instant};

/// A stopped ClickHouse (SIGSTOP: connections are accepted, nothing is answered) neither hangs
/// the API nor leaves readiness saying all is well; both recover when it resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_clickhouse_gets_503s_and_not_ready_instead_of_hanging() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("faults-stopped")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let collector =
        Collector::start(&dir.join("collector"), CollectorOptions::new(&clickhouse.url(), "meshward_stopped")).await?;
    collector.wait_ready().await?;
    let http = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{}", collector.api_port);
    let endpoints = || http.get(format!("{api}/api/v1/endpoints")).bearer_auth(meshward_e2e::API_READ_TOKEN).send();
    assert_eq!(endpoints().await?.status(), 200);

    clickhouse.pause()?;
    let outcome = async {
        let started = Instant::now();
        let answer = endpoints().await?;
        let waited = started.elapsed();
        anyhow::ensure!(answer.status() == 503, "a stopped ClickHouse answers 503, got {}", answer.status());
        let body: serde_json::Value = answer.json().await?;
        let message = body["error"].as_str().unwrap_or_default().to_owned();
        anyhow::ensure!(message.contains("did not answer"), "the reason is given: {body}");
        // bounded by the API's deadline, not by how long the server stays stopped
        anyhow::ensure!(waited < Duration::from_secs(60), "answered after {waited:?}");
        meshward_e2e::process::wait_for("/readyz to say not ready", Duration::from_secs(30), || async {
            let ready = http.get(format!("{api}/readyz")).send().await.ok()?;
            let status = ready.status();
            let body: serde_json::Value = ready.json().await.ok()?;
            (status == 503 && body["clickhouse_reachable"] == false).then_some(())
        })
        .await?;
        // batches are still acknowledged: the probe Kubernetes uses stays ready
        let ingest = http.get(format!("{api}/readyz/ingest")).send().await?;
        anyhow::ensure!(ingest.status() == 200, "ingest readiness: {}", ingest.status());
        Ok(())
    }
    .await;
    clickhouse.resume()?;
    outcome?;
    collector.wait_ready().await?;
    assert_eq!(endpoints().await?.status(), 200);
    let metrics = collector.metrics().await?;
    assert!(metrics.contains("meshward_api_timeouts_total 1"), "counted:\n{metrics}");
    Ok(())
}

fn event(i: u8, path_bytes: usize) -> meshward_proto::HttpEvent {
    meshward_proto::HttpEvent {
        event_id: vec![i; 16],
        method: "GET".into(),
        path: format!("/{}", "p".repeat(path_bytes)),
        status: 200,
        start_time_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        ..Default::default()
    }
}

/// The spool's file system full (not its quota): the batch is refused with RESOURCE_EXHAUSTED
/// and not acknowledged, and once there is room again batches are taken without a restart.
/// The full disk is the next spool segment made a link to `/dev/full`, whose writes fail with
/// ENOSPC as a full file system's do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_spool_disk_refuses_batches_and_recovers_by_itself() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("faults-disk-full")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let db = "meshward_disk_full";
    let mut options = CollectorOptions::new(&clickhouse.url(), db);
    options.spool_segment_bytes = 1 << 20;
    let collector = Collector::start(&dir.join("collector"), options).await?;
    collector.wait_ready().await?;
    let spool = collector.dir.join("spool");
    let newest = std::fs::read_dir(&spool)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("seg-")?.strip_suffix(".log")?.parse::<u64>().ok())
        .max()
        .ok_or_else(|| anyhow::anyhow!("no spool segment"))?;
    let batch = |seq: u64, first: u8| meshward_proto::EventBatch {
        seq,
        source_id: "disk".into(),
        // three events of 200 KB: two batches do not fit one 1 MiB segment
        events: (first..first + 3).map(|i| event(i, 200_000)).collect(),
        ..Default::default()
    };
    let send = |b| meshward_e2e::collector::send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, vec![b]);
    assert_eq!(send(batch(1, 10)).await?.len(), 1);

    let full = spool.join(format!("seg-{:020}.log", newest + 1));
    std::os::unix::fs::symlink("/dev/full", &full)?;
    let refused = send(batch(2, 20)).await.expect_err("a full disk acknowledges nothing");
    std::fs::remove_file(&full)?;
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("disk is full"), "{}", refused.message());

    // room again: taken at once, no restart
    assert_eq!(send(batch(3, 30)).await?.len(), 1);
    let ids = || async {
        clickhouse.query(&format!("SELECT hex(event_id) FROM {db}.events ORDER BY 1 FORMAT TSV")).await.ok()
    };
    meshward_e2e::process::wait_for("the acknowledged events stored", Duration::from_secs(30), || async {
        (ids().await?.lines().count() == 6).then_some(())
    })
    .await?;
    let stored: Vec<String> = ids().await.unwrap_or_default().lines().map(|l| l[..2].to_owned()).collect();
    assert_eq!(stored, ["0A", "0B", "0C", "1E", "1F", "20"], "batch 1 and 3, nothing of the refused one");
    let metrics = collector.metrics().await?;
    assert!(metrics.contains("meshward_ingest_refused_disk_full_total 1"), "counted:\n{metrics}");
    Ok(())
}

/// Resident memory of a process, in bytes (Linux `/proc`).
fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").to_owned()))
        })
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Hostile ingest: no token, a wrong one, one byte off, garbage instead of a batch, and
/// hundreds of idle streams. Each is refused cleanly and counted; a real batch still gets
/// through, and the idle streams cost the collector a bounded amount of memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ingest_is_refused_cleanly_and_counted() -> anyhow::Result<()> {
    let dir = meshward_e2e::process::fresh_dir("faults-hostile")?;
    let clickhouse = ClickHouse::start(&dir.join("clickhouse")).await?;
    let db = "meshward_hostile";
    let collector = Collector::start(&dir.join("collector"), CollectorOptions::new(&clickhouse.url(), db)).await?;
    collector.wait_ready().await?;
    let port = collector.grpc_port;
    let batch = |seq: u64, i: u8| meshward_proto::EventBatch {
        seq,
        source_id: "hostile".into(),
        events: vec![event(i, 10)],
        ..Default::default()
    };

    // no authorization header at all
    let mut client = meshward_proto::ingest_client::IngestClient::connect(format!("http://127.0.0.1:{port}")).await?;
    let none = client.stream(tonic::Request::new(futures::stream::iter(vec![batch(1, 1)]))).await;
    assert_eq!(none.err().map(|s| s.code()), Some(tonic::Code::Unauthenticated));
    let mut one_off = meshward_e2e::TEST_TOKEN.to_owned();
    one_off.pop();
    one_off.push('X');
    for token in ["wrong", one_off.as_str(), ""] {
        let refused = meshward_e2e::collector::send_batches(port, token, vec![batch(1, 1)]).await;
        assert_eq!(refused.err().map(|s| s.code()), Some(tonic::Code::Unauthenticated), "token {token:?}");
    }
    // garbage where a batch should be: a clear rejection, and the stream goes on
    let acks = meshward_e2e::collector::send_raw_batches(
        port,
        meshward_e2e::TEST_TOKEN,
        vec![vec![0xff; 7], b"GET / HTTP/1.1\r\n".to_vec(), prost::Message::encode_to_vec(&batch(2, 2))],
    )
    .await?;
    let codes: Vec<i32> = acks.iter().map(|a| a.code).collect();
    assert_eq!(codes, vec![1, 1, 0], "two rejected, the real batch acknowledged: {acks:?}");
    assert!(acks[0].message.contains("not a valid EventBatch"), "{}", acks[0].message);

    // hundreds of streams that never send a batch, on a few connections
    let pid = collector.pid().ok_or_else(|| anyhow::anyhow!("collector not running"))?;
    let before = rss_bytes(pid);
    let mut idle = Vec::new();
    for _ in 0..4 {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))?.connect().await?;
        for _ in 0..100 {
            let mut client = meshward_proto::ingest_client::IngestClient::new(channel.clone());
            let mut request = tonic::Request::new(futures::stream::pending::<meshward_proto::EventBatch>());
            request.metadata_mut().insert("authorization", format!("Bearer {}", meshward_e2e::TEST_TOKEN).parse()?);
            idle.push(tokio::spawn(async move { client.stream(request).await.map(|_| ()) }));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = rss_bytes(pid);
    let acks = meshward_e2e::collector::send_batches(port, meshward_e2e::TEST_TOKEN, vec![batch(3, 3)]).await?;
    assert_eq!(acks.len(), 1, "a filter's batch gets through 400 idle streams");
    for task in idle {
        task.abort();
    }
    // about 20 KiB a stream measured (8 MiB for 400); a buffer per stream would pass 64 MiB
    let grown = during.saturating_sub(before);
    assert!(grown < 64 << 20, "400 idle streams grew the collector by {} MiB", grown >> 20);

    meshward_e2e::process::wait_for("the two real batches stored", Duration::from_secs(30), || async {
        let n = clickhouse.count(&format!("SELECT count() FROM {db}.events")).await.ok()?;
        (n == 2).then_some(())
    })
    .await?;
    let metrics = collector.metrics().await?;
    for line in ["meshward_ingest_auth_failures_total 4", "meshward_ingest_rejected_batches_total 2"] {
        assert!(metrics.contains(line), "missing `{line}`:\n{metrics}");
    }
    eprintln!("400 idle streams: collector RSS {} -> {} MiB", before >> 20, during >> 20);
    Ok(())
}

/// A collector restart with a hundred filters connected (one Envoy, a hundred workers, each
/// worker's VM a filter with a stream of its own): the streams come back spread out by their
/// jittered backoff, not in one storm, and each filter fails a few attempts at most.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_filters_reconnect_spread_out_after_a_collector_restart() -> anyhow::Result<()> {
    let mut options = meshward_e2e::stack::StackOptions::new("faults-hundred");
    options.envoy_concurrency = 100;
    options.collector_log_level = "info,meshward::ingest=debug";
    let mut stack = meshward_e2e::stack::Stack::start(options).await?;
    // requests on connections of their own land on every worker, so every filter has a stream
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(10)).build()?;
    let url = format!("{}/api/products", stack.envoy.url());
    let streams = || async { stack.collector.metric("meshward_ingest_streams_opened_total").await };
    meshward_e2e::process::wait_for("a stream from every filter", Duration::from_secs(120), || async {
        let requests = (0..200).map(|_| client.get(&url).send());
        futures::future::join_all(requests).await;
        (streams().await >= 100).then_some(())
    })
    .await?;
    let failures_before = stack.envoy.stat("wasmcustom.meshward.stream_failures").await?;

    stack.collector.kill9();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restarted = std::time::SystemTime::now();
    stack.collector.start_again().await?;
    // traffic keeps every filter's outbox busy, so each one reconnects
    let reconnected = meshward_e2e::process::wait_for("every filter back", Duration::from_secs(60), || async {
        let requests = (0..200).map(|_| client.get(&url).send());
        futures::future::join_all(requests).await;
        let opened = stream_open_times(&stack.collector.dir, restarted);
        (opened.len() >= 100).then_some(opened)
    })
    .await?;
    let failures = stack.envoy.stat("wasmcustom.meshward.stream_failures").await?.saturating_sub(failures_before);
    let first = reconnected[0];
    let offsets: Vec<u128> = reconnected.iter().map(|t| t.duration_since(first).map_or(0, |d| d.as_millis())).collect();
    let busiest = offsets.iter().map(|&t| offsets.iter().filter(|&&u| (t..t + 250).contains(&u)).count()).max();
    eprintln!(
        "100 filters: {failures} failed attempts; streams back over {} ms (middle 80 over {} ms), at most {busiest:?} in 250 ms",
        offsets[99],
        offsets[89] - offsets[9]
    );
    // without jitter all 100 would come back within a few milliseconds of each other; a busy
    // machine bunches the log times a little (the collector accepts in bursts when starved)
    let middle = offsets[89] - offsets[9];
    assert!(middle >= 1_000, "a storm: the middle 80 streams came back within {middle} ms ({offsets:?})");
    assert!(busiest.unwrap_or(0) <= 60, "a storm: {busiest:?} of 100 streams within 250 ms ({offsets:?})");
    assert!(failures <= 100 * 6, "{failures} failed attempts for 100 filters over a 3 s outage");
    Ok(())
}

/// When the collector logged each ingest stream it opened after `since` (its JSON logs).
fn stream_open_times(dir: &std::path::Path, since: std::time::SystemTime) -> Vec<std::time::SystemTime> {
    let mut times = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("collector-") {
            continue;
        }
        for line in std::fs::read_to_string(entry.path()).unwrap_or_default().lines() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if value["message"] != "ingest stream opened" {
                continue;
            }
            let Some(at) =
                value["timestamp"].as_str().and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok())
            else {
                continue;
            };
            if at >= since {
                times.push(at);
            }
        }
    }
    times.sort();
    times
}
