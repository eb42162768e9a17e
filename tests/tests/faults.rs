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
