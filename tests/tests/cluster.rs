//! The collector on a ClickHouse cluster (two shards, ZooKeeper, all real, on loopback): its
//! schema is created ON CLUSTER as replicated local tables under Distributed tables, events
//! written through one server spread over both shards and read back through the other, once
//! each even when a batch is sent twice, and block rules work the same.

use anyhow::Result;
use meshward_e2e::clickhouse::{ClickHouse, ClusterPlan};
use meshward_e2e::collector::{send_batches, Collector, CollectorOptions};
use meshward_e2e::process::wait_for;
use meshward_e2e::zookeeper::ZooKeeper;
use meshward_proto::{EventBatch, HttpEvent};
use std::time::Duration;

const DB: &str = "meshward_cluster";

fn events(from: u32, n: u32) -> Vec<HttpEvent> {
    (from..from + n)
        .map(|i| {
            let mut id = vec![0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            HttpEvent {
                event_id: id,
                method: "GET".into(),
                authority: "shop.example.com".into(),
                path: format!("/api/users/{i}"),
                path_template: "/api/users/{user_id}".into(),
                status: 200,
                start_time_ms: 1_790_000_000_000 + u64::from(i),
                ..Default::default()
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_and_events_on_a_two_shard_cluster() -> Result<()> {
    let dir = meshward_e2e::process::fresh_dir("cluster")?;
    let zookeeper = ZooKeeper::start(&dir.join("zookeeper")).await?;
    let plan = ClusterPlan::new("meshward_test", zookeeper.port, 2)?;
    let node1 = ClickHouse::start_in_cluster(&dir.join("node1"), &plan, 0).await?;
    let node2 = ClickHouse::start_in_cluster(&dir.join("node2"), &plan, 1).await?;
    let mut options = CollectorOptions::new(&node1.url(), DB);
    options.cluster = plan.name.clone();
    let collector = Collector::start(&dir.join("collector"), options).await?;
    collector.wait_ready().await?;

    // the schema reached both servers: replicated local tables under distributed ones
    for node in [&node1, &node2] {
        let engines = node
            .query(&format!("SELECT name, engine FROM system.tables WHERE database = '{DB}' ORDER BY name FORMAT TSV"))
            .await?;
        assert!(engines.contains("http_events\tDistributed"), "{engines}");
        assert!(engines.contains("http_events_local\tReplicatedReplacingMergeTree"), "{engines}");
        assert!(engines.contains("block_rules_local\tReplicatedMergeTree"), "{engines}");
        assert!(engines.contains("schema_migrations\tReplicatedMergeTree"), "{engines}");
    }

    // 400 events in 4 batches, the last one sent twice (as a filter resends an unacked batch)
    let mut batches: Vec<EventBatch> = (0..4)
        .map(|b| EventBatch {
            seq: b + 1,
            source_id: "vm".into(),
            events: events(b as u32 * 100, 100),
            ..Default::default()
        })
        .collect();
    let acks = send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, batches.clone()).await?;
    assert_eq!(acks.len(), 4);
    let mut again = batches.pop().unwrap_or_default();
    again.seq = 1;
    again.source_id = "vm-restarted".into();
    send_batches(collector.grpc_port, meshward_e2e::TEST_TOKEN, vec![again]).await?;

    // read through the other server: every event once, rows on both shards
    wait_for("400 events through node 2", Duration::from_secs(60), || async {
        node2.count(&format!("SELECT count() FROM {DB}.events")).await.ok().filter(|n| *n == 400)
    })
    .await?;
    for node in [&node1, &node2] {
        let local = node.count(&format!("SELECT count() FROM {DB}.http_events_local")).await?;
        assert!(local > 50, "a shard holds only {local} rows: events are not spread");
    }
    let endpoints = node2
        .query(&format!("SELECT path_template, count() FROM {DB}.events GROUP BY path_template FORMAT TSV"))
        .await?;
    assert_eq!(endpoints.trim(), "/api/users/{user_id}\t400");

    // block rules live in the cluster too: made through the API, read back through node 2
    let api = format!("http://127.0.0.1:{}/api/v1/block-rules", collector.api_port);
    let created = reqwest::Client::new()
        .post(&api)
        .bearer_auth(meshward_e2e::API_ADMIN_TOKEN)
        .json(&serde_json::json!({"id": "cluster-rule", "match": {"sources": ["10.0.0.0/8"]}}))
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201, "{}", created.text().await.unwrap_or_default());
    wait_for("the rule through node 2", Duration::from_secs(30), || async {
        node2
            .count(&format!("SELECT count() FROM {DB}.block_rules WHERE id = 'cluster-rule'"))
            .await
            .ok()
            .filter(|n| *n == 1)
    })
    .await?;
    Ok(())
}
