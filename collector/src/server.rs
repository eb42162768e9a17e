//! `meshward serve`: wires spool, ingest, writer and API together and runs until a signal.

use crate::api::{self, ApiState};
use crate::blocklist::policy::PolicyJob;
use crate::blocklist::Blocklist;
use crate::config::Config;
use crate::ingest::{IngestService, TokenCheck};
use crate::store::{self, Writer};
use crate::{jitter_seed, spool, telemetry};
use anyhow::Context;
use meshward_core::backoff::Backoff;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Ingest streams one connection may hold open at once (a sidecar with 64 workers holds 64).
const MAX_STREAMS_PER_CONNECTION: u32 = 256;

pub async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init_logs(&config.log);
    let metrics = telemetry::init_metrics()?;
    let (spool, reader) = spool::open(&config.spool).context("opening the spool")?;
    let (shutdown_tx, shutdown) = watch::channel(false);

    // Ingest starts at once, even with ClickHouse down: the spool takes the batches.
    let schema_ready = Arc::new(AtomicBool::new(false));
    let client = store::connect(&config.clickhouse);
    let dead_letter = spool::DeadLetter::of(&config.spool.dir);
    let rule_reasons = Arc::new(crate::audit::RuleReasons::default());
    let audit = crate::audit::AuditLog::new(rule_reasons.clone());
    let writer = Writer::new(client, config.clickhouse.url.clone(), config.writer.clone(), reader, dead_letter, audit);
    let store_healthy = writer.healthy.clone();
    let writer_task = {
        let schema_ready = schema_ready.clone();
        let clickhouse = config.clickhouse.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            if wait_for_schema(&clickhouse, &schema_ready, shutdown.clone()).await {
                let retention = store::retention::run(
                    store::connect(&clickhouse),
                    clickhouse.url.clone(),
                    clickhouse.database.clone(),
                    clickhouse.retention_days,
                    clickhouse.cluster.clone(),
                    shutdown.clone(),
                );
                tokio::spawn(retention);
                writer.run(shutdown).await;
            }
        })
    };

    let ingest =
        IngestService::new(spool.clone(), TokenCheck::new(&config.ingest.token), config.ingest.max_batch_events);
    let grpc_listener = tokio::net::TcpListener::bind(config.ingest.listen)
        .await
        .with_context(|| format!("binding ingest.listen {}", config.ingest.listen))?;
    let api_listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("binding api.listen {}", config.api.listen))?;
    tracing::info!(ingest = %config.ingest.listen, api = %config.api.listen, clickhouse = %config.clickhouse.url,
        database = %config.clickhouse.database, spool = %config.spool.dir.display(), "meshward collector started");

    let grpc = {
        let mut shutdown = shutdown.clone();
        tonic::transport::Server::builder()
            // a filter opens one stream per worker; a peer that opens hundreds is not a filter
            .max_concurrent_streams(Some(MAX_STREAMS_PER_CONNECTION))
            // peers that vanished without closing (a killed node) are noticed and let go
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_keepalive_timeout(Some(Duration::from_secs(10)))
            .add_service(ingest.into_server())
            .serve_with_incoming_shutdown(tokio_stream::wrappers::TcpListenerStream::new(grpc_listener), async move {
                let _ = shutdown.wait_for(|s| *s).await;
            })
    };
    let access =
        Arc::new(api::access::Access::new(&config.api.read_tokens, &config.api.admin_tokens, &config.ingest.token));
    let inventory_store = crate::inventory::InventoryStore::connect(
        &config.clickhouse,
        crate::inventory::Pins::parse(&config.inventory.pinned_templates),
    );
    tokio::spawn(inventory_store.clone().run_status(
        Duration::from_secs(config.inventory.status_interval_s.max(1)),
        config.inventory.zombie_after_days,
        shutdown.clone(),
    ));
    let inventory = Arc::new(api::inventory::InventoryApi { store: inventory_store, access: access.clone() });
    let blocklist = Arc::new(
        Blocklist::new(
            store::connect(&config.clickhouse),
            config.clickhouse.url.clone(),
            config.clickhouse.database.clone(),
        )
        .sharing_reasons(rule_reasons),
    );
    tokio::spawn(blocklist.clone().run(Duration::from_millis(config.blocklist.refresh_interval_ms), shutdown.clone()));
    let policies = PolicyJob {
        blocklist: blocklist.clone(),
        client: store::connect(&config.clickhouse),
        url: config.clickhouse.url.clone(),
        database: config.clickhouse.database.clone(),
        policies: config.blocklist.policies.clone(),
    };
    tokio::spawn(policies.run(Duration::from_secs(config.blocklist.evaluate_interval_s.max(1)), shutdown.clone()));
    let blocklist = Arc::new(api::blocklist::BlocklistApi { blocklist, access: access.clone() });
    let detector = crate::detect::Detector::connect(&config.clickhouse, config.detect.clone());
    tokio::spawn(detector.clone().run(shutdown.clone()));
    let alerts = Arc::new(api::alerts::AlertsApi { detector, access: access.clone() });
    let clickhouse_reachable = Arc::new(AtomicBool::new(false));
    tokio::spawn(probe_clickhouse(
        store::connect(&config.clickhouse),
        config.clickhouse.url.clone(),
        clickhouse_reachable.clone(),
        shutdown.clone(),
    ));
    let state =
        ApiState { inventory, blocklist, alerts, metrics, schema_ready, store_healthy, clickhouse_reachable, spool };
    let http = {
        let mut shutdown = shutdown.clone();
        axum::serve(api_listener, api::router(state)).with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
    };
    let grpc_task = tokio::spawn(grpc);
    let http_task = tokio::spawn(async move { http.await });

    wait_for_signal().await;
    tracing::info!("shutting down: closing ingest, writing what the spool holds");
    let _ = shutdown_tx.send(true);
    let _ = grpc_task.await;
    let _ = http_task.await;
    let _ = tokio::time::timeout(Duration::from_secs(10), writer_task).await;
    Ok(())
}

/// Applies the schema, retrying while ClickHouse is unreachable. False if shut down first.
async fn wait_for_schema(
    config: &crate::config::ClickHouseConfig,
    ready: &AtomicBool,
    mut shutdown: watch::Receiver<bool>,
) -> bool {
    let mut retry = Backoff::new(200, 5_000, jitter_seed());
    loop {
        let delay = retry.next_delay();
        match store::migrate(config).await {
            Ok(version) => {
                tracing::info!(version, "ClickHouse schema ready");
                ready.store(true, Ordering::Relaxed);
                return true;
            }
            Err(err) => {
                tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "ClickHouse not ready; spooling meanwhile");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|s| *s) => return false,
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

/// Asks ClickHouse every few seconds whether it answers, for readiness: the writer only learns
/// it when it has rows to write, and a stopped server takes an INSERT's whole timeout to show.
async fn probe_clickhouse(
    client: clickhouse::Client,
    url: String,
    reachable: Arc<AtomicBool>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let answered = store::ping(&client, &url).await;
        if let Err(err) = &answered {
            if reachable.load(Ordering::Relaxed) {
                tracing::warn!(error = %err, "ClickHouse does not answer; not ready");
            }
        }
        reachable.store(answered.is_ok(), Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
